// Scaling-law fits: the L-BFGS minimiser, Chinchilla's Approach 3 (recovery of a known law,
// bootstrap intervals, the compute-optimal closed form), Approach 2 (isoFLOP parabolas and their
// refusals), and every kind of bad input getting its one-line UsageError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertUsageError } from './helpers.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../src/engine/random.js';
import {
  bootstrapChinchilla, computeOptimal, fitChinchilla, fitIsoflop, fitWarnings, lbfgs, parsePointsCsv, percentileInterval,
  predictLoss, readPointsCsv, parseExclude, applyExcludes, shownCell, type ScalingPoint,
} from '../src/laws/index.js';
import { fitLaw } from '../src/laws/report.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-laws-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

const usage = assertUsageError;

// Chinchilla's published fit (Hoffmann et al. 2022, Approach 3).
const CHINCHILLA = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
const chinchillaFit = {
  a: Math.log(CHINCHILLA.A), b: Math.log(CHINCHILLA.B), e: Math.log(CHINCHILLA.E), alpha: CHINCHILLA.alpha, beta: CHINCHILLA.beta,
};
const law = (N: number, D: number) => CHINCHILLA.E + CHINCHILLA.A / N ** CHINCHILLA.alpha + CHINCHILLA.B / D ** CHINCHILLA.beta;

/** 6 model sizes 1e6..1e9 × 5 token counts 1e8..1e11, with seeded multiplicative noise. */
function gridPoints(seed: number, sigma: number): ScalingPoint[] {
  const rng = new Rng(seed);
  const points: ScalingPoint[] = [];
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 5; j++) {
      const N = 1e6 * 1000 ** (i / 5), D = 1e8 * 1000 ** (j / 4);
      points.push({ params: N, tokens: D, loss: law(N, D) * Math.exp(sigma * rng.normal()) });
    }
  }
  return points;
}

test('L-BFGS minimises Rosenbrock to 1e-6', () => {
  const rosen = (x: Float64Array) => {
    const [a, b] = x;
    return { value: (1 - a) ** 2 + 100 * (b - a * a) ** 2, grad: [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)] };
  };
  for (const x0 of [[-1.2, 1], [2, 2], [-3, -4]]) {
    const r = lbfgs(rosen, x0);
    assert.ok(Math.abs(r.x[0] - 1) < 1e-6 && Math.abs(r.x[1] - 1) < 1e-6, `from ${x0}: ${r.x} (${r.reason})`);
    assert.ok(r.value < 1e-12);
  }
  // 10-dimensional chained Rosenbrock.
  const n = 10;
  const r = lbfgs((x) => {
    let value = 0;
    const grad = new Float64Array(n);
    for (let i = 0; i < n - 1; i++) {
      const t = x[i + 1] - x[i] * x[i];
      value += 100 * t * t + (1 - x[i]) ** 2;
      grad[i] += -400 * x[i] * t - 2 * (1 - x[i]);
      grad[i + 1] += 200 * t;
    }
    return { value, grad };
  }, new Float64Array(n).fill(-1));
  for (let i = 0; i < n; i++) assert.ok(Math.abs(r.x[i] - 1) < 1e-6, `x[${i}] = ${r.x[i]}`);
});

test('Approach 3 recovers a known law; the truth and the fit lie inside the bootstrap intervals', () => {
  // One seeded draw. A 90% interval misses the truth in some draws by design (with this design and
  // noise, seed 1 is such a draw for B and β); seeds 2–8 all cover, and so does this one.
  const points = gridPoints(2, 0.002);
  const boot = bootstrapChinchilla(points, { resamples: 100, seed: 1, level: 0.9 });
  const { fit, intervals } = boot;
  assert.equal(fit.points, 30);
  assert.equal(fit.starts, 4500);
  assert.ok(Math.abs(fit.E - CHINCHILLA.E) < 0.05, `E = ${fit.E}`);
  assert.ok(Math.abs(fit.alpha - CHINCHILLA.alpha) < 0.02, `alpha = ${fit.alpha}`);
  assert.ok(Math.abs(fit.beta - CHINCHILLA.beta) < 0.02, `beta = ${fit.beta}`);
  for (const k of ['E', 'A', 'B', 'alpha', 'beta'] as const) {
    const [lo, hi] = intervals[k];
    assert.ok(lo < hi, `${k}: empty interval [${lo}, ${hi}]`);
    assert.ok(lo <= fit[k] && fit[k] <= hi, `${k}: fit ${fit[k]} outside [${lo}, ${hi}]`);
    assert.ok(lo <= CHINCHILLA[k] && CHINCHILLA[k] <= hi, `${k}: truth ${CHINCHILLA[k]} outside [${lo}, ${hi}]`);
  }
  // The fitted law predicts the (noisy) data to within the noise.
  for (const p of points) assert.ok(Math.abs(Math.log(predictLoss(fit, p.params, p.tokens) / p.loss)) < 0.03);
  // Intervals on the compute-optimal allocation bracket the point estimate and the truth.
  const C = 1e21;
  const o = boot.optimal(C);
  const truth = computeOptimal(chinchillaFit, C);
  assert.equal(o.used, 100);
  for (const k of ['params', 'tokens', 'loss'] as const) {
    assert.ok(o[k][0] <= o.estimate[k] && o.estimate[k] <= o[k][1], `${k}: estimate outside ${o[k]}`);
    assert.ok(o[k][0] <= truth[k] && truth[k] <= o[k][1], `${k}: truth ${truth[k]} outside ${o[k]}`);
  }
});

