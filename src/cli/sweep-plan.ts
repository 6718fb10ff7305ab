// `scalelab sweep plan`: plan a sweep, price it on this machine, store it under a name.
import { Command } from 'commander';
import { resolveHome } from '../runs/index.js';
import { planSweep, parseShape, MAX_FRESH_EPOCHS, LR_SCALINGS, PlanRefused, type Candidate, type PlannedRun } from '../sweep/plan.js';
import { estimateRun, type RunEstimate } from '../sweep/estimate.js';
import { measureCosts, timedSplit } from '../sweep/measure.js';
import { calibrate, ESTIMATE_MODEL, type Calibration } from '../sweep/calibration.js';
import { TRAIN_OPTIONS as T } from '../train/options.js';
import { choice } from '../option.js';
import { positiveInt, numberOption } from '../errors.js';
import { fmtSeconds, list, plural, withQueue } from './sweep-format.js';
import { addFlags, flag, flagValues } from './flags.js';
import { HOME } from './shared-options.js';
import { PLAN_DIT_OPTIONS, planDit, planIsDit } from './sweep-plan-dit.js';

/** The training options every run of the plan shares (ctx, batch and the lr rule shape the plan itself). */
const PLAN_OPTIONS = {
  corpus: T.corpus,
  mix: T.mix,
  ctx: T.ctx,
  batch: T.batch,
  lr: { ...T.lr, help: 'peak learning rate (at d_model 128 with --lr-scaling width)' },
  lrScaling: choice(LR_SCALINGS, { help: 'constant: --lr for every size; width: --lr · 128 / d_model (μP)', arg: '<rule>', default: 'constant' }),
  seed: T.seed,
  evalEvery: { ...T.evalEvery, help: 'validate every this many steps (and after the last)' },
  evalTokens: T.evalTokens,
  checkpointEvery: T.checkpointEvery,
  norm: T.norm,
  mlp: T.mlp,
  pos: T.pos,
};

/** The shapes a refused budget was offered, and what became of each. */
export function candidateTable(budgets: { budget: number; candidates: Candidate[] }[], tokens = 'tokens'): string {
  const lines: string[] = [];
  for (const { budget, candidates } of budgets) {
    lines.push(`budget ${budget.toExponential(1)}: candidate sizes`);
    lines.push(`  shape         non-emb ${tokens.padStart(12)}   steps  epochs  verdict`);
    for (const c of candidates) {
      lines.push(`  ${`${c.shape.layers}x${c.shape.dModel}h${c.shape.heads}`.padEnd(10)} ${c.nonEmbeddingParams.toLocaleString('en-US').padStart(10)} ` +
        `${c.tokens.toLocaleString('en-US').padStart(12)} ${String(c.steps).padStart(7)} ${c.epochs === null ? '      -' : c.epochs.toFixed(1).padStart(7)}  ${c.verdict}`);
    }
  }
  return lines.join('\n');
}

function printPlan(name: string, o: Record<string, any>, runs: PlannedRun[], trainTokens: number, est: (RunEstimate | null)[], cal: Calibration | null): void {
  const epochs = (r: PlannedRun) => r.tokens / trainTokens;
  console.log(`sweep ${name}: ${plural(runs.length, 'run')} on ${o.corpus}${o.mix ? ` mixed with ${o.mix}` : ''} (${trainTokens.toLocaleString('en-US')} training tokens), ctx ${o.ctx}, batch ${o.batch}`);
  console.log('  #  shape       params  non-emb      tokens  epochs   FLOPs(6ND)   budget       lr   est. time');
  runs.forEach((r, i) => {
    const e = est[i];
    console.log(`${String(i).padStart(3)}  ${`${r.shape.layers}x${r.shape.dModel}h${r.shape.heads}`.padEnd(10)} ${r.params.toLocaleString('en-US').padStart(8)} ` +
      `${r.nonEmbeddingParams.toLocaleString('en-US').padStart(8)} ${r.tokens.toLocaleString('en-US').padStart(11)} ${epochs(r).toFixed(1).padStart(7)}  ${r.flops.toExponential(2).padStart(10)}  ` +
      `${r.budget ? r.budget.toExponential(1) : '-'.padStart(7)}  ${r.options.lr!.toExponential(1).padStart(7)}   ${e === null ? '-' : fmtSeconds(e.seconds)}`);
  });
  const repeated = runs.filter((r) => epochs(r) > MAX_FRESH_EPOCHS).length;
  if (repeated) {
    console.log(`warning: ${plural(repeated, 'run')} ${repeated === 1 ? 'passes' : 'pass'} over the training data more than ${MAX_FRESH_EPOCHS} times; repeated tokens are worth less than fresh ones, ` +
      'so a law fitted here will not transfer to runs with more unique data (lower the budgets or use a bigger corpus)');
  }
  if (cal) {
    const sum = (k: keyof RunEstimate['parts']) => est.reduce((a, e) => a + (e ? e.parts[k] : 0), 0) * cal.factor;
    const total = est.reduce((a, e) => a + (e?.seconds ?? 0), 0);
    console.log(`estimated total ${fmtSeconds(total)} on one worker: training steps ${fmtSeconds(sum('train'))}, validation ${fmtSeconds(sum('eval'))}, ` +
      `checkpoints ${fmtSeconds(sum('checkpoint'))}, run start-up ${fmtSeconds(sum('startup'))}` +
      (cal.jobs ? ` (scaled by ${cal.factor.toFixed(2)}, how ${plural(cal.jobs, 'finished job')} of earlier sweeps here compared with ${cal.jobs === 1 ? 'its estimate' : 'their estimates'})` : ''));
  }
  console.log(`run it with: scalelab sweep run ${name}`);
}

