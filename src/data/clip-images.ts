// Pictures of clips: an animated GIF of one clip and a PNG contact sheet of several (one clip per
// row, its frames left to right), for `scalelab video` and the dashboard's gallery; a labelled
// sheet comparing runs on the same prompts and seeds (`scalelab eval-video A B C --sheet`); and a user's
// animated GIF read back into frames, for extending it (`scalelab video --from clip.gif`).
// Encoding and decoding are left to small, long-used packages: omggif (GIF) and pngjs (PNG).
// Files are written atomically; a path that cannot be written, or a GIF that cannot be read or
// does not fit the clip, is a one-line UsageError.
//
// Frames are float32 [T, H, W, 3] in [−1, 1] (src/data/clips.ts); value v is byte (v + 1)·127.5.
import fs from 'node:fs';
import omggif from 'omggif';
import pngjs from 'pngjs';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../atomic-file.js';
import { GLYPH_HEIGHT, drawText, textWidth } from './bitmap-font.js';
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

export interface GifFrames {
  /** Float32 [T, H, W, 3] in [−1, 1]: the GIF's first min(count, T) frames, any after them background. */
  frames: Float32Array;
  /** Frames in the GIF. */
  count: number;
  /** GIF pixels per clip pixel along each side (4 for what `scalelab video` writes). */
  scale: number;
}

const READ_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** Read an animated GIF into a clip's frames (see decodeClipGif); a file that cannot be read is a one-line UsageError. */
export function readClipGif(file: string, c: ClipConfig): GifFrames {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(`cannot read the GIF '${file}': ${READ_REASONS[code] ?? (err as Error).message}`);
  }
  return decodeClipGif(bytes, c, `'${file}'`);
}

/**
 * The frames of an animated GIF as a clip of size `c`: the GIF must be the clip's size, or a whole
 * multiple of it (each block of scale × scale pixels is averaged, so the enlarged GIFs `scalelab
 * video` writes come back exactly). Frames are composed as a viewer shows them (a frame may cover
 * part of the screen and say how it is cleared before the next); transparent pixels are the
 * background, black. `name` is how errors call the file.
 */
export function decodeClipGif(bytes: Uint8Array, c: ClipConfig, name = 'the GIF'): GifFrames {
  let gif: InstanceType<typeof omggif.GifReader>;
  try {
    gif = new omggif.GifReader(bytes);
  } catch (err) {
    throw new UsageError(`${name} is not a readable GIF (${(err as Error).message.replace(/\.$/, '')})`);
  }
  const count = gif.numFrames();
  if (count === 0) throw new UsageError(`${name} holds no frames (a cut-off or empty GIF)`);
  const w = gif.width, h = gif.height, scale = w / c.width;
  if (!Number.isInteger(scale) || scale < 1 || h !== scale * c.height) {
    throw new UsageError(`${name} is ${w}×${h} pixels; this model makes clips of ${c.width}×${c.height} (give a GIF of that size or a whole multiple of it, such as the ${4 * c.width}×${4 * c.height} that scalelab video writes)`);
  }
  // The world's own colours come back exactly (the writer stores them as the nearest bytes).
  const exact = new Map(PALETTE_NAMES.map((n) => {
    const rgb = PALETTE[n];
    return [rgb.reduce((key, v) => key * 256 + Math.round(v * 255), 0), rgb.map((v) => 2 * v - 1)];
  }));
  const frames = new Float32Array(clipLength(c)).fill(-1);
  const screen = new Uint8Array(w * h * 4);
  const sum = [0, 0, 0];
  let saved: Uint8Array | null = null;
  const hw = c.height * c.width, block = scale * scale;
  for (let t = 0; t < Math.min(count, c.frames); t++) {
    const info = gif.frameInfo(t);
    if (info.palette_offset === null || info.x + info.width > w || info.y + info.height > h) {
      throw new UsageError(`${name} is not a readable GIF (frame ${t + 1} has no palette or lies outside the screen)`);
    }
    // What the frame before asked for once shown: 2 clears its rectangle, 3 restores the screen under it.
    if (t > 0) {
      const prev = gif.frameInfo(t - 1);
      if (prev.disposal === 2) for (let y = prev.y; y < prev.y + prev.height; y++) screen.fill(0, (y * w + prev.x) * 4, (y * w + prev.x + prev.width) * 4);
      if (prev.disposal === 3 && saved) screen.set(saved);
    }
    saved = info.disposal === 3 ? screen.slice() : null;
    gif.decodeAndBlitFrameRGBA(t, screen);
    for (let i = 0; i < c.height; i++) {
      for (let j = 0; j < c.width; j++) {
        const at = (t * hw + i * c.width + j) * 3;
        sum.fill(0);
        for (let y = i * scale; y < (i + 1) * scale; y++) {
          for (let x = j * scale; x < (j + 1) * scale; x++) for (let ch = 0; ch < 3; ch++) sum[ch] += screen[(y * w + x) * 4 + ch];
        }
        const byte = sum.map((v) => v / block);
        const known = byte.every(Number.isInteger) ? exact.get((byte[0] * 256 + byte[1]) * 256 + byte[2]) : undefined;
        for (let ch = 0; ch < 3; ch++) frames[at + ch] = known ? known[ch] : byte[ch] / 127.5 - 1;
      }
    }
  }
  return { frames, count, scale };
}

export interface SheetOptions {
  /** Pixels per clip pixel, default 2. */
  scale?: number;
  /** Every how many frames a column is drawn, default 1 (all of them). */
  frameStep?: number;
  /** Pixels between cells, default 2, in dark grey. */
  gap?: number;
}

