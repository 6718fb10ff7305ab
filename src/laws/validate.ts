// Input and output checks shared by the Chinchilla (Approach 3) and isoFLOP (Approach 2) fits.
//
// Input: a fit needs at least 5 runs, every number finite and positive (the fits work in log
// space, so a zero or negative value has no meaning), and runs at two or more model sizes (with
// one N, A and α cannot be told apart from E). The Chinchilla fit also needs two or more token
// counts, for the same reason with B and β.
//
// Output (Chinchilla only), a fit is rejected as degenerate, checked in this order, when
//  - α ≤ 0 or β ≤ 0: the law then predicts loss that does not fall (or grows) with N or D, and
//    the compute-optimal allocation has no meaning (its closed form divides by α + β and α·A/β·B);
//  - E is not a positive finite number, or is below 1e-6 of the smallest observed loss: E = e^e
//    cannot be ≤ 0, so this is how "E ≤ 0" shows up numerically — the optimiser drove e towards
//    −∞ because the data shows no floor, and E carries no information;
//  - A or B is not finite: the optimiser ran away;
//  - some observed loss lies below the fitted E by more than the noise: the law says no run can go
//    below E, so such a fit contradicts its own data. "More than the noise" is a log-ratio beyond
//    max(1%, 3 robust standard deviations of the fit's log-residuals), so honest noise around a
//    well-determined floor (runs near E scattering a little under it) is not punished. The Huber
//    loss lets a fit ignore a few such runs, which is exactly why they must be flagged.
import { UsageError } from '../errors.js';
import type { ScalingPoint } from './points.js';

export const MIN_POINTS = 5;
export const LAW = 'L(N, D) = E + A/N^α + B/D^β';

export type FitKind = 'chinchilla' | 'isoflop';

const WHAT: Record<FitKind, string> = {
  chinchilla: `fit ${LAW}`,
  isoflop: 'fit isoFLOP parabolas (Approach 2)',
};

/** Throw a UsageError naming the first problem with `points`, or return them unchanged. */
export function validatePoints(points: readonly ScalingPoint[], kind: FitKind): readonly ScalingPoint[] {
  if (!Array.isArray(points)) {
    throw new UsageError(`points must be an array of { params, tokens, loss }, got ${typeof points}`);
  }
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === null || typeof p !== 'object') {
      throw new UsageError(`point ${i} is ${p === null ? 'null' : typeof p}; each point must be { params, tokens, loss }`);
    }
    const fields: (keyof ScalingPoint)[] = ['params', 'tokens', 'loss'];
    if (p.flops !== undefined) fields.push('flops');
    for (const f of fields) {
      const v = p[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new UsageError(`point ${i} has ${f} = ${describe(v)}; every params, tokens and loss must be a finite positive number`);
      }
      if (v <= 0) {
        throw new UsageError(`point ${i} has ${f} = ${v}; ${f} must be positive (the fit works with its logarithm)`);
      }
    }
  }
  if (points.length < MIN_POINTS) {
    throw new UsageError(`need at least ${MIN_POINTS} points to ${WHAT[kind]}, got ${points.length}`);
  }
  const sizes = new Set(points.map((p) => p.params));
  if (sizes.size < 2) {
    throw new UsageError(
      `all ${points.length} points have the same model size (N = ${fmt(points[0].params)}); to ${WHAT[kind]} train at 2 or more model sizes`,
    );
  }
  if (kind === 'chinchilla') {
    const tokens = new Set(points.map((p) => p.tokens));
    if (tokens.size < 2) {
      throw new UsageError(
        `all ${points.length} points have the same token count (D = ${fmt(points[0].tokens)}); to ${WHAT[kind]} train on 2 or more token counts`,
      );
    }
  }
  return points;
}

/** The fitted law's parameters, as far as the degeneracy check needs them. */
export interface LawParams { E: number; A: number; B: number; alpha: number; beta: number }

/** Say why a fitted law is degenerate for these points, or return null if it is usable. */
export function degeneracy(fit: LawParams, points: readonly ScalingPoint[]): string | null {
  const { E, A, B, alpha, beta } = fit;
  let minLoss = Infinity;
  for (const p of points) minLoss = Math.min(minLoss, p.loss);
  if (!(alpha > 0) || !(beta > 0)) {
    const which = !(alpha > 0) ? `α = ${fmt(alpha)}` : `β = ${fmt(beta)}`;
    const grows = !(alpha > 0) ? 'model size' : 'tokens';
    return `the fitted exponent ${which} is not positive, so loss does not fall with ${grows}; ` +
      'check the runs (are larger runs really better?) or add runs spanning a wider range';
  }
  if (!Number.isFinite(E)) return `the fitted irreducible loss E = ${fmt(E)} is not a number; add runs spanning a wider range`;
  if (!Number.isFinite(A) || !Number.isFinite(B)) {
    return `the fit ran away (A = ${fmt(A)}, B = ${fmt(B)}); add runs spanning a wider range of N and D`;
  }
  // Noise scale: a robust standard deviation (1.4826 × median |log(L_pred / L_obs)|), so the very
  // outliers being tested for cannot inflate it (the Huber fit is robust to them in the same way).
  const abs = points.map((p) => Math.abs(Math.log(E + A / p.params ** alpha + B / p.tokens ** beta) - Math.log(p.loss)));
  abs.sort((x, y) => x - y);
  const mid = abs.length >> 1;
  const median = abs.length % 2 ? abs[mid] : 0.5 * (abs[mid - 1] + abs[mid]);
  const tol = Math.max(0.01, 3 * 1.4826 * median);
  const worst = points.reduce((a, p) => (p.loss < a.loss ? p : a));
  if (Math.log(E / worst.loss) > tol) {
    return `the run with N = ${fmt(worst.params)}, D = ${fmt(worst.tokens)} has loss ${fmt(worst.loss)}, below the fitted ` +
      `irreducible loss E = ${fmt(E)}; the law cannot describe it — check that run or add runs between it and the rest`;
  }
  return null;
}

/**
 * What a usable fit should still be read with. E at its lower bound is one: small runs often show
 * no loss floor yet, and the law then degrades to A/N^α + B/D^β, a sound description of the data
 * and a fair predictor near it, but optimistic far beyond it. Refusing such fits would refuse most
 * sweeps that fit on one machine, so it is a warning, not an error.
 */
export function fitWarnings(fit: LawParams, points: readonly ScalingPoint[]): string[] {
  const minLoss = Math.min(...points.map((p) => p.loss));
  return fit.E > 1e-6 * minLoss ? [] : [
    `the fitted irreducible loss E = ${fmt(fit.E)} is at its lower bound: these runs show no loss floor, ` +
    'so the law is a sum of two power laws here and will be optimistic far beyond the data; larger or longer runs pin E down',
  ];
}

/** Throw a UsageError if the fit is degenerate (see `degeneracy`). */
export function checkFit(fit: LawParams, points: readonly ScalingPoint[]): void {
  const why = degeneracy(fit, points);
  if (why !== null) throw new UsageError(`degenerate fit of ${LAW}: ${why}`);
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'missing';
  return `${JSON.stringify(v)} (${typeof v})`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  // 1e+18 and 5.35e+6 rather than 1000000000000000000; 1.691 stays 1.691.
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return Number(v.toPrecision(4)).toString();
}
