// The world of the procedural clips (src/data/clips.ts): what can be in a clip and how big it is.
// Shapes, colours and motions are closed sets, so captions have a fixed vocabulary, a prompt can
// be checked word by word, and the detector (src/eval/video-detector.ts) can read any frame with
// the same palette the generator painted with.
//
// Geometry: a pixel (row i, column j) covers [j, j+1) × [i, i+1); positions are in those units, so
// an object's centre x lies in [r, W − r] when the whole object is inside the frame.

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type Shape = (typeof SHAPES)[number];

/** The objects' colours (the background and the occluder are not among them). */
export const COLOURS = ['red', 'green', 'blue', 'yellow', 'white'] as const;
export type Colour = (typeof COLOURS)[number];

export const MOTIONS = ['left', 'right', 'up', 'down', 'bounces'] as const;
export type Motion = (typeof MOTIONS)[number];

/** A palette entry's name: an object colour, the background or the occluder. */
export type PaletteName = Colour | 'background' | 'grey';

/** RGB in [0, 1]. Saturated and far apart, so nearest-colour reading of a blurry sample is stable. */
export const PALETTE: Readonly<Record<PaletteName, readonly [number, number, number]>> = {
  background: [0, 0, 0],
  grey: [0.5, 0.5, 0.5],
  red: [1, 0, 0],
  green: [0, 1, 0],
  blue: [0, 0.25, 1],
  yellow: [1, 1, 0],
  white: [1, 1, 1],
};

/** Palette names in a fixed order: index k is label k of the detector's colour map. */
export const PALETTE_NAMES: readonly PaletteName[] = ['background', 'grey', ...COLOURS];

/** At most this many objects in a clip (a prompt that asks for more is refused). */
export const MAX_OBJECTS = 3;

export interface ClipConfig {
  /** Frames per clip. */
  frames: number;
  height: number;
  width: number;
}

export const CLIP_DEFAULTS: Readonly<ClipConfig> = { frames: 16, height: 32, width: 32 };

/**
 * Supported clip sizes: height and width from MIN_SIDE to MAX_SIDE; one frame (an image), or from
 * MIN_FRAMES (a bounce needs a frame before, at and after the wall) to maxFrames(side), where an
 * object that moves left, right, up or down across the whole clip still goes MIN_LINEAR_SPEED
 * pixels a frame (slower, and the detector's pixel boxes cannot tell motion from snapping): 17
 * frames at 16×16, 26 at 24×24, 35 at 32×32, 71 at 64×64. Every such size yields clips the detector
 * reads perfectly. The grey bar is drawn where an object can pass wholly behind it and out with
 * enough frames in view (clipGeometry's occluderWidth, 0 where it cannot): at 16, 24, 32 and 64
 * pixels in clips of 5 frames or more; at sides of 17 to 23 pixels from 6 or 7 frames.
 */
export const MIN_SIDE = 16;
export const MAX_SIDE = 64;
export const MIN_FRAMES = 4;
export const MIN_LINEAR_SPEED = 2 / 3;

/** Pixels between an object's box and the bar when it is "wholly clear" of it (the detector sees a box that touches the bar as perhaps partly hidden). */
export const CLEARANCE = 1;

/** Sizes, speeds and visibility rules derived from a clip's dimensions, shared by the generator and the detector. */
export interface ClipGeometry {
  /** Half the side of an object's bounding box, in pixels. */
  radius: number;
  /**
   * Width of the occluding bar: as wide as an object where a crossing fits, so it can hide most of
   * one; narrower (down to radius + 1, still more than half an object) in clips too short or
   * narrow for that; 0 where no bar fits at all.
   */
  occluderWidth: number;
  /** Speeds (pixels per frame) of objects that move left, right, up or down. */
  linearSpeeds: readonly number[];
  /** Speed of a bouncing object along each axis it moves on. */
  bounceSpeed: number;
  /** Frames in which each object must be seen whole (in view, uncovered, clear of the bar). */
  minWholeFrames: number;
  /** Frames in which one object may cover part of another. */
  maxFramesTouching: number;
  /**
   * Objects are drawn at whole-pixel centres (their paths stay exact): below SNAP_BELOW_RADIUS a
   * shape drawn at a sub-pixel offset stops looking like itself (a circle of radius 2 can cover a
   * 4×3 block of pixels and one of radius 3 a 6×5 block, both read as squares; a triangle of
   * radius 2 covers 6 to 10 pixels).
   */
  snapped: boolean;
}

/** Objects smaller than this radius are drawn at whole-pixel centres (ClipGeometry.snapped). */
export const SNAP_BELOW_RADIUS = 4;

/** Frame steps and side of the default clip: a shorter clip moves its objects as far in fewer, faster steps, a larger one as far across the frame. */
const REFERENCE_STEPS = CLIP_DEFAULTS.frames - 1;
const REFERENCE_SIDE = Math.min(CLIP_DEFAULTS.height, CLIP_DEFAULTS.width);

