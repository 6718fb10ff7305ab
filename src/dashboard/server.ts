// `scalelab dashboard` as a function: the API server of src/serve with the dashboard on it.
import crypto from 'node:crypto';
import { buildApp } from '../serve/server.js';
import { registerDashboard, type Dashboard, type DashboardOptions } from './routes.js';
import type { FastifyInstance } from 'fastify';

export interface DashboardServerOptions extends DashboardOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Bytes the playground's loaded models may hold together (default 1 GiB). */
  modelCacheBytes?: number;
  /** Bearer keys /v1 accepts besides the page's own (for scripts). */
  apiKeys?: string[];
  /** Host names answered besides the bound addresses (a proxy's name); '*' answers any. */
  allowedHosts?: string[];
  /** Milliseconds for a whole request to arrive (408 beyond). */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeout?: number;
  logger?: boolean;
}

export interface RunningDashboard extends Dashboard {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:8787 unless told otherwise. */
export async function startDashboard(o: DashboardServerOptions): Promise<RunningDashboard> {
  // /v1 runs models on request, so any page the user visits could spend this machine's CPU
  // through it: it takes a key, and the page gets a fresh one each time the server starts.
  const pageKey = crypto.randomBytes(24).toString('base64url');
  const { app } = buildApp({
    home: o.home, logger: o.logger, apiKeys: [pageKey, ...(o.apiKeys ?? [])], allowedHosts: o.allowedHosts, modelCacheBytes: o.modelCacheBytes,
    requestTimeout: o.requestTimeout, keepAliveTimeout: o.keepAliveTimeout,
  });
  const dash = registerDashboard(app, { ...o, pageKey });
  const host = o.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: o.port ?? 8787 });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 8787;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { ...dash, app, url: `http://${shown}:${port}`, close: () => app.close() };
}
