// `scalelab serve`: an OpenAI-compatible HTTP API (fastify) over the run store's models.
//
//   GET  /health                liveness (routes/health.ts)
//   GET  /v1/models             finished runs (id = run name) and checkpoints (NAME@STEP) (routes/models.ts)
//   POST /v1/completions        legacy completions: logprobs, echo, stop, n, seed, stream (routes/completions.ts)
//   POST /v1/chat/completions   chat through the template in text.ts; stream as server-sent events (routes/chat.ts)
//
// Each route is a fastify plugin; the guards every request passes (request-guards.ts) sit on the
// root, so the dashboard's routes, registered on the same app, pass them too. Every request becomes one
// sequence per choice in the model's Scheduler (continuous batching, choices.ts); a request whose
// client goes away has its sequences cancelled, freeing their slots.
import type { FastifyInstance } from 'fastify';
import { installGuards } from './request-guards.js';
import { createFastify, DEFAULT_TIMEOUTS } from './http.js';
import { ModelRegistry } from './models.js';
import { chatRoute } from './routes/chat.js';
import { completionsRoute } from './routes/completions.js';
import { healthRoute } from './routes/health.js';
import { modelsRoutes } from './routes/models.js';

export interface ServeOptions {
  home: string;
  host?: string;
  port?: number;
  /** Accepted bearer keys; none means no authentication. */
  apiKeys?: string[];
  /** Sequences decoded together per model. */
  maxBatch?: number;
  /** Sequences waiting per model before requests get 429. */
  maxQueue?: number;
  /** Largest request body in bytes (413 beyond). */
  bodyLimit?: number;
  /** Bytes loaded models may hold together; least recently used idle ones are dropped beyond (default 1 GiB). */
  modelCacheBytes?: number;
  /** Host names answered besides the bound addresses (a proxy's name); '*' answers any. */
  allowedHosts?: string[];
  /** Milliseconds for a whole request, headers and body, to arrive (408 beyond; default 30 s). */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open (default 5 s). */
  keepAliveTimeout?: number;
  logger?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  registry: ModelRegistry;
  url: string;
  close(): Promise<void>;
}

export function buildApp(o: ServeOptions): { app: FastifyInstance; registry: ModelRegistry } {
  const bodyLimit = o.bodyLimit ?? 1 << 20;
  const timeouts = {
    requestTimeout: o.requestTimeout ?? DEFAULT_TIMEOUTS.requestTimeout,
    keepAliveTimeout: o.keepAliveTimeout ?? DEFAULT_TIMEOUTS.keepAliveTimeout,
  };
  const app = createFastify({ logger: o.logger ?? false, bodyLimit, timeouts });
  const registry = new ModelRegistry(o.home, { maxBatch: o.maxBatch ?? 32, maxQueue: o.maxQueue }, { maxBytes: o.modelCacheBytes });
  installGuards(app, { bodyLimit, apiKeys: o.apiKeys ?? [], allowedHosts: o.allowedHosts ?? [] });
  app.register(healthRoute);
  app.register(modelsRoutes, { registry });
  app.register(completionsRoute, { registry });
  app.register(chatRoute, { registry });
  app.addHook('onClose', async () => registry.close());
  return { app, registry };
}

/** Build the app and listen; 127.0.0.1 by default, port 0 for any free one. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const { app, registry } = buildApp(o);
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 8080 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 8080;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { app, registry, url: `http://${shown}:${port}`, close: () => app.close() };
}
