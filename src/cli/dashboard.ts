// `scalelab dashboard`: the live dashboard over this home's runs and sweeps (src/dashboard/),
// on the same HTTP server as the OpenAI-compatible API.
import { Command } from 'commander';
import { existingHome } from '../runs/index.js';
import { startDashboard } from '../dashboard/server.js';
import { portOption, positiveInt, UsageError } from '../errors.js';
import { collectApiKey, httpOptions } from './serve.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';


export function dashboardCommand(): Command {
  return httpOptions(new Command('dashboard')
    .description('serve the live dashboard: runs table, loss curves, scaling-law view, sweep status and a playground')
    .option('--port <n>', 'port to listen on (0: any free one)', portOption, 8787)
    .option('--host <addr>', 'address to bind; 0.0.0.0 exposes the dashboard and its API to the network', '127.0.0.1')
    .addOption(flag('home', HOME))
    .option('--api-key <key>', 'a bearer key scripts may use for /v1 (repeatable; the page has its own)', collectApiKey, [] as string[])
    .option('--resamples <n>', 'bootstrap resamples of the scaling-law intervals', positiveInt('--resamples'), 200)
    .option('--model-cache-mb <n>', 'memory the playground\'s loaded models may hold together, in MiB; least recently used idle ones are dropped beyond', positiveInt('--model-cache-mb'), 1024)
    .option('--log', 'log every request as JSON lines'))
    .action(async (o) => {
      const home = existingHome(o.home);
      let server;
      try {
        server = await startDashboard({
          home, host: o.host, port: o.port, resamples: o.resamples, logger: Boolean(o.log), apiKeys: o.apiKey, modelCacheBytes: o.modelCacheMb * 2 ** 20,
          allowedHosts: o.allowedHost, requestTimeout: o.requestTimeout, keepAliveTimeout: o.idleTimeout,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UsageError(`port ${o.port} on ${o.host} is in use; pass another --port (0 picks a free one)`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
          throw new UsageError(`cannot bind --host ${o.host} (${code}); use an address of this machine such as 127.0.0.1`);
        }
        throw err;
      }
      process.stderr.write(`scalelab dashboard: ${server.url}/ (home ${home})\n`);
      const stop = () => {
        process.stderr.write('scalelab dashboard: shutting down\n');
        server.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
