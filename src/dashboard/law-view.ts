// What the scaling-law view draws for one sweep, computed from its finished runs: the points,
// the fitted law with its intervals, the compute-optimal frontier with a bootstrap band across
// the FLOP range, the isoFLOP groups with the law's curve through each, and the verify runs'
// predicted-vs-measured points. Plain data, so it crosses a worker thread and goes out as JSON.
//
// A video (DiT) sweep's loss is the val MSE, not bits per byte, and its headline law is the one
// `scalelab fit` fits to video runs: L(C) = E + A/C^α against compute (laws/compute-law.ts), drawn
// with its band; L(N, D), with D in patches, is fitted beside it where the runs allow, as there.
import { computeOptimal, predictLoss } from '../laws/chinchilla.js';
import { fitLaw, type LawReport } from '../laws/report.js';
import type { IsoflopBudget } from '../laws/isoflop.js';
import type { Metric, SweepPoint } from '../sweep/points.js';
import { fitComputeLaw, type ComputeLawReport } from '../laws/compute-law.js';
import { tokensForCompute } from '../common/compute.js';

export interface VerifyPoint {
  run: string;
  /** The run's compute, 6·N·D. */
  flops: number;
  params: number;
  tokens: number;
  predicted: number;
  interval: [number, number];
  measured: number;
  relativeError: number;
}

export interface Curve { params: number[]; loss: number[] }

export interface BudgetGroup {
  flops: number;
  runs: { run: string; params: number; tokens: number; loss: number }[];
  /** The law's loss along this budget, L(N, C/6N), across and a little beyond the sizes run. */
  law: Curve | null;
  /** Approach 2's parabola in ln N, when the isoFLOP fit accepted this budget or drew one. */
  parabola: Curve | null;
  nOpt: number | null;
  accepted: boolean | null;
  reason: string | null;
}

export interface Frontier {
  flops: number[];
  params: number[];
  tokens: number[];
  loss: number[];
  /** The bootstrap interval of the compute-optimal loss at each budget. */
  lo: number[];
  hi: number[];
}

export interface LawView {
  sweep: string;
  /** The loss fitted: final val bits per byte (a GPT sweep) or final val MSE (a video sweep). */
  metric: Metric;
  points: SweepPoint[];
  fit: LawReport | null;
  /** Why there is no fit of L(N, D) (too few runs, a degenerate fit). */
  error: string | null;
  /**
   * A video sweep's val MSE against compute, L(C) = E + A/C^α, as `scalelab fit` fits it: the
   * report's predictions are its curve with the bootstrap band, across and beyond the runs' compute.
   * Null for a GPT sweep, or when it does not fit (computeError says why).
   */
  compute: ComputeLawReport | null;
  computeError: string | null;
  frontier: Frontier | null;
  budgets: BudgetGroup[];
  verify: VerifyPoint[];
}

/** Budgets within this relative distance share a group, as the isoFLOP fit groups them. */
const BUDGET_TOLERANCE = 0.1;
/**
 * Curves are sampled every 2% in log space (at most MAX_CURVE_POINTS points): drawn straight
 * between samples on log-log axes, coarser steps show as kinks where the isoFLOP curves bend.
 */
const CURVE_STEP = 1.02;
const MAX_CURVE_POINTS = 400;

/** The compute law's curve runs from a third of the least compute to this many times the most: how far the law predicts. */
const COMPUTE_CURVE_AHEAD = 10;

