// What `scalelab fit` and `scalelab predict` report, as plain data: the fitted law with bootstrap
// intervals, the compute-optimal allocation at chosen budgets, and Approach 2 beside it. The
// same object feeds the CLI, `--json`, and the dashboard.
import { bootstrapChinchilla, percentileInterval, type BootstrapResult, type Interval } from './bootstrap.js';
import { predictLoss } from './chinchilla.js';
import { fitIsoflop, type IsoflopFit } from './isoflop.js';
import type { ScalingPoint } from './points.js';
import { fitWarnings, MIN_POINTS } from './validate.js';
import { applyExcludes, type ExcludeRule } from './exclude.js';
import { UsageError } from '../errors.js';
import { trainingCompute } from '../common/compute.js';

export interface LawReport {
  /** Points fitted (after --exclude). */
  points: number;
  /** Points dropped by --exclude rules, by 1-based data row, with the rule that dropped each. */
  excluded: { row: number; params: number; tokens: number; loss: number; flops?: number; rule: string }[];
  level: number;
  resamples: number;
  law: { E: number; A: number; B: number; alpha: number; beta: number; objective: number };
  /** What the fit should be read with (e.g. no visible loss floor). */
  warnings: string[];
  intervals: BootstrapResult['intervals'];
  optimal: { flops: number; params: number; tokens: number; loss: number; intervals: { params: Interval; tokens: Interval; loss: Interval } }[];
  /** Approach 2, or why it could not be fitted (e.g. no budget with an interior minimum). */
  isoflop: IsoflopFit | { error: string };
}

export interface FitOptions {
  resamples?: number;
  seed?: number;
  level?: number;
  /** Budgets at which to report the compute-optimal allocation (default: each decade around the data). */
  flops?: number[];
  /** Outliers to drop before both fits (see exclude.ts). */
  exclude?: readonly ExcludeRule[];
}

export function fitLaw(all: readonly ScalingPoint[], o: FitOptions = {}): { report: LawReport; boot: BootstrapResult } {
  const { kept: points, excluded } = applyExcludes(all, o.exclude ?? []);
  if (excluded.length > 0 && points.length < MIN_POINTS) {
    throw new UsageError(`--exclude dropped ${excluded.length} of ${all.length} points, leaving ${points.length}; a fit needs at least ${MIN_POINTS}`);
  }
  const boot = bootstrapChinchilla(points, { resamples: o.resamples ?? 1000, seed: o.seed ?? 0, level: o.level ?? 0.9 });
  const f = boot.fit;
  const maxC = Math.max(...points.map((p) => trainingCompute(p.params, p.tokens)));
  const budgets = o.flops ?? [maxC, 4 * maxC, 10 * maxC];
  let isoflop: LawReport['isoflop'];
  try {
    isoflop = fitIsoflop(points);
  } catch (err) {
    isoflop = { error: (err as Error).message };
  }
  const report: LawReport = {
    points: points.length, excluded: excluded.map((e) => ({ row: e.row, ...e.point, rule: e.rule })), level: boot.level, resamples: boot.resamples,
    law: { E: f.E, A: f.A, B: f.B, alpha: f.alpha, beta: f.beta, objective: f.objective },
    warnings: fitWarnings(f, points),
    intervals: boot.intervals,
    optimal: budgets.map((C) => {
      const o = boot.optimal(C);
      return { flops: C, ...o.estimate, intervals: { params: o.params, tokens: o.tokens, loss: o.loss } };
    }),
    isoflop,
  };
  return { report, boot };
}

/** The law's loss at (N, D) with the bootstrap interval of the same prediction. */
export function predictWithInterval(boot: BootstrapResult, N: number, D: number): { loss: number; interval: Interval } {
  const s = boot.samples;
  const losses: number[] = [];
  for (let r = 0; r < boot.resamples; r++) {
    const l = predictLoss({ a: Math.log(s.A[r]), b: Math.log(s.B[r]), e: Math.log(s.E[r]), alpha: s.alpha[r], beta: s.beta[r] }, N, D);
    if (Number.isFinite(l)) losses.push(l);
  }
  return { loss: predictLoss(boot.fit, N, D), interval: percentileInterval(Float64Array.from(losses), boot.level) };
}
