// A small L-BFGS minimiser (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4 for the
// two-loop recursion, Alg. 3.5/3.6 for the strong-Wolfe line search).
//
// Why hand-written: the scaling-law fits minimise 5-parameter smooth objectives thousands of times
// (4,500 starts per fit, ~40 starts per bootstrap resample), so the optimiser must allocate nothing
// per iteration and call straight into a tight objective. Everything lives in Float64Arrays held by
// an `LbfgsWorkspace` that a caller can reuse across starts.
//
// Why strong Wolfe rather than plain Armijo backtracking: the curvature condition guarantees
// sᵀy > 0, so every (s, y) pair keeps the inverse-Hessian approximation positive definite and the
// method keeps its superlinear convergence; Armijo alone often forces updates to be skipped.

/** The objective in the fast form: write ∇f(x) into `grad` and return f(x). */
export type ObjectiveInPlace = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** How many (s, y) pairs to remember. */
  memory?: number;
  /** Stop when ‖∇f‖∞ ≤ gtol. */
  gtol?: number;
  /** Stop when (f_prev − f) / max(|f_prev|, |f|, fscale) ≤ ftol (relative decrease). */
  ftol?: number;
  /** Floor for the relative-decrease denominator; 0 makes the test purely relative. */
  fscale?: number;
  /** Stop when the step ‖x_{k+1} − x_k‖∞ ≤ xtol·(1 + ‖x_k‖∞). */
  xtol?: number;
  /** Maximum number of iterations (line searches). */
  maxIter?: number;
  /** Maximum objective evaluations inside one line search. */
  maxLineSearch?: number;
}

export const LBFGS_DEFAULTS: Required<LbfgsOptions> = {
  memory: 10, gtol: 1e-9, ftol: 1e-15, fscale: 0, xtol: 1e-15, maxIter: 1000, maxLineSearch: 40,
};

export type LbfgsStop = 'gradient' | 'decrease' | 'step' | 'maxIter' | 'lineSearch' | 'nonFinite';

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  grad: Float64Array;
  iterations: number;
  evaluations: number;
  /** Why it stopped: the gradient, relative-decrease or step test, the iteration cap, or a line search that found no decrease. */
  reason: LbfgsStop;
}

/** Scratch for one problem size and memory; reuse it across starts to allocate nothing per fit. */
export class LbfgsWorkspace {
  readonly n: number;
  readonly m: number;
  readonly s: Float64Array[];
  readonly y: Float64Array[];
  readonly rho: Float64Array;
  readonly alphaBuf: Float64Array;
  readonly x: Float64Array;
  readonly g: Float64Array;
  readonly d: Float64Array;
  readonly xt: Float64Array;
  readonly gt: Float64Array;

  constructor(n: number, m = LBFGS_DEFAULTS.memory) {
    this.n = n;
    this.m = m;
    this.s = Array.from({ length: m }, () => new Float64Array(n));
    this.y = Array.from({ length: m }, () => new Float64Array(n));
    this.rho = new Float64Array(m);
    this.alphaBuf = new Float64Array(m);
    this.x = new Float64Array(n);
    this.g = new Float64Array(n);
    this.d = new Float64Array(n);
    this.xt = new Float64Array(n);
    this.gt = new Float64Array(n);
  }
}

/**
 * Minimise f from x0. The convenient form: `f(x)` returns `{ value, grad }`.
 * For hot loops use `lbfgsInPlace`, which writes the gradient into a buffer instead.
 */
export function lbfgs(
  f: (x: Float64Array) => { value: number; grad: ArrayLike<number> },
  x0: ArrayLike<number>,
  opts: LbfgsOptions = {},
): LbfgsResult {
  const fg: ObjectiveInPlace = (x, grad) => {
    const r = f(x);
    for (let i = 0; i < grad.length; i++) grad[i] = r.grad[i];
    return r.value;
  };
  return lbfgsInPlace(fg, x0, opts);
}

/**
 * Minimise f from x0 with L-BFGS and a strong-Wolfe line search. The returned arrays are copies
 * (the workspace may be reused immediately).
 */
