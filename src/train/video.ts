// Sampling a trained video run: prompts checked against the caption vocabulary, the run's DiT
// loaded from its weights (or newest checkpoint), clips drawn by the guided Euler sampler
// (src/models/dit.ts). `scalelab video` is a thin wrapper over `sampleVideo`.
import { Graph } from '../engine/graph.js';
import { native, setThreads } from '../engine/native.js';
import { DiT, sampleClips, type DiTConfig } from '../models/dit.js';
import { clipFromCaption, encodeCaption, writeCaption, parseCaption, type ClipConfig } from '../data/index.js';
import { fetchMissing, openStore, existingHome, runDir, type RunRecord } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { loadWeights } from './checkpoint.js';
import { runWeightsFile } from './run-weights.js';
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
   * Extension: this many first frames are given, taken from the generator's own clip of the
   * prompt (drawn from `seed`), and the model generates the rest.
   */
  fromFrames?: number;
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
  /** The given clip when extending. */
  given: Float32Array | null;
  seconds: number;
}

/** The run's DiT at its final weights (or newest checkpoint); a video model only. */
export async function loadVideoRun(home: string, name: string): Promise<{ run: RunRecord; model: DiT }> {
  const store = openStore(home, { reading: true });
  let run: RunRecord;
  try {
    run = await store.getRun(name);
    // Weights trained on another machine come from the artifact store, verified.
    if (isDitRun(run) && !runWeightsFile(home, run.id)) await fetchMissing(store.artifacts, run.id, runDir(home, run.id), (n) => n === 'model.safetensors');
  } finally {
    await store.close();
  }
  if (!isDitRun(run)) throw new UsageError(`run '${run.name}' is a language model, not a video model; \`scalelab generate ${run.name}\` samples it`);
  const file = runWeightsFile(home, run.id);
  if (!file) throw new UsageError(`run '${run.name}' has no weights yet; train it first`);
  try {
    return { run, model: loadWeights(file, (cfg) => new DiT(cfg)).model };
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    throw new UsageError(`the weights of run '${run.name}' failed their integrity check (${err.message}); \`scalelab show ${run.name} --verify\` checks every file of the run`);
  }
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
  const home = existingHome(o.home);
  const { run, model } = await loadVideoRun(home, runName);
  const cfg = model.config, clip = clipConfigOf(cfg);
  if (o.fromFrames !== undefined && cfg.frames === 1) throw new UsageError(`run '${run.name}' makes one-frame clips (images): there is nothing to extend`);
  if (o.fromFrames !== undefined && (!Number.isInteger(o.fromFrames) || o.fromFrames < 1 || o.fromFrames >= cfg.frames)) {
    throw new UsageError(`--from-frames must be a whole number of frames from 1 to ${cfg.frames - 1} (the model makes ${cfg.frames}), got ${o.fromFrames}`);
  }
  if (o.threads !== undefined) setThreads(o.threads);
  const given = o.fromFrames ? clipFromCaption(caption, o.seed, clip).frames : null;
  const t0 = performance.now();
  const g = new Graph(native, { training: false });
  // One batch per sample, seeded seed + k: a sample does not depend on how many were asked for.
  const clips = Array.from({ length: samples }, (_, k) => sampleClips(model, g, ids, {
    steps: o.steps, guidance: o.guidance, seed: o.seed + k, ...(given ? { from: { clip: given, frames: o.fromFrames! } } : {}),
  }));
  return { run, config: cfg, clip, caption, clips, given, seconds: (performance.now() - t0) / 1000 };
}