test('the bootstrap is deterministic in its seed and checks its options', () => {
  const points = gridPoints(2, 0.01);
  const fitOpts = { grid: { a: [5], b: [5], e: [0.5] } }; // a small grid keeps this test quick
  const a = bootstrapChinchilla(points, { resamples: 20, seed: 3, fit: fitOpts });
  const b = bootstrapChinchilla(points, { resamples: 20, seed: 3, fit: fitOpts });
  const c = bootstrapChinchilla(points, { resamples: 20, seed: 4, fit: fitOpts });
  assert.deepEqual(a.intervals, b.intervals);
  assert.notDeepEqual(a.intervals, c.intervals);
  usage(() => bootstrapChinchilla(points, { level: 1.5 }), /level must be between 0 and 1/);
  usage(() => bootstrapChinchilla(points, { resamples: 0 }), /resamples must be a positive integer/);
  assert.deepEqual(percentileInterval([1, 2, 3, 4, 5], 0.5), [2, 4]);
  assert.deepEqual(percentileInterval([5, 1, NaN, 3], 1 - 1e-12).map((v) => Math.round(v * 1e6) / 1e6), [1, 5]);
});

test('computeOptimal reproduces the closed form on Chinchilla\'s published law', () => {
  const C = 5.76e23; // Chinchilla's training budget
  const opt = computeOptimal(chinchillaFit, C);
  // Independent check: minimise L(N, C/(6N)) over log N by golden-section search.
  const lossAt = (logN: number) => law(Math.exp(logN), C / (6 * Math.exp(logN)));
  let lo = Math.log(1e6), hi = Math.log(1e14);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 200; i++) {
    const m1 = hi - phi * (hi - lo), m2 = lo + phi * (hi - lo);
    if (lossAt(m1) < lossAt(m2)) hi = m2; else lo = m1;
  }
  const nNumeric = Math.exp((lo + hi) / 2);
  assert.ok(Math.abs(opt.params / nNumeric - 1) < 1e-6, `closed form ${opt.params} vs numeric ${nNumeric}`);
  assert.ok(Math.abs(opt.params / 3.3e10 - 1) < 0.03, `N_opt = ${opt.params}`); // ~33B parameters
  assert.ok(Math.abs(opt.tokens * opt.params * 6 / C - 1) < 1e-12, 'C = 6·N·D');
  assert.ok(Math.abs(opt.loss - law(opt.params, opt.tokens)) < 1e-12);
  // Doubling C scales N_opt by 2^a and D_opt by 2^b, a = β/(α+β) ≈ 0.45, b = α/(α+β) ≈ 0.55.
  const a = CHINCHILLA.beta / (CHINCHILLA.alpha + CHINCHILLA.beta), b = 1 - a;
  assert.ok(Math.abs(a - 0.4516) < 1e-3);
  const twice = computeOptimal(chinchillaFit, 2 * C);
  assert.ok(Math.abs(twice.params / opt.params - 2 ** a) < 1e-9);
  assert.ok(Math.abs(twice.tokens / opt.tokens - 2 ** b) < 1e-9);
  // Stable far outside the data: huge N and D leave the irreducible loss.
  assert.ok(Math.abs(predictLoss(chinchillaFit, 1e300, 1e300) - CHINCHILLA.E) < 1e-12);
  usage(() => computeOptimal(chinchillaFit, -1), /compute budget C must be a finite positive number/);
  usage(() => computeOptimal({ ...chinchillaFit, alpha: -0.1 }, 1e20), /needs α > 0 and β > 0/);
});

