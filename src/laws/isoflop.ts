// Approach 2 of Hoffmann et al. (2022): isoFLOP profiles. Runs are grouped by compute budget C;
// within a budget, loss against log N is (near its minimum) a parabola, whose vertex is that
// budget's compute-optimal model size N_opt (and D_opt = C / (6·N_opt)). Power laws
// N_opt = k_N·C^a and D_opt = k_D·C^b are then fitted by least squares in log-log space.
//
// Grouping: a run's budget is its labelled `flops` if given, else 6·N·D. Sorted by budget, a run
// joins the current group while its budget is within `tolerance` (default 10%) of the group's
// smallest; the group's budget is the geometric mean of its members'. Labelled budgets therefore
// group exactly, and 6·N·D budgets group when the sweep chose N and D to land near the same C.
//
// Refusals: a budget's vertex is only a minimum if the parabola opens upward (c2 > 0), and is only
// measured (not extrapolated) if it lies within the sampled model sizes. Budgets failing either,
// or with fewer than 3 distinct model sizes (a parabola needs 3), are reported with a reason and
// left out of the power-law fits. A vertex outside the sampled range usually means the sweep
// missed the optimum: the fix is more runs on the side the vertex lies, not extrapolation.
//
// Whether the groups are isoFLOP profiles at all: grouping by ±10% also groups runs that were
// never planned on one budget (runs of many sizes at scattered budgets, as in Chinchilla's
// Figure 4), and parabolas through those describe a mixture. The fit says so (`warnings`) when
//  - points fall in budgets with fewer than 3 model sizes: they belong to no profile and are
//    ignored by Approach 2;
//  - an accepted budget's runs spread over more than SPREAD_LIMIT of compute (max C / min C − 1):
//    a planned sweep lands within rounding of its budget (a few tenths of a percent: steps are
//    whole numbers, at least 200), so a wider spread means runs at different budgets;
//  - an accepted budget's sizes do not bracket its minimum: the lowest observed loss is at the
//    smallest or largest size, so the vertex rests on the curve's edge, not on runs either side.
//
// The parabola is reported in x = ln N: loss ≈ c0 + c1·x + c2·x². It is fitted in x − mean(x) for
// conditioning (ln N ≈ 14…25, so x² terms would otherwise swamp the normal equations) and the
// vertex is computed in that centred form.
import { UsageError } from '../errors.js';
import { pointCompute, type ScalingPoint } from './points.js';
import { validatePoints } from './validate.js';
import { tokensForCompute } from '../common/compute.js';

export interface Parabola { c0: number; c1: number; c2: number }

export interface IsoflopBudget {
  /** The budget C in FLOPs (geometric mean of the group's budgets). */
  flops: number;
  /** Runs in this budget. */
  runs: number;
  /** The smallest and largest model size sampled. */
  paramsRange: [number, number];
  /** Distinct model sizes. */
  sizes: number;
  /** Spread of the runs' compute within the group: max C / min C − 1. */
  spread: number;
  /** Whether the lowest observed loss has a smaller and a larger model on either side. */
  bracketed: boolean;
  /** Loss ≈ c0 + c1·ln N + c2·(ln N)²; null with fewer than 3 distinct model sizes. */
  parabola: Parabola | null;
  /** The vertex's N, C/(6·N) and loss; null when the budget is refused. */
  nOpt: number | null;
  dOpt: number | null;
  lossOpt: number | null;
  accepted: boolean;
  /** Why the budget was refused. */
  reason?: string;
}

export interface PowerLaw {
  /** y = k·C^exponent */
  k: number;
  exponent: number;
  /** R² of the log-log fit (1 with exactly 2 budgets). */
  r2: number;
}

export interface IsoflopFit {
  budgets: IsoflopBudget[];
  nOpt: PowerLaw;
  dOpt: PowerLaw;
  /** Why the groups may not be real isoFLOP profiles (see above); empty for a planned sweep. */
  warnings: string[];
}

/** Widest compute spread within a budget that still reads as one planned budget. */
export const SPREAD_LIMIT = 0.02;

export interface IsoflopOptions {
  /** Relative budget tolerance for grouping runs without a `flops` label (default 0.1). */
  tolerance?: number;
}

