// A 5×7 bitmap font, capitals, digits and the punctuation of run names and captions, for the
// labels of PNG contact sheets: pngjs draws no text, and a font package would bring a renderer
// and a font file for a few words of legend. Lower case is drawn in capitals; any other
// character as '?'.

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Pixels from one character to the next: the glyph and a column of space. */
const ADVANCE = GLYPH_WIDTH + 1;

/** Each glyph as its 7 rows, top first, '#' a pixel drawn. */
const ROWS: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  0: '.###. #...# #..## #.#.# ##..# #...# .###.',
  1: '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  2: '.###. #...# ....# ...#. ..#.. .#... #####',
  3: '##### ...#. ..#.. ...#. ....# #...# .###.',
  4: '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  5: '##### #.... ####. ....# ....# #...# .###.',
  6: '..##. .#... #.... ####. #...# #...# .###.',
  7: '##### ....# ...#. ..#.. .#... .#... .#...',
  8: '.###. #...# #...# .###. #...# #...# .###.',
  9: '.###. #...# #...# .#### ....# ...#. .##..',
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '_': '..... ..... ..... ..... ..... ..... #####',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '@': '.###. #...# #.### #.#.# #.### #.... .###.',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  "'": '..#.. ..#.. ..... ..... ..... ..... .....',
  '"': '.#.#. .#.#. ..... ..... ..... ..... .....',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
};

/** Each glyph as 7 bytes, bit 4 the leftmost pixel; built once. */
const GLYPHS = new Map(Object.entries(ROWS).map(([ch, rows]) => {
  const bits = rows.split(' ').map((row) => [...row].reduce((b, px) => (b << 1) | (px === '#' ? 1 : 0), 0));
  if (bits.length !== GLYPH_HEIGHT || rows.split(' ').some((r) => r.length !== GLYPH_WIDTH)) throw new Error(`glyph '${ch}' is not ${GLYPH_WIDTH}×${GLYPH_HEIGHT}`);
  return [ch, bits];
}));

/** The glyph a character is drawn with: its own, its capital's, or '?'. */
function glyph(ch: string): number[] {
  return GLYPHS.get(ch) ?? GLYPHS.get(ch.toUpperCase()) ?? GLYPHS.get('?')!;
}

/** Pixels a line of text spans across at `scale` (no space after its last character). */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * ADVANCE - 1) * scale;
}

/** An RGBA image as pngjs holds one. */
export interface Rgba {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Draw one line of text with its top-left corner at (x, y), each font pixel a `scale`×`scale`
 * block of `rgb`; what falls outside the image is left out.
 */
export function drawText(img: Rgba, x: number, y: number, text: string, o: { scale?: number; rgb?: readonly [number, number, number] } = {}): void {
  const scale = o.scale ?? 1, [r, g, b] = o.rgb ?? [255, 255, 255];
  [...text].forEach((ch, k) => {
    const rows = glyph(ch), left = x + k * ADVANCE * scale;
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (!((rows[gy] >> (GLYPH_WIDTH - 1 - gx)) & 1)) continue;
        for (let dy = 0; dy < scale; dy++) {
          const py = y + gy * scale + dy;
          if (py < 0 || py >= img.height) continue;
          for (let dx = 0; dx < scale; dx++) {
            const px = left + gx * scale + dx;
            if (px < 0 || px >= img.width) continue;
            const at = (py * img.width + px) * 4;
            img.data[at] = r; img.data[at + 1] = g; img.data[at + 2] = b; img.data[at + 3] = 255;
          }
        }
      }
    }
  });
}