export function lbfgsInPlace(
  fg: ObjectiveInPlace,
  x0: ArrayLike<number>,
  opts: LbfgsOptions = {},
  ws?: LbfgsWorkspace,
): LbfgsResult {
  const o = { ...LBFGS_DEFAULTS, ...opts };
  const n = x0.length;
  if (!ws || ws.n !== n || ws.m !== o.memory) ws = new LbfgsWorkspace(n, o.memory);
  const { s, y, rho, alphaBuf: al, x, g, d, xt, gt } = ws;
  const m = o.memory;
  for (let i = 0; i < n; i++) x[i] = x0[i];

  let evaluations = 1;
  let f = fg(x, g);
  const finish = (iterations: number, reason: LbfgsStop): LbfgsResult => ({
    x: Float64Array.from(x), value: f, grad: Float64Array.from(g), iterations, evaluations, reason,
  });
  if (!Number.isFinite(f) || !allFinite(g)) return finish(0, 'nonFinite');
  if (normInf(g) <= o.gtol) return finish(0, 'gradient');

  let stored = 0; // pairs in memory
  let head = 0; // index of the next slot to write (ring buffer)
  let gamma = 1; // initial inverse-Hessian scaling sᵀy / yᵀy
  let iter = 0;
  let retried = false; // one steepest-descent retry after a failed line search

  while (iter < o.maxIter) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = 0, j = head - 1; k < stored; k++, j--) {
      const jj = (j + m) % m;
      const a = rho[jj] * dot(s[jj], d, n);
      al[jj] = a;
      axpy(-a, y[jj], d, n);
    }
    for (let i = 0; i < n; i++) d[i] *= gamma;
    for (let k = 0, j = head - stored; k < stored; k++, j++) {
      const jj = (j + m) % m;
      const b = rho[jj] * dot(y[jj], d, n);
      axpy(al[jj] - b, s[jj], d, n);
    }
    let dg = dot(d, g, n);
    if (!(dg < 0)) {
      // Not a descent direction (round-off in H): forget the memory, go downhill.
      stored = 0; head = 0; gamma = 1;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      dg = dot(d, g, n);
    }
    // First step: a unit step along −g can be wild, so scale it to move at most 1 in ∞-norm.
    const step0 = stored === 0 ? Math.min(1, 1 / normInf(d)) : 1;

    const ls = lineSearch(fg, x, f, g, d, dg, step0, xt, gt, n, o.maxLineSearch);
    evaluations += ls.evaluations;
    if (!ls.ok) {
      if (stored > 0 && !retried) {
        // Retry once from scratch along steepest descent before giving up.
        stored = 0; head = 0; gamma = 1; retried = true;
        continue;
      }
      return finish(iter, 'lineSearch');
    }
    retried = false;
    iter++;

    // Accept: s = x_new − x, y = g_new − g, stored in the ring buffer.
    const sk = s[head], yk = y[head];
    let stepInf = 0, xInf = 0;
    for (let i = 0; i < n; i++) {
      sk[i] = xt[i] - x[i];
      yk[i] = gt[i] - g[i];
      stepInf = Math.max(stepInf, Math.abs(sk[i]));
      xInf = Math.max(xInf, Math.abs(x[i]));
      x[i] = xt[i];
      g[i] = gt[i];
    }
    const fPrev = f;
    f = ls.f;
    const sy = dot(sk, yk, n);
    const yy = dot(yk, yk, n);
    if (sy > 1e-300 && yy > 0) {
      rho[head] = 1 / sy;
      gamma = sy / yy;
      head = (head + 1) % m;
      if (stored < m) stored++;
    }

    if (normInf(g) <= o.gtol) return finish(iter, 'gradient');
    const denom = Math.max(Math.abs(fPrev), Math.abs(f), o.fscale);
    if (fPrev - f <= o.ftol * denom) return finish(iter, 'decrease');
    if (stepInf <= o.xtol * (1 + xInf)) return finish(iter, 'step');
  }
  return finish(iter, 'maxIter');
}

interface LineSearchResult { ok: boolean; f: number; evaluations: number }

const C1 = 1e-4; // sufficient decrease (Armijo)
const C2 = 0.9; // curvature; 0.9 is the usual choice for quasi-Newton methods

