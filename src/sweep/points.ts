// The (N, D, loss) points a sweep's finished runs give the scaling-law fits: N non-embedding
// parameters, D training tokens, and the final validation loss in bits per byte.
import type { Store } from '../runs/index.js';
import { SweepQueue } from './queue.js';
import { trainingCompute } from '../common/compute.js';

export interface SweepPoint {
  run: string;
  params: number;
  tokens: number;
  loss: number;
  flops: number;
}

export async function sweepPoints(store: Store, name: string): Promise<SweepPoint[]> {
  const q = new SweepQueue(store);
  await q.getSweep(name);
  const points: SweepPoint[] = [];
  for (const j of await q.jobs(name)) {
    if (j.status !== 'done') continue;
    const r = await store.findRun(j.runName);
    if (!r || r.finalValBpb === null || r.nonEmbeddingParams === null) continue;
    points.push({ run: r.name, params: r.nonEmbeddingParams, tokens: r.tokensSeen, loss: r.finalValBpb, flops: trainingCompute(r.nonEmbeddingParams, r.tokensSeen) });
  }
  return points;
}
