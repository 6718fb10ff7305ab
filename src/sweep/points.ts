// The (N, D, loss) points a sweep's finished runs give the scaling-law fits: N non-embedding
// parameters, D training tokens (a video DiT's: patches), and the final validation loss, in bits
// per byte for a GPT and as velocity MSE for a DiT (`metric` says which).
import type { RunRecord, Store } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { isDitRun } from '../train/dit-train.js';
import { SweepQueue } from './queue.js';
import { trainingCompute } from '../common/compute.js';

export type Metric = 'bpb' | 'mse';

export interface SweepPoint {
  run: string;
  params: number;
  tokens: number;
  loss: number;
  flops: number;
  metric: Metric;
}

/** A finished run's point, or null when it has no final validation loss yet. */
export function runPoint(r: RunRecord): SweepPoint | null {
  if (r.finalValBpb === null || r.nonEmbeddingParams === null) return null;
  return { run: r.name, params: r.nonEmbeddingParams, tokens: r.tokensSeen, loss: r.finalValBpb, flops: trainingCompute(r.nonEmbeddingParams, r.tokensSeen), metric: isDitRun(r) ? 'mse' : 'bpb' };
}

export async function sweepPoints(store: Store, name: string): Promise<SweepPoint[]> {
  const q = new SweepQueue(store);
  await q.getSweep(name);
  const points: SweepPoint[] = [];
  for (const j of await q.jobs(name)) {
    if (j.status !== 'done') continue;
    const r = await store.findRun(j.runName);
    const p = r && runPoint(r);
    if (p) points.push(p);
  }
  return points;
}

/** The points of named runs (a series trained one by one, as base, 4× and 16× compute); each must have finished. */
export async function runsPoints(store: Store, names: readonly string[]): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for (const name of names) {
    const r = await store.getRun(name);
    const p = runPoint(r);
    if (!p || r.status !== 'done') throw new UsageError(`run '${r.name}' is ${r.status}${r.finalValBpb === null ? ' with no final validation loss' : ''}; fit finished runs only`);
    points.push(p);
  }
  return points;
}

/** The one metric of a set of points; a GPT's bits per byte and a DiT's MSE do not share a law. */
export function metricOf(points: readonly SweepPoint[]): Metric | null {
  const metrics = new Set(points.map((p) => p.metric));
  if (metrics.size > 1) throw new UsageError('these runs mix language models (val bpb) and video models (val mse); fit each family on its own');
  return points.length ? points[0].metric : null;
}
