// Approach 3 of Hoffmann et al. (2022), as Besiroglu et al. (2024, "Chinchilla Scaling: A
// replication attempt") redid it: fit
//
//     L(N, D) = E + A/N^α + B/D^β
//
// to every run at once. Following the paper, the parameters are x = (a, b, e, α, β) with
// A = e^a, B = e^b, E = e^e, the prediction in log space is
//
//     log L̂ = LSE(a − α·log N,  b − β·log D,  e)
//
// and the objective is the SUM over runs of Huber_δ(log L̂ − log L), δ = 1e-3. The sum, not the
// mean: Besiroglu et al. traced Hoffmann et al.'s implausibly narrow intervals to an optimiser
// that stopped early on a mean-scaled (tiny) objective. L-BFGS runs from every point of the
// published grid (α, β ∈ {0, .5, 1, 1.5, 2}, e ∈ {−1, −.5, 0, .5, 1}, a, b ∈ {0, 5, …, 25}: 4,500
// starts) and the lowest final objective wins; the surface has many shallow local minima, which
// is why the grid exists.
//
// Speed: the objective is evaluated ~10⁵–10⁶ times per fit, so it runs over Float64Arrays with
// runs grouped by distinct N and distinct D. a − α·log N takes one value per model size and
// b − β·log D one per token count, so each evaluation needs one exp per distinct N, one per
// distinct D, and one log per run — instead of three exps and a log per run. When every exponent
// lies in (−700, 700) the three terms are summed directly (they cannot overflow or all underflow,
// so this equals the max-shifted LSE to rounding); outside that range, which only line-search
// trial points far from any data reach, each run falls back to the max-shifted LSE.
import { UsageError } from '../errors.js';
import { LbfgsWorkspace, lbfgsInPlace, type LbfgsOptions } from './lbfgs.js';
import type { ScalingPoint } from './points.js';
import { checkFit, validatePoints } from './validate.js';

/** The starting grid of Hoffmann et al. / Besiroglu et al.: 5·5·5·6·6 = 4,500 starts. */
export interface GridSpec {
  alpha: readonly number[];
  beta: readonly number[];
  e: readonly number[];
  a: readonly number[];
  b: readonly number[];
}

export const PAPER_GRID: GridSpec = {
  alpha: [0, 0.5, 1, 1.5, 2],
  beta: [0, 0.5, 1, 1.5, 2],
  e: [-1, -0.5, 0, 0.5, 1],
  a: [0, 5, 10, 15, 20, 25],
  b: [0, 5, 10, 15, 20, 25],
};

export const HUBER_DELTA = 1e-3;

/** Tolerances for each L-BFGS run. The objective is a small sum (≈ δ·|residual| per run), so the
 *  relative-decrease test has no floor of 1 (fscale 0): a floor would stop it early, the very
 *  failure Besiroglu et al. found. maxIter bounds the time spent in hopeless starts. */
export const CHINCHILLA_LBFGS: LbfgsOptions = { gtol: 1e-12, ftol: 1e-11, fscale: 0, xtol: 1e-12, maxIter: 1000 };

/** Loose tolerances for the screening stage: enough to tell which basin a start falls into. */
export const SCREEN_LBFGS: LbfgsOptions = { gtol: 1e-10, ftol: 1e-4, fscale: 0, xtol: 1e-9, maxIter: 40, maxLineSearch: 8 };

export interface ChinchillaFit {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
  /** The parameters as fitted: a = log A, b = log B, e = log E. */
  a: number;
  b: number;
  e: number;
  /** The minimised sum of Huber losses. */
  objective: number;
  /** How many runs (points) were fitted. */
  points: number;
  /** How many L-BFGS starts were run. */
  starts: number;
  /** The best distinct local minima found, best first, as [a, b, e, α, β]; warm starts for refits. */
  minima: number[][];
}

export interface ChinchillaOptions {
  /** Override axes of the starting grid (the rest stay at the paper's values). */
  grid?: Partial<GridSpec>;
  /** Explicit start vectors [a, b, e, α, β]; replaces the grid when given. */
  starts?: readonly (readonly number[])[];
  /** Huber δ (default 1e-3, as in the paper). */
  delta?: number;
  /** Per-point weights (a bootstrap resample's multiplicities); default all 1. */
  weights?: ArrayLike<number>;
  /** Reject degenerate fits with a UsageError (default true; see validate.ts). */
  check?: boolean;
  /** Override the L-BFGS tolerances and the two-stage search (see `fitFromStarts`). */
  search?: FitStartsOptions;
}

/** The parameter vector order used everywhere in this file. */
const IA = 0, IB = 1, IE = 2, IALPHA = 3, IBETA = 4;
const SAFE_EXP = 700;