/** Span of centres a linear mover can travel in a clip, less a pixel of margin, per frame step. */
function room(side: number, radius: number, frames: number): number {
  return (side - 2 * radius - 1) / Math.max(1, frames - 1);
}

const radiusOf = (side: number) => Math.max(2, Math.floor(side / 8));

/** Most frames a clip with this shorter side supports (see MIN_SIDE). */
export function maxFrames(side: number): number {
  return Math.floor(1 + (side - 2 * radiusOf(side) - 1) / MIN_LINEAR_SPEED + 1e-9);
}

/**
 * Whether an object moving at speed v can cross a bar of width w: travel from wholly clear on one
 * side to wholly clear on the other (w + 2(r + CLEARANCE) pixels), that span inside the frame, in
 * steps shorter than the bar less a pixel (so some frame has it more than half hidden), and seen
 * whole in at least minWhole frames at a good start (floor(L / v) frames fall inside an open span
 * of length L, for all but a set of starts of measure zero).
 */
function crossingFits(c: ClipConfig, r: number, w: number, v: number, minWhole: number): boolean {
  const span = w + 2 * (r + CLEARANCE);
  return span + 2 * r <= c.width && v < w - 1 && v * (c.frames - 1) >= span && c.frames - Math.floor(span / v) >= minWhole;
}

/** Geometries already worked out, by clip size: the generator asks for one per object, mask and check. */
const geometries = new Map<string, Readonly<ClipGeometry>>();

export function clipGeometry(c: ClipConfig): Readonly<ClipGeometry> {
  const key = `${c.frames}x${c.height}x${c.width}`;
  let g = geometries.get(key);
  if (!g) geometries.set(key, (g = Object.freeze(geometryOf(c))));
  return g;
}

function geometryOf(c: ClipConfig): ClipGeometry {
  const side = Math.min(c.height, c.width);
  const radius = radiusOf(side);
  // A linear mover goes as far over the clip as in the default's 16 frames (and in frames larger
  // than the default's, as far across the frame), and stays inside the frame for the whole clip:
  // its travel (T−1)·speed fits in the span of centres, W − 2r, less a pixel of margin. Long clips
  // therefore move slower, short ones faster.
  const steps = Math.max(1, c.frames - 1);
  const faster = Math.max(1, REFERENCE_STEPS / steps) * Math.max(1, side / REFERENCE_SIDE);
  const linearSpeeds = [1, 1.5].map((s) => Math.min(s * faster, room(side, radius, c.frames)));
  // 4 whole frames in clips of 14 frames or more (a physics fit needs 4 points), fewer in shorter
  // clips, never fewer than 2 (a direction needs 2).
  const minWholeFrames = Math.min(c.frames, Math.max(2, Math.min(4, Math.round(c.frames / 4))));
  const maxFramesTouching = Math.max(1, Math.round(c.frames / 8));
  let occluderWidth = 0;
  for (let w = 2 * radius; w > radius && occluderWidth === 0; w--) {
    if (linearSpeeds.some((v) => crossingFits(c, radius, w, v, minWholeFrames))) occluderWidth = w;
  }
  return { radius, occluderWidth, linearSpeeds, bounceSpeed: Math.max(2, radius / 2), minWholeFrames, maxFramesTouching, snapped: radius < SNAP_BELOW_RADIUS };
}

/** Whether an object can cross the bar at speed v in a clip of this size (the generator picks such a speed for the object that crosses). */
export function crossesAt(c: ClipConfig, v: number): boolean {
  const g = clipGeometry(c);
  return g.occluderWidth > 0 && crossingFits(c, g.radius, g.occluderWidth, v, g.minWholeFrames);
}

/** Refuse an unsupported clip size, one line naming the range (RangeError; callers turn it into a usage error). */
export function checkClipConfig(c: ClipConfig): void {
  for (const k of ['frames', 'height', 'width'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new RangeError(`clip ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.frames > 1 && c.frames < MIN_FRAMES) throw new RangeError(`clips hold 1 frame (an image) or ${MIN_FRAMES} and more (a bounce needs frames before and after the wall), got ${c.frames}`);
  const side = Math.min(c.height, c.width);
  if (side < MIN_SIDE) throw new RangeError(`clips need at least ${MIN_SIDE}×${MIN_SIDE} pixels to hold their objects, got ${c.height}×${c.width}`);
  if (Math.max(c.height, c.width) > MAX_SIDE) throw new RangeError(`clips are at most ${MAX_SIDE}×${MAX_SIDE} pixels, got ${c.height}×${c.width}`);
  if (c.frames > maxFrames(side)) {
    throw new RangeError(`clips of ${c.height}×${c.width} pixels hold at most ${maxFrames(side)} frames (objects that cross a longer clip would move under ${MIN_LINEAR_SPEED.toFixed(2)} pixels a frame), got ${c.frames}; use fewer frames or larger ones`);
  }
}

/** Elements of one clip's frames: layout [T, H, W, 3], channels RGB, values in [−1, 1]. */
export function clipLength(c: ClipConfig): number {
  return c.frames * c.height * c.width * 3;
}
