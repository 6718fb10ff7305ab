// `scalelab fit`, `scalelab predict` and `scalelab compare`: scaling laws from a sweep's runs or
// from any CSV of params,tokens,loss.
import { Command } from 'commander';
import { openStore, existingHome } from '../runs/index.js';
import { sweepPoints } from '../sweep/points.js';
import { readPointsCsv, parseExclude, type ExcludeRule, type ScalingPoint } from '../laws/index.js';
import { fitLaw, predictWithInterval, type LawReport } from '../laws/report.js';
import { compareToBaseline, verdict } from '../laws/compare.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';
import { trainingCompute } from '../common/compute.js';

export async function loadPoints(o: { sweep?: string; points?: string; home?: string }): Promise<ScalingPoint[]> {
  if (o.sweep && o.points) throw new UsageError('give either --sweep or --points, not both');
  if (o.points) return readPointsCsv(o.points);
  if (!o.sweep) throw new UsageError('give the runs to fit: --sweep NAME or --points FILE (a CSV with params,tokens,loss)');
  const store = openStore(existingHome(o.home), { reading: true });
  try {
    return (await sweepPoints(store, o.sweep)).map((p) => ({ params: p.params, tokens: p.tokens, loss: p.loss }));
  } finally {
    await store.close();
  }
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
    .option('--sweep <name>', 'fit the finished runs of this sweep (loss = final validation bits per byte)')
    .option('--points <file>', 'fit a CSV with columns params,tokens,loss')
    .option('--exclude <rule>', "drop points before fitting (repeatable): rows:3,7 | 'loss>3.5' | top-loss:5",
      (v: string, prev: ExcludeRule[] | undefined) => [...(prev ?? []), parseExclude(v)]));
}

function printReport(r: LawReport): void {
  const pct = Math.round(r.level * 100);
  console.log(`L(N, D) = E + A/N^α + B/D^β fitted to ${r.points} runs (sum of Huber losses on log L, δ = 1e-3; ${r.resamples} bootstrap resamples)`);
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
    console.log(`  C ${o.flops.toExponential(2)}: N ${num(o.params)} ${iv(o.intervals.params)}, D ${num(o.tokens)} ${iv(o.intervals.tokens)}, loss ${num(o.loss)} ${iv(o.intervals.loss)}`);
  }
  if ('error' in r.isoflop) {
    console.log(`approach 2 (isoFLOP parabolas): ${r.isoflop.error}`);
  } else {
    const a = r.isoflop;
    console.log(`approach 2 (isoFLOP parabolas): N_opt ∝ C^${a.nOpt.exponent.toFixed(3)}, D_opt ∝ C^${a.dOpt.exponent.toFixed(3)}`);
    for (const b of a.budgets) {
      const runs = `${b.runs} run${b.runs === 1 ? '' : 's'}, ${b.sizes} size${b.sizes === 1 ? '' : 's'}${b.spread > 0 ? `, spread ${(b.spread * 100).toFixed(1)}%` : ''}`;
      console.log(`  C ${b.flops.toExponential(2)} (${runs}): ${b.accepted ? `N_opt ${num(b.nOpt!)}, loss ${num(b.lossOpt!)}` : `refused: ${b.reason}`}`);
    }
    for (const w of a.warnings) console.log(`warning: ${w}`);
  }
}

export function fitCommand(): Command {
  return common(new Command('fit').description('fit the Chinchilla scaling law L(N, D) with bootstrap intervals (and isoFLOP parabolas)'))
    .option('--flops <list>', 'budgets for the compute-optimal allocation, e.g. 1e13,1e14', (v: string) => v.split(',').map(numberOption('--flops')))
    .action(async (o) => {
      const { report } = fitLaw(await loadPoints(o), { resamples: o.resamples, seed: o.seed, level: o.level, flops: o.flops, exclude: o.exclude });
      if (o.json) return console.log(JSON.stringify(report));
      printReport(report);
    });
}

export function predictCommand(): Command {
  return common(new Command('predict').description('predict the loss of --params N --tokens D, or the compute-optimal run for --flops C'))
    .option('--params <n>', 'non-embedding parameters N', numberOption('--params'))
    .option('--tokens <n>', 'training tokens D', numberOption('--tokens'))
    .option('--flops <c>', 'a compute budget C in FLOPs', numberOption('--flops'))
    .action(async (o) => {
      const byRun = o.params !== undefined || o.tokens !== undefined;
      if (byRun === (o.flops !== undefined) || (byRun && (o.params === undefined || o.tokens === undefined))) {
        throw new UsageError('give either --params N --tokens D, or --flops C');
      }
      const { report, boot } = fitLaw(await loadPoints(o), { resamples: o.resamples, seed: o.seed, level: o.level, flops: o.flops ? [o.flops] : [], exclude: o.exclude });
      const pct = Math.round(report.level * 100);
      const dropped = report.excluded.length ? { excluded: report.excluded } : {};
      if (!o.json && report.excluded.length) console.log(`excluded ${report.excluded.length} point(s): rows ${report.excluded.map((e) => e.row).join(', ')}`);
      if (byRun) {
        const p = predictWithInterval(boot, o.params, o.tokens);
        if (o.json) return console.log(JSON.stringify({ params: o.params, tokens: o.tokens, flops: trainingCompute(o.params, o.tokens), loss: p.loss, interval: p.interval, level: report.level, ...dropped }));
        return console.log(`N ${num(o.params)}, D ${num(o.tokens)} (C ${trainingCompute(o.params, o.tokens).toExponential(2)}): loss ${num(p.loss)}, ${pct}% ${iv(p.interval)}`);
      }
      const opt = report.optimal[0];
      if (o.json) return console.log(JSON.stringify({ ...opt, level: report.level, ...dropped }));
      console.log(`C ${o.flops.toExponential(2)}: N_opt ${num(opt.params)} ${iv(opt.intervals.params)}, D_opt ${num(opt.tokens)} ${iv(opt.intervals.tokens)}, loss ${num(opt.loss)} ${pct}% ${iv(opt.intervals.loss)}`);
    });
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
