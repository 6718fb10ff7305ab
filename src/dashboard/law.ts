// The scaling-law view of each sweep, fitted in a worker thread and kept until the sweep changes:
// a new finished run or a new verify run. Requests that arrive while a fit runs share it.
import type { Worker } from 'node:worker_threads';
import type { Store } from '../runs/index.js';
import { sweepPoints } from '../sweep/points.js';
import { MIN_POINTS } from '../laws/validate.js';
import { MIN_BUDGETS } from '../laws/compute-law.js';
import { lawView, type LawView, type VerifyPoint } from './law-view.js';
import type { LawThreadData } from './law-thread.js';
import { startThread } from '../thread.js';
import { trainingCompute } from '../common/compute.js';

interface Entry { signature: string; view: Promise<LawView> }

export class LawCache {
  private readonly entries = new Map<string, Entry>();
  private readonly workers = new Set<Worker>();

  constructor(private readonly store: Store, private readonly resamples: number) {}

  /** The sweep's view; throws the store's UsageError for an unknown sweep. */
  async view(sweep: string): Promise<LawView> {
    const points = await sweepPoints(this.store, sweep);
    const verify = await verifyPoints(this.store, sweep);
    // A video sweep's losses are val MSE, and it is fitted against compute, from its plan on: its runs may not have finished yet.
    const metric = (await this.store.sweeps.get(sweep)).config.model === 'dit' || points.some((p) => p.metric === 'mse') ? 'mse' : 'bpb';
    const signature = `${points.map((p) => p.run).join(',')}|${verify.map((v) => v.run).join(',')}`;
    const cached = this.entries.get(sweep);
    if (cached && cached.signature === signature) return cached.view;
    // Too few runs for any fit answer at once; a fit, with its bootstrap, runs in a thread.
    const view = points.length < (metric === 'mse' ? Math.min(MIN_BUDGETS, MIN_POINTS) : MIN_POINTS)
      ? Promise.resolve(lawView(sweep, points, verify, { resamples: this.resamples, metric }))
      : this.inThread({ sweep, metric, points, verify, resamples: this.resamples });
    const entry = { signature, view };
    this.entries.set(sweep, entry);
    // A failed fit (a crashed thread) is not remembered, so the next request tries again.
    view.catch(() => {
      if (this.entries.get(sweep) === entry) this.entries.delete(sweep);
    });
    return view;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }

  private inThread(data: LawThreadData): Promise<LawView> {
    return new Promise((resolve, reject) => {
      const w = startThread(new URL('./law-thread.js', import.meta.url), data);
      this.workers.add(w);
      w.once('message', (m: { ok: true; view: LawView } | { ok: false; message: string }) => {
        if (m.ok) resolve(m.view);
        else reject(new Error(m.message));
      });
      w.once('error', reject);
      w.once('exit', (code) => {
        this.workers.delete(w);
        reject(new Error(`the law fit thread exited with code ${code}`));
      });
    });
  }
}

/** The predicted-vs-measured records that `sweep verify` keeps with its runs, for this sweep. */
export async function verifyPoints(store: Store, sweep: string): Promise<VerifyPoint[]> {
  await store.sweeps.get(sweep);
  const out: VerifyPoint[] = [];
  for (const row of await store.eventsOfKind('verify')) {
    const d = row.data as Record<string, unknown> | null;
    if (!d || d.sweep !== sweep) continue;
    const params = Number(d.params), tokens = Number(d.tokens), predicted = Number(d.predicted), measured = Number(d.measured);
    const interval = Array.isArray(d.interval) ? d.interval.map(Number) : [];
    if (![params, tokens, predicted, measured, ...interval].every(Number.isFinite) || interval.length !== 2) continue;
    out.push({
      run: row.runName, flops: trainingCompute(params, tokens), params, tokens, predicted, interval: [interval[0], interval[1]], measured,
      relativeError: (measured - predicted) / measured,
    });
  }
  return out;
}
