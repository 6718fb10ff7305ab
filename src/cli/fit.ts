// `scalelab fit`, `scalelab predict` and `scalelab compare`: scaling laws from a sweep's runs or
// from any CSV of params,tokens,loss.
import { Command } from 'commander';
import { openStore, existingHome } from '../runs/index.js';
import { SweepQueue } from '../sweep/queue.js';
import { sweepPoints, runsPoints, metricOf, type Metric } from '../sweep/points.js';
import { readPointsCsv, parseExclude, applyExcludes, type ExcludeRule, type ScalingPoint } from '../laws/index.js';
import { fitLaw, predictWithInterval, type LawReport } from '../laws/report.js';
import { fitComputeLaw, COMPUTE_LAW, type ComputeLawReport } from '../laws/compute-law.js';
import { compareToBaseline, verdict } from '../laws/compare.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';
import { trainingCompute } from '../common/compute.js';

/** The points to fit and what their loss is: a GPT's bits per byte, a DiT's velocity MSE, or unknown (a CSV's). */
export async function loadRuns(o: { sweep?: string; points?: string; runs?: string[]; home?: string }): Promise<{ points: ScalingPoint[]; metric: Metric | null }> {
  if ([o.sweep, o.points, o.runs].filter((x) => x !== undefined).length > 1) throw new UsageError('give one of --sweep, --runs or --points, not two');
  if (o.points) return { points: readPointsCsv(o.points), metric: null };
  if (!o.sweep && !o.runs) throw new UsageError('give the runs to fit: --sweep NAME, --runs A,B,... or --points FILE (a CSV with params,tokens,loss)');
  const store = openStore(existingHome(o.home), { reading: true });
  try {
    const found = o.sweep ? await sweepPoints(store, o.sweep) : await runsPoints(store, o.runs!);
    // A DiT sweep with no finished run yet is still a DiT sweep: its refusal should say MSE.
    const planned = o.sweep && (await new SweepQueue(store).getSweep(o.sweep)).config.model === 'dit' ? 'mse' : null;
    return { points: found.map((p) => ({ params: p.params, tokens: p.tokens, loss: p.loss })), metric: metricOf(found) ?? planned };
  } finally {
    await store.close();
  }
}

export async function loadPoints(o: { sweep?: string; points?: string; runs?: string[]; home?: string }): Promise<ScalingPoint[]> {
  return (await loadRuns(o)).points;
}

const num = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0) ? x.toExponential(3) : x.toPrecision(4));
const iv = ([lo, hi]: [number, number]) => `[${num(lo)}, ${num(hi)}]`;

/** The bootstrap, home and output options every law command takes. */
function bootstrapOptions(c: Command): Command {
  return c
    .option('--resamples <n>', 'bootstrap resamples', positiveInt('--resamples'), 1000)
    .option('--seed <n>', 'bootstrap seed', numberOption('--seed', { allowZero: true }), 0)
    .option('--level <x>', 'interval coverage', numberOption('--level'), 0.9)
    .addOption(flag('home', HOME))
    .option('--json', 'print one JSON object');
}

function common(c: Command): Command {
  return bootstrapOptions(c
    .option('--sweep <name>', 'fit the finished runs of this sweep (loss = final validation bits per byte; a video sweep\'s: velocity MSE)')
    .option('--runs <list>', 'fit these finished runs, e.g. base,base-4x,base-16x', (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .option('--points <file>', 'fit a CSV with columns params,tokens,loss')
    .option('--exclude <rule>', "drop points before fitting (repeatable): rows:3,7 | 'loss>3.5' | top-loss:5",
      (v: string, prev: ExcludeRule[] | undefined) => [...(prev ?? []), parseExclude(v)]));
}

/** How a report names its loss and tokens: the GPT's words by default (bpb is implied), a video model's MSE and patches. */
interface Units { loss: string; law: string }
const GPT_UNITS: Units = { loss: 'loss', law: '' };
const DIT_UNITS: Units = { loss: 'val mse', law: ' (L: validation velocity MSE, N: non-embedding parameters, D: training patches)' };

function printReport(r: LawReport, u: Units = GPT_UNITS): void {
  const pct = Math.round(r.level * 100);
  console.log(`L(N, D) = E + A/N^α + B/D^β fitted to ${r.points} runs${u.law} (sum of Huber losses on log L, δ = 1e-3; ${r.resamples} bootstrap resamples)`);
  if (r.excluded.length > 0) {
    console.log(`excluded ${r.excluded.length} point(s) from both approaches:`);
    for (const e of r.excluded) console.log(`  row ${e.row}: N ${num(e.params)}, D ${num(e.tokens)}, loss ${num(e.loss)}  (${e.rule})`);
  }
  for (const k of ['E', 'A', 'B', 'alpha', 'beta'] as const) {
    console.log(`  ${k.padEnd(5)} ${num(r.law[k]).padStart(10)}   ${pct}% ${iv(r.intervals[k])}`);
  }
  for (const w of r.warnings) console.log(`note: ${w}`);
  console.log('compute-optimal allocation (C = 6·N·D):');
  for (const o of r.optimal) {
    console.log(`  C ${o.flops.toExponential(2)}: N ${num(o.params)} ${iv(o.intervals.params)}, D ${num(o.tokens)} ${iv(o.intervals.tokens)}, ${u.loss} ${num(o.loss)} ${iv(o.intervals.loss)}`);
  }
  if ('error' in r.isoflop) {
    console.log(`approach 2 (isoFLOP parabolas): ${r.isoflop.error}`);
  } else {
    const a = r.isoflop;
    console.log(`approach 2 (isoFLOP parabolas): N_opt ∝ C^${a.nOpt.exponent.toFixed(3)}, D_opt ∝ C^${a.dOpt.exponent.toFixed(3)}`);
    for (const b of a.budgets) {
      const runs = `${b.runs} run${b.runs === 1 ? '' : 's'}, ${b.sizes} size${b.sizes === 1 ? '' : 's'}${b.spread > 0 ? `, spread ${(b.spread * 100).toFixed(1)}%` : ''}`;
      console.log(`  C ${b.flops.toExponential(2)} (${runs}): ${b.accepted ? `N_opt ${num(b.nOpt!)}, ${u.loss} ${num(b.lossOpt!)}` : `refused: ${b.reason}`}`);
    }
    for (const w of a.warnings) console.log(`warning: ${w}`);
  }
}

/** A fit that may not apply to these runs: its report, or why not. */
type Attempt<T> = T | { error: string };
const failed = <T extends object>(a: Attempt<T>): a is { error: string } => 'error' in a;

function attempt<T>(fn: () => T): Attempt<T> {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) return { error: err.message };
    throw err;
  }
}

