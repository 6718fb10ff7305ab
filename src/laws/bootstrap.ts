// Uncertainty for the Chinchilla fit by the nonparametric bootstrap (as Besiroglu et al. 2024 did):
// resample the runs with replacement, refit each resample, and report percentile intervals of the
// parameters and of anything computed from them (the compute-optimal N, D and loss).
//
// Refitting 1,000 resamples from the full 4,500-start grid would take ~1,000× a fit, so each
// resample starts from
//  - the best 4 distinct minima of the full fit (a resample is a perturbation of the data, so its
//    minimum is almost always next to one of them — Besiroglu et al. refit from the full fit's
//    optimum alone), plus
//  - a coarse grid, α, β ∈ {0.5, 1}, e ∈ {−0.5, 0.5}, a, b ∈ {5, 15} (32 starts, a subset of the
//    paper's values), so that a resample whose minimum moved to another basin can still find it,
// with the same screen-then-polish search as the full fit (polishing the best 4). On the test data
// this reaches the same minimum as the full grid on the resamples checked.
//
// A resample is drawn as per-run multiplicities (weights) on one shared objective, so no point
// arrays are copied. A resample with a single model size or token count cannot identify the law;
// it is redrawn (that conditions the bootstrap on identifiable resamples, which only matters for
// tiny data sets). The stream comes from `Rng(seed)`, so the intervals are reproducible.
import { UsageError } from '../errors.js';
import { Rng } from '../engine/random.js';
import {
  ChinchillaObjective, HUBER_DELTA, computeOptimal, fitChinchilla, fitFromStarts, gridStarts,
  type ChinchillaFit, type ChinchillaOptions, type GridSpec,
} from './chinchilla.js';
import type { ScalingPoint } from './points.js';

export type Interval = [lo: number, hi: number];

export const BOOTSTRAP_GRID: GridSpec = { alpha: [0.5, 1], beta: [0.5, 1], e: [-0.5, 0.5], a: [5, 15], b: [5, 15] };

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Seed for the resampling stream (default 0). */
  seed?: number;
  /** Central coverage of the percentile intervals (default 0.9: the 5th to 95th percentile). */
  level?: number;
  /** Options for the full fit (grid, delta, check, search). */
  fit?: ChinchillaOptions;
  /** The coarse grid each resample starts from, besides the full fit's minima (default BOOTSTRAP_GRID). */
  grid?: GridSpec;
  /** How many of the full fit's distinct minima each resample starts from (default 4). */
  warmStarts?: number;
}

export interface OptimalIntervals {
  /** The budget C, in FLOPs. */
  flops: number;
  /** The full fit's compute-optimal allocation. */
  estimate: { params: number; tokens: number; loss: number };
  params: Interval;
  tokens: Interval;
  loss: Interval;
  /** Resamples used (those with α > 0 and β > 0). */
  used: number;
}

export interface BootstrapResult {
  /** The fit to all the points. */
  fit: ChinchillaFit;
  intervals: { E: Interval; A: Interval; B: Interval; alpha: Interval; beta: Interval };
  /** Every resample's fitted parameters, for plots and other statistics. */
  samples: { E: Float64Array; A: Float64Array; B: Float64Array; alpha: Float64Array; beta: Float64Array };
  /** The coverage level used. */
  level: number;
  resamples: number;
  /** Intervals on the compute-optimal N, D and loss at budget C (C = 6·N·D FLOPs). */
  optimal: (C: number) => OptimalIntervals;
}