/**
 * Strong-Wolfe line search along d from x. On success xt/gt hold the accepted point and its
 * gradient. Non-finite trial values are treated as "too far" and bracket the step from above,
 * so an objective that overflows far from the data cannot derail the search.
 */
function lineSearch(
  fg: ObjectiveInPlace, x: Float64Array, f0: number, g0: Float64Array, d: Float64Array, dg0: number,
  step0: number, xt: Float64Array, gt: Float64Array, n: number, maxEval: number,
): LineSearchResult {
  let evals = 0;
  const phi = (t: number): number => {
    for (let i = 0; i < n; i++) xt[i] = x[i] + t * d[i];
    evals++;
    return fg(xt, gt);
  };

  let tPrev = 0, fPrev = f0, dPrev = dg0;
  let t = step0;
  let lo = 0, flo = f0, dlo = dg0, hi = 0, fhi = 0, dhi = 0;
  let bracketed = false;
  // Best sufficient-decrease point seen, to fall back on if the curvature test never passes.
  let tBest = 0, fBest = f0;

  while (evals < maxEval) {
    const ft = phi(t);
    const dt = finiteOr(dot(gt, d, n));
    if (!Number.isFinite(ft) || ft > f0 + C1 * t * dg0 || (evals > 1 && ft >= fPrev)) {
      lo = tPrev; flo = fPrev; dlo = dPrev; hi = t; fhi = ft; dhi = dt; bracketed = true;
      break;
    }
    if (ft < fBest) { fBest = ft; tBest = t; }
    if (Math.abs(dt) <= -C2 * dg0) return { ok: true, f: ft, evaluations: evals };
    if (dt >= 0) {
      lo = t; flo = ft; dlo = dt; hi = tPrev; fhi = fPrev; dhi = dPrev; bracketed = true;
      break;
    }
    // Still going downhill: extrapolate (at most 4× further, at least 1.1×).
    const tNext = cubicMin(tPrev, fPrev, dPrev, t, ft, dt);
    tPrev = t; fPrev = ft; dPrev = dt;
    t = Number.isFinite(tNext) ? Math.min(Math.max(tNext, 1.1 * t), 4 * t) : 2 * t;
  }

  if (bracketed) {
    // Zoom: shrink [lo, hi] (lo satisfies sufficient decrease, hi does not or slopes up).
    while (evals < maxEval) {
      const width = hi - lo;
      let tj = Number.isFinite(fhi) ? cubicMin(lo, flo, dlo, hi, fhi, dhi) : NaN;
      // Safeguard: stay inside the middle 80% of the bracket, else bisect.
      const a = Math.min(lo, hi), b = Math.max(lo, hi), margin = 0.1 * Math.abs(width);
      if (!Number.isFinite(tj) || tj < a + margin || tj > b - margin) tj = lo + 0.5 * width;
      if (Math.abs(width) <= 1e-16 * Math.max(1, Math.abs(lo))) break;
      const fj = phi(tj);
      const dj = finiteOr(dot(gt, d, n));
      if (!Number.isFinite(fj) || fj > f0 + C1 * tj * dg0 || fj >= flo) {
        hi = tj; fhi = fj; dhi = dj;
      } else {
        if (fj < fBest) { fBest = fj; tBest = tj; }
        if (Math.abs(dj) <= -C2 * dg0) return { ok: true, f: fj, evaluations: evals };
        if (dj * (hi - lo) >= 0) { hi = lo; fhi = flo; dhi = dlo; }
        lo = tj; flo = fj; dlo = dj;
      }
    }
  }

  // Curvature test never passed: accept the best sufficient-decrease point if there was one.
  if (tBest > 0 && fBest < f0) {
    const fb = phi(tBest);
    return { ok: true, f: fb, evaluations: evals };
  }
  return { ok: false, f: f0, evaluations: evals };
}

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db) (Nocedal & Wright eq. 3.59), or NaN. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - 3 * (fa - fb) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2);
}

function finiteOr(v: number): number {
  return Number.isFinite(v) ? v : NaN;
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, xv: Float64Array, yv: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) yv[i] += alpha * xv[i];
}

function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
