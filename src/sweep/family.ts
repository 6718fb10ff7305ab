// What a sweep plan needs to know about the family it trains (the byte-level GPT, the video DiT),
// kept behind one small interface so that the planner, the estimates and the worker are the same
// code for both: the ladder of shapes, the parameters of a shape, how many of the law's tokens
// (D of C = 6·N·D) one training sample holds, and the options of the job that trains a shape for
// so many steps. A GPT sample is a sequence of ctx bytes; a DiT sample is a clip, whose tokens are
// its spacetime patches, so a budget buys C / (6·N·patches per clip) clips.
import { countParams as countGptParams, flopsPerToken as gptFlopsPerToken } from '../models/gpt.js';
import { countParams as countDitParams, flopsPerPatch, tokensPerClip } from '../models/dit.js';
import { DIT_DEFAULTS, ditConfig, type DitOptions } from '../train/dit-train.js';
import type { TrainOptions } from '../train/train.js';
import { VOCAB } from '../data/index.js';
import type { GPTConfig } from '../models/gpt.js';

export interface Shape {
  layers: number;
  dModel: number;
  heads: number;
}

/** A GPT sweep run's train() options; `sweep` names the sweep in the run's stored config, so a run says where it belongs. */
export type RunOptions = Partial<TrainOptions> & { sweep?: string };

/** A DiT sweep run's trainDit() options; `model: 'dit'` is what tells the worker which trainer to start. */
export type DitRunOptions = Partial<DitOptions> & { model: 'dit'; sweep?: string };

/** What a job of either family trains. */
export type JobOptions = RunOptions | DitRunOptions;

export const isDitJob = (o: JobOptions): o is DitRunOptions => (o as { model?: string }).model === 'dit';

export type ModelFamily = 'gpt' | 'dit';

export interface SweepFamily {
  readonly model: ModelFamily;
  /** Candidate shapes, smallest first, each with more non-embedding parameters than the one before. */
  readonly ladder: readonly Shape[];
  /** Samples per optimiser step. */
  readonly batch: number;
  /** The law's tokens in one sample: a sequence's bytes, a clip's patches. */
  readonly tokensPerSample: number;
  /** What a sample and a token are called in messages. */
  readonly words: { sample: string; token: string };
  counts(shape: Shape): { total: number; nonEmbedding: number };
  /** Training FLOPs per token as counted by the model file (attention included): what a step costs. */
  flopsPerToken(shape: Shape): number;
  /** The options of the job that trains `shape` for `steps` steps at learning rate `lr` (undefined: the family's default). */
  jobOptions(shape: Shape, steps: number, lr: number | undefined): JobOptions;
  /** A shorter sample as a way out of a refused budget (the GPT's --ctx), or null. */
  shorterSample(budget: number, params: number, steps: number): string | null;
}

/**
 * GPT shapes from 3k to 85M non-embedding parameters, each about twice the one before; depth
 * grows with width. The one-layer shapes at the bottom are there because a byte-level corpus as
 * small as Brown is best spent on very small models: their compute-optimal token counts stay
 * within a few epochs of the data.
 */
export const LADDER: Shape[] = [
  { layers: 1, dModel: 16, heads: 1 },
  { layers: 1, dModel: 24, heads: 1 },
  { layers: 1, dModel: 32, heads: 1 },
  { layers: 2, dModel: 32, heads: 2 },
  { layers: 2, dModel: 48, heads: 2 },
  { layers: 2, dModel: 64, heads: 2 },
  { layers: 3, dModel: 96, heads: 3 },
  { layers: 4, dModel: 128, heads: 4 },
  { layers: 4, dModel: 192, heads: 4 },
  { layers: 4, dModel: 256, heads: 4 },
  { layers: 6, dModel: 384, heads: 6 },
  { layers: 8, dModel: 512, heads: 8 },
  { layers: 12, dModel: 768, heads: 12 },
];

/**
 * DiT shapes from 19k to 150M non-embedding parameters (at the default caption encoder), about
 * twice each time. Every width is even (the time embedding's sines and cosines) and heads of 16
 * to 64 values; a d_model narrower than a patch (96 values for 2×4×4 RGB tubes) squeezes the noise
 * through each token, which the run warns about, so the small end is for small clips or patches.
 */
