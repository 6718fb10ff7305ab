// What each video score is worth by chance, so a closing note can say "more often than chance".
//
// Caption scores (colour, object, direction, adherence) by chance are the scores of a model that
// draws perfect clips of this world but ignores the caption: the eval prompts read against clips
// the generator drew for other captions. Colour has a closed form to check it by: a clip has 1 to
// 3 objects (2 on average) of distinct colours among 5, so a given colour is present with
// probability 2/5. Physics and permanence ignore the caption, so their baseline is the clip a
// prompt asks for with its frames in random order: right objects, no physics.
import { hashString, Rng } from '../engine/random.js';
import { clipFromCaption, generateClip } from '../data/clips.js';
import { CLIP_DEFAULTS, type ClipConfig } from '../data/clip-world.js';
import type { MetricValue } from './metrics.js';
import { readClip, VIDEO_METRICS, type VideoMetric, type VideoReading } from './video-detector.js';
import { VIDEO_EVAL_PROMPTS } from './video-prompts.js';
import { videoMetric } from './video-scores.js';

/** The baseline each metric's chance level comes from. */
export const CHANCE_BASELINE: Record<VideoMetric, 'caption ignored' | 'frames shuffled'> = {
  colour: 'caption ignored',
  object: 'caption ignored',
  direction: 'caption ignored',
  adherence: 'caption ignored',
  physics: 'frames shuffled',
  permanence: 'frames shuffled',
};

/** A clip's frames in an order drawn from rng (Fisher–Yates). */
export function shuffleFrames(frames: Float32Array, c: ClipConfig, rng: Rng): Float32Array {
  const order = Array.from({ length: c.frames }, (_, t) => t);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const n = c.height * c.width * 3, out = new Float32Array(frames.length);
  order.forEach((from, to) => out.set(frames.subarray(from * n, (from + 1) * n), to * n));
  return out;
}

const CHANCE_SALT = 0xc4a4ce;

/**
 * The chance level of each metric on the eval prompts (clips-v1) at the default clip size, from
 * estimateVideoChance(40): 960 clips, 40 per prompt (permanence counts only the clips where
 * something went behind the bar). Colour agrees with its closed form, 2/5.
 */
export const VIDEO_CHANCE: Readonly<Record<VideoMetric, { value: number; stderr: number; n: number }>> = {
  colour: { value: 0.4028, stderr: 0.0133, n: 960 },
  object: { value: 0.1299, stderr: 0.0088, n: 960 },
  direction: { value: 0.0908, stderr: 0.008, n: 960 },
  adherence: { value: 0.0135, stderr: 0.0037, n: 960 },
  physics: { value: 0.0021, stderr: 0.0013, n: 960 },
  permanence: { value: 0.376, stderr: 0.0424, n: 125 },
};

/**
 * Estimate every metric's chance level over the first `prompts` eval prompts with `clipsPerPrompt`
 * clips each, at clip size c (deterministic: a prompt's clips do not depend on which others are
 * estimated with it). VIDEO_CHANCE holds the estimate at 40 clips per prompt.
 */
export function estimateVideoChance(clipsPerPrompt: number, c: ClipConfig = CLIP_DEFAULTS, prompts = VIDEO_EVAL_PROMPTS.length): Record<VideoMetric, MetricValue> {
  const ignored: VideoReading[] = [], shuffled: VideoReading[] = [];
  for (const prompt of VIDEO_EVAL_PROMPTS.slice(0, prompts)) {
    for (let i = 0; i < clipsPerPrompt; i++) {
      const other = generateClip(hashString(`chance:${prompt}:${i}`, CHANCE_SALT), c);
      ignored.push(readClip(other.frames, c, prompt));
      const own = clipFromCaption(prompt, hashString(`shuffle:${i}`, CHANCE_SALT), c);
      shuffled.push(readClip(shuffleFrames(own.frames, c, new Rng(hashString(`order:${prompt}:${i}`, CHANCE_SALT))), c, prompt));
    }
  }
  return Object.fromEntries(VIDEO_METRICS.map((m) => [m, videoMetric(CHANCE_BASELINE[m] === 'caption ignored' ? ignored : shuffled, m)])) as Record<VideoMetric, MetricValue>;
}

/** A metric's chance level for one evaluation, and the baseline it comes from. */
export interface ChanceLevel extends Omit<MetricValue, 'metric'> {
  baseline: (typeof CHANCE_BASELINE)[VideoMetric];
}

/** Clips per prompt of every chance estimate. */
const CHANCE_CLIPS_PER_PROMPT = 40;
const measured = new Map<string, Record<VideoMetric, ChanceLevel>>();

/**
 * The chance levels of an evaluation of the first `prompts` prompts at clip size c. Chance moves
 * with both (permanence at 8×24×24 is 0.58, against 0.38 at 16×32×32: the bar is relatively wider),
 * so it is estimated for the evaluation's own: VIDEO_CHANCE for the whole set at the default size,
 * otherwise estimateVideoChance at 40 clips per prompt (about 4 s for the whole set at 8×24×24),
 * once per process.
 */
export function videoChanceOf(c: ClipConfig, prompts = VIDEO_EVAL_PROMPTS.length): Record<VideoMetric, ChanceLevel> {
  const key = `${c.frames}x${c.height}x${c.width}/${prompts}`;
  let levels = measured.get(key);
  if (!levels) {
    const exact = prompts === VIDEO_EVAL_PROMPTS.length && c.frames === CLIP_DEFAULTS.frames && c.height === CLIP_DEFAULTS.height && c.width === CLIP_DEFAULTS.width;
    const values = exact ? VIDEO_CHANCE : estimateVideoChance(CHANCE_CLIPS_PER_PROMPT, c, prompts);
    levels = Object.fromEntries(VIDEO_METRICS.map((m) => {
      const { value, stderr, n } = values[m];
      return [m, { value, stderr, n, baseline: CHANCE_BASELINE[m] }];
    })) as Record<VideoMetric, ChanceLevel>;
    measured.set(key, levels);
  }
  return levels;
}
