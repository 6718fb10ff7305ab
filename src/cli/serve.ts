// `scalelab serve`: the OpenAI-compatible HTTP API over this home's runs (src/serve/).
import { Command, Option } from 'commander';
import { setThreads } from '../engine/native.js';
import { existingHome } from '../runs/index.js';
import { startServer } from '../serve/server.js';
import { numberOption, portOption, positiveInt, UsageError } from '../errors.js';
import { flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';

/** A bearer key, repeatable. */
export function collectApiKey(k: string, prev: string[]): string[] {
  if (k.trim() === '') throw new UsageError('--api-key must not be empty');
  return [...prev, k];
}

/** A duration in seconds, as whole milliseconds from 1 ms to a day. */
function seconds(name: string) {
  const positive = numberOption(name);
  return (value: string): number => {
    const s = positive(value);
    if (s < 0.001 || s > 86_400) throw new UsageError(`${name} must be from 0.001 to 86400 seconds, got '${value}'`);
    return Math.round(s * 1000);
  };
}

/** The options `serve` and `dashboard` share: which Host names to answer, and the connection timeouts. */
export function httpOptions(cmd: Command): Command {
  return cmd
    .option('--allowed-host <name>', 'also answer requests for this host name, e.g. a proxy\'s (repeatable; * for any)', (h: string, prev: string[]) => {
      if (h.trim() === '' || /[\s/]/.test(h.trim())) throw new UsageError(`--allowed-host must be a host name such as lab.example.com, got '${h}'`);
      return [...prev, h.trim()];
    }, [] as string[])
    .addOption(new Option('--request-timeout <seconds>', 'time for a whole request, headers and body, to arrive (408 beyond)')
      .argParser(seconds('--request-timeout')).default(30_000, '30'))
    .addOption(new Option('--idle-timeout <seconds>', 'time an idle keep-alive connection stays open')
      .argParser(seconds('--idle-timeout')).default(5_000, '5'));
}

export function serveCommand(): Command {
  return httpOptions(new Command('serve')
    .description('serve trained runs through an OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions)')
    .option('--port <n>', 'port to listen on (0: any free one)', portOption, 8080)
    .option('--host <addr>', 'address to bind; 0.0.0.0 exposes the server to the network', '127.0.0.1')
    .option('--api-key <key>', 'require this bearer key (repeatable; default: no authentication)', collectApiKey, [] as string[])
    .addOption(flag('home', HOME))
    .option('--max-batch <n>', 'sequences decoded together per model', positiveInt('--max-batch'), 32)
    .option('--body-limit <bytes>', 'largest request body (413 beyond)', positiveInt('--body-limit'), 1 << 20)
    .option('--model-cache-mb <n>', 'memory loaded models may hold together, in MiB; least recently used idle ones are dropped beyond', positiveInt('--model-cache-mb'), 1024)
    .addOption(flag('threads', THREADS))
    .option('--log', 'log every request as JSON lines'))
    .action(async (o) => {
      if (o.threads) setThreads(o.threads);
      const home = existingHome(o.home);
      const server = await startServer({
        home, host: o.host, port: o.port, apiKeys: o.apiKey, maxBatch: o.maxBatch, bodyLimit: o.bodyLimit, modelCacheBytes: o.modelCacheMb * 2 ** 20, logger: Boolean(o.log),
        allowedHosts: o.allowedHost, requestTimeout: o.requestTimeout, keepAliveTimeout: o.idleTimeout,
      });
      const models = (await server.registry.list()).map((m) => m.id);
      process.stderr.write(`scalelab serve: listening on ${server.url} (home ${home}; ${models.length} models` +
        `${o.apiKey.length ? `; ${o.apiKey.length} API key(s) required` : ''})\n`);
      const stop = () => {
        process.stderr.write('scalelab serve: shutting down\n');
        server.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
