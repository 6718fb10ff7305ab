// `scalelab dashboard` as a function: the API server of src/serve with the dashboard on it.
import { buildApp } from '../serve/server.js';
import { registerDashboard, type Dashboard, type DashboardOptions } from './routes.js';
import type { FastifyInstance } from 'fastify';

export interface DashboardServerOptions extends DashboardOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Bytes the playground's loaded models may hold together (default 1 GiB). */
  modelCacheBytes?: number;
  logger?: boolean;
}

export interface RunningDashboard extends Dashboard {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:8787 unless told otherwise. */
export async function startDashboard(o: DashboardServerOptions): Promise<RunningDashboard> {
  const { app } = buildApp({ home: o.home, logger: o.logger, modelCacheBytes: o.modelCacheBytes });
  const dash = registerDashboard(app, o);
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
