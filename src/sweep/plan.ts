// Planning a sweep: which models to train on how much data. Two designs:
//  - isoFLOP (Chinchilla approach 2): for each compute budget C, several model sizes N around
//    the expected optimum, each trained on D = C / 6N tokens;
//  - an explicit N × D grid.
// Model sizes come from a fixed ladder of shapes, so every sweep on this machine shares them.
// What differs between the GPT and the video DiT (the ladder, the parameters of a shape, the
// tokens in one sample, the options of a job) comes from the plan's family (family.ts); a DiT's
// tokens are its clips' spacetime patches, so its budget buys whole clips.
import { loadCorpus, splitCorpus } from '../data/index.js';
import { UsageError } from '../errors.js';
import { tokensForCompute, trainingCompute } from '../common/compute.js';
import {
  LADDER, DIT_LADDER, gptFamily, ditFamily, familyOfJob, modelConfig, sweepWarmup, isDitJob,
  type Shape, type SweepFamily, type RunOptions, type DitRunOptions, type JobOptions, type ModelFamily,
} from './family.js';

export { LADDER, DIT_LADDER, modelConfig, sweepWarmup, gptFamily, ditFamily, familyOfJob, isDitJob };
export type { Shape, SweepFamily, RunOptions, DitRunOptions, JobOptions, ModelFamily };

export interface PlanOptions {
  /** isoFLOP budgets in FLOPs (C = 6·N·D). */
  flops?: number[];
  /** Model sizes per budget. */
  sizes?: number;
  /**
   * Where the sizes of a budget are centred: the N whose D = C / 6N is this many tokens per
   * parameter (Chinchilla's rule of thumb is 20; byte-level models want far more).
   */
  tokensPerParam?: number;
  /** Explicit grid: shapes (as "LxD", e.g. "4x128") × token counts (a DiT's: patches). */
  models?: Shape[];
  tokens?: number[];
  ctx: number;
  batch: number;
  /** Bytes in the corpus's training split: with it, sizes that would pass over the data more than MAX_FRESH_EPOCHS times are chosen last. */
  trainTokens?: number;
  /** Fixed training options for every run (corpus, lr, seed ...). */
  base: RunOptions;
  /** 'constant' (default): base.lr for every run; 'width': base.lr · 128 / d_model (see lrForWidth). */
  lrScaling?: LrScaling;
}

/** A plan of video DiT runs: the same designs, on clips; `base` holds the DiT's clip, patch and caption options. */
export interface DitPlanOptions extends Omit<PlanOptions, 'ctx' | 'base' | 'trainTokens'> {
  model: 'dit';
  base: Omit<DitRunOptions, 'model'>;
}

/** The family a plan trains: the GPT unless the options say dit. */
export function planFamily(o: PlanOptions | DitPlanOptions): SweepFamily {
  return 'model' in o && o.model === 'dit' ? ditFamily(o) : gptFamily(o as PlanOptions);
}

export type LrScaling = 'width' | 'constant';
export const LR_SCALINGS: LrScaling[] = ['width', 'constant'];

/** The width at which a sweep's --lr is the learning rate itself (the reference model's). */
export const LR_REFERENCE_WIDTH = 128;

/**
 * The peak learning rate of a model of width dModel. 'width' scales it as 1/width, anchored at
 * the reference width: Adam's best rate for hidden matrices falls that way (the μP rule, Yang et
 * al. 2022). It is not the default because at the bottom of the ladder the embeddings, whose best
 * rate does not fall with width, hold most of the weights: on Brown at 2M tokens the best of
 * 4e-3, 8e-3, 1.6e-2 and 3.2e-2 was 8e-3 for both 2x32 and 2x64.
 */
export function lrForWidth(lr: number, dModel: number, scaling: LrScaling = 'constant'): number {
  return scaling === 'constant' ? lr : (lr * LR_REFERENCE_WIDTH) / dModel;
}

export interface PlannedRun {
  shape: Shape;
  params: number;
  nonEmbeddingParams: number;
  /** D: tokens (a DiT's patches) trained on. */
  tokens: number;
  /** Training samples: sequences, or a DiT's clips. */
  samples: number;
  /** 6·N·D with N non-embedding. */
  flops: number;
  /** The budget this run belongs to (isoFLOP), or null in a grid. */
  budget: number | null;
  options: JobOptions;
}

