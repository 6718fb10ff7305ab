// The dashboard on a fastify app built by the API server (src/serve/server.ts): read-only JSON
// under /api/, the live stream at /api/events, and the page. A plugin beside the API's /v1/*
// ones, so the playground talks to the same origin and errors share the API's shape (the API's
// guards sit on the root, above every plugin).
//
//   GET /api/runs                       the runs table
//   GET /api/runs/:run                  one run: its summary, config and events
//   GET /api/runs/:run/metrics          its curves, downsampled (?x=step|tokens|flops&buckets=&log=1&from=&to=)
//   GET /api/runs/:run/gallery          a video run's gallery: its prompts, seeds and weights (final, checkpoints)
//   GET /api/runs/:run/gallery/:step/:prompt   one prompt's samples at `final` or a checkpoint's step, a PNG (gallery.ts)
//   GET /api/sweeps                     sweeps with job counts and ETA
//   GET /api/sweeps/:sweep              one sweep's jobs
//   GET /api/sweeps/:sweep/law          points, fitted law, frontier with its band, isoFLOP groups, verify runs
//   GET /api/evals                      tasks with evaluation results (?sweep=NAME or ?run=NAME)
//   GET /api/emergence                  a task's metrics against FLOPs or step (?sweep=|run=, task=, shots=)
//   GET /api/events                     server-sent events (live.ts)
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { openStore, type Store } from '../runs/index.js';
import { SweepQueue } from '../sweep/queue.js';
import { badParam } from '../serve/errors.js';
import { loadAssets, registerAssets } from './assets.js';
import { LawCache } from './law.js';
import { LiveHub } from './live.js';
import { MetricsService } from './metrics-service.js';
import { boolParam, intParam, notFound, numParam, printable, runRef, sourceParam, sweepRef, taskParam, xAxis } from './params.js';
import { emergenceView } from '../eval/emergence.js';
import { evalTasks, type EvalSource } from './emergence.js';
import { Gallery, type GalleryOptions } from './gallery.js';
import { runSummaries, runSummary } from './runs.js';
import { sweepDetail, sweepSummaries } from './sweeps.js';

export interface DashboardOptions {
  home: string;
  /** Bootstrap resamples of the law view's intervals (default 200: seconds, not tens of them). */
  resamples?: number;
  /** How often the live ticker reads the store, in ms (default 500). */
  intervalMs?: number;
  /** A key put into the page, which its playground sends to /v1. */
  pageKey?: string;
  /** How the video runs' gallery samples (prompts, seeds, Euler steps, guidance). */
  gallery?: GalleryOptions;
}

export interface Dashboard {
  store: Store;
  live: LiveHub;
  laws: LawCache;
  metrics: MetricsService;
  gallery: Gallery;
}

/** Events returned with a run, newest last; a run that rolled back often has many. */
const MAX_EVENTS = 200;

/**
 * Open the dashboard's store and services and register its routes on `app` as a plugin. The page
 * is read and the store opened here, so a missing build or a bad home fails before listening.
 */
export function registerDashboard(app: FastifyInstance, o: DashboardOptions): Dashboard {
  const assets = loadAssets(o.pageKey);
  const store = openStore(o.home);
  const dash: Dashboard = {
    store,
    live: new LiveHub(store, o.intervalMs ?? 500, (err) => app.log.error(err)),
    laws: new LawCache(store, o.resamples ?? 200),
    metrics: new MetricsService(store, o.home),
    gallery: new Gallery(store, o.home, o.gallery),
  };
  app.register(dashboardRoutes, { dash, assets });
  return dash;
}