/** isoFLOP sweeps under Chinchilla's law: 7 sizes per budget spaced ×2 around (near) the optimum. */
function isoflopPoints(seed: number): ScalingPoint[] {
  const rng = new Rng(seed);
  const a = CHINCHILLA.beta / (CHINCHILLA.alpha + CHINCHILLA.beta);
  const points: ScalingPoint[] = [];
  for (const C of [1e17, 1e18, 1e19, 1e20, 1e21]) {
    const centre = 1.2 * (C / 6) ** a; // deliberately off the true optimum (G ≈ 1.35)
    for (let k = -3; k <= 3; k++) {
      const N = centre * 2 ** k, D = C / (6 * N);
      points.push({ params: N, tokens: D, loss: law(N, D) * Math.exp(0.001 * rng.normal()) });
    }
  }
  return points;
}

test('Approach 2 recovers the exponents and refuses a budget without an interior minimum', () => {
  const points = isoflopPoints(5);
  // A monotone budget: only models far smaller than optimal, so loss falls all the way.
  for (let k = 0; k < 5; k++) {
    const N = 1e5 * 2 ** k, D = 1e22 / (6 * N);
    points.push({ params: N, tokens: D, loss: law(N, D) });
  }
  const fit = fitIsoflop(points);
  assert.equal(fit.budgets.length, 6);
  const accepted = fit.budgets.filter((b) => b.accepted);
  assert.equal(accepted.length, 5);
  const refused = fit.budgets.find((b) => !b.accepted)!;
  assert.ok(Math.abs(refused.flops / 1e22 - 1) < 1e-9);
  assert.match(refused.reason!, /outside the sampled sizes.*add larger models/);
  assert.equal(refused.nOpt, null);
  const a = CHINCHILLA.beta / (CHINCHILLA.alpha + CHINCHILLA.beta);
  assert.ok(Math.abs(fit.nOpt.exponent - a) < 0.01, `N_opt exponent ${fit.nOpt.exponent} vs ${a}`);
  assert.ok(Math.abs(fit.dOpt.exponent - (1 - a)) < 0.01, `D_opt exponent ${fit.dOpt.exponent} vs ${1 - a}`);
  assert.ok(fit.nOpt.r2 > 0.999);
  // Each accepted vertex is close to the true optimum for its budget.
  for (const b of accepted) {
    const truth = computeOptimal(chinchillaFit, b.flops);
    assert.ok(Math.abs(Math.log(b.nOpt! / truth.params)) < 0.1, `C=${b.flops}: ${b.nOpt} vs ${truth.params}`);
    assert.ok(b.parabola!.c2 > 0);
    assert.ok(Math.abs(b.dOpt! * b.nOpt! * 6 / b.flops - 1) < 1e-9);
  }
});

test('Approach 2 refuses a concave budget, groups by labelled flops, and needs two good budgets', () => {
  const points = isoflopPoints(6);
  // Labelled budget whose runs sit at 0.8–1.2 × 1e22 by 6ND, loss rising then falling (concave).
  const concave = [3.1, 3.3, 3.35, 3.3, 3.1];
  concave.forEach((loss, k) => {
    const N = 1e9 * 2 ** k;
    points.push({ params: N, tokens: (1e22 * (0.8 + 0.1 * k)) / (6 * N), loss, flops: 1e22 });
  });
  const fit = fitIsoflop(points);
  const refused = fit.budgets.filter((b) => !b.accepted);
  assert.equal(refused.length, 1);
  assert.equal(refused[0].flops, 1e22);
  assert.equal(refused[0].runs, 5);
  assert.match(refused[0].reason!, /not convex in log N/);

  // One good budget plus one with only two model sizes: not enough budgets to fit a power law.
  const sweep = isoflopPoints(7);
  const oneBudget = sweep.filter((p) => p.params * p.tokens * 6 < 2e17);
  const twoSizes = [...oneBudget, ...sweep.filter((p) => p.params * p.tokens * 6 > 5e17 && p.params * p.tokens * 6 < 2e18).slice(0, 2)];
  usage(() => fitIsoflop(oneBudget), /need at least 2 compute budgets with an interior loss minimum.*got 1 of 1/);
  usage(() => fitIsoflop(twoSizes), /got 1 of 2 \(refused C=1e\+18: only 2 model sizes \(a parabola needs 3 or more\)\)/);
});

