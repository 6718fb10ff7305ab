// `train --model dit --data clips`: the video diffusion transformer (src/models/dit.ts) on the
// procedural clips (src/data/clips.ts), through the same session and loop as the GPT: run store,
// checkpoints, bit-exact resume, spike rollback, live metrics. What differs is this family: the
// batches (clips, caption dropout, diffusion times and noise, all from the run's seed), the loss
// (rectified flow's velocity MSE) and the validation figure.
//
// Validation is the velocity MSE on fixed points of the flow: the first `evalClips` validation
// clips (the same for every run), each at t ∈ VAL_TIMES with noise from a fixed seed, captions
// kept. Every run sees the same (clip, t, ε) triples, so the figure compares across runs and
// sizes, as `fit` and `predict` need. It is stored in the run's val column (val_bpb, the GPT's
// name; a DiT run's config says family 'dit') and shown everywhere as "val mse".
import { Rng, streamSeed } from '../engine/random.js';
import type { Graph } from '../engine/graph.js';
import { DiT, clipValues, countParams, flopsPerPatch, flowBatch, logitNormal, patchValues, shiftTime, tokensPerClip, type DiTConfig, type FlowBatch } from '../models/dit.js';
import { ClipStream, stackClips, validationClips } from '../data/clips.js';
import { CAPTION_LENGTH, CAPTION_VOCAB } from '../data/clip-caption.js';
import { checkClipConfig, type ClipConfig } from '../data/clip-world.js';
import { RunClaim, openStore, existingHome, resolveHome, runFamily, type RunRecord } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { z } from 'zod';
import { choice, defaultsOf, nonNegativeNumber, positiveInteger, problemWith, schemaOf, withDefault, type OptionValues } from '../option.js';
import type { Family, Stream } from './family.js';
import { trainLoop } from './loop.js';
import { TRAIN_OPTIONS } from './options.js';
import { logEvent, openFamilySession, type FamilySetup } from './session.js';
import type { TrainHooks, TrainResult } from './train.js';

/** Diffusion times of the validation loss. */
export const VAL_TIMES = [0.1, 0.3, 0.5, 0.7, 0.9] as const;
/** Fixed forever: the validation noise, the same for every run. */
const VAL_NOISE_SEED = 0x5eed0f10;

const captionDrop = {
  ...nonNegativeNumber({ help: 'probability a training caption is replaced by the null caption (classifier-free guidance)', default: 0.1 }),
  schema: z.number({ error: 'must be a number in [0, 1]' }).min(0, { error: 'must be a number in [0, 1]' }).max(1, { error: 'must be a number in [0, 1]' }),
};

const ema = {
  ...nonNegativeNumber({ help: 'with --model dit: decay of the moving average of the weights that validation, the final weights and sampling use (0: the trained weights themselves)', arg: '<decay>', default: 0.999 }),
  schema: z.number({ error: 'must be a number in [0, 1)' }).min(0, { error: 'must be a number in [0, 1)' }).lt(1, { error: 'must be a number in [0, 1)' }),
};

/** What only the video model takes (flags of `train`, used with --model dit). */
export const DIT_ONLY_OPTIONS = {
  data: choice(['clips'] as const, { help: 'with --model dit: the training data (procedural captioned clips)', default: 'clips' }),
  frames: positiveInteger({ help: 'with --model dit: frames per clip', default: 16 }),
  size: positiveInteger({ help: 'with --model dit: frame height and width in pixels', default: 32 }),
  patch: positiveInteger({ help: 'with --model dit: spatial patch side p', default: 4 }),
  tpatch: positiveInteger({ help: 'with --model dit: temporal patch length (frames per tube)', default: 2 }),
  textLayers: nonNegativeNumber({ help: 'with --model dit: transformer blocks of the caption encoder', arg: '<n>', default: 1 }),
  conditioning: choice(['adaln', 'joint'] as const, { help: 'with --model dit: the caption through adaLN alone (its pooled vector), or also its tokens in every block\'s attention (joint)', default: 'adaln' }),
  attention: choice(['recompute', 'naive'] as const, { help: 'with --model dit: attention that recomputes its probabilities in backward (memory linear in the patches) or keeps them (naive, quadratic); the same function', default: 'recompute' }),
  captionDrop,
  ema,
  timeShift: {
    ...nonNegativeNumber({ help: 'with --model dit: shift the training times and the sampler\'s steps toward noise, t → s·t/(1 + (s−1)·t) (Esser et al. 2024); 1: none', arg: '<s>', default: 3 }),
    schema: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }),
  },
  clips: positiveInteger({ help: 'with --model dit: training budget in clips; the run takes ceil(clips / batch) steps', default: 20000 }),
  evalClips: positiveInteger({ help: `with --model dit: fixed validation clips, each at t = ${VAL_TIMES.join(', ')}`, default: 16 }),
};