/** Fit isoFLOP parabolas per budget and power laws for N_opt and D_opt (Approach 2). */
export function fitIsoflop(points: readonly ScalingPoint[], opts: IsoflopOptions = {}): IsoflopFit {
  validatePoints(points, 'isoflop');
  const tol = opts.tolerance ?? 0.1;
  if (!(tol >= 0 && Number.isFinite(tol))) throw new UsageError(`tolerance must be a non-negative number such as 0.1, got ${tol}`);

  const budgets = groupByBudget(points, tol).map(fitBudget);
  const ok = budgets.filter((b) => b.accepted);
  if (ok.length < 2) {
    const refused = budgets.filter((b) => !b.accepted).map((b) => `C=${fmt(b.flops)}: ${b.reason}`).join('; ');
    throw new UsageError(
      `need at least 2 compute budgets with an interior loss minimum to fit N_opt ∝ C^a, got ${ok.length} of ${budgets.length}` +
      (refused ? ` (refused ${refused})` : ''),
    );
  }
  const logC = ok.map((b) => Math.log(b.flops));
  return {
    budgets,
    nOpt: powerLaw(logC, ok.map((b) => Math.log(b.nOpt!))),
    dOpt: powerLaw(logC, ok.map((b) => Math.log(b.dOpt!))),
    warnings: profileWarnings(budgets, points.length, tol),
  };
}

function profileWarnings(budgets: IsoflopBudget[], points: number, tol: number): string[] {
  const out: string[] = [];
  const thin = budgets.filter((b) => b.sizes < 3);
  const loose = thin.reduce((s, b) => s + b.runs, 0);
  if (loose > 0) {
    out.push(`${loose} of ${points} points fall in ${thin.length} budget(s) (±${Math.round(tol * 100)}%) with fewer than 3 model sizes, ` +
      'so they belong to no isoFLOP profile and Approach 2 ignores them');
  }
  const ok = budgets.filter((b) => b.accepted);
  const spread = ok.filter((b) => b.spread > SPREAD_LIMIT);
  if (spread.length > 0) {
    out.push(`${spread.length} of ${ok.length} fitted budgets group runs spread over more than ${SPREAD_LIMIT * 100}% of compute ` +
      `(${list(spread.map((b) => `C=${fmt(b.flops)}: ${(b.spread * 100).toFixed(1)}%`))}), so they are runs at different budgets, ` +
      'not one isoFLOP profile; label each run\'s budget in a flops column or train each budget\'s sizes on one budget');
  }
  const edge = ok.filter((b) => !b.bracketed);
  if (edge.length > 0) {
    out.push(`${edge.length} of ${ok.length} fitted budgets have their lowest loss at the smallest or largest size ` +
      `(${list(edge.map((b) => `C=${fmt(b.flops)}`))}), so the sizes do not bracket the minimum; add sizes beyond it`);
  }
  if (out.length > 0 && (spread.length > 0 || loose > points / 4)) {
    out.unshift('these points do not look like isoFLOP profiles (several model sizes trained on each of a few budgets); ' +
      "read Approach 2's exponents with caution, or prefer Approach 3");
  }
  return out;
}

function list(items: string[]): string {
  return items.length > 4 ? `${items.slice(0, 4).join(', ')} and ${items.length - 4} more` : items.join(', ');
}

interface Run { C: number; p: ScalingPoint }

function groupByBudget(points: readonly ScalingPoint[], tol: number): Run[][] {
  const runs = points.map((p) => ({ C: pointCompute(p), p })).sort((a, b) => a.C - b.C);
  const groups: Run[][] = [];
  for (const r of runs) {
    const g = groups[groups.length - 1];
    if (g && r.C <= g[0].C * (1 + tol)) g.push(r);
    else groups.push([r]);
  }
  return groups;
}