/**
 * The objective over Float64Arrays, with runs grouped by distinct N and D (see the file comment).
 * `evaluate(x, g)` writes the gradient into g and returns the weighted sum of Huber losses.
 */
export class ChinchillaObjective {
  readonly n: number;
  readonly logN: Float64Array; // distinct log N
  readonly logD: Float64Array; // distinct log D
  readonly ni: Int32Array; // run → index into logN
  readonly di: Int32Array; // run → index into logD
  readonly logL: Float64Array;
  readonly w: Float64Array;
  readonly delta: number;
  private readonly uN: Float64Array;
  private readonly uD: Float64Array;
  private readonly hN: Float64Array;
  private readonly hD: Float64Array;

  constructor(points: readonly ScalingPoint[], delta = HUBER_DELTA) {
    this.n = points.length;
    this.delta = delta;
    const [logN, ni] = groupLogs(points.map((p) => p.params));
    const [logD, di] = groupLogs(points.map((p) => p.tokens));
    this.logN = logN; this.ni = ni; this.logD = logD; this.di = di;
    this.logL = Float64Array.from(points, (p) => Math.log(p.loss));
    this.w = new Float64Array(this.n).fill(1);
    this.uN = new Float64Array(logN.length);
    this.hN = new Float64Array(logN.length);
    this.uD = new Float64Array(logD.length);
    this.hD = new Float64Array(logD.length);
  }

  setWeights(weights: ArrayLike<number>): void {
    if (weights.length !== this.n) throw new Error(`weights: expected ${this.n}, got ${weights.length}`);
    for (let i = 0; i < this.n; i++) this.w[i] = weights[i];
  }

  evaluate = (x: Float64Array, g: Float64Array): number => {
    const a = x[IA], b = x[IB], e = x[IE], alpha = x[IALPHA], beta = x[IBETA];
    const { logN, logD, uN, uD, hN, hD, ni, di, logL, w, delta } = this;
    const nN = logN.length, nD = logD.length, n = this.n;
    let tmin = e, tmax = e;
    for (let j = 0; j < nN; j++) {
      const t = a - alpha * logN[j];
      uN[j] = t; hN[j] = 0;
      if (t < tmin) tmin = t; else if (t > tmax) tmax = t;
    }
    for (let k = 0; k < nD; k++) {
      const t = b - beta * logD[k];
      uD[k] = t; hD[k] = 0;
      if (t < tmin) tmin = t; else if (t > tmax) tmax = t;
    }
    if (!(tmin > -SAFE_EXP && tmax < SAFE_EXP)) return this.evaluateStable(x, g);

    for (let j = 0; j < nN; j++) uN[j] = Math.exp(uN[j]);
    for (let k = 0; k < nD; k++) uD[k] = Math.exp(uD[k]);
    const eE = Math.exp(e);
    let f = 0, hE = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      if (wi === 0) continue;
      const jn = ni[i], kd = di[i];
      const s = uN[jn] + uD[kd] + eE;
      const r = Math.log(s) - logL[i];
      let dr: number;
      if (r > delta) { f += wi * delta * (r - 0.5 * delta); dr = delta; }
      else if (r < -delta) { f += wi * delta * (-r - 0.5 * delta); dr = -delta; }
      else { f += wi * 0.5 * r * r; dr = r; }
      // d log L̂ / d(term) = term / s, chained through the shared per-N / per-D exponentials.
      const q = wi * dr / s;
      hN[jn] += q; hD[kd] += q; hE += q;
    }
    let ga = 0, galpha = 0, gb = 0, gbeta = 0;
    for (let j = 0; j < nN; j++) { const v = uN[j] * hN[j]; ga += v; galpha -= v * logN[j]; }
    for (let k = 0; k < nD; k++) { const v = uD[k] * hD[k]; gb += v; gbeta -= v * logD[k]; }
    g[IA] = ga; g[IB] = gb; g[IE] = eE * hE; g[IALPHA] = galpha; g[IBETA] = gbeta;
    return f;
  };

  /** The same objective with a max-shifted LSE per run, for trial points with extreme exponents. */
  private evaluateStable(x: Float64Array, g: Float64Array): number {
    const e = x[IE];
    const { logN, logD, uN, uD, ni, di, logL, w, delta } = this;
    let f = 0, ga = 0, gb = 0, ge = 0, galpha = 0, gbeta = 0;
    for (let i = 0; i < this.n; i++) {
      const wi = w[i];
      if (wi === 0) continue;
      const t1 = uN[ni[i]], t2 = uD[di[i]];
      const m = Math.max(t1, t2, e);
      const p1 = Math.exp(t1 - m), p2 = Math.exp(t2 - m), p3 = Math.exp(e - m);
      const s = p1 + p2 + p3;
      const r = m + Math.log(s) - logL[i];
      let dr: number;
      if (r > delta) { f += wi * delta * (r - 0.5 * delta); dr = delta; }
      else if (r < -delta) { f += wi * delta * (-r - 0.5 * delta); dr = -delta; }
      else { f += wi * 0.5 * r * r; dr = r; }
      const q = wi * dr / s;
      ga += q * p1; galpha -= q * p1 * logN[ni[i]];
      gb += q * p2; gbeta -= q * p2 * logD[di[i]];
      ge += q * p3;
    }
    g[IA] = ga; g[IB] = gb; g[IE] = ge; g[IALPHA] = galpha; g[IBETA] = gbeta;
    return f;
  }
}

