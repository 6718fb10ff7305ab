// Sampling a trained video run: prompts checked against the caption vocabulary, the run's DiT
// loaded from its weights (or newest checkpoint, or the checkpoint RUN@STEP names), clips drawn
// by the guided Euler sampler (src/models/dit.ts). `scalelab video` is a thin wrapper over
// `sampleVideo`; `eval-video` and the dashboard's gallery draw their clips through `drawClip`.
import fs from 'node:fs';
import path from 'node:path';
import { Graph } from '../engine/graph.js';
import { native, setThreads } from '../engine/native.js';
import { DiT, sampleClips, type DiTConfig } from '../models/dit.js';
import { clipFromCaption, encodeCaption, readClipGif, writeCaption, parseCaption, type ClipConfig } from '../data/index.js';
import { fetchMissing, openStore, existingHome, runDir, type RunRecord, type Store } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { checkpointName, loadWeights } from './checkpoint.js';
import { runCheckpoints, runWeightsFile } from './run-weights.js';
import { CorruptFileError } from './safetensors.js';
import { clipConfigOf, isDitRun } from './dit-train.js';

export interface VideoOptions {
  home?: string;
  prompt: string;
  /** The sampler's noise; sample k uses seed + k. */
  seed: number;
  /** Euler steps from noise to clip. */
  steps: number;
  /** Classifier-free guidance scale (1: the conditional model alone). */
  guidance: number;
  /** Clips to draw for the prompt. */
  samples?: number;
  /**
   * Extension: this many first frames are given, taken from `fromGif` when set, else from the
   * generator's own clip of the prompt (drawn from `seed`), and the model generates the rest.
   */
  fromFrames?: number;
  /** An animated GIF of the model's frame size (or a whole multiple) whose first `fromFrames` frames are given. */
  fromGif?: string;
  threads?: number;
}

export interface VideoResult {
  run: RunRecord;
  config: DiTConfig;
  clip: ClipConfig;
  /** The prompt as the model reads it (the templates' own wording). */
  caption: string;
  /** One [T, H, W, 3] array per sample, values around [−1, 1]. */
  clips: Float32Array[];
  /** The given clip when extending (from a GIF: its frames up to the clip's length, background after). */
  given: Float32Array | null;
  seconds: number;
}

/** A video run's weights as loaded: its final weights (step −1), or a checkpoint. */
export interface VideoWeights {
  run: RunRecord;
  model: DiT;
  /** The checkpoint's step; −1 for the final weights. */
  step: number;
  /** `NAME` for the final weights, `NAME@STEP` for a checkpoint. */
  label: string;
  file: string;
}

/** RUN or RUN@STEP (run names never hold an @): the run and, after the @, a checkpoint's step. */
export function parseWeightsSpec(spec: string): { run: string; step: number | null } {
  const at = spec.lastIndexOf('@');
  if (at < 0) return { run: spec, step: null };
  const stepText = spec.slice(at + 1), step = Number(stepText);
  if (!/^\d+$/.test(stepText) || !Number.isSafeInteger(step)) throw new UsageError(`'${spec}': the step after @ must be a whole number (RUN@STEP names a checkpoint)`);
  return { run: spec.slice(0, at), step };
}

/**
 * The DiT of RUN (its final weights, or its newest checkpoint while it has none) or RUN@STEP
 * (that checkpoint); a video model only. Every refusal is one line (UsageError).
 */
export async function loadVideoWeights(store: Store, home: string, spec: string): Promise<VideoWeights> {
  const want = parseWeightsSpec(spec);
  const run = await store.getRun(want.run);
  if (!isDitRun(run)) throw new UsageError(`run '${run.name}' is a language model, not a video model; \`scalelab generate ${run.name}\` samples it and \`scalelab eval ${run.name}\` evaluates it`);
  let file: string | null, step: number;
  if (want.step === null) {
    // Weights trained on another machine come from the artifact store, verified.
    if (!runWeightsFile(home, run.id)) await fetchMissing(store.artifacts, run.id, runDir(home, run.id), (n) => n === 'model.safetensors');
    file = runWeightsFile(home, run.id);
    if (!file) throw new UsageError(`run '${run.name}' has no weights yet; train it first`);
    step = path.basename(file) === 'model.safetensors' ? -1 : runCheckpoints(home, run.id)[0].step;
  } else {
    step = want.step;
    file = path.join(runDir(home, run.id), 'checkpoints', checkpointName(step));
    if (!fs.existsSync(file)) {
      const kept = runCheckpoints(home, run.id).map((c) => c.step).reverse();
      throw new UsageError(`run '${run.name}' has no checkpoint at step ${step}; ${kept.length ? `it keeps steps ${kept.join(', ')}` : 'it keeps none'}`);
    }
  }
  try {
    const model = loadWeights(file, (cfg) => new DiT(cfg)).model;
    return { run, model, step, label: step < 0 ? run.name : `${run.name}@${step}`, file };
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    throw new UsageError(`the weights of run '${run.name}' failed their integrity check (${err.message}); \`scalelab show ${run.name} --verify\` checks every file of the run`);
  }
}

