// `train`: a byte-level GPT on a corpus, recorded in the run store, checkpointed, resumable to the
// bit, guarded against loss spikes. The CLI's `scalelab train` is a thin wrapper over this.
// session.ts sets a run up (create or resume, restore); loop.ts trains it.
import { validateConfig, NORMS, MLPS, POSITIONS, type GPTConfig, type NormKind, type MlpKind, type PosKind } from '../models/gpt.js';
import { VOCAB } from '../data/index.js';
import { RunClaim, RunStore, existingHome, resolveHome, type RunRecord } from '../runs/index.js';
import { UsageError } from '../errors.js';
import type { ScheduleKind } from './schedule.js';
import type { Reporter } from './progress.js';
import { trainLoop } from './loop.js';
import { openSession, type RunPlan } from './session.js';

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

export interface TrainHooks {
  home?: string;
  reporter?: Reporter;
  /** Stop cleanly (checkpoint, status 'stopped') once this returns true; checked every step. */
  shouldStop?: () => boolean;
  /**
   * The token this trainer claims its run under (default: a fresh one). A sweep worker picks it,
   * so that it can let the run go itself if it has to end the trainer abruptly.
   */
  claimToken?: string;
  /** Tests only: pretend the loss at these steps was NaN, once each. */
  injectNanAtSteps?: number[];
}

export interface TrainResult {
  run: RunRecord;
  /** The run's folder: checkpoints/ and model.safetensors. */
  dir: string;
  status: 'done' | 'stopped';
  steps: number;
  finalTrainLoss: number;
  finalValBpb: number | null;
  weightsSha256: string | null;
  /** Seconds spent in training steps and in the rest (data, evaluation, checkpoints, store). */
  seconds: { train: number; data: number; eval: number; checkpoint: number; total: number };
}

function checkOptions(o: TrainOptions): void {
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

function modelConfig(o: TrainOptions): GPTConfig {
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

/**
 * Start a new run, or continue one with `resume`. A run has one trainer at a time: resuming a
 * run whose trainer still runs is refused (RunBusyError); one whose trainer died is taken over.
 */
export async function train(options: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
  if (options.restart && !options.resume) throw new UsageError('--restart starts an existing run over; give the run with --resume RUN');
  // A run to resume lives in an existing home; only a new run may create one.
  const home = options.resume ? existingHome(hooks.home) : resolveHome(hooks.home);
  const store = RunStore.open(home);
  const claim = new RunClaim(store, hooks.claimToken);
  try {
    const t0 = performance.now();
    const session = openSession(store, home, planRun(store, options, claim), hooks, claim, t0);
    return await trainLoop(session);
  } finally {
    claim.release();
    store.close();
  }
}

/** What a request trains: a resumed run (claimed now) with its stored options, or a new run's checked options. */
function planRun(store: RunStore, options: TrainRequest, claim: RunClaim): RunPlan {
  if (options.resume) {
    const run = store.getRun(options.resume);
    if (run.status === 'done') throw new UsageError(`run '${run.name}' is already done; start a new run instead`);
    claim.take(run);
    const o = { ...TRAIN_DEFAULTS, ...(run.config as { train: TrainOptions }).train };
    if (options.threads !== undefined) o.threads = options.threads;
    return { o, cfg: modelConfig(o), resumed: run, restart: Boolean(options.restart) };
  }
  const { resume: _ignored, restart: _no, ...rest } = options;
  const o = { ...TRAIN_DEFAULTS, ...rest };
  checkOptions(o);
  return { o, cfg: modelConfig(o), resumed: null, restart: false };
}