/** The frames a sheet shows of a clip: 0, step, 2·step, … */
const shownFrames = (c: ClipConfig, step: number) => Array.from({ length: Math.ceil(c.frames / step) }, (_, k) => k * step);

/** An opaque sheet of `width`×`height` pixels in the gaps' dark grey. */
function blankSheet(width: number, height: number): pngjs.PNG {
  const png = new pngjs.PNG({ width, height });
  png.data.fill(0x40);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  return png;
}

/** Paint a clip's shown frames left to right from (ox, oy), `gap` pixels apart, each clip pixel `scale`×`scale`. */
function paintClip(png: pngjs.PNG, frames: Float32Array, c: ClipConfig, shown: readonly number[], ox0: number, oy: number, scale: number, gap: number): void {
  const cw = c.width * scale, ch = c.height * scale;
  shown.forEach((t, col) => {
    const ox = ox0 + col * (cw + gap);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const at = ((t * c.height + Math.floor(y / scale)) * c.width + Math.floor(x / scale)) * 3;
        const out = ((oy + y) * png.width + ox + x) * 4;
        png.data[out] = toByte(frames[at]);
        png.data[out + 1] = toByte(frames[at + 1]);
        png.data[out + 2] = toByte(frames[at + 2]);
      }
    }
  });
}

/** The bytes of a PNG contact sheet: clip i is row i, its frames 0, step, 2·step, … its columns. */
export function contactSheet(clips: readonly Float32Array[], c: ClipConfig, o: SheetOptions = {}): Uint8Array {
  if (clips.length === 0) throw new RangeError('a contact sheet needs at least one clip');
  clips.forEach((f) => checkFrames(f, c));
  const scale = o.scale ?? 2, gap = o.gap ?? 2;
  const shown = shownFrames(c, o.frameStep ?? 1);
  const cw = c.width * scale, ch = c.height * scale;
  const png = blankSheet(shown.length * (cw + gap) + gap, clips.length * (ch + gap) + gap);
  clips.forEach((frames, row) => paintClip(png, frames, c, shown, gap, gap + row * (ch + gap), scale, gap));
  return pngjs.PNG.sync.write(png);
}

/** One row of a labelled sheet: a clip and the lines of text drawn left of it. */
export interface SheetRow {
  frames: Float32Array;
  label: readonly string[];
}

/** Rows shown together under a title (the same prompt and seed, drawn by several runs). */
export interface SheetGroup {
  title: string;
  rows: readonly SheetRow[];
}

/** Pixels between text and what surrounds it. */
const TEXT_PAD = 4;
const TITLE_RGB = [255, 255, 255] as const;
const LABEL_RGB = [200, 200, 200] as const;

/**
 * The bytes of a PNG comparison sheet: for each group its title across the sheet, then its rows,
 * each clip's frames left to right after a column of labels (the built-in 5×7 font, bitmap-font.ts,
 * at twice its size where a row has room for the lines, else at its own).
 */
export function labelledSheet(groups: readonly SheetGroup[], c: ClipConfig, o: SheetOptions = {}): Uint8Array {
  const rows = groups.flatMap((g) => g.rows);
  if (rows.length === 0) throw new RangeError('a contact sheet needs at least one clip');
  rows.forEach((r) => checkFrames(r.frames, c));
  const scale = o.scale ?? 2, gap = o.gap ?? 2;
  const shown = shownFrames(c, o.frameStep ?? 1);
  const cw = c.width * scale, ch = c.height * scale;
  const lines = Math.max(1, ...rows.map((r) => r.label.length));
  const lineGap = 2;
  const fit = (fs: number) => lines * GLYPH_HEIGHT * fs + (lines - 1) * lineGap <= ch;
  const fs = fit(2) ? 2 : 1;
  const labelW = Math.max(0, ...rows.flatMap((r) => r.label.map((l) => textWidth(l, fs)))) + 2 * TEXT_PAD;
  const width = labelW + shown.length * (cw + gap) + gap;
  // A title too long for the sheet at the labels' size is drawn at the font's own.
  const ts = groups.every((g) => textWidth(g.title, fs) + 2 * TEXT_PAD <= width) ? fs : 1;
  const titleH = GLYPH_HEIGHT * ts + 2 * TEXT_PAD;
  const height = groups.length * titleH + rows.length * (ch + gap);
  const png = blankSheet(width, height);
  let y = 0;
  for (const g of groups) {
    drawText(png, TEXT_PAD, y + TEXT_PAD, g.title, { scale: ts, rgb: TITLE_RGB });
    y += titleH;
    for (const r of g.rows) {
      paintClip(png, r.frames, c, shown, labelW + gap, y, scale, gap);
      const textH = r.label.length * GLYPH_HEIGHT * fs + Math.max(0, r.label.length - 1) * lineGap;
      const top = y + Math.floor((ch - textH) / 2);
      r.label.forEach((l, k) => drawText(png, TEXT_PAD, top + k * (GLYPH_HEIGHT * fs + lineGap), l, { scale: fs, rgb: LABEL_RGB }));
      y += ch + gap;
    }
  }
  return pngjs.PNG.sync.write(png);
}

/** Write a labelled comparison sheet PNG, atomically. */
export function writeLabelledSheet(file: string, groups: readonly SheetGroup[], c: ClipConfig, o: SheetOptions = {}): void {
  writeFileAtomic(file, labelledSheet(groups, c, o));
}

/** Write a contact sheet PNG, atomically. */
export function writeContactSheet(file: string, clips: readonly Float32Array[], c: ClipConfig, o: SheetOptions = {}): void {
  writeFileAtomic(file, contactSheet(clips, c, o));
}