export const DIT_LADDER: Shape[] = [
  { layers: 1, dModel: 16, heads: 1 },
  { layers: 1, dModel: 32, heads: 2 },
  { layers: 2, dModel: 32, heads: 2 },
  { layers: 2, dModel: 48, heads: 2 },
  { layers: 2, dModel: 64, heads: 2 },
  { layers: 3, dModel: 96, heads: 3 },
  { layers: 4, dModel: 128, heads: 4 },
  { layers: 4, dModel: 192, heads: 4 },
  { layers: 4, dModel: 256, heads: 4 },
  { layers: 6, dModel: 384, heads: 6 },
  { layers: 8, dModel: 512, heads: 8 },
  { layers: 12, dModel: 768, heads: 12 },
];

/** The model a GPT sweep run trains: a ladder shape at a context, with the sweep's variants. */
export function modelConfig(shape: Shape, ctx: number, base: Partial<TrainOptions> = {}): GPTConfig {
  return { ...shape, ctx, vocab: VOCAB, norm: base.norm, mlp: base.mlp, pos: base.pos };
}

/**
 * Warm-up steps of a sweep run: the first tenth of it. With a fixed 50-step warm-up, 2x48 on
 * Brown at 1,600 steps stalled near 3.5 bpb for its whole run in two of four seeds (3.55 and
 * 3.30 against 2.87 and 2.89); warming up over 150 steps gave 2.92 to 2.97 for three seeds.
 * A stalled run is an outlier the law cannot explain.
 */
export function sweepWarmup(steps: number): number {
  return Math.max(1, Math.round(steps / 10));
}

export function gptFamily(o: { ctx: number; batch: number; base: RunOptions }): SweepFamily {
  const perStep = o.batch * o.ctx;
  return {
    model: 'gpt', ladder: LADDER, batch: o.batch, tokensPerSample: o.ctx, words: { sample: 'sequence', token: 'tokens' },
    counts: (shape) => countGptParams(modelConfig(shape, o.ctx, o.base)),
    flopsPerToken: (shape) => gptFlopsPerToken(modelConfig(shape, o.ctx, o.base)),
    jobOptions: (shape, steps, lr) => ({
      warmupSteps: sweepWarmup(steps), ...o.base, ...shape, ctx: o.ctx, batch: o.batch, tokens: steps * perStep,
      ...(lr !== undefined ? { lr } : {}),
    }),
    shorterSample: (budget, params, steps) => {
      const ctx = Math.floor(budget / (6 * params * steps * o.batch));
      return ctx >= 8 ? `--ctx ${ctx}` : null;
    },
  };
}

/** The DiT a sweep run trains: a ladder shape on the sweep's clips (frames, size, patches, caption encoder). */
export function ditModelConfig(shape: Shape, base: Partial<DitOptions> = {}) {
  return ditConfig({ ...DIT_DEFAULTS, ...base, ...shape });
}

/** `base` holds the DiT's own options (clips, patches, caption encoder, seed ...); batch is the sweep's. */
export function ditFamily(o: { batch: number; base: Omit<DitRunOptions, 'model'> }): SweepFamily {
  const patches = tokensPerClip(ditModelConfig(DIT_LADDER[0], o.base));
  return {
    model: 'dit', ladder: DIT_LADDER, batch: o.batch, tokensPerSample: patches, words: { sample: 'clip', token: 'patches' },
    counts: (shape) => countDitParams(ditModelConfig(shape, o.base)),
    flopsPerToken: (shape) => flopsPerPatch(ditModelConfig(shape, o.base)),
    jobOptions: (shape, steps, lr) => ({
      model: 'dit', warmupSteps: sweepWarmup(steps), ...o.base, ...shape, batch: o.batch, clips: steps * o.batch,
      ...(lr !== undefined ? { lr } : {}),
    }),
    shorterSample: () => null,
  };
}

/** The family of a stored job's options, rebuilt from them (for the estimates and status of a planned job). */
export function familyOfJob(options: JobOptions): SweepFamily {
  if (isDitJob(options)) {
    const { model: _m, ...base } = options;
    return ditFamily({ batch: options.batch ?? DIT_DEFAULTS.batch, base });
  }
  return gptFamily({ ctx: options.ctx!, batch: options.batch!, base: options });
}