/** `metric` is the sweep's (a video sweep's is 'mse' even before a run finishes); by default, the points'. */
export function lawView(sweep: string, points: SweepPoint[], verify: VerifyPoint[], o: { resamples: number; metric?: Metric }): LawView {
  const budgets = groupBudgets(points);
  const metric = o.metric ?? (points.some((p) => p.metric === 'mse') ? 'mse' : 'bpb');
  const view: LawView = { sweep, metric, points, fit: null, error: null, compute: null, computeError: null, frontier: null, budgets, verify };
  if (metric === 'mse') {
    try {
      const cs = points.map((p) => p.flops);
      const flops = cs.length ? logspace(Math.min(...cs) / 3, Math.max(...cs) * COMPUTE_CURVE_AHEAD) : [];
      view.compute = fitComputeLaw(points, { resamples: o.resamples, flops });
    } catch (err) {
      view.computeError = (err as Error).message;
    }
  }
  let fitted;
  try {
    fitted = fitLaw(points.map((p) => ({ params: p.params, tokens: p.tokens, loss: p.loss })), { resamples: o.resamples });
  } catch (err) {
    view.error = (err as Error).message;
    return view;
  }
  const { report, boot } = fitted;
  view.fit = report;
  const iso = 'budgets' in report.isoflop ? report.isoflop.budgets : [];
  for (const g of budgets) {
    const sizes = g.runs.map((r) => r.params);
    const nLo = Math.min(...sizes) / 2, nHi = Math.max(...sizes) * 2;
    const ns = logspace(nLo, nHi);
    g.law = { params: ns, loss: ns.map((n) => predictLoss(boot.fit, n, tokensForCompute(g.flops, n))) };
    const match = nearest(iso, g.flops);
    if (match) {
      g.accepted = match.accepted;
      g.reason = match.reason ?? null;
      g.nOpt = match.nOpt;
      const p = match.parabola;
      if (p) {
        const ps = logspace(match.paramsRange[0], match.paramsRange[1]);
        g.parabola = { params: ps, loss: ps.map((n) => p.c0 + p.c1 * Math.log(n) + p.c2 * Math.log(n) ** 2) };
      }
    }
  }
  // The frontier only exists for a law whose loss falls with both N and D.
  if (boot.fit.alpha > 0 && boot.fit.beta > 0) {
    const cs = [...points.map((p) => p.flops), ...verify.map((v) => v.flops)];
    const flops = logspace(Math.min(...cs) / 3, Math.max(...cs) * 3);
    const f: Frontier = { flops, params: [], tokens: [], loss: [], lo: [], hi: [] };
    try {
      for (const C of flops) {
        const opt = computeOptimal(boot.fit, C);
        const band = boot.optimal(C).loss;
        f.params.push(opt.params); f.tokens.push(opt.tokens); f.loss.push(opt.loss);
        f.lo.push(band[0]); f.hi.push(band[1]);
      }
      view.frontier = f;
    } catch (err) {
      view.error = `no compute-optimal frontier: ${(err as Error).message}`;
    }
  }
  return view;
}

/** Sorted by compute, a run joins the current group while within 10% of its smallest budget. */
function groupBudgets(points: SweepPoint[]): BudgetGroup[] {
  const sorted = [...points].sort((a, b) => a.flops - b.flops);
  const groups: SweepPoint[][] = [];
  for (const p of sorted) {
    const g = groups[groups.length - 1];
    if (g && p.flops <= g[0].flops * (1 + BUDGET_TOLERANCE)) g.push(p);
    else groups.push([p]);
  }
  return groups.map((g) => ({
    flops: Math.exp(g.reduce((s, p) => s + Math.log(p.flops), 0) / g.length),
    runs: g.map((p) => ({ run: p.run, params: p.params, tokens: p.tokens, loss: p.loss })).sort((a, b) => a.params - b.params),
    law: null, parabola: null, nOpt: null, accepted: null, reason: null,
  }));
}

function nearest(budgets: IsoflopBudget[], flops: number): IsoflopBudget | undefined {
  let best: IsoflopBudget | undefined;
  for (const b of budgets) {
    const d = Math.abs(Math.log(b.flops / flops));
    if (d < Math.log(1 + BUDGET_TOLERANCE) + 1e-9 && (!best || d < Math.abs(Math.log(best.flops / flops)))) best = b;
  }
  return best;
}

/** lo to hi in equal ratios of at most CURVE_STEP (fewer when that would pass MAX_CURVE_POINTS). */
export function logspace(lo: number, hi: number): number[] {
  const a = Math.log(lo), b = Math.log(hi);
  const n = Math.min(MAX_CURVE_POINTS, Math.max(2, Math.ceil((b - a) / Math.log(CURVE_STEP)) + 1));
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}
