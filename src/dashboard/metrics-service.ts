// Where a metrics request is answered. A run of up to INLINE_STEPS steps is read on the spot (a
// few milliseconds); a longer one would block the event loop for seconds, stalling the live
// stream and every other request, so it goes to a worker thread and its answer is kept until
// the run logs another step. At start the overviews of long runs are computed ahead, so the
// first look at a million-step run does not wait for them.
import type { Worker } from 'node:worker_threads';
import type { Store } from '../runs/index.js';
import { runMetrics, stepRange, type MetricsQuery, type MetricsResponse } from './metrics.js';
import type { MetricsRequest } from './metrics-thread.js';
import { startThread } from '../thread.js';

const INLINE_STEPS = 50_000;
const CACHE_ENTRIES = 32;
/** The query the page makes first for a run: the whole run, bucketed linearly. */
export const OVERVIEW: MetricsQuery = { x: 'step', buckets: 1000, log: false };

interface Pending { resolve: (r: MetricsResponse) => void; reject: (e: Error) => void }

export class MetricsService {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly cache = new Map<string, { signature: string; response: Promise<MetricsResponse> }>();
  private closed = false;

  constructor(private readonly store: Store, private readonly home: string) {}

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
    const response = this.inThread(runId, q);
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
    while (this.pending.size > 0) await Promise.allSettled([...this.cache.values()].map((c) => c.response));
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new Error('the dashboard is shutting down'));
    this.pending.clear();
    if (w) await w.terminate();
  }

  /** First and last step, each one probe of the primary key. */
  private async span(runId: string): Promise<[number, number]> {
    const s = await this.store.series.span(runId);
    return [s?.first ?? 0, s?.last ?? 0];
  }

  private inThread(runId: string, query: MetricsQuery): Promise<MetricsResponse> {
    if (this.closed) return Promise.reject(new Error('the dashboard is shutting down'));
    if (!this.worker) {
      const w = startThread(new URL('./metrics-thread.js', import.meta.url), { home: this.home });
      w.on('message', (m: { id: number; ok: true; response: MetricsResponse } | { id: number; ok: false; message: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.resolve(m.response);
        else p?.reject(new Error(m.message));
      });
      // A thread that dies fails what it held; the next request starts another.
      const fail = (err: Error) => {
        if (this.worker === w) this.worker = null;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`the metrics thread exited with code ${code}`)));
      w.unref();
      this.worker = w;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: MetricsRequest = { id, runId, query };
      this.worker!.postMessage(msg);
    });
  }
}
