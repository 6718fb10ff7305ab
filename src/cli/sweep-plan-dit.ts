// `scalelab sweep plan NAME --model dit`: a sweep of video DiTs (src/sweep/family.ts's DiT family)
// on procedural clips. The same designs as the GPT's plan: isoFLOP budgets, each bought as whole
// clips (D counts patches, C = 6·N·D), or a grid of shapes × clip counts. Which flags belong to
// which family is checked here, so a GPT flag given to a video plan, or a clip flag given to a
// GPT plan, is one line and exit 2 rather than a silently ignored setting.
import type { Command } from 'commander';
import { DIT_DEFAULTS, DIT_ONLY_OPTIONS, checkDitOptions } from '../train/dit-train.js';
import { patchValues, tokensPerClip } from '../models/dit.js';
import { pick } from '../option.js';
import { UsageError } from '../errors.js';
import { DIT_LADDER, ditModelConfig, type DitRunOptions, type Shape } from '../sweep/family.js';
import { planSweep, PlanRefused, type PlannedRun } from '../sweep/plan.js';
import { estimateRun, type RunEstimate } from '../sweep/estimate.js';
import { measureCosts } from '../sweep/measure.js';
import { calibrate, ESTIMATE_MODEL, type Calibration } from '../sweep/calibration.js';
import { fmtSeconds, plural, withQueue } from './sweep-format.js';
import { flag, flagValues } from './flags.js';

/** What only a video plan takes: the clips, the patches, the caption encoder and its validation (the training budget comes from the plan). */
export const PLAN_DIT_OPTIONS = pick(DIT_ONLY_OPTIONS, ['data', 'frames', 'size', 'patch', 'tpatch', 'textLayers', 'captionDrop', 'ema', 'timeShift', 'conditioning', 'evalClips']);

/** Plan flags that mean something to the GPT only (the grid's --tokens is the GPT's; a DiT grid takes --clips). */
export const GPT_ONLY_PLAN_FLAGS = ['corpus', 'mix', 'ctx', 'evalTokens', 'norm', 'mlp', 'pos', 'tokens'];

/** Plan flags both families take; a DiT plan takes the DiT's defaults for those not given. */
const SHARED = ['batch', 'lr', 'seed', 'evalEvery', 'checkpointEvery'] as const;

/** The option's flag as the user typed it ('--eval-tokens'), for messages. */
const flagName = (cmd: Command, attr: string) => cmd.options.find((f) => f.attributeName() === attr)?.long ?? `--${attr}`;

/**
 * Whether the plan is a DiT's (--model dit, or --data clips as `train` reads it), refusing flags of
 * the other family in one line.
 */
export function planIsDit(o: Record<string, unknown>, cmd: Command): boolean {
  const given = (attr: string) => cmd.getOptionValueSource(attr) === 'cli';
  if (o.model !== 'gpt' && o.model !== 'dit') throw new UsageError(`--model must be gpt or dit, got '${String(o.model)}'`);
  const ditAttrs = [...Object.entries(PLAN_DIT_OPTIONS).map(([k, opt]) => flag(k, opt).attributeName()), 'clips'];
  const dit = o.model === 'dit' || given(flag('data', PLAN_DIT_OPTIONS.data).attributeName());
  if (dit) {
    const gptOnly = GPT_ONLY_PLAN_FLAGS.find(given);
    if (gptOnly) throw new UsageError(`${flagName(cmd, gptOnly)} is an option of the GPT, not of --model dit${gptOnly === 'tokens' ? ' (a video grid takes --clips)' : ''}`);
  } else {
    const ditOnly = ditAttrs.find(given);
    if (ditOnly) throw new UsageError(`${flagName(cmd, ditOnly)} is an option of the video model; add --model dit`);
  }
  return dit;
}

/** The DiT options every run of the plan shares, checked as `train --model dit` checks them. */
function ditBase(name: string, o: Record<string, any>, cmd: Command): Omit<DitRunOptions, 'model'> {
  const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
  const base: Omit<DitRunOptions, 'model'> = { ...flagValues(PLAN_DIT_OPTIONS, o), sweep: name };
  for (const k of SHARED) base[k] = given(k) ? o[k] : DIT_DEFAULTS[k];
  // The clip, patch and caption settings are the same for every shape: the smallest one checks them.
  checkDitOptions({ ...DIT_DEFAULTS, ...base, ...DIT_LADDER[0] });
  return base;
}

function checkShape(shape: Shape, base: Omit<DitRunOptions, 'model'>): void {
  try {
    checkDitOptions({ ...DIT_DEFAULTS, ...base, ...shape });
  } catch (err) {
    throw new UsageError(`model shape ${shape.layers}x${shape.dModel}h${shape.heads} does not make a DiT: ${(err as Error).message}`);
  }
}