/** Fit L(N, D) to the points and bootstrap percentile intervals for its parameters. */
export function bootstrapChinchilla(points: readonly ScalingPoint[], opts: BootstrapOptions = {}): BootstrapResult {
  const resamples = opts.resamples ?? 1000;
  const seed = opts.seed ?? 0;
  const level = opts.level ?? 0.9;
  if (!Number.isSafeInteger(resamples) || resamples < 1) {
    throw new UsageError(`resamples must be a positive integer, got ${resamples}`);
  }
  if (!Number.isSafeInteger(seed)) throw new UsageError(`seed must be an integer, got ${seed}`);
  if (!(level > 0 && level < 1)) throw new UsageError(`level must be between 0 and 1 (e.g. 0.9), got ${level}`);

  const fit = fitChinchilla(points, opts.fit);
  const n = points.length;
  const objective = new ChinchillaObjective(points, opts.fit?.delta ?? HUBER_DELTA);
  const starts = [...fit.minima.slice(0, opts.warmStarts ?? 4), ...gridStarts(opts.grid ?? BOOTSTRAP_GRID)];
  const rng = new Rng(seed);
  const weights = new Float64Array(n);
  const samples = {
    E: new Float64Array(resamples), A: new Float64Array(resamples), B: new Float64Array(resamples),
    alpha: new Float64Array(resamples), beta: new Float64Array(resamples),
  };
  // Per-run keys for the identifiability check of a resample.
  const sizeOf = points.map((p) => p.params), tokensOf = points.map((p) => p.tokens);

  for (let r = 0; r < resamples; r++) {
    for (let attempt = 0; ; attempt++) {
      weights.fill(0);
      for (let i = 0; i < n; i++) weights[rng.int(n)]++;
      if (identifiable(weights, sizeOf, tokensOf) || attempt >= 100) break;
    }
    objective.setWeights(weights);
    const f = fitFromStarts(objective, starts, { ...opts.fit?.search, polish: 4, keepMinima: 1 });
    samples.E[r] = f.E; samples.A[r] = f.A; samples.B[r] = f.B; samples.alpha[r] = f.alpha; samples.beta[r] = f.beta;
  }

  const interval = (xs: Float64Array): Interval => percentileInterval(xs, level);
  const optimal = (C: number): OptimalIntervals => {
    const estimate = computeOptimal(fit, C);
    const Ns: number[] = [], Ds: number[] = [], Ls: number[] = [];
    for (let r = 0; r < resamples; r++) {
      const alpha = samples.alpha[r], beta = samples.beta[r];
      if (!(alpha > 0 && beta > 0)) continue;
      const o = computeOptimal({ a: Math.log(samples.A[r]), b: Math.log(samples.B[r]), e: Math.log(samples.E[r]), alpha, beta }, C);
      if (Number.isFinite(o.params) && Number.isFinite(o.tokens) && Number.isFinite(o.loss)) {
        Ns.push(o.params); Ds.push(o.tokens); Ls.push(o.loss);
      }
    }
    if (Ns.length === 0) {
      throw new UsageError('no bootstrap resample has α > 0 and β > 0, so there is no compute-optimal interval; add runs');
    }
    return {
      flops: C, estimate, used: Ns.length,
      params: interval(Float64Array.from(Ns)), tokens: interval(Float64Array.from(Ds)), loss: interval(Float64Array.from(Ls)),
    };
  };

  return {
    fit, samples, level, resamples, optimal,
    intervals: {
      E: interval(samples.E), A: interval(samples.A), B: interval(samples.B),
      alpha: interval(samples.alpha), beta: interval(samples.beta),
    },
  };
}

/**
 * The central `level` percentile interval: the (1−level)/2 and (1+level)/2 quantiles with linear
 * interpolation between order statistics (the usual "type 7" definition, numpy's default).
 * Non-finite values are dropped.
 */
export function percentileInterval(xs: ArrayLike<number>, level: number): Interval {
  const v = Float64Array.from(xs).filter(Number.isFinite).sort();
  if (v.length === 0) return [NaN, NaN];
  return [quantileSorted(v, (1 - level) / 2), quantileSorted(v, (1 + level) / 2)];
}

function quantileSorted(v: Float64Array, q: number): number {
  const h = (v.length - 1) * q;
  const lo = Math.floor(h), hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

function identifiable(w: Float64Array, sizes: number[], tokens: number[]): boolean {
  let n0 = NaN, d0 = NaN, nOk = false, dOk = false;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    if (Number.isNaN(n0)) { n0 = sizes[i]; d0 = tokens[i]; continue; }
    if (sizes[i] !== n0) nOk = true;
    if (tokens[i] !== d0) dOk = true;
    if (nOk && dOk) return true;
  }
  return false;
}
