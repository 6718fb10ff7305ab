// Procedural clips with captions, the training data of the video model (src/models/dit.ts): one
// to three coloured shapes that move left, right, up or down, or bounce off the walls, sometimes
// passing behind a static grey bar; captioned from templates ("a red circle moves right while a
// blue square bounces"), with the ground truth of every object in every frame.
//
// Frames are float32 in layout [T, H, W, 3] (frame, row, column, RGB), values in [−1, 1]
// (palette colour c in [0, 1] is written 2c − 1); the model patchifies that tensor itself.
//
// Every clip is a function of one 32-bit clip seed. The training stream's clip i has the seed of
// (run seed, i), so a stream's state is just its cursor; the validation set's seeds come from a
// fixed salt, independent of the run, so every run is validated on the same clips. Training seeds
// are even and validation seeds odd: the two sets cannot share a clip seed.
import { Rng, hashString, streamSeed } from '../engine/random.js';
import { encodeCaption, parseCaption, writeCaption, type Caption, type CaptionObject } from './clip-caption.js';
import { clearOfBar, drawScene, firstReflection, insideShape, positionAt, type Rect, type Scene, type SceneObject } from './clip-scene.js';
import { CLIP_DEFAULTS, PALETTE, checkClipConfig, clipGeometry, clipLength, type ClipConfig } from './clip-world.js';

export interface ObjectTruth extends CaptionObject {
  /** Speed along each axis it moves on, pixels per frame. */
  speed: number;
  /** Centre per frame (pixel units: column j spans [j, j+1)). */
  x: number[];
  y: number[];
  /** Share of the object's pixels in view per frame (the bar and objects drawn later hide it). */
  visible: number[];
  /** Pixels of the whole object per frame (it varies a little with the sub-pixel position). */
  area: number[];
}

export interface ClipTruth {
  objects: ObjectTruth[];
  occluder: Rect | null;
}

export interface Clip {
  config: ClipConfig;
  /** Float32 [T, H, W, 3] in [−1, 1]. */
  frames: Float32Array;
  caption: string;
  seed: number;
  truth: ClipTruth;
}

/**
 * Share of the frames in which each object must be at least half in view, or the scene is drawn
 * again; clipGeometry gives the other visibility rules (frames seen whole, frames touching), which
 * scale with the clip's length. The detector relies on them.
 */
const MIN_SHARE_OF_FRAMES_SEEN = 0.4;

/** Pixels (row·W + column) of one object in every frame, kept while the object lives: a scene is checked as it grows. */
const objectMasks = new WeakMap<SceneObject, { c: ClipConfig; px: number[][] }>();

function masksOf(o: SceneObject, c: ClipConfig): number[][] {
  const kept = objectMasks.get(o);
  if (kept && kept.c.frames === c.frames && kept.c.height === c.height && kept.c.width === c.width) return kept.px;
  const { radius: r, snapped } = clipGeometry(c);
  const inside = insideShape; // one binding lookup per object, not per pixel
  const out: number[][] = [];
  for (let t = 0; t < c.frames; t++) {
    const [x, y] = positionAt(o, t, c);
    const [cx, cy] = snapped ? [Math.round(x), Math.round(y)] : [x, y];
    const px: number[] = [];
    for (let i = Math.max(0, Math.floor(cy - r - 1)); i < Math.min(c.height, Math.ceil(cy + r + 1)); i++) {
      for (let j = Math.max(0, Math.floor(cx - r - 1)); j < Math.min(c.width, Math.ceil(cx + r + 1)); j++) {
        if (inside(o.shape, j + 0.5 - cx, i + 0.5 - cy, r)) px.push(i * c.width + j);
      }
    }
    out.push(px);
  }
  objectMasks.set(o, { c, px: out });
  return out;
}

/** Pixel masks of every object in every frame: masks[t][k] lists object k's pixels in frame t. */
function masks(scene: Scene, c: ClipConfig): number[][][] {
  const per = scene.objects.map((o) => masksOf(o, c));
  return Array.from({ length: c.frames }, (_, t) => per.map((m) => m[t]));
}