interface LawOptions { resamples: number; seed: number; level: number; exclude?: ExcludeRule[] }

/**
 * A video model's laws: its val MSE against compute, L(C) = E + A/C^α, and where the runs span
 * sizes and data enough (five or more, two sizes, two patch counts) the Chinchilla form in N and
 * D. Each is fitted where it applies; runs that fit neither are refused with both reasons.
 */
function fitVideo(points: ScalingPoint[], o: LawOptions, flops: number[] | undefined) {
  const kept = applyExcludes(points, o.exclude ?? []).kept;
  const compute = attempt(() => fitComputeLaw(kept, { resamples: o.resamples, seed: o.seed, level: o.level, flops }));
  const chinchilla = attempt(() => fitLaw(points, { resamples: o.resamples, seed: o.seed, level: o.level, flops, exclude: o.exclude }));
  if (failed(compute) && failed(chinchilla)) {
    throw new UsageError(`no law fits these ${points.length} video runs: ${COMPUTE_LAW}: ${compute.error}; L(N, D): ${chinchilla.error}`);
  }
  return { compute, chinchilla };
}

function printComputeLaw(r: ComputeLawReport): void {
  const pct = Math.round(r.level * 100);
  console.log(`val mse against compute: ${r.law} fitted to the best run of each of ${r.budgets.length} budgets ` +
    `(${r.runs} runs; C = 6·N·D, D in patches; sum of Huber losses on log L, δ = 1e-3; ${r.resamples} bootstrap resamples)`);
  for (const b of r.budgets) console.log(`  C ${b.flops.toExponential(2)}: val mse ${num(b.loss)}${b.runs > 1 ? ` (best of ${b.runs} runs)` : ''}`);
  const f = r.fit;
  for (const [k, v] of [['E', f.E], ['A', f.A], ['alpha', f.alpha]] as const) console.log(`  ${k.padEnd(5)} ${num(v).padStart(10)}   ${pct}% ${iv(r.intervals[k])}`);
  for (const w of r.warnings) console.log(`note: ${w}`);
  console.log('predicted:');
  for (const p of r.predictions) console.log(`  C ${p.flops.toExponential(2)}: val mse ${num(p.loss)} ${pct}% ${iv(p.interval)}`);
}

export function fitCommand(): Command {
  return common(new Command('fit').description('fit the Chinchilla scaling law L(N, D) with bootstrap intervals (and isoFLOP parabolas); for video runs also val MSE against compute'))
    .option('--flops <list>', 'budgets for the compute-optimal allocation (and a video law\'s predictions), e.g. 1e13,1e14', (v: string) => v.split(',').map(numberOption('--flops')))
    .action(async (o) => {
      const { points, metric } = await loadRuns(o);
      if (metric === 'mse') {
        const r = fitVideo(points, o, o.flops);
        const chinchilla = failed(r.chinchilla) ? r.chinchilla : r.chinchilla.report;
        if (o.json) return console.log(JSON.stringify({ metric, compute: r.compute, chinchilla }));
        if (failed(r.compute)) console.log(`val mse against compute: ${COMPUTE_LAW} not fitted: ${r.compute.error}`);
        else printComputeLaw(r.compute);
        if (failed(chinchilla)) console.log(`val mse against params and data: L(N, D) = E + A/N^α + B/D^β not fitted: ${chinchilla.error}`);
        else printReport(chinchilla, DIT_UNITS);
        return;
      }
      const { report } = fitLaw(points, { resamples: o.resamples, seed: o.seed, level: o.level, flops: o.flops, exclude: o.exclude });
      if (o.json) return console.log(JSON.stringify(report));
      printReport(report);
    });
}