test('bad points get a UsageError naming the problem', () => {
  const good = gridPoints(3, 0.01);
  for (const fit of [(p: ScalingPoint[]) => fitChinchilla(p), (p: ScalingPoint[]) => fitIsoflop(p)]) {
    usage(() => fit(good.slice(0, 3)), /need at least 5 points to fit .* got 3/);
    usage(() => fit(good.filter((p) => p.params === good[0].params)), /all 5 points have the same model size \(N = 1e\+6\)/);
    usage(() => fit(good.map((p, i) => (i === 4 ? { ...p, loss: NaN } : p))), /point 4 has loss = NaN/);
    usage(() => fit(good.map((p, i) => (i === 2 ? { ...p, tokens: -1e9 } : p))), /point 2 has tokens = -1000000000; tokens must be positive/);
    usage(() => fit(good.map((p, i) => (i === 0 ? { ...p, params: 0 } : p))), /point 0 has params = 0; params must be positive/);
    usage(() => fit(good.map((p, i) => (i === 1 ? { ...p, loss: Infinity } : p))), /point 1 has loss = Infinity/);
    usage(() => fit(good.map((p, i) => (i === 1 ? { ...p, flops: -5 } : p))), /point 1 has flops = -5/);
    usage(() => fit(good.map((p, i) => (i === 1 ? { ...p, loss: '2.5' as unknown as number } : p))), /point 1 has loss = "2.5" \(string\)/);
  }
  usage(() => fitChinchilla(good.filter((p) => p.tokens === good[0].tokens)), /same token count/);
  usage(() => fitChinchilla(good, { delta: 0 }), /delta must be a positive number/);
  usage(() => fitChinchilla(good, { starts: [[1, 2, 3]] }), /a start must be \[a, b, e, alpha, beta\]/);
});

test('degenerate fits are rejected (loss growing with N, runs below E); a missing loss floor is a warning', () => {
  const mk = (f: (N: number, D: number) => number) => {
    const p: ScalingPoint[] = [];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) {
      const N = 1e6 * 10 ** (i * 0.75), D = 1e8 * 10 ** j;
      p.push({ params: N, tokens: D, loss: f(N, D) });
    }
    return p;
  };
  const grid = { a: [0, 10, 20], b: [0, 10, 20], e: [-1, 0, 1] }; // a 300-start grid keeps this quick
  usage(() => fitChinchilla(mk((N, D) => 2 + 0.05 * Math.log(N) + 400 / D ** 0.3), { grid }),
    /degenerate fit .* exponent α = -?[\d.e-]+ is not positive, so loss does not fall with model size/);
  const noFloor = mk((N, D) => 400 / N ** 0.3 + 400 / D ** 0.3);
  const pure = fitChinchilla(noFloor, { grid });
  assert.ok(Math.abs(pure.alpha - 0.3) < 0.01 && Math.abs(pure.beta - 0.3) < 0.01, `α ${pure.alpha}, β ${pure.beta}`);
  assert.match(fitWarnings(pure, noFloor).join(' '), /irreducible loss E = .* is at its lower bound/);
  assert.deepEqual(fitWarnings(fitChinchilla(mk(law), { grid }), mk(law)), []);
  const below = mk(law);
  below.push({ params: 1e6, tokens: 1e8, loss: 1.0 }, { params: 3e6, tokens: 1e9, loss: 1.0 });
  usage(() => fitChinchilla(below, { grid }), /run with N = 1e\+6, D = 1e\+8 has loss 1, below the fitted irreducible loss E = 1\.69/);
  // check: false returns the fit anyway, for callers that want to look at it.
  const f = fitChinchilla(below, { grid, check: false });
  assert.ok(Math.abs(f.E - 1.69) < 0.01);
});

test('readPointsCsv: columns in any order, extra columns ignored, flops kept', () => {
  const file = write('runs.csv', '\uFEFFname,Loss,tokens,params,flops\r\n# a comment\r\ntiny,3.5,1e8,1e6,6e14\r\n\r\n"b, quoted",3.1,2E9,1e7,\n');
  assert.deepEqual(readPointsCsv(file), [
    { params: 1e6, tokens: 1e8, loss: 3.5, flops: 6e14 },
    { params: 1e7, tokens: 2e9, loss: 3.1 },
  ]);
});