export function planCommand(): Command {
  return addFlags(addFlags(new Command('plan')
    .description('plan an isoFLOP sweep (--flops) or an N×D grid (--models, --tokens; a video model\'s --clips) and store it under a name')
    .argument('<name>', 'a name for the sweep')
    .option('--flops <list>', 'compute budgets in FLOPs, e.g. 1e12,3e12,1e13', list('--flops', numberOption('--flops')))
    .option('--sizes <n>', 'model sizes per budget', positiveInt('--sizes'), 4)
    .option('--tokens-per-param <r>', 'centre each budget\'s sizes where D = r·N (Chinchilla: 20; byte-level Brown fits put it in the hundreds; a DiT\'s D counts patches)', numberOption('--tokens-per-param'), 20)
    .option('--models <list>', 'grid: model shapes LAYERSxD_MODEL, e.g. 2x64,4x128', list('--models', parseShape))
    .option('--tokens <list>', 'grid: token counts, e.g. 1e6,4e6', list('--tokens', numberOption('--tokens'))), PLAN_OPTIONS)
    .option('--model <family>', 'gpt (byte-level language models) or dit (video diffusion transformers on procedural clips; D counts patches)', 'gpt')
    .option('--clips <list>', 'with --model dit, grid: training clips, e.g. 4000,16000', list('--clips', positiveInt('--clips'))), PLAN_DIT_OPTIONS)
    .option('--replace', 'replace the plan of this name, if none of its jobs has started')
    .option('--no-estimate', 'skip measuring this machine for the wall-time estimates')
    .addOption(flag('home', HOME))
    .option('--json', 'print the plan as JSON')
    .action(async (name, o, command: Command) => {
      const dit = planIsDit(o, command);
      const home = resolveHome(o.home);
      // Refuse a taken name before the measurements, which take a while.
      await withQueue(home, (q) => q.checkPlannable(name, Boolean(o.replace)));
      if (dit) return planDit(name, home, o, command, candidateTable);
      const split = timedSplit(o.corpus);
      const { ctx, batch, lrScaling, ...base } = flagValues(PLAN_OPTIONS, o);
      const options = {
        flops: o.flops, sizes: o.sizes, tokensPerParam: o.tokensPerParam, models: o.models, tokens: o.tokens, ctx, batch, lrScaling,
        trainTokens: split.trainTokens,
        base: { ...base, sweep: name },
      };
      let runs: PlannedRun[];
      try {
        runs = planSweep(options);
      } catch (err) {
        if (err instanceof PlanRefused) console.log(candidateTable(err.budgets));
        throw err;
      }
      let est: (RunEstimate | null)[] = runs.map(() => null), cal: Calibration | null = null;
      if (o.estimate) {
        const costs = await measureCosts(runs, { ctx: o.ctx, batch: o.batch, corpus: o.corpus, corpusSeconds: split.seconds, valTokens: split.valTokens });
        cal = await withQueue(home, (_q, store) => calibrate(store));
        est = runs.map((r) => estimateRun(r, costs, cal!.factor));
      }
      await withQueue(home, (q) => q.createSweep(name, {
        flops: o.flops ?? null, sizes: o.sizes, models: o.models ?? null, tokens: o.tokens ?? null,
        ctx: o.ctx, batch: o.batch, corpus: o.corpus, ...(o.mix ? { mix: o.mix } : {}), lr: o.lr, lrScaling: o.lrScaling, tokensPerParam: o.tokensPerParam, seed: o.seed, norm: o.norm, mlp: o.mlp, pos: o.pos,
        evalEvery: o.evalEvery, evalTokens: o.evalTokens, checkpointEvery: o.checkpointEvery,
        estimate: cal ? { model: ESTIMATE_MODEL, calibration: cal.factor, calibrationJobs: cal.jobs } : null,
      }, runs.map((r, i) => ({ options: r.options, runName: `${name}-${String(i).padStart(3, '0')}`, estimatedSeconds: est[i]?.seconds ?? null })),
      { replace: Boolean(o.replace) }));
      if (o.json) {
        return console.log(JSON.stringify({ sweep: name, train_tokens: split.trainTokens, runs: runs.map((r, i) => ({ idx: i, ...r.shape, params: r.params,
          non_embedding_params: r.nonEmbeddingParams, tokens: r.tokens, epochs: r.tokens / split.trainTokens, lr: r.options.lr, flops: r.flops, budget: r.budget,
          estimated_seconds: est[i]?.seconds ?? null, estimated_parts: est[i] ? scaled(est[i]!.parts, cal!.factor) : null })),
        calibration: cal }));
      }
      printPlan(name, o, runs, split.trainTokens, est, cal);
    });
}

const scaled = (parts: RunEstimate['parts'], f: number) => Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v * f]));
