// Loss against training compute alone,
//
//     L(C) = E + A / C^α,
//
// the curve of the Sora report's figure (samples improving steadily as compute grows) and of
// Kaplan et al.'s L(C_min): what the best run a budget buys reaches. E is the loss no compute
// removes; for a diffusion model's velocity MSE it is far from zero (the velocity ε − x₀ holds
// noise no model can predict), so a pure power law would bend the wrong way near it.
//
// Which runs: the lowest loss at each compute budget (runs grouped within 10% of compute, as the
// isoFLOP fit groups them). A run of the wrong size for its budget says how much compute was
// wasted, not what compute buys; in a series of one run per budget every run counts.
//
// The fit follows the Chinchilla fit in chinchilla.ts: parameters (a, e, α) with A = e^a,
// E = e^e, log L̂ = LSE(a − α·log C, e), the SUM of Huber_δ(log L̂ − log L) with δ = 1e-3,
// L-BFGS from a grid of starts, the lowest objective wins. Internally log C is centred on the
// budgets' mean, so a is of the order of log L and the grid does not depend on the FLOP scale.
// Intervals come from the nonparametric bootstrap over budgets, as bootstrap.ts does for L(N, D).
import { UsageError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { HUBER_DELTA, CHINCHILLA_LBFGS } from './chinchilla.js';
import { LbfgsWorkspace, lbfgsInPlace } from './lbfgs.js';
import { percentileInterval, type Interval } from './bootstrap.js';
import { groupByBudget } from './compare.js';
import { pointCompute, type ScalingPoint } from './points.js';

export const COMPUTE_LAW = 'L(C) = E + A/C^α';

/** Budgets a fit needs: one more than the law's three parameters, so that a resample can differ from the data. */
export const MIN_BUDGETS = 4;

/** One compute budget's best run. */
export interface BudgetBest {
  /** The budget: the geometric mean of its runs' compute. */
  flops: number;
  /** The lowest loss among its runs. */
  loss: number;
  runs: number;
}

export interface ComputeLawFit {
  E: number;
  A: number;
  alpha: number;
  /** a = log A, e = log E. */
  a: number;
  e: number;
  objective: number;
}

export interface ComputeLawReport {
  law: typeof COMPUTE_LAW;
  /** The budgets fitted, each with its best run. */
  budgets: BudgetBest[];
  /** Runs the budgets were chosen from. */
  runs: number;
  level: number;
  resamples: number;
  fit: ComputeLawFit;
  intervals: { E: Interval; A: Interval; alpha: Interval };
  warnings: string[];
  /** The law's loss at chosen budgets, with bootstrap intervals. */
  predictions: { flops: number; loss: number; interval: Interval }[];
}

/** The lowest loss at each compute budget (runs within `tolerance` of each other's compute share one). */
export function budgetBests(points: readonly ScalingPoint[], tolerance = 0.1): BudgetBest[] {
  return groupByBudget(points, tolerance).map((g) => ({
    flops: g.length === 1 ? pointCompute(g[0]) : Math.exp(g.reduce((s, p) => s + Math.log(pointCompute(p)), 0) / g.length),
    loss: Math.min(...g.map((p) => p.loss)),
    runs: g.length,
  }));
}

/** The law's loss at compute C. */
export function computeLawLoss(f: Pick<ComputeLawFit, 'a' | 'e' | 'alpha'>, C: number): number {
  const t1 = f.a - f.alpha * Math.log(C), t2 = f.e, m = Math.max(t1, t2);
  return Math.exp(m + Math.log(Math.exp(t1 - m) + Math.exp(t2 - m)));
}

/** Σ w·Huber(log L̂ − log L) over budgets and its gradient in x = (a', e, α), with a' the intercept at the centred log C. */
class Objective {
  readonly u: Float64Array;
  readonly logL: Float64Array;
  readonly w: Float64Array;

  constructor(bests: readonly BudgetBest[], readonly centre: number, readonly delta = HUBER_DELTA) {
    this.u = Float64Array.from(bests, (b) => Math.log(b.flops) - centre);
    this.logL = Float64Array.from(bests, (b) => Math.log(b.loss));
    this.w = new Float64Array(bests.length).fill(1);
  }

  evaluate = (x: Float64Array, g: Float64Array): number => {
    const [a, e, alpha] = x;
    let f = 0, ga = 0, ge = 0, galpha = 0;
    for (let i = 0; i < this.u.length; i++) {
      const wi = this.w[i];
      if (wi === 0) continue;
      const t1 = a - alpha * this.u[i], m = Math.max(t1, e);
      const p1 = Math.exp(t1 - m), p2 = Math.exp(e - m), s = p1 + p2;
      const r = m + Math.log(s) - this.logL[i];
      let dr: number;
      if (r > this.delta) { f += wi * this.delta * (r - 0.5 * this.delta); dr = this.delta; }
      else if (r < -this.delta) { f += wi * this.delta * (-r - 0.5 * this.delta); dr = -this.delta; }
      else { f += wi * 0.5 * r * r; dr = r; }
      const q = (wi * dr) / s;
      ga += q * p1; ge += q * p2; galpha -= q * p1 * this.u[i];
    }
    g[0] = ga; g[1] = ge; g[2] = galpha;
    return f;
  };
}

/** Starts around the data: exponents from very shallow to steep, floors from none to just under the best loss. */
function gridStarts(bests: readonly BudgetBest[]): number[][] {
  const lo = Math.log(Math.min(...bests.map((b) => b.loss))), hi = Math.log(Math.max(...bests.map((b) => b.loss)));
  const out: number[][] = [];
  for (const alpha of [0.05, 0.1, 0.2, 0.4, 0.8, 1.6]) {
    for (const floor of [1e-3, 0.25, 0.5, 0.75, 0.95]) {
      for (const da of [-4, -2, -1, 0]) out.push([hi + da, lo + Math.log(floor), alpha]);
    }
  }
  return out;
}

function coarseStarts(bests: readonly BudgetBest[]): number[][] {
  const lo = Math.log(Math.min(...bests.map((b) => b.loss))), hi = Math.log(Math.max(...bests.map((b) => b.loss)));
  const out: number[][] = [];
  for (const alpha of [0.1, 0.4, 1.6]) for (const floor of [1e-3, 0.9]) out.push([hi - 1, lo + Math.log(floor), alpha]);
  return out;
}

function fitFrom(obj: Objective, starts: readonly (readonly number[])[], ws: LbfgsWorkspace): { x: Float64Array; f: number } | null {
  let best: { x: Float64Array; f: number } | null = null;
  for (const s of starts) {
    const r = lbfgsInPlace(obj.evaluate, s, CHINCHILLA_LBFGS, ws);
    if (!Number.isFinite(r.value) || !r.x.every(Number.isFinite)) continue;
    if (!best || r.value < best.f) best = { x: r.x, f: r.value };
  }
  return best;
}

function toFit(x: Float64Array, f: number, centre: number): ComputeLawFit {
  // a' is the intercept at the centred log C: a = a' + α·centre.
  const a = x[0] + x[2] * centre;
  return { a, e: x[1], alpha: x[2], A: Math.exp(a), E: Math.exp(x[1]), objective: f };
}

function checkBests(bests: readonly BudgetBest[], runs: number): void {
  for (const b of bests) {
    if (!(b.flops > 0 && Number.isFinite(b.flops)) || !(b.loss > 0 && Number.isFinite(b.loss))) {
      throw new UsageError(`a run has compute ${b.flops} and loss ${b.loss}; both must be finite positive numbers to fit ${COMPUTE_LAW}`);
    }
  }
  if (bests.length < MIN_BUDGETS) {
    throw new UsageError(`need runs at ${MIN_BUDGETS} or more compute budgets to fit ${COMPUTE_LAW} (3 parameters), got ${bests.length} ` +
      `(${runs} run${runs === 1 ? '' : 's'}); train at more budgets`);
  }
}

/** Why a fit does not describe its budgets, or null. */
function degeneracy(f: ComputeLawFit, bests: readonly BudgetBest[]): string | null {
  if (!(f.alpha > 0)) return `the fitted exponent α = ${f.alpha.toPrecision(3)} is not positive, so loss does not fall with compute; check the runs or train at a wider range of budgets`;
  if (!Number.isFinite(f.E) || !Number.isFinite(f.A)) return `the fit ran away (E = ${f.E}, A = ${f.A}); train at a wider range of budgets`;
  const abs = bests.map((b) => Math.abs(Math.log(computeLawLoss(f, b.flops) / b.loss))).sort((x, y) => x - y);
  const mid = abs.length >> 1;
  const median = abs.length % 2 ? abs[mid] : 0.5 * (abs[mid - 1] + abs[mid]);
  const worst = bests.reduce((x, y) => (y.loss < x.loss ? y : x));
  if (Math.log(f.E / worst.loss) > Math.max(0.01, 3 * 1.4826 * median)) {
    return `the best run, at C = ${worst.flops.toExponential(2)}, has loss ${worst.loss.toPrecision(4)}, below the fitted floor E = ${f.E.toPrecision(4)}`;
  }
  return null;
}

/**
 * Fit L(C) to the best run of each budget and bootstrap it: resample the budgets with
 * replacement (a resample with fewer than three distinct budgets cannot place three parameters
 * and is drawn again), refit from the full fit's minimum and a coarse grid, and take percentile
 * intervals of E, A, α and of the predicted loss at `flops` (default: the largest budget, 4× and
 * 10× it).
 */
export function fitComputeLaw(points: readonly ScalingPoint[], o: { resamples?: number; seed?: number; level?: number; flops?: number[] } = {}): ComputeLawReport {
  const resamples = o.resamples ?? 1000, level = o.level ?? 0.9;
  if (!Number.isSafeInteger(resamples) || resamples < 1) throw new UsageError(`resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new UsageError(`level must be between 0 and 1 (e.g. 0.9), got ${level}`);
  const bests = budgetBests(points);
  checkBests(bests, points.length);
  const centre = bests.reduce((s, b) => s + Math.log(b.flops), 0) / bests.length;
  const obj = new Objective(bests, centre);
  const ws = new LbfgsWorkspace(3, CHINCHILLA_LBFGS.memory);
  const best = fitFrom(obj, gridStarts(bests), ws);
  if (!best) throw new UsageError(`every start of the ${COMPUTE_LAW} fit failed (non-finite objective); check the runs`);
  const fit = toFit(best.x, best.f, centre);
  const why = degeneracy(fit, bests);
  if (why) throw new UsageError(`degenerate fit of ${COMPUTE_LAW}: ${why}`);

  const n = bests.length, rng = new Rng(o.seed ?? 0);
  // A resample's minimum is next to the full fit's, or in the basin of a shallow or steep law with
  // or without a floor: a few starts there find it (the full grid gave the same intervals on the tests' data).
  const starts = [Array.from(best.x), ...coarseStarts(bests)];
  const samples = { E: new Float64Array(resamples), A: new Float64Array(resamples), alpha: new Float64Array(resamples), a: new Float64Array(resamples), e: new Float64Array(resamples) };
  for (let r = 0; r < resamples; r++) {
    for (let attempt = 0; ; attempt++) {
      obj.w.fill(0);
      for (let i = 0; i < n; i++) obj.w[rng.int(n)]++;
      if (obj.w.filter((w) => w > 0).length >= 3 || attempt >= 100) break;
    }
    const b = fitFrom(obj, starts, ws);
    const f = b ? toFit(b.x, b.f, centre) : { E: NaN, A: NaN, alpha: NaN, a: NaN, e: NaN };
    samples.E[r] = f.E; samples.A[r] = f.A; samples.alpha[r] = f.alpha; samples.a[r] = f.a; samples.e[r] = f.e;
  }
  const maxC = Math.max(...bests.map((b) => b.flops));
  const predictions = (o.flops ?? [maxC, 4 * maxC, 10 * maxC]).map((C) => {
    if (!(C > 0 && Number.isFinite(C))) throw new UsageError(`compute budget C must be a finite positive number of FLOPs, got ${C}`);
    const losses = Float64Array.from({ length: resamples }, (_, r) => computeLawLoss({ a: samples.a[r], e: samples.e[r], alpha: samples.alpha[r] }, C));
    return { flops: C, loss: computeLawLoss(fit, C), interval: percentileInterval(losses, level) };
  });
  const minLoss = Math.min(...bests.map((b) => b.loss));
  const warnings = fit.E > 1e-6 * minLoss ? [] : [
    `the fitted floor E = ${fit.E.toExponential(2)} is at its lower bound: these runs show no floor yet, so the law is a pure power law here and optimistic far beyond the data`,
  ];
  return {
    law: COMPUTE_LAW, budgets: bests, runs: points.length, level, resamples, fit, warnings, predictions,
    intervals: { E: percentileInterval(samples.E, level), A: percentileInterval(samples.A, level), alpha: percentileInterval(samples.alpha, level) },
  };
}