// In this order a DiT run's options are stored. The shared ones keep the GPT's flags with the
// defaults that suit a small video model.
export const DIT_OPTIONS = {
  ...DIT_ONLY_OPTIONS,
  layers: withDefault(TRAIN_OPTIONS.layers, 4),
  dModel: withDefault(TRAIN_OPTIONS.dModel, 128),
  heads: withDefault(TRAIN_OPTIONS.heads, 4),
  batch: withDefault(TRAIN_OPTIONS.batch, 8),
  lr: withDefault(TRAIN_OPTIONS.lr, 1e-3),
  minLrRatio: TRAIN_OPTIONS.minLrRatio,
  schedule: TRAIN_OPTIONS.schedule,
  warmupSteps: withDefault(TRAIN_OPTIONS.warmupSteps, 100),
  cooldown: TRAIN_OPTIONS.cooldown,
  weightDecay: withDefault(TRAIN_OPTIONS.weightDecay, 0),
  clip: TRAIN_OPTIONS.clip,
  evalEvery: withDefault(TRAIN_OPTIONS.evalEvery, 200),
  checkpointEvery: TRAIN_OPTIONS.checkpointEvery,
  keepCheckpoints: TRAIN_OPTIONS.keepCheckpoints,
  // The velocity MSE of a batch swings with its diffusion times far more than a language model's
  // loss with its text: the guard waits for a bigger jump.
  spikeFactor: withDefault(TRAIN_OPTIONS.spikeFactor, 4),
  seed: TRAIN_OPTIONS.seed,
  threads: TRAIN_OPTIONS.threads,
  name: TRAIN_OPTIONS.name,
};

/** The options `train --model dit` shares with the GPT's (same flags, the DiT's defaults). */
export const DIT_SHARED_KEYS = Object.keys(DIT_OPTIONS).filter((k) => !(k in DIT_ONLY_OPTIONS)) as (keyof typeof DIT_OPTIONS)[];

export type DitOptions = OptionValues<typeof DIT_OPTIONS>;
export const DIT_DEFAULTS: DitOptions = defaultsOf(DIT_OPTIONS);
const DIT_SCHEMA = schemaOf(DIT_OPTIONS);

export type DitRequest = Partial<DitOptions> & { resume?: string; restart?: boolean };

export function clipConfigOf(cfg: Pick<DiTConfig, 'frames' | 'height' | 'width'>): ClipConfig {
  return { frames: cfg.frames, height: cfg.height, width: cfg.width };
}

export function ditConfig(o: DitOptions): DiTConfig {
  return {
    frames: o.frames, height: o.size, width: o.size, channels: 3, patch: o.patch, tpatch: o.tpatch,
    layers: o.layers, dModel: o.dModel, heads: o.heads, vocab: CAPTION_VOCAB.length, captionLength: CAPTION_LENGTH,
    textLayers: o.textLayers,
    // Only the variants: a default run's model config is what it was before the options existed.
    ...(o.attention === 'naive' ? { attention: 'naive' as const } : {}),
    ...(o.timeShift !== undefined && o.timeShift !== 1 ? { timeShift: o.timeShift } : {}),
    ...(o.conditioning === 'joint' ? { conditioning: 'joint' as const } : {}),
  };
}

/** A new DiT run's options, each problem one line (UsageError). */
export function checkDitOptions(o: DitOptions): DiTConfig {
  const problem = problemWith(DIT_SCHEMA, o);
  if (problem !== null) throw new UsageError(problem);
  if (!Number.isInteger(o.textLayers)) throw new UsageError(`textLayers must be a non-negative integer, got ${o.textLayers}`);
  try {
    checkClipConfig({ frames: o.frames, height: o.size, width: o.size });
  } catch (err) {
    throw new UsageError(`--frames ${o.frames} --size ${o.size}: ${(err as Error).message}`);
  }
  const cfg = ditConfig(o);
  try {
    new DiT(cfg); // the model's own checks (heads dividing the width, patches tiling the clip)
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^DiT config: /, ''));
  }
  return cfg;
}