/** All start vectors [a, b, e, α, β] of a grid (the paper's, with any axes overridden). */
export function gridStarts(grid: Partial<GridSpec> = {}): number[][] {
  const G = { ...PAPER_GRID, ...grid };
  const out: number[][] = [];
  for (const alpha of G.alpha) for (const beta of G.beta) for (const e of G.e)
    for (const a of G.a) for (const b of G.b) out.push([a, b, e, alpha, beta]);
  return out;
}

/**
 * Fit L(N, D) = E + A/N^α + B/D^β to runs (Approach 3). Validates the input, runs L-BFGS from every
 * start, keeps the lowest objective, and (unless `check: false`) rejects a degenerate fit.
 */
export function fitChinchilla(points: readonly ScalingPoint[], opts: ChinchillaOptions = {}): ChinchillaFit {
  validatePoints(points, 'chinchilla');
  const delta = opts.delta ?? HUBER_DELTA;
  if (!(delta > 0 && Number.isFinite(delta))) throw new UsageError(`delta must be a positive number, got ${delta}`);
  const objective = new ChinchillaObjective(points, delta);
  if (opts.weights) objective.setWeights(opts.weights);
  const starts = opts.starts ?? gridStarts(opts.grid);
  if (starts.length === 0) throw new UsageError('the starting grid is empty; give at least one value per axis or leave grid unset');
  const fit = fitFromStarts(objective, starts, opts.search);
  if (opts.check ?? true) checkFit(fit, points);
  return fit;
}

/**
 * Run L-BFGS from each start on a prepared objective and return the best. No validation, no
 * degeneracy check: the bootstrap calls this directly on re-weighted objectives.
 *
 * Two stages, for speed. Most of the 4,500 starts end in a handful of basins, and running each
 * to full precision costs 5–8× more than finding its basin. So every start first runs with the
 * loose SCREEN_LBFGS tolerances; the `polish` (12) best distinct end points are then run on from
 * where they stopped with the tight CHINCHILLA_LBFGS tolerances, and the best polished objective
 * wins. Measured against running every start to full precision (`screen: false`, the paper's
 * procedure): on Besiroglu et al.'s 240 Chinchilla runs and on every well-posed synthetic data set
 * tried, the same minimum (objective equal to ≤1e-11 relative). On ill-posed synthetic data (the
 * B/D^β term too small to identify) the two can end in different near-degenerate basins (e.g.
 * β < 0), objectives up to a few % apart; such fits are rejected by the degeneracy check anyway.
 */
export function fitFromStarts(
  objective: ChinchillaObjective, starts: readonly (readonly number[])[], opts: FitStartsOptions = {},
): ChinchillaFit {
  const tight = { ...CHINCHILLA_LBFGS, ...opts.lbfgs };
  const screen = opts.screen === false ? tight : { ...SCREEN_LBFGS, ...opts.screen };
  const keep = Math.max(1, opts.keepMinima ?? 8);
  const polish = Math.max(1, opts.polish ?? 12);
  const ws = new LbfgsWorkspace(5, tight.memory);
  const run = (x0: ArrayLike<number>, o: LbfgsOptions): Final | null => {
    const r = lbfgsInPlace(objective.evaluate, x0, o, ws);
    return Number.isFinite(r.value) && r.x.every(Number.isFinite) ? { f: r.value, x: r.x } : null;
  };

  let finals: Final[] = [];
  for (const s of starts) {
    if (s.length !== 5) throw new UsageError(`a start must be [a, b, e, alpha, beta], got ${s.length} numbers`);
    const r = run(s, screen);
    if (r) finals.push(r);
  }
  if (finals.length === 0) {
    throw new UsageError(`every one of the ${starts.length} L-BFGS starts failed (non-finite objective); check the points`);
  }
  let best = distinctBest(finals, 1, 0)[0];
  if (screen !== tight) {
    const polished: Final[] = [];
    for (const c of distinctBest(finals, polish, 1e-2)) {
      const r = run(c.x, tight);
      polished.push(r && r.f <= c.f ? r : c);
    }
    best = distinctBest(polished, 1, 0)[0];
    // Warm starts for refits: the polished minima first, then other basins the screen found.
    finals = [...polished, ...finals];
  }
  const minima = [Array.from(best.x)];
  for (const m of distinctBest(finals, keep, 1e-2)) {
    if (minima.length < keep && maxAbsDiff(m.x, best.x) > 1e-2) minima.push(Array.from(m.x));
  }
  const x = best.x;
  return {
    E: Math.exp(x[IE]), A: Math.exp(x[IA]), B: Math.exp(x[IB]), alpha: x[IALPHA], beta: x[IBETA],
    a: x[IA], b: x[IB], e: x[IE], objective: best.f, points: objective.n, starts: starts.length, minima,
  };
}

