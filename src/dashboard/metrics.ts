// A run's metrics for the curves, downsampled so that a run of a million steps arrives as a few
// thousand points: per bucket of x the first, last, lowest and highest value of the train loss,
// the validation loss and the gradient norm (m4Indices), so spikes survive. A zoomed view asks
// for a range of x and gets that range at full resolution again.
import { lossUnit, runFamily, trainLossIn, type LossUnit, type Store } from '../runs/index.js';
import { m4Indices } from '../common/series.js';
import type { XAxis } from './params.js';

/**
 * Columns sent to the page. The losses are in the run's unit (the response's `unit`): for a GPT,
 * trainBpb is the stored train loss (nats per byte) in bits per byte; for a video run both are
 * the velocity MSE, as stored.
 */
export const METRIC_KEYS = ['step', 'tokens', 'flops', 'trainBpb', 'valBpb', 'lr', 'tokensPerS', 'gradNorm'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
export type MetricColumns = Record<MetricKey, (number | null)[]>;

export interface MetricsQuery {
  x: XAxis;
  /** Buckets of x; up to 4 + 2·3 points come back per bucket. */
  buckets: number;
  /** Bucket in log x (for a log-scaled axis). */
  log: boolean;
  from?: number;
  to?: number;
}

export interface MetricsResponse {
  run: string;
  x: XAxis;
  /** Rows in the range before downsampling. */
  total: number;
  downsampled: boolean;
  /** What trainBpb and valBpb are in: bits per byte (a GPT) or velocity MSE (a DiT). */
  unit: LossUnit;
  columns: MetricColumns;
}

/** The steps a query covers: a range of x becomes a range of steps (tokens and FLOPs grow with the step). */
export async function stepRange(store: Store, runId: string, q: Pick<MetricsQuery, 'x' | 'from' | 'to'>): Promise<[number, number]> {
  // Widened by one row on each side, so the lines run on to the edges of a zoomed view.
  const lo = q.from === undefined ? undefined : await store.series.stepBefore(runId, q.x, q.from);
  const hi = q.to === undefined ? undefined : await store.series.stepAfter(runId, q.x, q.to);
  return [lo ?? -Infinity, hi ?? Infinity];
}

/**
 * Read and downsample: synchronous, proportional to the rows in the range (seconds for a
 * million). The first pass reads only what the choice needs (step, x and the three kept
 * series); the rows chosen are then read whole, by step.
 */
export async function runMetrics(store: Store, runId: string, q: MetricsQuery): Promise<MetricsResponse> {
  const [lo, hi] = await stepRange(store, runId, q);
  const run = await store.findRun(runId);
  const unit = lossUnit(runFamily(run?.config));
  // Typed columns (NaN for missing) hold a million rows at 8 bytes a value instead of a JS array each.
  let cols = [0, 1, 2, 3, 4].map(() => new Float64Array(1024));
  let n = 0;
  for await (const chunk of store.series.curve(runId, q.x, lo, hi)) {
    for (const row of chunk) {
      if (n === cols[0].length) {
        cols = cols.map((c) => {
          const grown = new Float64Array(n * 2);
          grown.set(c);
          return grown;
        });
      }
      for (let k = 0; k < 5; k++) cols[k][n] = row[k] ?? NaN;
      n++;
    }
  }
  const [steps, xs, train, val, grad] = cols.map((c) => c.subarray(0, n));
  const idx = m4Indices(xs, [train, val, grad], q.buckets, { min: q.from, max: q.to, log: q.log });
  const out = Object.fromEntries(METRIC_KEYS.map((k) => [k, [] as (number | null)[]])) as MetricColumns;
  for (const r of await store.series.atSteps(runId, idx.map((i) => steps[i]))) {
    const values = [r.step, r.tokens, r.flops, trainLossIn(unit, r.trainLoss), r.valBpb, r.lr, r.tokensPerS, r.gradNorm];
    METRIC_KEYS.forEach((k, j) => out[k].push(values[j] === null || Number.isNaN(values[j]) ? null : values[j]));
  }
  return { run: runId, x: q.x, total: n, downsampled: idx.length < n, unit, columns: out };
}
