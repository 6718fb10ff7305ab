// Pictures of clips: an animated GIF of one clip and a PNG contact sheet of several (one clip per
// row, its frames left to right), for `scalelab video` and the dashboard's gallery. Encoding is
// left to small, long-used packages: omggif (GIF) and pngjs (PNG). Files are written atomically;
// a path that cannot be written is a one-line UsageError.
//
// Frames are float32 [T, H, W, 3] in [−1, 1] (src/data/clips.ts); value v is byte (v + 1)·127.5.
import omggif from 'omggif';
import pngjs from 'pngjs';
import { writeFileAtomic } from './atomic-file.js';
import { PALETTE, PALETTE_NAMES, clipLength, type ClipConfig } from './clip-world.js';

const toByte = (v: number) => Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));

function checkFrames(frames: Float32Array, c: ClipConfig): void {
  if (frames.length !== clipLength(c)) throw new RangeError(`expected ${clipLength(c)} values for a ${c.frames}×${c.height}×${c.width} clip, got ${frames.length}`);
}

/**
 * The GIF palette (256 RGB colours): the clip world's palette exactly, so a clean clip keeps its
 * colours, then a 6×6×6 colour cube and greys for whatever a model paints in between.
 */
function gifPalette(): number[][] {
  const colours = PALETTE_NAMES.map((n) => PALETTE[n].map((v) => Math.round(v * 255)));
  const steps = [0, 51, 102, 153, 204, 255];
  for (const r of steps) for (const g of steps) for (const b of steps) colours.push([r, g, b]);
  for (let i = 0; colours.length < 256; i++) {
    const v = Math.round((i + 0.5) * (255 / 33));
    colours.push([v, v, v]);
  }
  return colours;
}

let lookup: { palette: number[]; index: Uint8Array; exact: Map<number, number> } | null = null;

/** Nearest palette entry of every colour at 5 bits per channel, and the world's colours exactly; built once. */
function gifLookup(): { palette: number[]; index: Uint8Array; exact: Map<number, number> } {
  if (lookup) return lookup;
  const colours = gifPalette();
  const index = new Uint8Array(1 << 15);
  for (let q = 0; q < 1 << 15; q++) {
    const r = ((q >> 10) & 31) * 8 + 4, g = ((q >> 5) & 31) * 8 + 4, b = (q & 31) * 8 + 4;
    let best = 0, bestD = Infinity;
    colours.forEach(([pr, pg, pb], k) => {
      const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
      if (d < bestD) { bestD = d; best = k; }
    });
    index[q] = best;
  }
  const palette = colours.map(([r, g, b]) => (r << 16) | (g << 8) | b);
  const exact = new Map(PALETTE_NAMES.map((_, k) => [palette[k], k]));
  lookup = { palette, index, exact };
  return lookup;
}

export interface GifOptions {
  /** Pixels per clip pixel (nearest neighbour), default 4: a 32×32 clip becomes 128×128. */
  scale?: number;
  /** Milliseconds per frame, default 100 (GIF counts in hundredths of a second). */
  frameMs?: number;
}

/** The bytes of an animated, looping GIF of one clip. */
export function clipGif(frames: Float32Array, c: ClipConfig, o: GifOptions = {}): Uint8Array {
  checkFrames(frames, c);
  const scale = o.scale ?? 4, delay = Math.max(1, Math.round((o.frameMs ?? 100) / 10));
  const { palette, index, exact } = gifLookup();
  const w = c.width * scale, h = c.height * scale;
  // Uncompressed size bounds LZW output well enough; a little more for headers and the palette.
  const buf = new Uint8Array(c.frames * (w * h * 2 + 1024) + 4096);
  const writer = new omggif.GifWriter(buf, w, h, { palette, loop: 0 });
  const pixels = new Array<number>(w * h);
  for (let t = 0; t < c.frames; t++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const at = ((t * c.height + Math.floor(y / scale)) * c.width + Math.floor(x / scale)) * 3;
        const r = toByte(frames[at]), g = toByte(frames[at + 1]), b = toByte(frames[at + 2]);
        pixels[y * w + x] = exact.get((r << 16) | (g << 8) | b) ?? index[((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)];
      }
    }
    writer.addFrame(0, 0, w, h, pixels, { delay });
  }
  return buf.slice(0, writer.end());
}

/** Write a clip as an animated GIF, atomically. */
export function writeClipGif(file: string, frames: Float32Array, c: ClipConfig, o: GifOptions = {}): void {
  writeFileAtomic(file, clipGif(frames, c, o));
}

export interface SheetOptions {
  /** Pixels per clip pixel, default 2. */
  scale?: number;
  /** Every how many frames a column is drawn, default 1 (all of them). */
  frameStep?: number;
  /** Pixels between cells, default 2, in dark grey. */
  gap?: number;
}

/** The bytes of a PNG contact sheet: clip i is row i, its frames 0, step, 2·step, … its columns. */
export function contactSheet(clips: readonly Float32Array[], c: ClipConfig, o: SheetOptions = {}): Uint8Array {
  if (clips.length === 0) throw new RangeError('a contact sheet needs at least one clip');
  clips.forEach((f) => checkFrames(f, c));
  const scale = o.scale ?? 2, step = o.frameStep ?? 1, gap = o.gap ?? 2;
  const shown = Array.from({ length: Math.ceil(c.frames / step) }, (_, k) => k * step);
  const cw = c.width * scale, ch = c.height * scale;
  const width = shown.length * (cw + gap) + gap, height = clips.length * (ch + gap) + gap;
  const png = new pngjs.PNG({ width, height });
  png.data.fill(0x40);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  clips.forEach((frames, row) => {
    shown.forEach((t, col) => {
      const ox = gap + col * (cw + gap), oy = gap + row * (ch + gap);
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const at = ((t * c.height + Math.floor(y / scale)) * c.width + Math.floor(x / scale)) * 3;
          const out = ((oy + y) * width + ox + x) * 4;
          png.data[out] = toByte(frames[at]);
          png.data[out + 1] = toByte(frames[at + 1]);
          png.data[out + 2] = toByte(frames[at + 2]);
        }
      }
    });
  });
  return pngjs.PNG.sync.write(png);
}

/** Write a contact sheet PNG, atomically. */
export function writeContactSheet(file: string, clips: readonly Float32Array[], c: ClipConfig, o: SheetOptions = {}): void {
  writeFileAtomic(file, contactSheet(clips, c, o));
}