/** The dashboard's routes, and the hooks that warm its caches and close what it opened. */
const dashboardRoutes: FastifyPluginAsync<{ dash: Dashboard; assets: ReturnType<typeof loadAssets> }> = async (app, { dash, assets }) => {
  const { store, live, laws, metrics, gallery } = dash;
  const queue = new SweepQueue(store);

  const findRun = async (value: unknown) => {
    const ref = runRef(value);
    const run = await store.findRun(ref);
    if (!run) throw notFound('run', ref);
    return run;
  };
  const findSweep = async (value: unknown) => {
    const ref = sweepRef(value);
    if (!await queue.findSweep(ref)) throw notFound('sweep', ref);
    return ref;
  };

  /** A sweep or a run from `?sweep=` or `?run=`, known to the store (the run by its id). */
  const findSource = async (q: Record<string, unknown>): Promise<EvalSource> => {
    const src = sourceParam(q);
    return 'sweep' in src ? { sweep: await findSweep(src.sweep) } : { run: (await findRun(src.run)).id };
  };

  registerAssets(app, assets);

  app.get('/api/runs', async () => ({ runs: await runSummaries(store) }));

  app.get<{ Params: { run: string } }>('/api/runs/:run', async (req) => {
    const run = await findRun(req.params.run);
    const events = await store.events(run.id);
    return { run: await runSummary(store, run), config: run.config, events: events.slice(-MAX_EVENTS) };
  });

  app.get<{ Params: { run: string }; Querystring: Record<string, unknown> }>('/api/runs/:run/metrics', async (req) => {
    const run = await findRun(req.params.run);
    const q = req.query;
    const from = numParam(q, 'from'), to = numParam(q, 'to');
    if (from !== undefined && to !== undefined && from > to) throw badParam('from', `Invalid range: 'from' (${from}) is above 'to' (${to}).`);
    return await metrics.get(run.id, { x: xAxis(q), buckets: intParam(q, 'buckets', 1000, 1, 20_000), log: boolParam(q, 'log'), from, to });
  });

  app.get<{ Params: { run: string } }>('/api/runs/:run/gallery', async (req) => await gallery.view(await findRun(req.params.run)));

  app.get<{ Params: { run: string; step: string; prompt: string } }>('/api/runs/:run/gallery/:step/:prompt', async (req, reply) => {
    const run = await findRun(req.params.run);
    const { step: s, prompt: p } = req.params;
    if (s !== 'final' && !/^\d{1,15}$/.test(s)) throw badParam('step', `Invalid step '${printable(s)}': use 'final' or a checkpoint's step.`);
    if (!/^\d{1,6}$/.test(p)) throw badParam('prompt', `Invalid prompt '${printable(p)}': use the prompt's index in the gallery.`);
    const inm = req.headers['if-none-match'];
    const { etag, png } = await gallery.image(run, s === 'final' ? -1 : Number(s), Number(p), typeof inm === 'string' ? inm : undefined);
    reply.header('etag', etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    if (png === null) return reply.code(304).send();
    return reply.type('image/png').send(png);
  });

  app.get('/api/sweeps', async () => ({ sweeps: await sweepSummaries(store) }));

  app.get<{ Params: { sweep: string } }>('/api/sweeps/:sweep', async (req) => await sweepDetail(store, await findSweep(req.params.sweep)));

  app.get<{ Params: { sweep: string } }>('/api/sweeps/:sweep/law', async (req) => await laws.view(await findSweep(req.params.sweep)));

  app.get<{ Querystring: Record<string, unknown> }>('/api/evals', async (req) => evalTasks(store, await findSource(req.query)));

  app.get<{ Querystring: Record<string, unknown> }>('/api/emergence', async (req) => {
    const task = taskParam(req.query), shots = intParam(req.query, 'shots', 0, 0, 1000);
    return emergenceView(store, { ...(await findSource(req.query)), task, shots });
  });

  app.get('/api/events', async (_req, reply) => await live.subscribe(reply));

  app.addHook('onClose', async () => {
    live.close();
    await Promise.all([laws.close(), metrics.close(), gallery.close(), live.idle()]);
    await store.close();
  });
  app.addHook('onReady', async () => await metrics.warm((await store.listRuns()).map((r) => r.id)));
};