export async function planDit(name: string, home: string, o: Record<string, any>, cmd: Command,
  candidateTable: (budgets: PlanRefused['budgets'], tokens: string) => string): Promise<void> {
  const base = ditBase(name, o, cmd);
  const cfg = ditModelConfig(DIT_LADDER[0], base), patches = tokensPerClip(cfg);
  for (const s of o.models ?? []) checkShape(s, base);
  let runs: PlannedRun[];
  try {
    runs = planSweep({
      model: 'dit', flops: o.flops, sizes: o.sizes, tokensPerParam: o.tokensPerParam, models: o.models,
      tokens: o.clips?.map((c: number) => c * patches), batch: base.batch!, lrScaling: o.lrScaling, base,
    });
  } catch (err) {
    if (err instanceof PlanRefused) console.log(candidateTable(err.budgets, 'patches'));
    throw err;
  }
  let est: (RunEstimate | null)[] = runs.map(() => null), cal: Calibration | null = null;
  if (o.estimate) {
    const costs = await measureCosts(runs, { dit: true });
    cal = await withQueue(home, (_q, store) => calibrate(store));
    est = runs.map((r) => estimateRun(r, costs, cal!.factor));
  }
  const { sweep: _s, ...stored } = base;
  await withQueue(home, (q) => q.createSweep(name, {
    model: 'dit', flops: o.flops ?? null, sizes: o.sizes, models: o.models ?? null, clips: o.clips ?? null,
    ...stored, lrScaling: o.lrScaling, tokensPerParam: o.tokensPerParam,
    estimate: cal ? { model: ESTIMATE_MODEL, calibration: cal.factor, calibrationJobs: cal.jobs } : null,
  }, runs.map((r, i) => ({ options: r.options, runName: `${name}-${String(i).padStart(3, '0')}`, estimatedSeconds: est[i]?.seconds ?? null })),
  { replace: Boolean(o.replace) }));
  if (o.json) {
    return console.log(JSON.stringify({ sweep: name, model: 'dit', patches_per_clip: patches, runs: runs.map((r, i) => ({ idx: i, ...r.shape, params: r.params,
      non_embedding_params: r.nonEmbeddingParams, clips: r.samples, tokens: r.tokens, lr: r.options.lr, flops: r.flops, budget: r.budget,
      estimated_seconds: est[i]?.seconds ?? null, estimated_parts: est[i] ? scaled(est[i]!.parts, cal!.factor) : null })),
    calibration: cal }));
  }
  console.log(`sweep ${name}: ${plural(runs.length, 'run')} of the video model on ${cfg.frames}×${cfg.height}×${cfg.width} clips ` +
    `(${patches} patches of ${cfg.tpatch}×${cfg.patch}×${cfg.patch}), batch ${base.batch}; validation: velocity MSE of ${base.evalClips} fixed clips`);
  console.log('  #  shape        params   non-emb      clips      patches   FLOPs(6ND)   budget       lr   est. time');
  runs.forEach((r, i) => {
    const e = est[i];
    console.log(`${String(i).padStart(3)}  ${`${r.shape.layers}x${r.shape.dModel}h${r.shape.heads}`.padEnd(10)} ${r.params.toLocaleString('en-US').padStart(9)} ` +
      `${r.nonEmbeddingParams.toLocaleString('en-US').padStart(9)} ${r.samples.toLocaleString('en-US').padStart(10)} ${r.tokens.toLocaleString('en-US').padStart(12)}  ` +
      `${r.flops.toExponential(2).padStart(10)}  ${r.budget ? r.budget.toExponential(1) : '-'.padStart(7)}  ${r.options.lr!.toExponential(1).padStart(7)}   ${e === null ? '-' : fmtSeconds(e.seconds)}`);
  });
  const narrow = runs.filter((r) => r.shape.dModel < patchValues(cfg)).length;
  if (narrow) {
    console.log(`note: ${plural(narrow, 'run')} ${narrow === 1 ? 'has' : 'have'} a d_model under a patch's ${patchValues(cfg)} values; ` +
      'the noise has to squeeze through each token, so those runs sit above the law of wider ones (smaller --patch/--tpatch avoid it)');
  }
  if (cal) {
    const total = est.reduce((a, e) => a + (e?.seconds ?? 0), 0);
    console.log(`estimated total ${fmtSeconds(total)} on one worker` +
      (cal.jobs ? ` (scaled by ${cal.factor.toFixed(2)}, how ${plural(cal.jobs, 'finished job')} of earlier sweeps here compared with ${cal.jobs === 1 ? 'its estimate' : 'their estimates'})` : ''));
  }
  console.log(`run it with: scalelab sweep run ${name}`);
}

const scaled = (parts: RunEstimate['parts'], f: number) => Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v * f]));
