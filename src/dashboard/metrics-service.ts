// Where a metrics request is answered. A run of up to INLINE_STEPS steps is read on the spot (a
// few milliseconds); a longer one would block the event loop for seconds, stalling the live
// stream and every other request, so it goes to a worker thread and its answer is kept until
// the run logs another step. At start the overviews of long runs are computed ahead, so the
// first look at a million-step run does not wait for them.
import type { Store } from '../runs/index.js';
import { runMetrics, stepRange, type MetricsQuery, type MetricsResponse } from './metrics.js';
import type { MetricsRequest } from './metrics-thread.js';
import { ThreadClient } from '../thread.js';

const INLINE_STEPS = 50_000;
const CACHE_ENTRIES = 32;
/** The query the page makes first for a run: the whole run, bucketed linearly. */
export const OVERVIEW: MetricsQuery = { x: 'step', buckets: 1000, log: false };

export class MetricsService {
  private readonly thread: ThreadClient<Omit<MetricsRequest, 'id'>, MetricsResponse>;
  private readonly cache = new Map<string, { signature: string; response: Promise<MetricsResponse> }>();

  constructor(private readonly store: Store, home: string) {
    this.thread = new ThreadClient(new URL('./metrics-thread.js', import.meta.url), { home }, 'metrics');
  }

  async get(runId: string, q: MetricsQuery): Promise<MetricsResponse> {
    const [first, last] = await this.span(runId);
    const [lo, hi] = q.x === 'step' ? [Math.max(first, q.from ?? -Infinity), Math.min(last, q.to ?? Infinity)] : [first, last];
    if (!(hi - lo > INLINE_STEPS)) return runMetrics(this.store, runId, q);
    // Only the step range read decides the answer, so it (with the run's last step) keys the cache.
    const key = JSON.stringify([runId, q.x, q.buckets, q.log, q.from, q.to]);
    const signature = `${last}|${(await stepRange(this.store, runId, q)).join(',')}`;
    const hit = this.cache.get(key);
    if (hit && hit.signature === signature) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.response;
    }
    const response = this.thread.request({ runId, query: q });
    this.cache.set(key, { signature, response });
    response.catch(() => this.cache.delete(key));
    while (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return response;
  }

  /** Compute the overviews of the long runs among `runIds` in the background. */
  async warm(runIds: string[]): Promise<void> {
    for (const id of runIds) {
      const [first, last] = await this.span(id);
      if (last - first > INLINE_STEPS) this.get(id, OVERVIEW).catch(() => {});
    }
  }

  /** Resolves when no request is waiting for the thread (the warm-up is done, say). */
  async idle(): Promise<void> {
    while (this.thread.waiting > 0) await Promise.allSettled([...this.cache.values()].map((c) => c.response));
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  /** First and last step, each one probe of the primary key. */
  private async span(runId: string): Promise<[number, number]> {
    const s = await this.store.series.span(runId);
    return [s?.first ?? 0, s?.last ?? 0];
  }
}
