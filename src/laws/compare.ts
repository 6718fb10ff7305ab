// The compute-equivalent gain of an architecture change: how much more compute the baseline
// would need to reach the loss the variant reaches. The baseline's fitted L(N, D) gives its loss
// frontier L*(C) (the loss at the compute-optimal split of C) and, inverted, the frontier
// compute C*(L) that reaches a loss. For a variant run with loss L_v at (N, D):
//
//     multiplier = C*(L_v) / C*(L_baseline(N, D))
//
// the frontier compute the baseline needs for the variant's loss, over what it needs for its own
// loss at the same N and D. Measuring both against the same frontier cancels what is not the
// variant's doing: a run off the compute-optimal split, or a sweep grid that misses the optimum,
// costs baseline and variant alike, so two identical configurations give 1.0. Per budget the
// multipliers of its runs are averaged geometrically, and overall all runs' are. Intervals come
// from bootstrapping both sides: the baseline's law over its resampled runs, and the variant's
// runs resampled within each budget.
import { Rng } from '../engine/random.js';
import { UsageError } from '../errors.js';
import { bootstrapChinchilla, percentileInterval, type Interval } from './bootstrap.js';
import { computeOptimal, predictLoss, type ChinchillaFit } from './chinchilla.js';
import { pointCompute, type ScalingPoint } from './points.js';

type Law = Pick<ChinchillaFit, 'a' | 'b' | 'e' | 'alpha' | 'beta'>;

export interface BudgetGain {
  /** The budget, the geometric mean of its runs' 6·N·D. */
  flops: number;
  /** The best variant run's loss at this budget. */
  loss: number;
  /** Variant runs at this budget. */
  runs: number;
  /** C_equivalent / C; Infinity when the loss is below anything the baseline law reaches. */
  multiplier: number;
  interval: Interval;
}

export interface CompareResult {
  budgets: BudgetGain[];
  /** Geometric mean of every variant run's multiplier. */
  multiplier: number;
  interval: Interval;
  level: number;
  resamples: number;
}

const lawOf = (E: number, A: number, B: number, alpha: number, beta: number): Law =>
  ({ a: Math.log(A), b: Math.log(B), e: Math.log(E), alpha, beta });

/** The smallest compute at which the law's optimal loss reaches `loss` (bisection in log C). */
export function equivalentCompute(law: Law, loss: number): number {
  if (loss <= Math.exp(law.e)) return Infinity;
  let lo = Math.log(1e3), hi = Math.log(1e40);
  if (computeOptimal(law, Math.exp(lo)).loss <= loss) return Math.exp(lo);
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (computeOptimal(law, Math.exp(mid)).loss > loss) lo = mid;
    else hi = mid;
  }
  return Math.exp(hi);
}

/** Group points into budgets by 6·N·D (or their `flops` label), within a relative tolerance. */
export function groupByBudget(points: readonly ScalingPoint[], tolerance = 0.1): ScalingPoint[][] {
  const c = pointCompute;
  const sorted = [...points].sort((a, b) => c(a) - c(b));
  const groups: ScalingPoint[][] = [];
  for (const p of sorted) {
    const g = groups[groups.length - 1];
    if (g && Math.abs(Math.log(c(p) / c(g[0]))) <= Math.log(1 + tolerance)) g.push(p);
    else groups.push([p]);
  }
  return groups;
}

const geoMean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

export function compareToBaseline(baseline: readonly ScalingPoint[], variant: readonly ScalingPoint[],
  opts: { resamples?: number; seed?: number; level?: number } = {}): CompareResult {
  if (variant.length === 0) throw new UsageError('the variant has no finished runs to compare');
  const level = opts.level ?? 0.9;
  const boot = bootstrapChinchilla(baseline, { resamples: opts.resamples ?? 1000, seed: opts.seed ?? 0, level });
  const groups = groupByBudget(variant);
  const budgetFlops = groups.map((g) => geoMean(g.map(pointCompute)));
  const multiplier = (law: Law, p: ScalingPoint) => equivalentCompute(law, p.loss) / equivalentCompute(law, predictLoss(law, p.params, p.tokens));
  // Per budget and overall, from one law and one choice of the variant's runs per budget.
  const gains = (law: Law, runs: readonly ScalingPoint[][]) => {
    const per = runs.map((g) => geoMean(g.map((p) => multiplier(law, p))));
    const all = runs.flat().map((p) => multiplier(law, p));
    return { per, overall: all.every(Number.isFinite) ? geoMean(all) : Infinity };
  };

  const point = gains(lawOf(boot.fit.E, boot.fit.A, boot.fit.B, boot.fit.alpha, boot.fit.beta), groups);
  const rng = new Rng((opts.seed ?? 0) + 1);
  const perBudget: number[][] = groups.map(() => []);
  const overall: number[] = [];
  for (let r = 0; r < boot.resamples; r++) {
    const s = boot.samples;
    if (!(s.alpha[r] > 0 && s.beta[r] > 0)) continue;
    const law = lawOf(s.E[r], s.A[r], s.B[r], s.alpha[r], s.beta[r]);
    // Resample the variant's runs within each budget, so its own noise counts too.
    const runs = groups.map((g) => Array.from({ length: g.length }, () => g[rng.int(g.length)]));
    const m = gains(law, runs);
    m.per.forEach((x, i) => perBudget[i].push(x));
    if (Number.isFinite(m.overall)) overall.push(m.overall);
  }
  const interval = (xs: number[]): Interval => (xs.length ? percentileInterval(Float64Array.from(xs.filter(Number.isFinite)), level) : [NaN, NaN]);
  return {
    budgets: groups.map((g, i) => ({
      flops: budgetFlops[i], loss: Math.min(...g.map((p) => p.loss)), runs: g.length, multiplier: point.per[i], interval: interval(perBudget[i]),
    })),
    multiplier: point.overall,
    interval: interval(overall),
    level,
    resamples: boot.resamples,
  };
}

/** "rmsnorm is worth 1.3x compute, 90% interval 1.1 to 1.5". */
export function verdict(name: string, r: CompareResult): string {
  const f = (x: number) => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(0) : x.toFixed(2)) : '∞');
  const pct = Math.round(r.level * 100);
  const [lo, hi] = r.interval;
  const worth = `${name} is worth ${f(r.multiplier)}x compute, ${pct}% interval ${f(lo)} to ${f(hi)}`;
  if (lo <= 1 && hi >= 1) return `${worth}: not distinguishable from no gain`;
  return r.multiplier > 1 ? worth : `${worth}: a loss, not a gain`;
}
