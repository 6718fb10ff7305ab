// `scalelab eval-video`: a video run (or one of its checkpoints) sampled on the fixed evaluation
// set (video-prompts.ts), every clip read by the detector (video-detector.ts), and each score's
// mean beside its chance level (video-chance.ts). Results go into the run store's eval_results
// under task 'video', like a text task's, so `emergence --task video` and the dashboard read
// them; per-clip scores are saved as they come (eval_outcomes), so a stopped evaluation resumes.
//
// The task version names the set, how it was sampled and the detector that read it
// (`clips-v1 24x4 steps=32 guidance=3 detector=1`): scores of other prompts, seeds, sampler
// settings or reading rules are other numbers, never mixed, resumed into or replaced.
import { Graph } from '../engine/graph.js';
import { native } from '../engine/native.js';
import { encodeCaption } from '../data/clip-caption.js';
import type { ClipConfig } from '../data/clip-world.js';
import { UsageError } from '../errors.js';
import type { EvalKey, RunRecord, Store } from '../runs/index.js';
import { clipConfigOf } from '../train/dit-train.js';
import { drawClip, loadVideoWeights, type VideoWeights } from '../train/video.js';
import { tokensPerClip } from '../models/dit.js';
import { trainingCompute } from '../common/compute.js';
import type { MetricValue } from './metrics.js';
import { videoChanceOf, type ChanceLevel } from './video-chance.js';
import { detectorSizeWarning, readClip, VIDEO_DETECTOR_VERSION, VIDEO_METRICS, type VideoMetric, type VideoReading } from './video-detector.js';
import { VIDEO_EVAL_PROMPTS, VIDEO_EVAL_SEEDS, VIDEO_EVAL_SET_NAME, type VideoEvalItem } from './video-prompts.js';
import { aggregateVideo } from './video-scores.js';

/** The task the results are stored under. */
export const VIDEO_TASK = 'video';

export interface VideoEvalOptions {
  /** The first N prompts of the set (default: all). */
  prompts?: number;
  /** The first K of its seeds (default: all). */
  seeds?: number;
  /** Euler steps per clip. */
  steps: number;
  /** Classifier-free guidance scale. */
  guidance: number;
  /** Keep every clip's frames (a contact sheet of them); every clip is then sampled, none resumed. */
  keepClips?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Told, before any sampling, why these scores may mislead (clips too small for the detector). */
  onWarning?: (line: string) => void;
}

/** One clip's verdict, as saved per clip and resumed. */
export interface VideoOutcome extends VideoEvalItem {
  scores: VideoReading['scores'];
}

export interface VideoEvalResult {
  run: RunRecord;
  /** The checkpoint's step; −1 for the final weights. */
  step: number;
  label: string;
  key: EvalKey;
  clip: ClipConfig;
  items: VideoEvalItem[];
  outcomes: VideoOutcome[];
  metrics: Record<VideoMetric, MetricValue>;
  /** Each metric's chance level on these prompts at this clip size (video-chance.ts). */
  chance: Record<VideoMetric, ChanceLevel>;
  /** Clips sampled by this call, and those an earlier, interrupted call had scored. */
  sampled: number;
  resumed: number;
  /** Sampling seconds per clip sampled here (null when every clip was resumed). */
  secondsPerClip: number | null;
  /** Every clip's frames in item order, with keepClips. */
  clips: Float32Array[] | null;
  /** The weights' validation MSE: the run's final one, or the one logged at the checkpoint's step (null when none was). */
  valMse: number | null;
  /** The training compute behind the weights, C = 6·N·D with D the patches trained on up to them. */
  flops: number;
}

/** The first `prompts` prompts × first `seeds` seeds of the set, prompt-major; bad counts are one line. */
export function videoEvalItems(prompts = VIDEO_EVAL_PROMPTS.length, seeds = VIDEO_EVAL_SEEDS.length): VideoEvalItem[] {
  const P = VIDEO_EVAL_PROMPTS.length, S = VIDEO_EVAL_SEEDS.length;
  if (!Number.isInteger(prompts) || prompts < 1 || prompts > P) throw new UsageError(`--prompts must be 'all' or a whole number from 1 to ${P}, got ${prompts}`);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > S) throw new UsageError(`--seeds must be a whole number from 1 to ${S}, got ${seeds}`);
  return VIDEO_EVAL_PROMPTS.slice(0, prompts).flatMap((prompt) => VIDEO_EVAL_SEEDS.slice(0, seeds).map((seed) => ({ prompt, seed })));
}