/** Who owns each pixel of frame t, into `own`: −1 background, −2 the bar, k object k (later objects on top). */
function owners(own: Int8Array, frameMasks: number[][], occluder: Rect | null, c: ClipConfig): Int8Array {
  own.fill(-1);
  frameMasks.forEach((px, k) => {
    for (const p of px) own[p] = k;
  });
  if (occluder) {
    for (let i = occluder.y0; i < occluder.y1; i++) own.fill(-2, i * c.width + occluder.x0, i * c.width + occluder.x1);
  }
  return own;
}

/** The ground truth, and for each pair a < b the frames in which b covers part of a. */
function truthOf(scene: Scene, c: ClipConfig, m: number[][][]): { truth: ClipTruth; touching: number[][] } {
  const n = scene.objects.length;
  const objects = scene.objects.map((o): ObjectTruth => ({
    colour: o.colour, shape: o.shape, motion: o.motion,
    speed: Math.max(Math.abs(o.vx), Math.abs(o.vy)), x: [], y: [], visible: [], area: [],
  }));
  const touching = scene.objects.map(() => new Array<number>(n).fill(0));
  const own = new Int8Array(c.height * c.width);
  const covered = new Uint8Array(n);
  for (let t = 0; t < c.frames; t++) {
    owners(own, m[t], scene.occluder, c);
    scene.objects.forEach((o, k) => {
      const [x, y] = positionAt(o, t, c);
      const px = m[t][k];
      covered.fill(0);
      let seen = 0;
      for (const p of px) {
        const q = own[p];
        if (q === k) seen++;
        else if (q >= 0) covered[q] = 1;
      }
      for (let b = k + 1; b < n; b++) touching[k][b] += covered[b];
      objects[k].x.push(x);
      objects[k].y.push(y);
      objects[k].visible.push(px.length ? seen / px.length : 0);
      objects[k].area.push(px.length);
    });
  }
  return { truth: { objects, occluder: scene.occluder }, touching };
}

/**
 * A scene is kept when every object is seen in enough frames, wholly (in view and clear of the
 * bar) in the first frame, in at least minWholeFrames, in the last frame if it moves in a line
 * and around its first reflection if it bounces; and objects rarely touch. Then what each object
 * is and where it goes can be read off the pixels.
 */
function legible(scene: Scene, c: ClipConfig): boolean {
  const g = clipGeometry(c), r = g.radius, bar = scene.occluder;
  // Alone and with nothing to hide behind, an object is always whole: it never leaves the frame.
  if (scene.objects.length === 1 && !bar) return true;
  const { truth, touching } = truthOf(scene, c, masks(scene, c));
  for (const [k, o] of truth.objects.entries()) {
    const whole = o.visible.map((v, t) => v === 1 && (!bar || clearOfBar(o.x[t], r, bar)));
    if (!whole[0] || whole.filter(Boolean).length < g.minWholeFrames) return false;
    if (o.motion !== 'bounces' && !whole[c.frames - 1]) return false;
    if (o.motion === 'bounces' && c.frames > 1) {
      // The two frames either side of a reflection can put the object's box on the same pixels
      // (drawn at whole pixels, or seen in a short clip with its fast steps): then the turn shows
      // only with one more frame on each side. The default size keeps the three frames around
      // the nearest, which have been enough there (and its clips are pinned by tests).
      const at = firstReflection(scene.objects[k], c, r), t = Math.round(at);
      const four = g.snapped || c.frames < 6;
      const around = four ? [Math.floor(at) - 1, Math.floor(at), Math.ceil(at), Math.ceil(at) + 1] : [t - 1, t, t + 1];
      if (!around.every((u) => whole[u])) return false;
    }
    if (o.visible.filter((v) => v >= 0.5).length < MIN_SHARE_OF_FRAMES_SEEN * c.frames) return false;
  }
  return touching.every((row) => row.every((frames) => frames <= g.maxFramesTouching));
}