export function predictCommand(): Command {
  return common(new Command('predict').description('predict the loss of --params N --tokens D, or the compute-optimal run for --flops C (a video law: its val MSE at C)'))
    .option('--params <n>', 'non-embedding parameters N', numberOption('--params'))
    .option('--tokens <n>', 'training tokens D (a video model\'s: patches)', numberOption('--tokens'))
    .option('--flops <c>', 'a compute budget C in FLOPs', numberOption('--flops'))
    .action(async (o) => {
      const byRun = o.params !== undefined || o.tokens !== undefined;
      if (byRun === (o.flops !== undefined) || (byRun && (o.params === undefined || o.tokens === undefined))) {
        throw new UsageError('give either --params N --tokens D, or --flops C');
      }
      const { points, metric } = await loadRuns(o);
      if (metric === 'mse' && !byRun) return predictVideo(points, o);
      const { report, boot } = fitLaw(points, { resamples: o.resamples, seed: o.seed, level: o.level, flops: o.flops ? [o.flops] : [], exclude: o.exclude });
      const pct = Math.round(report.level * 100);
      const loss = metric === 'mse' ? 'val mse' : 'loss';
      const dropped = report.excluded.length ? { excluded: report.excluded } : {};
      if (!o.json && report.excluded.length) console.log(`excluded ${report.excluded.length} point(s): rows ${report.excluded.map((e) => e.row).join(', ')}`);
      if (byRun) {
        const p = predictWithInterval(boot, o.params, o.tokens);
        if (o.json) return console.log(JSON.stringify({ params: o.params, tokens: o.tokens, flops: trainingCompute(o.params, o.tokens), loss: p.loss, interval: p.interval, level: report.level, ...dropped, ...(metric === 'mse' ? { metric } : {}) }));
        return console.log(`N ${num(o.params)}, D ${num(o.tokens)} (C ${trainingCompute(o.params, o.tokens).toExponential(2)}): ${loss} ${num(p.loss)}, ${pct}% ${iv(p.interval)}`);
      }
      const opt = report.optimal[0];
      if (o.json) return console.log(JSON.stringify({ ...opt, level: report.level, ...dropped }));
      console.log(`C ${o.flops.toExponential(2)}: N_opt ${num(opt.params)} ${iv(opt.intervals.params)}, D_opt ${num(opt.tokens)} ${iv(opt.intervals.tokens)}, loss ${num(opt.loss)} ${pct}% ${iv(opt.intervals.loss)}`);
    });
}

/** A video law's val MSE at --flops C: from the law against compute, and the compute-optimal run where L(N, D) fits. */
function predictVideo(points: ScalingPoint[], o: LawOptions & { flops: number; json?: boolean }): void {
  const r = fitVideo(points, o, [o.flops]);
  const pct = Math.round(o.level * 100);
  const compute = failed(r.compute) ? r.compute : r.compute.predictions[0];
  const optimal = failed(r.chinchilla) ? r.chinchilla : r.chinchilla.report.optimal[0];
  if (o.json) return console.log(JSON.stringify({ metric: 'mse', flops: o.flops, level: o.level, compute, optimal }));
  console.log(failed(compute) ? `C ${o.flops.toExponential(2)}: ${COMPUTE_LAW} not fitted: ${compute.error}`
    : `C ${o.flops.toExponential(2)}: val mse ${num(compute.loss)} ${pct}% ${iv(compute.interval)} (${COMPUTE_LAW})`);
  console.log(failed(optimal) ? `compute-optimal run: L(N, D) not fitted: ${optimal.error}`
    : `compute-optimal run: N_opt ${num(optimal.params)} ${iv(optimal.intervals.params)}, D_opt ${num(optimal.tokens)} patches ${iv(optimal.intervals.tokens)}, ` +
      `val mse ${num(optimal.loss)} ${pct}% ${iv(optimal.intervals.loss)}`);
}

export function compareCommand(): Command {
  return bootstrapOptions(new Command('compare')
    .description('the compute-equivalent gain of a variant sweep over a baseline sweep, with a bootstrap interval')
    .requiredOption('--baseline <sweep>', 'the baseline sweep')
    .requiredOption('--variant <sweep>', 'the variant sweep')
    .option('--name <text>', 'what to call the variant in the verdict (default: the sweep name)'))
    .action(async (o) => {
      const baseline = await loadPoints({ sweep: o.baseline, home: o.home });
      const variant = await loadPoints({ sweep: o.variant, home: o.home });
      const r = compareToBaseline(baseline, variant, { resamples: o.resamples, seed: o.seed, level: o.level });
      const text = verdict(o.name ?? o.variant, r);
      if (o.json) return console.log(JSON.stringify({ ...r, verdict: text }));
      for (const b of r.budgets) {
        console.log(`  C ${b.flops.toExponential(2)}: best loss ${num(b.loss)} → ${num(b.multiplier)}x ${iv(b.interval)}`);
      }
      console.log(text);
    });
}