/** The task version: the set, how much of it, the sampler's settings and the detector's version. */
export function videoTaskVersion(prompts: number, seeds: number, steps: number, guidance: number): string {
  return `${VIDEO_EVAL_SET_NAME} ${prompts}x${seeds} steps=${steps} guidance=${guidance} detector=${VIDEO_DETECTOR_VERSION}`;
}

/**
 * What the weights cost and reached: the run record's compute and final val MSE for its final
 * weights; at a checkpoint, compute from its step (the batch in clips, from the run's config, times
 * the patches of a clip) and the val MSE logged at that step, if validation ran there.
 */
export async function videoWeightsFacts(store: Store, w: VideoWeights): Promise<{ valMse: number | null; flops: number }> {
  if (w.step < 0) return { valMse: w.run.finalValBpb, flops: w.run.flops };
  const row = (await store.series.atSteps(w.run.id, [w.step]))[0];
  const batch = Number((w.run.config as { train?: { batch?: unknown } }).train?.batch);
  const patches = w.step * batch * tokensPerClip(w.model.config);
  const flops = w.run.nonEmbeddingParams !== null && Number.isFinite(patches) ? trainingCompute(w.run.nonEmbeddingParams, patches) : row?.flops ?? NaN;
  return { valMse: row?.valBpb ?? null, flops };
}

/**
 * Sample and score `spec` (RUN or RUN@STEP, or weights already loaded) on the set, saving each
 * clip's scores as it goes and the metrics at the end. Bad options and a run that is not a video
 * model fail before sampling.
 */
export async function evaluateVideo(store: Store, home: string, spec: string | VideoWeights, o: VideoEvalOptions): Promise<VideoEvalResult> {
  const prompts = o.prompts ?? VIDEO_EVAL_PROMPTS.length, seeds = o.seeds ?? VIDEO_EVAL_SEEDS.length;
  const items = videoEvalItems(prompts, seeds);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new UsageError(`--steps must be a positive integer, got ${o.steps}`);
  if (!Number.isFinite(o.guidance) || o.guidance < 0) throw new UsageError(`--guidance must be a non-negative number, got ${o.guidance}`);
  const w = typeof spec === 'string' ? await loadVideoWeights(store, home, spec) : spec;
  const clip = clipConfigOf(w.model.config);
  const small = detectorSizeWarning(clip);
  if (small) o.onWarning?.(`${w.label}: ${small}`);
  const key: EvalKey = {
    subject: w.run.id, runId: w.run.id, step: w.step, task: VIDEO_TASK,
    taskVersion: videoTaskVersion(prompts, seeds, o.steps, o.guidance), shots: 0, seed: 0,
  };
  // Clips an interrupted call scored, when they are the same items (the version fixes the set).
  const saved = o.keepClips ? new Map<number, unknown>() : await store.evals.outcomes(key);
  const outcomes: (VideoOutcome | null)[] = items.map((it, i) => {
    const s = saved.get(i) as Partial<VideoOutcome> | undefined;
    return s && s.prompt === it.prompt && s.seed === it.seed && typeof s.scores === 'object' && s.scores !== null ? s as VideoOutcome : null;
  });
  const resumed = outcomes.filter((x) => x !== null).length;
  const clips: Float32Array[] | null = o.keepClips ? [] : null;
  const g = new Graph(native, { training: false });
  let sampled = 0, seconds = 0;
  o.onProgress?.(resumed, items.length);
  for (let i = 0; i < items.length; i++) {
    if (outcomes[i]) continue;
    const { prompt, seed } = items[i];
    const t0 = performance.now();
    const frames = drawClip(w.model, g, encodeCaption(prompt), { seed, steps: o.steps, guidance: o.guidance });
    seconds += (performance.now() - t0) / 1000;
    sampled++;
    clips?.push(frames);
    const outcome: VideoOutcome = { prompt, seed, scores: readClip(frames, clip, prompt).scores };
    outcomes[i] = outcome;
    await store.evals.saveOutcomes(key, [[i, outcome]]);
    o.onProgress?.(resumed + sampled, items.length);
  }
  const done = outcomes as VideoOutcome[];
  const metrics = aggregateVideo(done);
  await store.evals.saveResults(key, VIDEO_METRICS.map((m) => metrics[m]));
  return {
    run: w.run, step: w.step, label: w.label, key, clip, items, outcomes: done, metrics,
    chance: videoChanceOf(clip, prompts),
    sampled, resumed, secondsPerClip: sampled > 0 ? seconds / sampled : null, clips, ...(await videoWeightsFacts(store, w)),
  };
}