/** Paint a scene: frames [T, H, W, 3] in [−1, 1]. */
export function renderScene(scene: Scene, c: ClipConfig): { frames: Float32Array; truth: ClipTruth } {
  const m = masks(scene, c);
  const frames = new Float32Array(clipLength(c));
  const hw = c.height * c.width;
  const own = new Int8Array(hw);
  // Colour of owner k at index k + 2 (−2 the bar, −1 the background), in the frames' [−1, 1].
  const colours = [PALETTE.grey, PALETTE.background, ...scene.objects.map((o) => PALETTE[o.colour])].map((rgb) => rgb.map((v) => 2 * v - 1));
  for (let t = 0; t < c.frames; t++) {
    owners(own, m[t], scene.occluder, c);
    for (let p = 0; p < hw; p++) {
      const rgb = colours[own[p] + 2];
      const at = (t * hw + p) * 3;
      frames[at] = rgb[0];
      frames[at + 1] = rgb[1];
      frames[at + 2] = rgb[2];
    }
  }
  return { frames, truth: truthOf(scene, c, m).truth };
}

function clipOf(rng: Rng, seed: number, c: ClipConfig, intent?: Caption): Clip {
  checkClipConfig(c);
  const checks = { object: (o: SceneObject, bar: Rect | null) => legible({ objects: [o], occluder: bar }, c), scene: (s: Scene) => legible(s, c) };
  const scene = drawScene(rng, c, checks, { intent });
  const { frames, truth } = renderScene(scene, c);
  return { config: { ...c }, frames, caption: writeCaption({ objects: scene.objects, occluder: scene.occluder !== null }), seed, truth };
}

/** The clip of one clip seed (any caption the generator makes). */
export function generateClip(seed: number, c: ClipConfig = CLIP_DEFAULTS): Clip {
  return clipOf(new Rng(seed), seed, c);
}

/**
 * A clip that shows what a caption or prompt asks for (objects, motions, the bar), placed at
 * random from `seed`: the reference a perfect model would draw. Refuses what parseCaption refuses.
 */
export function clipFromCaption(text: string, seed: number, c: ClipConfig = CLIP_DEFAULTS): Clip {
  const intent = parseCaption(text);
  const clipSeed = hashString(`caption:${writeCaption(intent)}`, seed);
  return clipOf(new Rng(clipSeed), clipSeed, c, intent);
}

/** Seed of training clip `index` of a run seeded `seed` (always even). */
export function trainClipSeed(seed: number, index: number): number {
  return (hashString(`clip:${index}`, streamSeed(seed, 'clips')) & ~1) >>> 0;
}

/** Fixed forever: changing it changes every run's validation set. */
const VALIDATION_SALT = 0x0c11b5e7;

/** Seed of validation clip `index` (always odd; the same for every run). */
export function validationClipSeed(index: number): number {
  return (hashString(`clip:${index}`, VALIDATION_SALT) | 1) >>> 0;
}

/** The first `n` validation clips: the same for every run, so validation losses compare across runs. */
export function validationClips(n: number, c: ClipConfig = CLIP_DEFAULTS): Clip[] {
  return Array.from({ length: n }, (_, i) => generateClip(validationClipSeed(i), c));
}

/** The endless training stream of a run: clip i is trainClipSeed(seed, i); its state is the cursor. */
export class ClipStream {
  constructor(readonly seed: number, readonly config: ClipConfig = CLIP_DEFAULTS, public cursor = 0) {
    checkClipConfig(config);
  }

  next(): Clip {
    return generateClip(trainClipSeed(this.seed, this.cursor++), this.config);
  }
}

export interface ClipBatch {
  /** Float32 [B, T, H, W, 3] in [−1, 1]. */
  frames: Float32Array;
  /** Int32 [B, CAPTION_LENGTH] word ids. */
  tokens: Int32Array;
  captions: string[];
}

/** Stack clips of one config into a batch. */
export function stackClips(clips: Clip[]): ClipBatch {
  const n = clipLength(clips[0].config);
  const frames = new Float32Array(clips.length * n);
  const encoded = clips.map((c) => encodeCaption(c.caption));
  const tokens = new Int32Array(clips.length * encoded[0].length);
  clips.forEach((c, b) => {
    if (c.frames.length !== n) throw new RangeError('stackClips: clips of different sizes');
    frames.set(c.frames, b * n);
    tokens.set(encoded[b], b * encoded[b].length);
  });
  return { frames, tokens, captions: clips.map((c) => c.caption) };
}
