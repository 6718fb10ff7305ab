// Reading pixels back into objects: every pixel takes the name of its nearest palette colour, the
// pixels of one colour form blobs (4-connected components), a blob's shape is told from its
// bounding box (how much of the box it fills, and whether it is narrow at the top), and the grey
// bar is whatever stays grey in most frames. Used by the video detector (src/eval/video-detector.ts).
import { PALETTE, PALETTE_NAMES, type ClipConfig, type PaletteName, type Shape } from '../data/clip-world.js';
import type { Rect } from '../data/clip-scene.js';

/** Palette index (PALETTE_NAMES order) of every pixel of every frame: Uint8 [T, H, W]. */
export function labelFrames(frames: Float32Array, c: ClipConfig): Uint8Array {
  const n = c.frames * c.height * c.width;
  if (frames.length !== n * 3) throw new RangeError(`expected ${n * 3} values for [${c.frames}, ${c.height}, ${c.width}, 3] frames, got ${frames.length}`);
  // Palette in the frames' own scale, [−1, 1].
  const pal = PALETTE_NAMES.map((name) => PALETTE[name].map((v) => 2 * v - 1));
  const labels = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const r = frames[3 * p], g = frames[3 * p + 1], b = frames[3 * p + 2];
    let best = 0, bestD = Infinity;
    for (let k = 0; k < pal.length; k++) {
      const d = (r - pal[k][0]) ** 2 + (g - pal[k][1]) ** 2 + (b - pal[k][2]) ** 2;
      if (d < bestD) { bestD = d; best = k; }
    }
    labels[p] = best;
  }
  return labels;
}

export const labelOf = (name: PaletteName): number => PALETTE_NAMES.indexOf(name);

export interface Blob {
  area: number;
  /** Bounding box, pixel units (columns [x0, x1), rows [y0, y1)). */
  box: Rect;
  /** Centre of the bounding box: for every shape of this world it is the shape's own centre. */
  x: number;
  y: number;
  /** Pixels in the top and bottom thirds of the box (a triangle, apex up, is light on top). */
  top: number;
  bottom: number;
  /** How many of the box's four corner pixels are the blob's (a square has all four, a circle none). */
  corners: number;
}

/** The largest 4-connected blob of `label` in frame t, or null when there is none. */
export function largestBlob(labels: Uint8Array, t: number, label: number, c: ClipConfig): Blob | null {
  const hw = c.height * c.width, base = t * hw;
  const seen = new Uint8Array(hw);
  const stack: number[] = [];
  let best: number[] | null = null;
  for (let p = 0; p < hw; p++) {
    if (seen[p] || labels[base + p] !== label) continue;
    const comp: number[] = [];
    seen[p] = 1;
    stack.push(p);
    while (stack.length) {
      const q = stack.pop()!;
      comp.push(q);
      const i = Math.floor(q / c.width), j = q % c.width;
      const visit = (n: number) => {
        if (!seen[n] && labels[base + n] === label) { seen[n] = 1; stack.push(n); }
      };
      if (j > 0) visit(q - 1);
      if (j < c.width - 1) visit(q + 1);
      if (i > 0) visit(q - c.width);
      if (i < c.height - 1) visit(q + c.width);
    }
    if (!best || comp.length > best.length) best = comp;
  }
  return best ? describe(best, c.width) : null;
}

function describe(px: number[], width: number): Blob {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of px) {
    const i = Math.floor(p / width), j = p % width;
    x0 = Math.min(x0, j); x1 = Math.max(x1, j + 1);
    y0 = Math.min(y0, i); y1 = Math.max(y1, i + 1);
  }
  const third = (y1 - y0) / 3;
  let top = 0, bottom = 0;
  for (const p of px) {
    const rowMid = Math.floor(p / width) + 0.5 - y0;
    if (rowMid < third) top++;
    else if (rowMid > 2 * third) bottom++;
  }
  const inBlob = new Set(px);
  const corners = [[y0, x0], [y0, x1 - 1], [y1 - 1, x0], [y1 - 1, x1 - 1]].filter(([i, j]) => inBlob.has(i * width + j)).length;
  return { area: px.length, box: { x0, x1, y0, y1 }, x: (x0 + x1) / 2, y: (y0 + y1) / 2, top, bottom, corners };
}

/** A triangle's top third holds well under its bottom third's pixels; the others are symmetric. */
const TRIANGLE_TOP_BOTTOM = 0.6;
/** A square fills its box; a circle fills about π/4 of it, but drawn this small up to 0.9. */
const SQUARE_FILL = 0.92;
const SQUARE_FILL_WITH_CORNERS = 0.8;

/** The shape a whole (unhidden) blob looks like: narrow on top is a triangle; a full box, or a nearly full one with its corners, a square. */
export function classifyShape(b: Blob): Shape {
  const w = b.box.x1 - b.box.x0, h = b.box.y1 - b.box.y0;
  if (b.top < TRIANGLE_TOP_BOTTOM * b.bottom) return 'triangle';
  const fill = b.area / (w * h);
  return fill >= SQUARE_FILL || (fill >= SQUARE_FILL_WITH_CORNERS && b.corners >= 3) ? 'square' : 'circle';
}

/**
 * The occluder: the bounding box of the largest blob of pixels that are grey in at least half the
 * frames, if it is at least as large as a quarter of the frame's side squared (a real bar is a
 * full-height column); null when the clip has none.
 */
export function findOccluder(labels: Uint8Array, c: ClipConfig): Rect | null {
  const hw = c.height * c.width, grey = labelOf('grey');
  const mostly = new Uint8Array(hw);
  for (let p = 0; p < hw; p++) {
    let n = 0;
    for (let t = 0; t < c.frames; t++) if (labels[t * hw + p] === grey) n++;
    mostly[p] = n * 2 >= c.frames ? 1 : 0;
  }
  const blob = largestBlob(mostly, 0, 1, { ...c, frames: 1 });
  const side = Math.min(c.height, c.width);
  return blob && blob.area >= (side * side) / 16 ? blob.box : null;
}