/** Whether a stored run is a video model. */
export function isDitRun(run: RunRecord): boolean {
  return runFamily(run.config) === 'dit';
}

// ── The training stream ─────────────────────────────────────────────────────────────────────

interface ClipBatchesState { cursor: number; rng: [number, number, number, number]; batch: number }

/**
 * Training batches: `batch` clips of the run's clip stream, each caption dropped to the null
 * caption with probability captionDrop, a logit-normal time and Gaussian noise per clip. The
 * clip cursor and one RNG are its whole state.
 */
export class ClipBatches implements Stream {
  private readonly clips: ClipStream;
  private rng: Rng;

  constructor(private readonly model: DiT, private readonly o: DitOptions, saved?: ClipBatchesState) {
    const cfg = model.config;
    this.clips = new ClipStream(o.seed, clipConfigOf(cfg), saved?.cursor ?? 0);
    this.rng = new Rng(saved?.rng ?? streamSeed(o.seed, 'flow'));
  }

  static restore(model: DiT, o: DitOptions, saved: unknown): ClipBatches {
    const s = saved as Partial<ClipBatchesState> | null;
    const ok = s !== null && typeof s === 'object' && Number.isSafeInteger(s.cursor) && s.batch === o.batch &&
      Array.isArray(s.rng) && s.rng.length === 4 && s.rng.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
    if (!ok) throw new UsageError(`the checkpoint's data position ${JSON.stringify(saved)} is not a clip stream of batch ${o.batch}`);
    return new ClipBatches(model, o, s as ClipBatchesState);
  }

  next(): FlowBatch {
    const { batch: B, captionDrop: drop } = this.o;
    const cfg = this.model.config, rng = this.rng;
    const stacked = stackClips(Array.from({ length: B }, () => this.clips.next()));
    const caption = stacked.tokens;
    const t = new Float64Array(B);
    const eps = new Float32Array(B * clipValues(cfg));
    for (let b = 0; b < B; b++) {
      if (rng.uniform() < drop) caption.fill(cfg.vocab, b * cfg.captionLength, (b + 1) * cfg.captionLength);
      t[b] = shiftTime(logitNormal(rng), cfg.timeShift);
    }
    for (let i = 0; i < eps.length; i++) eps[i] = rng.normal();
    return flowBatch(stacked.frames, eps, t, caption);
  }

  skip(n: number): void {
    for (let i = 0; i < n; i++) this.next();
  }

  state(): ClipBatchesState {
    return { cursor: this.clips.cursor, rng: this.rng.state(), batch: this.o.batch };
  }
}

/** The validation points: every (clip, t) pair with its fixed noise, in batches of up to `batch` rows. */
export function validationBatches(cfg: DiTConfig, clips: number, batch: number): FlowBatch[] {
  const val = stackClips(validationClips(clips, clipConfigOf(cfg)));
  const n = clipValues(cfg), Lc = cfg.captionLength;
  const rng = new Rng(VAL_NOISE_SEED);
  const eps = new Float32Array(clips * VAL_TIMES.length * n);
  for (let i = 0; i < eps.length; i++) eps[i] = rng.normal();
  const rows = clips * VAL_TIMES.length;
  const out: FlowBatch[] = [];
  for (let r0 = 0; r0 < rows; r0 += batch) {
    const B = Math.min(batch, rows - r0);
    const x0 = new Float32Array(B * n), t = new Float64Array(B), caption = new Int32Array(B * Lc);
    for (let b = 0; b < B; b++) {
      const row = r0 + b, clip = Math.floor(row / VAL_TIMES.length);
      x0.set(val.frames.subarray(clip * n, (clip + 1) * n), b * n);
      caption.set(val.tokens.subarray(clip * Lc, (clip + 1) * Lc), b * Lc);
      t[b] = VAL_TIMES[row % VAL_TIMES.length];
    }
    out.push(flowBatch(x0, eps.subarray(r0 * n, (r0 + B) * n), t, caption));
  }
  return out;
}

/** Mean velocity MSE over the validation points. */
function validateMse(model: DiT, g: Graph, batches: FlowBatch[]): number {
  let sum = 0, rows = 0;
  for (const b of batches) {
    g.reset();
    sum += model.loss(g, b).item() * b.t.length;
    rows += b.t.length;
  }
  return sum / rows;
}