/** The run's DiT at RUN or RUN@STEP, read through a store of its own. */
export async function loadVideoRun(home: string, spec: string): Promise<VideoWeights> {
  const store = openStore(home, { reading: true });
  try {
    return await loadVideoWeights(store, home, spec);
  } finally {
    await store.close();
  }
}

export interface ClipSampling {
  seed: number;
  steps: number;
  guidance: number;
  /** Extension: the first `frames` frames of `clip` are given. */
  from?: { clip: Float32Array; frames: number };
}

/**
 * One clip of a caption (its token ids) by the guided Euler sampler from noise seeded `seed`.
 * One clip a call: a row's bits in a batch depend on its batch mates (the kernels block by
 * rows), and a batch is no faster here (4×128 model, one thread: 102 ms per clip and step
 * alone, 114 in fours), so `scalelab video --seed s` and `eval-video` draw the same clip.
 */
export function drawClip(model: DiT, g: Graph, caption: Int32Array, o: ClipSampling): Float32Array {
  return sampleClips(model, g, caption, { steps: o.steps, guidance: o.guidance, seed: o.seed, ...(o.from ? { from: o.from } : {}) });
}

/** The clip whose first `frames` frames an extension keeps: the user's GIF, or the generator's own clip of the prompt. */
function givenFrames(o: VideoOptions, frames: number, caption: string, clip: ClipConfig): Float32Array {
  if (o.fromGif === undefined) return clipFromCaption(caption, o.seed, clip).frames;
  const gif = readClipGif(o.fromGif, clip);
  if (gif.count < frames) throw new UsageError(`'${o.fromGif}' has ${gif.count} frame${gif.count === 1 ? '' : 's'}; --from-frames ${frames} needs at least ${frames}`);
  return gif.frames;
}

export async function sampleVideo(runName: string, o: VideoOptions): Promise<VideoResult> {
  // The prompt first: a mistake there costs nothing to find.
  const caption = writeCaption(parseCaption(o.prompt));
  const ids = encodeCaption(caption);
  const samples = o.samples ?? 1;
  for (const [k, v] of [['steps', o.steps], ['samples', samples]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isFinite(o.guidance) || o.guidance < 0) throw new UsageError(`--guidance must be a non-negative number, got ${o.guidance}`);
  if (o.fromGif !== undefined && o.fromFrames === undefined) throw new UsageError(`--from needs --from-frames K: how many of the GIF's first frames to keep`);
  const home = existingHome(o.home);
  const { run, model } = await loadVideoRun(home, runName);
  const cfg = model.config, clip = clipConfigOf(cfg);
  if (o.fromFrames !== undefined && cfg.frames === 1) throw new UsageError(`run '${run.name}' makes one-frame clips (images): there is nothing to extend`);
  if (o.fromFrames !== undefined && (!Number.isInteger(o.fromFrames) || o.fromFrames < 1 || o.fromFrames >= cfg.frames)) {
    throw new UsageError(`--from-frames must be a whole number of frames from 1 to ${cfg.frames - 1} (the model makes ${cfg.frames}), got ${o.fromFrames}`);
  }
  if (o.threads !== undefined) setThreads(o.threads);
  const given = o.fromFrames ? givenFrames(o, o.fromFrames, caption, clip) : null;
  const t0 = performance.now();
  const g = new Graph(native, { training: false });
  // One batch per sample, seeded seed + k: a sample does not depend on how many were asked for.
  const clips = Array.from({ length: samples }, (_, k) => drawClip(model, g, ids, {
    steps: o.steps, guidance: o.guidance, seed: o.seed + k, ...(given ? { from: { clip: given, frames: o.fromFrames! } } : {}),
  }));
  return { run, config: cfg, clip, caption, clips, given, seconds: (performance.now() - t0) / 1000 };
}