test('readPointsCsv: a missing column, a bad number, an empty file each get a clear UsageError', () => {
  usage(() => readPointsCsv(write('nocol.csv', 'params,loss\n1e6,3\n')), /nocol\.csv:1: header is missing column tokens/);
  usage(() => readPointsCsv(write('nocols.csv', 'n,d,l\n1,2,3\n')), /missing columns params, tokens, loss/);
  usage(() => readPointsCsv(write('bad.csv', 'params,tokens,loss\n1e6,1e8,3\n1e7,1e9,abc\n')), /bad\.csv:3: loss must be a finite positive number, got 'abc'/);
  usage(() => readPointsCsv(write('neg.csv', 'params,tokens,loss\n1e6,-1e8,3\n')), /neg\.csv:2: tokens must be a finite positive number, got '-1e8'/);
  usage(() => readPointsCsv(write('short.csv', 'params,tokens,loss\n1e6,1e8\n')), /short\.csv:2: loss is missing/);
  usage(() => readPointsCsv(write('empty.csv', '')), /empty\.csv is empty; it needs a header line params,tokens,loss/);
  usage(() => readPointsCsv(write('blank.csv', '\n  \n')), /is empty/);
  usage(() => readPointsCsv(write('header.csv', 'params,tokens,loss\n')), /has a header but no data rows/);
  usage(() => readPointsCsv(path.join(tmp, 'nope.csv')), /cannot read points file .*nope\.csv \(ENOENT\)/);
  assert.equal(parsePointsCsv('params,tokens,loss\n1,2,3\n').length, 1);
});

/** Runs of many sizes at scattered budgets (like Chinchilla's Figure 4): not isoFLOP profiles. */
function scatteredPoints(seed: number, n: number): ScalingPoint[] {
  const rng = new Rng(seed);
  const points: ScalingPoint[] = [];
  while (points.length < n) {
    const N = 10 ** (7 + 3 * rng.uniform()), C = 10 ** (18 + 4 * rng.uniform()), D = C / (6 * N);
    if (D >= 1e8) points.push({ params: N, tokens: D, loss: law(N, D) * Math.exp(0.005 * rng.normal()) });
  }
  return points;
}

