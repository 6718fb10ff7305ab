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

/** Sizes and speeds derived from a clip's dimensions, shared by the generator and the detector. */
export interface ClipGeometry {
  /** Half the side of an object's bounding box, in pixels. */
  radius: number;
  /** Width of the occluding bar: as wide as an object, so it can hide most of one. */
  occluderWidth: number;
  /** Speeds (pixels per frame) of objects that move left, right, up or down. */
  linearSpeeds: readonly number[];
  /** Speed of a bouncing object along each axis it moves on. */
  bounceSpeed: number;
}

export function clipGeometry(c: ClipConfig): ClipGeometry {
  const side = Math.min(c.height, c.width);
  const radius = Math.max(2, Math.round(side / 8));
  // A linear mover must stay inside the frame for the whole clip: its travel (T−1)·speed fits in
  // the span of centres, W − 2r, less a pixel of margin. Long clips therefore move slower.
  const room = (side - 2 * radius - 1) / Math.max(1, c.frames - 1);
  const linearSpeeds = [1, 1.5].map((s) => Math.min(s, room));
  return { radius, occluderWidth: 2 * radius, linearSpeeds, bounceSpeed: Math.max(2, radius / 2) };
}

export function checkClipConfig(c: ClipConfig): void {
  for (const k of ['frames', 'height', 'width'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new RangeError(`clip ${k} must be a positive integer, got ${c[k]}`);
  }
  if (Math.min(c.height, c.width) < 16) throw new RangeError(`clips need at least 16×16 pixels to hold their objects, got ${c.height}×${c.width}`);
}

/** Elements of one clip's frames: layout [T, H, W, 3], channels RGB, values in [−1, 1]. */
export function clipLength(c: ClipConfig): number {
  return c.frames * c.height * c.width * 3;
}
