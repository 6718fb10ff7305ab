// What a training run is asked for: its options, their defaults and their checks. `train` and the
// commands that start training (train, sweep plan, bench) read them from here.
import { validateConfig, NORMS, MLPS, POSITIONS, type GPTConfig, type NormKind, type MlpKind, type PosKind } from '../models/gpt.js';
import { VOCAB } from '../data/index.js';
import { UsageError } from '../errors.js';
import type { ScheduleKind } from './schedule.js';

export interface TrainOptions {
  corpus: string;
  /** Leave out files of a corpus folder that are not UTF-8 text (listed in the 'split' event). */
  skipNonText?: boolean;
  layers: number;
  dModel: number;
  heads: number;
  ctx: number;
  /** Architecture variants (src/models/gpt.ts); GPT-2's layernorm, gelu and learned by default. */
  norm: NormKind;
  mlp: MlpKind;
  pos: PosKind;
  batch: number;
  /** Training budget in tokens; the run takes ceil(tokens / (batch·ctx)) steps. */
  tokens: number;
  lr: number;
  /** The schedule ends at lr·minLrRatio. */
  minLrRatio: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** wsd: fraction of steps in the final cooldown. */
  cooldown: number;
  weightDecay: number;
  clip: number;
  /** Validate every this many steps (and at the end), on up to evalTokens held-out tokens. */
  evalEvery: number;
  evalTokens: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  /** A loss above spikeFactor × its running mean (or NaN/Inf) rolls back to the last checkpoint. */
  spikeFactor: number;
  seed: number;
  threads?: number;
  name?: string;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  corpus: 'brown',
  layers: 4, dModel: 256, heads: 4, ctx: 256, batch: 16,
  norm: 'layernorm', mlp: 'gelu', pos: 'learned',
  tokens: 2e6,
  lr: 2e-3, minLrRatio: 0.1, schedule: 'cosine', warmupSteps: 50, cooldown: 0.2,
  weightDecay: 0.1, clip: 1.0,
  evalEvery: 250, evalTokens: 65536,
  checkpointEvery: 200, keepCheckpoints: 3,
  spikeFactor: 2.5,
  seed: 0,
};

export function checkOptions(o: TrainOptions): void {
  const posInt = ['layers', 'dModel', 'heads', 'ctx', 'batch', 'evalEvery', 'checkpointEvery', 'keepCheckpoints'] as const;
  for (const k of posInt) if (!Number.isInteger(o[k]) || o[k] < 1) throw new UsageError(`${k} must be a positive integer, got ${o[k]}`);
  for (const k of ['tokens', 'lr', 'evalTokens', 'spikeFactor'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] > 0)) throw new UsageError(`${k} must be a positive number, got ${o[k]}`);
  }
  for (const k of ['minLrRatio', 'weightDecay', 'clip', 'warmupSteps', 'cooldown', 'seed'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new UsageError(`${k} must be a non-negative number, got ${o[k]}`);
  }
  if (o.schedule !== 'cosine' && o.schedule !== 'wsd') throw new UsageError(`schedule must be cosine or wsd, got ${o.schedule}`);
  if (o.dModel % o.heads !== 0) throw new UsageError(`heads (${o.heads}) must divide d_model (${o.dModel})`);
  const variants = [['norm', NORMS], ['mlp', MLPS], ['pos', POSITIONS]] as const;
  for (const [k, allowed] of variants) {
    if (!(allowed as readonly string[]).includes(o[k])) throw new UsageError(`${k} must be one of ${allowed.join(', ')}, got ${o[k]}`);
  }
  if (o.pos === 'rope' && (o.dModel / o.heads) % 2 !== 0) {
    throw new UsageError(`rope needs an even head dimension, got d_model / heads = ${o.dModel / o.heads}`);
  }
}

export function modelConfig(o: TrainOptions): GPTConfig {
  const cfg: GPTConfig = { layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, vocab: VOCAB };
  // Variants are written only where they differ from the default, so a default model's config
  // (stored with the run and in every checkpoint) reads as it did before they existed.
  if (o.norm !== 'layernorm') cfg.norm = o.norm;
  if (o.mlp !== 'gelu') cfg.mlp = o.mlp;
  if (o.pos !== 'learned') cfg.pos = o.pos;
  validateConfig(cfg);
  return cfg;
}

/** What `train` takes: a new run's options, or `resume` (its stored options win; `restart` starts it over). */
export type TrainRequest = Partial<TrainOptions> & {
  resume?: string;
  /** With resume: start over from step 0 a run none of whose checkpoints verifies. */
  restart?: boolean;
};
