// What a training run is asked for, declared once: each option's type, check, default, flag and
// help. `TrainOptions`, `TRAIN_DEFAULTS` and the check `train` makes follow from the table, and
// the commands that start training (train, sweep plan, bench) build their flags from it.
import { validateConfig, NORMS, MLPS, POSITIONS, type GPTConfig } from '../models/gpt.js';
import { VOCAB } from '../data/index.js';
import { MIX_FORMAT, formatMix, readMix } from '../data/mixture.js';
import { TEXT_TASK_NAMES } from '../data/tasks-text.js';
import { UsageError } from '../errors.js';
import { z } from 'zod';
import { choice, defaultsOf, nonNegativeNumber, pick, positiveInteger, positiveNumber, problemWith, schemaOf, text, toggle, type Option, type OptionValues } from '../option.js';
import { SCHEDULES } from './schedule.js';

/** The model's shape and variants: what `train`, `sweep plan` and `bench` build a GPT from. */
export const MODEL_OPTIONS = {
  layers: positiveInteger({ help: 'transformer blocks', default: 4 }),
  dModel: positiveInteger({ help: 'model width', default: 256 }),
  heads: positiveInteger({ help: 'attention heads', default: 4 }),
  ctx: positiveInteger({ help: 'context length in bytes', default: 256 }),
  // GPT-2's layernorm, gelu and learned positions by default (src/models/gpt.ts).
  norm: choice(NORMS, { help: 'normalisation: layernorm or rmsnorm (gain only)', default: 'layernorm' }),
  mlp: choice(MLPS, { help: 'MLP: gelu (4x wide) or swiglu (8/3x wide, three matrices)', default: 'gelu' }),
  pos: choice(POSITIONS, { help: 'positions: learned embedding or rope (rotary, in attention)', default: 'learned' }),
};

const VARIANTS = pick(MODEL_OPTIONS, ['norm', 'mlp', 'pos']);

// In this order the options are stored with every run (and listed by `scalelab show`).
export const TRAIN_OPTIONS = {
  corpus: text({ help: "'brown' or a UTF-8 text file or folder", arg: '<spec>', default: 'brown' }),
  /** Leave out files of a corpus folder that are not UTF-8 text (listed in the 'split' event). */
  skipNonText: toggle({ help: 'leave out files of a --corpus folder that are not UTF-8 text (and say which)' }),
  /** Synthetic task text mixed into the training bytes (src/data/mixture.ts); validation stays pure corpus. */
  mix: mixture(),
  ...pick(MODEL_OPTIONS, ['layers', 'dModel', 'heads', 'ctx']),
  batch: positiveInteger({ help: 'sequences per step', default: 16 }),
  ...VARIANTS,
  /** Training budget in tokens; the run takes ceil(tokens / (batch·ctx)) steps. */
  tokens: positiveNumber({ help: 'training budget in tokens (bytes), e.g. 2e6', arg: '<n>', default: 2e6 }),
  lr: positiveNumber({ help: 'peak learning rate', default: 2e-3 }),
  /** The schedule ends at lr·minLrRatio. */
  minLrRatio: nonNegativeNumber({ help: 'final learning rate as a fraction of the peak', default: 0.1 }),
  schedule: choice(SCHEDULES, { help: 'learning-rate schedule', default: 'cosine' }),
  warmupSteps: nonNegativeNumber({ help: 'linear warm-up steps', flag: 'warmup', arg: '<steps>', default: 50 }),
  cooldown: nonNegativeNumber({ help: 'wsd: fraction of steps in the final cooldown', default: 0.2 }),
  weightDecay: nonNegativeNumber({ help: 'AdamW weight decay', default: 0.1 }),
  clip: nonNegativeNumber({ help: 'clip the global gradient norm (0: off)', default: 1.0 }),
  /** Validate every this many steps (and at the end), on up to evalTokens held-out tokens. */
  evalEvery: positiveInteger({ help: 'validate every this many steps', arg: '<steps>', default: 250 }),
  evalTokens: positiveNumber({ help: 'held-out tokens per validation', arg: '<n>', default: 65536 }),
  checkpointEvery: positiveInteger({ help: 'checkpoint every this many steps', arg: '<steps>', default: 200 }),
  keepCheckpoints: positiveInteger({ help: 'checkpoints to keep', flag: 'keep', default: 3 }),
  /** A loss above spikeFactor × its running mean (or NaN/Inf) rolls back to the last checkpoint. */
  spikeFactor: positiveNumber({ help: 'roll back when the loss exceeds this multiple of its running mean', default: 2.5 }),
  seed: nonNegativeNumber({ help: 'random seed', arg: '<n>', default: 0 }),
  threads: positiveInteger({ help: 'kernel threads (default: all cores)' }),
  name: text({ help: 'a name for the run (default: generated)', arg: '<name>' }),
};

/** `--mix TASK:FRACTION,...`: checked by readMix, kept in its canonical spelling (sorted by task). */
function mixture(): Option<string, undefined> {
  return {
    ...text({ help: `mix generated task text into the training bytes, TASK:FRACTION,... (e.g. add3:0.05,copy:0.02; tasks: ${TEXT_TASK_NAMES.join(', ')})`, arg: '<spec>' }),
    schema: z.string().superRefine((spec, ctx) => {
      const r = readMix(spec);
      if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: `${MIX_FORMAT} (${r})` });
    }),
    parser: (flag: string) => (spec: string) => {
      const r = readMix(spec);
      if (typeof r === 'string') throw new UsageError(`${flag} ${MIX_FORMAT} (${r}), got '${spec}'`);
      return formatMix(r);
    },
  };
}

const TRAIN_SCHEMA = schemaOf(TRAIN_OPTIONS);

export type TrainOptions = OptionValues<typeof TRAIN_OPTIONS>;

export const TRAIN_DEFAULTS: TrainOptions = defaultsOf(TRAIN_OPTIONS);

/** A new run's options, checked as the CLI checks its flags, each problem one line (UsageError). */
export function checkOptions(o: TrainOptions): void {
  const problem = problemWith(TRAIN_SCHEMA, o);
  if (problem !== null) throw new UsageError(problem);
  try {
    modelConfig(o);
  } catch (err) {
    // What the options cannot say alone (heads dividing the width, rope's even head dimension)
    // the model's own check says; its message without the model's prefix.
    throw new UsageError((err as Error).message.replace(/^GPT config: /, ''));
  }
}

/** The variants that differ from the default: only those are written into a model's config. */
export function variantsOf(o: { norm: string; mlp: string; pos: string }): Pick<GPTConfig, 'norm' | 'mlp' | 'pos'> {
  return Object.fromEntries(Object.entries(VARIANTS).filter(([k, v]) => o[k as keyof typeof VARIANTS] !== v.default).map(([k]) => [k, o[k as keyof typeof VARIANTS]]));
}

export function modelConfig(o: TrainOptions): GPTConfig {
  // Variants are written only where they differ from the default, so a default model's config
  // (stored with the run and in every checkpoint) reads as it did before they existed.
  const cfg: GPTConfig = { layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, vocab: VOCAB, ...variantsOf(o) };
  validateConfig(cfg);
  return cfg;
}

/** What `train` takes: a new run's options, or `resume` (its stored options win; `restart` starts it over). */
export type TrainRequest = Partial<TrainOptions> & {
  resume?: string;
  /** With resume: start over from step 0 a run none of whose checkpoints verifies. */
  restart?: boolean;
};