export function parseShape(s: string): Shape {
  const m = /^(\d+)x(\d+)(?:h(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`bad model shape '${s}': write LAYERSxD_MODEL, e.g. 4x128 (optionally 4x128h4 for heads)`);
  const layers = Number(m[1]), dModel = Number(m[2]);
  // Default heads: 64 wide where the width allows, else 32 wide, else one head.
  const heads = m[3] ? Number(m[3]) : dModel % 64 === 0 ? dModel / 64 : dModel % 32 === 0 ? dModel / 32 : 1;
  if (layers < 1 || dModel < 1 || heads < 1 || dModel % heads !== 0) {
    throw new UsageError(`bad model shape '${s}': layers and d_model must be positive and heads must divide d_model`);
  }
  return { layers, dModel, heads };
}

function planned(shape: Shape, tokens: number, budget: number | null, o: PlanOptions | DitPlanOptions, f: SweepFamily): PlannedRun {
  const counts = f.counts(shape);
  const perStep = f.batch * f.tokensPerSample;
  const steps = Math.max(1, Math.round(tokens / perStep));
  const D = steps * perStep;
  const lr = o.base.lr !== undefined ? lrForWidth(o.base.lr, shape.dModel, o.lrScaling) : undefined;
  return {
    shape, params: counts.total, nonEmbeddingParams: counts.nonEmbedding, tokens: D, samples: steps * f.batch, flops: trainingCompute(counts.nonEmbedding, D), budget,
    options: f.jobOptions(shape, steps, lr),
  };
}

/** Fewest optimiser steps for a model size to be chosen for an isoFLOP budget. */
export const MIN_ISOFLOP_STEPS = 200;

/**
 * Passes over the data beyond which repeated tokens are worth clearly less than fresh ones
 * (Muennighoff et al. 2023: up to about 4 epochs cost little; returns fall off after). A law
 * fitted on runs under it does not describe runs far over it.
 */
export const MAX_FRESH_EPOCHS = 4;

/** One ladder shape considered for an isoFLOP budget, and what the planner made of it. */
export interface Candidate {
  shape: Shape;
  nonEmbeddingParams: number;
  tokens: number;
  steps: number;
  /** Passes over the training data, when the plan knows the corpus size. */
  epochs: number | null;
  /** 'chosen', or why not: too few steps, too many passes over the data, or farther from the centre than those chosen. */
  verdict: 'chosen' | 'too few steps' | 'too many epochs' | 'farther from centre';
}

/** A budget that leaves too few sizes: the refusal keeps the candidates it tried, so the CLI can show them. */
export class PlanRefused extends UsageError {
  constructor(message: string, readonly budgets: { budget: number; candidates: Candidate[] }[]) {
    super(message);
  }
}

/**
 * Every ladder shape at budget C, with the `sizes` chosen: those with at least MIN_ISOFLOP_STEPS
 * steps nearest (in log N) to the centre N = √(C / 6·ratio), preferring sizes that stay within
 * MAX_FRESH_EPOCHS of the data when the corpus size is known (a size past it is chosen only when
 * too few others are left, and the plan then warns).
 */
export function budgetCandidates(C: number, o: PlanOptions | DitPlanOptions, f: SweepFamily = planFamily(o)): Candidate[] {
  const k = o.sizes ?? 4, ratio = o.tokensPerParam ?? 20, perStep = f.batch * f.tokensPerSample;
  const trainTokens = 'trainTokens' in o ? o.trainTokens : undefined;
  const guess = Math.sqrt(C / (6 * ratio));
  const all: Candidate[] = f.ladder.map((shape) => {
    const N = f.counts(shape).nonEmbedding;
    const steps = Math.max(1, Math.round(tokensForCompute(C, N) / perStep));
    const epochs = trainTokens ? (steps * perStep) / trainTokens : null;
    return { shape, nonEmbeddingParams: N, tokens: steps * perStep, steps, epochs, verdict: tokensForCompute(C, N) >= MIN_ISOFLOP_STEPS * perStep ? 'chosen' : 'too few steps' };
  });
  const stale = (c: Candidate) => (c.epochs !== null && c.epochs > MAX_FRESH_EPOCHS ? 1 : 0);
  const ranked = all.filter((c) => c.verdict === 'chosen')
    .sort((a, b) => stale(a) - stale(b) || Math.abs(Math.log(a.nonEmbeddingParams / guess)) - Math.abs(Math.log(b.nonEmbeddingParams / guess)));
  for (const c of ranked.slice(k)) c.verdict = stale(c) ? 'too many epochs' : 'farther from centre';
  return all;
}

/** The runs of a sweep, in the order they will be queued: cheapest budget first, small models first within one. */
export function planSweep(o: PlanOptions | DitPlanOptions): PlannedRun[] {
  const f = planFamily(o);
  const dit = f.model === 'dit';
  const runs: PlannedRun[] = [];
  if (o.flops?.length) {
    const k = o.sizes ?? 4;
    if (!Number.isInteger(k) || k < 2) throw new UsageError(`--sizes must be an integer of at least 2, got ${k}`);
    if (k > f.ladder.length) throw new UsageError(`--sizes must be at most ${f.ladder.length} (the shapes of the ladder), got ${k}`);
    const ratio = o.tokensPerParam ?? 20;
    if (!(ratio > 0) || !Number.isFinite(ratio)) throw new UsageError(`--tokens-per-param must be a positive number, got ${ratio}`);
    const budgets = o.flops.map((budget) => ({ budget, candidates: budgetCandidates(budget, o, f) }));
    // A run of a few dozen steps is mostly warm-up and says little about N or D: such sizes are left out.
    const short = budgets.filter((b) => b.candidates.filter((c) => c.verdict !== 'too few steps').length < k);
    if (short.length) throw refusal(short, k, f);
    for (const { budget, candidates } of budgets) {
      for (const c of candidates) if (c.verdict === 'chosen') runs.push(planned(c.shape, tokensForCompute(budget, c.nonEmbeddingParams), budget, o, f));
    }
  } else if (o.models?.length && o.tokens?.length) {
    for (const shape of o.models) for (const D of o.tokens) runs.push(planned(shape, D, null, o, f));
  } else {
    throw new UsageError(dit ? 'give compute budgets (--flops 1e12,3e12) or a grid (--models 2x64,4x128 --clips 4000,16000)'
      : 'give compute budgets (--flops 1e12,3e12) or a grid (--models 2x64,4x128 --tokens 1e6,4e6)');
  }
  for (const r of runs) {
    if (r.tokens < 20 * f.batch * f.tokensPerSample) {
      throw new UsageError(dit
        ? `${r.shape.layers}x${r.shape.dModel} would train on only ${r.samples} clips (under 20 steps); raise the budget or use a smaller --batch`
        : `${r.shape.layers}x${r.shape.dModel} would train for only ${r.tokens} tokens (under 20 steps); raise the budget or use smaller --batch/--ctx`);
    }
  }
  return runs.sort((a, b) => (a.budget ?? a.flops) - (b.budget ?? b.flops) || a.nonEmbeddingParams - b.nonEmbeddingParams);
}

/**
 * Budgets with too few trainable sizes, refused with concrete ways out, each enough on its own:
 * the budget, batch or sample length (a GPT's context) at which the k-th smallest shape gets
 * MIN_ISOFLOP_STEPS steps, or as many sizes as the smallest budget allows.
 */
function refusal(short: { budget: number; candidates: Candidate[] }[], k: number, f: SweepFamily): PlanRefused {
  const smallest = short.reduce((a, b) => (b.budget < a.budget ? b : a));
  const ok = smallest.candidates.filter((c) => c.verdict !== 'too few steps').length;
  const kth = smallest.candidates[k - 1].nonEmbeddingParams; // the ladder grows, so the k-th shape bounds the budget
  const minBudget = trainingCompute(kth, MIN_ISOFLOP_STEPS * f.batch * f.tokensPerSample);
  const batch = Math.floor(smallest.budget / (6 * kth * MIN_ISOFLOP_STEPS * f.tokensPerSample));
  const shorter = f.shorterSample(smallest.budget, kth, MIN_ISOFLOP_STEPS);
  const unit = 10 ** (Math.floor(Math.log10(minBudget)) - 2); // three significant digits, rounded up so it is enough
  const ways = [`raise ${short.length > 1 ? 'every budget' : 'the budget'} to at least ${(Math.ceil(minBudget / unit) * unit).toExponential(2)}`];
  if (batch >= 1) ways.push(`--batch ${batch}`);
  if (shorter) ways.push(shorter);
  if (ok >= 2) ways.push(`--sizes ${ok}`);
  const which = short.map((b) => b.budget.toExponential(1)).join(', ');
  return new PlanRefused(`budget${short.length > 1 ? 's' : ''} ${which} leave${short.length > 1 ? '' : 's'} ${ok} model size(s) ` +
    `with at least ${MIN_ISOFLOP_STEPS} steps of the ${k} asked for (candidates above); ${ways.join(', or ')}`, short);
}

/** Bytes in the training split of a corpus: what a run's epochs are counted against (train() splits the same way). */
export function trainingTokens(corpus: string): number {
  return splitCorpus(loadCorpus(corpus), { seed: 0 }).train.length;
}

/** Estimated seconds for a run from a measured rate of training FLOPs per second on this machine. */
export function estimateSeconds(run: PlannedRun, ctx: number, flopsPerSecond: number): number {
  const f = isDitJob(run.options) ? familyOfJob(run.options) : gptFamily({ ctx, batch: 1, base: run.options });
  return (f.flopsPerToken(run.shape) * run.tokens) / flopsPerSecond;
}
