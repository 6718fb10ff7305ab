// Pure series arithmetic shared by the dashboard's server and its page (src/common/ holds such
// modules, below both; the dashboard serves them to the page under /common/): debiased EMA
// smoothing and min/max-preserving decimation. No DOM and no Node APIs, so the browser imports it as is
// and node:test checks it directly.

/** A column as it arrives in JSON: null where the store has no value (or had a NaN). */
export type Column = ArrayLike<number | null>;

/**
 * Exponential moving average with bias correction, as TensorBoard and W&B smooth: `weight` is
 * the share kept of the running value (0 = no smoothing, 0.99 = heavy). The running value starts
 * at 0, so early values are divided by 1 − weight^n; without that the curve would start near zero
 * and climb, a shape the run never had. Missing values stay missing and do not advance n.
 */
export function emaDebiased(ys: Column, weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  const out = new Array<number | null>(ys.length);
  let last = 0, kept = 1;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * y;
    kept *= weight;
    out[i] = last / (1 - kept);
  }
  return out;
}

export interface DecimateOptions {
  /** Only points with min ≤ x ≤ max count (plus one neighbour on each side, so lines enter the view). */
  min?: number;
  max?: number;
  /** Buckets equal in log x (points with x ≤ 0 are dropped): what a log-x axis shows as equal widths. */
  log?: boolean;
}

/**
 * Which points to keep so that a line through them looks like the line through all of them at
 * `buckets` columns: per bucket of x, the first and last point and, for each y column, the points
 * with the smallest and largest y (the M4 scheme of Jugel et al., VLDB 2014). A spike is
 * therefore always kept, which sampling every k-th point would lose. `xs` must be ascending;
 * points whose x is missing are skipped. Returns ascending indices; all of them when there are
 * no more points than 4 per bucket.
 */
export function m4Indices(xs: Column, ys: readonly Column[], buckets: number, o: DecimateOptions = {}): number[] {
  const lo = o.min ?? -Infinity, hi = o.max ?? Infinity;
  const log = o.log ?? false;
  const valid = (x: number | null): x is number => x !== null && Number.isFinite(x) && (!log || x > 0);
  let first = -1, last = -1, before = -1, after = -1;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (!valid(x)) continue;
    if (x < lo) before = i;
    else if (x > hi) {
      if (after < 0) after = i;
    } else {
      if (first < 0) first = i;
      last = i;
    }
  }
  const out: number[] = [];
  if (before >= 0) out.push(before);
  if (first >= 0) {
    let inside = 0;
    for (let i = first; i <= last; i++) if (valid(xs[i])) inside++;
    if (inside <= 4 * buckets || buckets < 1) {
      for (let i = first; i <= last; i++) if (valid(xs[i])) out.push(i);
    } else {
      bucketExtremes(xs, ys, first, last, Math.floor(buckets), log, valid, out);
    }
  }
  if (after >= 0) out.push(after);
  return out;
}

function bucketExtremes(xs: Column, ys: readonly Column[], first: number, last: number, buckets: number, log: boolean,
  valid: (x: number | null) => x is number, out: number[]): void {
  const t = log ? Math.log : (x: number) => x;
  const x0 = t(xs[first] as number), x1 = t(xs[last] as number);
  const scale = x1 > x0 ? buckets / (x1 - x0) : 0;
  const k = ys.length;
  const minAt = new Int32Array(k), maxAt = new Int32Array(k);
  const minY = new Float64Array(k), maxY = new Float64Array(k);
  let bucket = -1, bFirst = -1, bLast = -1;
  const picked: number[] = [];
  const flush = () => {
    if (bucket < 0) return;
    picked.length = 0;
    picked.push(bFirst, bLast);
    for (let j = 0; j < k; j++) {
      if (minAt[j] >= 0) picked.push(minAt[j], maxAt[j]);
    }
    picked.sort((a, b) => a - b);
    for (let j = 0; j < picked.length; j++) if (j === 0 || picked[j] !== picked[j - 1]) out.push(picked[j]);
  };
  for (let i = first; i <= last; i++) {
    const x = xs[i];
    if (!valid(x)) continue;
    const b = Math.min(buckets - 1, Math.floor((t(x) - x0) * scale));
    if (b !== bucket) {
      flush();
      bucket = b;
      bFirst = i;
      minAt.fill(-1);
      maxAt.fill(-1);
    }
    bLast = i;
    for (let j = 0; j < k; j++) {
      const y = ys[j][i];
      if (y === null || !Number.isFinite(y)) continue;
      if (minAt[j] < 0 || y < minY[j]) { minAt[j] = i; minY[j] = y; }
      if (maxAt[j] < 0 || y > maxY[j]) { maxAt[j] = i; maxY[j] = y; }
    }
  }
  flush();
}

/** The entries of `col` at `idx`. */
export function pick<T>(col: ArrayLike<T>, idx: readonly number[]): T[] {
  const out = new Array<T>(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = col[idx[i]];
  return out;
}