function fitBudget(group: Run[]): IsoflopBudget {
  // Geometric mean; exactly the label when every run carries the same one.
  const flops = group.every((r) => r.C === group[0].C) ? group[0].C : Math.exp(group.reduce((s, r) => s + Math.log(r.C), 0) / group.length);
  const xs = group.map((r) => Math.log(r.p.params));
  const ys = group.map((r) => r.p.loss);
  const xmin = Math.min(...xs), xmax = Math.max(...xs);
  const distinct = new Set(group.map((r) => r.p.params)).size;
  const best = group.reduce((a, r) => (r.p.loss < a.p.loss ? r : a));
  const base = {
    flops, runs: group.length, paramsRange: [Math.exp(xmin), Math.exp(xmax)] as [number, number],
    sizes: distinct, spread: group[group.length - 1].C / group[0].C - 1,
    bracketed: group.some((r) => r.p.params < best.p.params) && group.some((r) => r.p.params > best.p.params),
    nOpt: null, dOpt: null, lossOpt: null,
  };
  if (distinct < 3) {
    return { ...base, parabola: null, accepted: false, reason: `only ${distinct} model size${distinct === 1 ? '' : 's'} (a parabola needs 3 or more)` };
  }
  const xm = xs.reduce((s, x) => s + x, 0) / xs.length;
  const [d0, d1, d2] = quadraticFit(xs.map((x) => x - xm), ys);
  const parabola = { c0: d0 - d1 * xm + d2 * xm * xm, c1: d1 - 2 * d2 * xm, c2: d2 };
  // Curvature relative to the loss scale: an (almost) flat or downward parabola has no minimum.
  if (!(d2 > 0)) {
    return { ...base, parabola, accepted: false, reason: `loss is not convex in log N (c2 = ${fmt(d2)}), so there is no interior minimum` };
  }
  const xv = xm - d1 / (2 * d2);
  if (xv < xmin || xv > xmax) {
    const side = xv < xmin ? 'smaller' : 'larger';
    return {
      ...base, parabola, accepted: false,
      reason: `the parabola's minimum (N ≈ ${fmt(Math.exp(xv))}) lies outside the sampled sizes ${fmt(Math.exp(xmin))}–${fmt(Math.exp(xmax))}; add ${side} models at this budget`,
    };
  }
  const nOpt = Math.exp(xv);
  return { ...base, parabola, accepted: true, nOpt, dOpt: tokensForCompute(flops, nOpt), lossOpt: d0 - (d1 * d1) / (4 * d2) };
}

/** Least-squares y ≈ d0 + d1·u + d2·u² via the 3×3 normal equations (u already centred). */
function quadraticFit(u: number[], y: number[]): [number, number, number] {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0;
  for (let i = 0; i < u.length; i++) {
    const x = u[i], x2 = x * x;
    s0 += 1; s1 += x; s2 += x2; s3 += x2 * x; s4 += x2 * x2;
    t0 += y[i]; t1 += x * y[i]; t2 += x2 * y[i];
  }
  return solve3([[s0, s1, s2], [s1, s2, s3], [s2, s3, s4]], [t0, t1, t2]);
}

/** Gaussian elimination with partial pivoting for a 3×3 system. */
function solve3(M: number[][], v: number[]): [number, number, number] {
  const a = M.map((row, i) => [...row, v[i]]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = c + 1; r < 3; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < 4; k++) a[r][k] -= f * a[c][k];
    }
  }
  const x = [0, 0, 0];
  for (let r = 2; r >= 0; r--) {
    let s = a[r][3];
    for (let k = r + 1; k < 3; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return [x[0], x[1], x[2]];
}

/** Least squares ln y = ln k + exponent·ln C. */
function powerLaw(logC: number[], logY: number[]): PowerLaw {
  const n = logC.length;
  const mx = logC.reduce((s, v) => s + v, 0) / n, my = logY.reduce((s, v) => s + v, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = logC[i] - mx, dy = logY[i] - my;
    sxx += dx * dx; sxy += dx * dy; syy += dy * dy;
  }
  const exponent = sxy / sxx;
  const sse = syy - exponent * sxy;
  return { k: Math.exp(my - exponent * mx), exponent, r2: syy > 0 ? Math.max(0, 1 - sse / syy) : 1 };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  // 1e+18 and 5.35e+6 rather than 1000000000000000000; 1.691 stays 1.691.
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return Number(v.toPrecision(4)).toString();
}