function ditSetup(o: DitOptions, cfg: DiTConfig): FamilySetup {
  const t0 = performance.now();
  const model = new DiT(cfg, { seed: streamSeed(o.seed, 'weights') });
  const evals = validationBatches(cfg, o.evalClips, o.batch);
  const N = tokensPerClip(cfg);
  const steps = Math.ceil(o.clips / o.batch);
  const counts = countParams(cfg);
  const { threads: _t, ...stored } = o;
  const family: Family = {
    model, metric: 'mse',
    loss: (g, batch) => model.loss(g, batch as FlowBatch),
    validate: (g) => validateMse(model, g, evals),
    restoreStream: (saved) => ClipBatches.restore(model, o, saved),
  };
  return {
    family, stream: new ClipBatches(model, o), steps, tokensPerStep: o.batch * N, seconds: (performance.now() - t0) / 1000,
    record: { config: { family: 'dit', model: cfg, train: stored }, params: counts.total, nonEmbeddingParams: counts.nonEmbedding, flopsPerToken: flopsPerPatch(cfg) },
    announce: async (s) => {
      await logEvent(s, 'data', `procedural clips ${cfg.frames}×${cfg.height}×${cfg.width}, ${N} patches of ${cfg.tpatch}×${cfg.patch}×${cfg.patch} per clip, ` +
      `${o.batch} clips per step; validation: velocity MSE of ${o.evalClips} fixed clips at t = ${VAL_TIMES.join(', ')} (stored as the run's val)`,
      { frames: cfg.frames, size: cfg.height, patches_per_clip: N, eval_clips: o.evalClips, val_times: [...VAL_TIMES] });
      // The velocity carries the noise pixel for pixel, so a token narrower than its patch is a
      // bottleneck the noise must squeeze through (a 10-minute run of 768-value patches at width
      // 96 stayed at val mse 1.02 and sampled noise).
      if (patchValues(cfg) > cfg.dModel) {
        await logEvent(s, 'warning', `a patch holds ${patchValues(cfg)} values but d_model is ${cfg.dModel}: the noise has to squeeze through each token, and samples are likely to stay noisy; smaller patches or a wider model avoid it`);
      }
    },
  };
}

/** What a run stored before --ema, --time-shift and --conditioning existed did: no average, no shift, adaLN alone. */
const AS_BEFORE_THESE_OPTIONS = { ema: 0, timeShift: 1, conditioning: 'adaln' } as const;

/** Start a new DiT run, or continue one with `resume` (its stored options win). */
export async function trainDit(options: DitRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
  if (options.restart && !options.resume) throw new UsageError('--restart starts an existing run over; give the run with --resume RUN');
  // A new run's options are checked before its home is touched: a refused run leaves nothing behind.
  let fresh: { o: DitOptions; cfg: DiTConfig } | null = null;
  if (!options.resume) {
    const { resume: _r, restart: _s, ...rest } = options;
    const o = { ...DIT_DEFAULTS, ...rest };
    fresh = { o, cfg: checkDitOptions(o) };
  }
  const home = options.resume ? existingHome(hooks.home) : resolveHome(hooks.home);
  const store = openStore(home);
  const claim = new RunClaim(store, hooks.claimToken);
  try {
    const t0 = performance.now();
    let o: DitOptions, cfg: DiTConfig, resumed: RunRecord | null = null;
    if (fresh) {
      ({ o, cfg } = fresh);
    } else {
      resumed = await store.getRun(options.resume!);
      if (!isDitRun(resumed)) throw new UsageError(`run '${resumed.name}' is not a video model; resume it with \`scalelab train --resume ${resumed.name}\``);
      if (resumed.status === 'done') throw new UsageError(`run '${resumed.name}' is already done; start a new run instead`);
      await claim.take(resumed);
      o = { ...DIT_DEFAULTS, ...AS_BEFORE_THESE_OPTIONS, ...(resumed.config as { train: DitOptions }).train };
      if (options.threads !== undefined) o.threads = options.threads;
      cfg = ditConfig(o);
    }
    const session = await openFamilySession(store, home, { o, resumed, restart: Boolean(options.restart) }, () => ditSetup(o, cfg), hooks, claim, t0);
    return await trainLoop(session);
  } finally {
    await claim.release();
    await store.close();
  }
}