interface Final { f: number; x: Float64Array }

export interface FitStartsOptions {
  /** Tight tolerances for the polishing stage (default CHINCHILLA_LBFGS). */
  lbfgs?: LbfgsOptions;
  /** Loose tolerances for the screening stage (default SCREEN_LBFGS); false polishes every start. */
  screen?: LbfgsOptions | false;
  /** How many distinct screened end points to polish (default 12). */
  polish?: number;
  /** How many distinct local minima to report (default 8). */
  keepMinima?: number;
}

/** The k lowest-objective finals that differ pairwise by more than `tol` (∞-norm), best first.
 *  The sort is stable, so ties keep grid order and the result is deterministic. */
function distinctBest(finals: readonly Final[], k: number, tol: number): Final[] {
  const sorted = [...finals].sort((p, q) => p.f - q.f);
  const out: Final[] = [];
  for (const c of sorted) {
    if (out.length >= k) break;
    if (out.every((m) => maxAbsDiff(m.x, c.x) > tol)) out.push(c);
  }
  return out;
}

/** The law's loss at N params and D tokens, computed as exp(LSE(a − α·log N, b − β·log D, e)). */
export function predictLoss(fit: Pick<ChinchillaFit, 'a' | 'b' | 'e' | 'alpha' | 'beta'>, N: number, D: number): number {
  const t1 = fit.a - fit.alpha * Math.log(N), t2 = fit.b - fit.beta * Math.log(D), t3 = fit.e;
  const m = Math.max(t1, t2, t3);
  return Math.exp(m + Math.log(Math.exp(t1 - m) + Math.exp(t2 - m) + Math.exp(t3 - m)));
}

export interface ComputeOptimal {
  /** N_opt */
  params: number;
  /** D_opt = C / (6·N_opt) */
  tokens: number;
  /** L(N_opt, D_opt) */
  loss: number;
}

/**
 * The loss-minimising split of a compute budget C = 6·N·D under the fitted law (closed form):
 * N_opt = G·(C/6)^(β/(α+β)), D_opt = G⁻¹·(C/6)^(α/(α+β)), G = (α·A / (β·B))^(1/(α+β)).
 * Computed in log space so that large budgets and exponents neither overflow nor lose precision.
 */
export function computeOptimal(fit: Pick<ChinchillaFit, 'a' | 'b' | 'e' | 'alpha' | 'beta'>, C: number): ComputeOptimal {
  if (!(typeof C === 'number' && Number.isFinite(C) && C > 0)) {
    throw new UsageError(`compute budget C must be a finite positive number of FLOPs, got ${C}`);
  }
  const { alpha, beta } = fit;
  if (!(alpha > 0 && beta > 0)) {
    throw new UsageError(`compute-optimal allocation needs α > 0 and β > 0, got α = ${alpha}, β = ${beta}`);
  }
  const s = alpha + beta;
  const logG = (Math.log(alpha) + fit.a - Math.log(beta) - fit.b) / s;
  const logC6 = Math.log(C / 6);
  const params = Math.exp(logG + (beta / s) * logC6);
  const tokens = Math.exp(-logG + (alpha / s) * logC6);
  return { params, tokens, loss: predictLoss(fit, params, tokens) };
}

/** Distinct values' logs and, per input, the index of its value. */
function groupLogs(values: readonly number[]): [Float64Array, Int32Array] {
  const index = new Map<number, number>();
  const idx = new Int32Array(values.length);
  const logs: number[] = [];
  values.forEach((v, i) => {
    let k = index.get(v);
    if (k === undefined) { k = logs.length; index.set(v, k); logs.push(Math.log(v)); }
    idx[i] = k;
  });
  return [Float64Array.from(logs), idx];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