test('Approach 2 says when its groups are not isoFLOP profiles, and is quiet on a planned sweep', () => {
  assert.deepEqual(fitIsoflop(isoflopPoints(5)).warnings, []);
  for (const b of fitIsoflop(isoflopPoints(5)).budgets) {
    assert.deepEqual([b.sizes, b.runs, b.bracketed], [7, 7, true]);
    assert.ok(b.spread < 1e-9, `spread ${b.spread}`);
  }

  const fit = fitIsoflop(scatteredPoints(11, 60));
  const w = fit.warnings.join('\n');
  assert.match(fit.warnings[0], /^these points do not look like isoFLOP profiles/);
  assert.match(w, /\d+ of 60 points fall in \d+ budget\(s\) \(±10%\) with fewer than 3 model sizes, so they belong to no isoFLOP profile/);
  assert.match(w, /fitted budgets group runs spread over more than 2% of compute \(C=[\d.e+]+: \d+\.\d%/);
  const spread = fit.budgets.filter((b) => b.accepted && b.spread > 0.02);
  assert.ok(spread.length > 0);
  const loose = fit.budgets.filter((b) => b.sizes < 3).reduce((s, b) => s + b.runs, 0);
  assert.ok(loose > 15, `${loose} points in no profile`);

  // One budget whose lowest loss is its largest model, though the parabola's vertex lies inside.
  const edge = isoflopPoints(5).filter((p) => Math.abs(6 * p.params * p.tokens / 1e19 - 1) > 0.01);
  for (const [N, loss] of [[1e8, 3.0], [2e8, 2.8], [4e8, 2.75], [8e8, 2.74]]) edge.push({ params: N, tokens: 1e19 / (6 * N), loss });
  const e = fitIsoflop(edge);
  const b = e.budgets.find((x) => Math.abs(x.flops / 1e19 - 1) < 1e-9)!;
  assert.deepEqual([b.accepted, b.bracketed], [true, false]);
  assert.match(e.warnings.join('\n'), /1 of 5 fitted budgets have their lowest loss at the smallest or largest size \(C=1e\+19\)/);
});

test('--exclude rules: rows, comparisons, top/bottom by a field; reported with their rule', () => {
  const pts: ScalingPoint[] = [
    { params: 1e6, tokens: 1e8, loss: 3.9 }, { params: 2e6, tokens: 1e8, loss: 3.1 }, { params: 4e6, tokens: 1e8, loss: 3.6 },
    { params: 8e6, tokens: 1e8, loss: 2.5 }, { params: 1e7, tokens: 1e9, loss: 3.6, flops: 1e17 }, { params: 2e7, tokens: 1e9, loss: 2.0 },
  ];
  const rows = (...specs: string[]) => applyExcludes(pts, specs.map(parseExclude)).excluded.map((x) => x.row);
  assert.deepEqual(rows('rows:2,5'), [2, 5]);
  assert.deepEqual(rows('rows:2-4'), [2, 3, 4]);
  assert.deepEqual(rows('loss>3.5'), [1, 3, 5]);
  assert.deepEqual(rows('loss >= 3.6'), [1, 3, 5]);
  assert.deepEqual(rows('params<2e6'), [1]);
  assert.deepEqual(rows('flops<=6e14'), [1], 'flops: 6·N·D, or the label where there is one');
  assert.deepEqual(rows('top-loss:2'), [1, 3], 'ties broken by row');
  assert.deepEqual(rows('bottom-loss:1'), [6]);
  assert.deepEqual(rows('top-loss:1', 'rows:1,2'), [1, 2], 'rules are matched on the points as given; a point is dropped once');
  const r = applyExcludes(pts, [parseExclude('top-loss:1'), parseExclude('rows:1,2')]);
  assert.deepEqual(r.excluded.map((x) => x.rule), ['top-loss:1', 'rows:1,2']);
  assert.equal(r.kept.length, 4);

  usage(() => parseExclude('rows:0'), /^--exclude 'rows:0': '0' is not a range of rows counted from 1; use rows:3,7/);
  usage(() => parseExclude('rows:a'), /'a' is not a row number or range/);
  usage(() => parseExclude('size>3'), /unknown field 'size'/);
  usage(() => parseExclude('loss>'), /'' is not a number/);
  usage(() => parseExclude('loss=3'), /not a rule/);
  usage(() => parseExclude('top-loss:-1'), /'-1' is not a positive whole number/);
  usage(() => applyExcludes(pts, [parseExclude('rows:7')]), /^--exclude 'rows:7': row 7 does not exist: there are 6 rows$/);
  usage(() => applyExcludes(pts, [parseExclude('top-loss:6')]), /would drop all 6 points/);
});

test('fit with --exclude: both approaches fit what is left, and the report lists the dropped rows', () => {
  const points = isoflopPoints(5);
  const { report } = fitLaw(points, { resamples: 20, exclude: [parseExclude('flops>5e20'), parseExclude('rows:1')] });
  assert.equal(report.points, 35 - 8);
  assert.deepEqual(report.excluded.map((e) => [e.row, e.rule]), [[1, 'rows:1'], ...[29, 30, 31, 32, 33, 34, 35].map((r) => [r, 'flops>5e20'])]);
  assert.deepEqual(report.excluded[0], { row: 1, ...points[0], rule: 'rows:1' });
  assert.ok(!('error' in report.isoflop));
  if (!('error' in report.isoflop)) {
    assert.deepEqual(report.isoflop.budgets.map((b) => b.runs), [6, 7, 7, 7], 'Approach 2 lost the 1e21 budget and one run');
  }
  assert.deepEqual(fitLaw(points, { resamples: 20 }).report.excluded, []);
  usage(() => fitLaw(points, { resamples: 20, exclude: [parseExclude('loss>0')] }), /--exclude dropped 35 of 35 points, leaving 0; a fit needs at least 5/);
});

test('readPointsCsv: a binary file or control bytes are refused without echoing them; echoed cells are escaped', () => {
  const binary = path.join(tmp, 'binary.csv');
  fs.writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe, 0x1b, 0x5b]));
  usage(() => readPointsCsv(binary), /^points file .*binary\.csv is not a text CSV \(it is not UTF-8\); pass a CSV/);
  usage(() => readPointsCsv(write('esc.csv', 'params,tokens,loss\n1e6,1e8,3\x1b[2J\n')), /is not a text CSV \(control byte 0x1b at character 28\)/);
  assert.throws(() => readPointsCsv(write('bidi.csv', 'params,tokens,loss\n1e6,1e8,3\u202eevil\n')),
    (e: Error) => e.message.includes("got '3\\u202eevil'") && !/[\u0000-\u001f\u007f-\u009f\u202e]/.test(e.message));
  assert.equal(shownCell('a\u0007b'), 'a\\u0007b');
  assert.equal(shownCell('x'.repeat(100)), `${'x'.repeat(40)}…`);
  assert.ok(!/[\u0000-\u001f]/.test(shownCell('\u0000\u001b\n\t')));
});
