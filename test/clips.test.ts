// Procedural clips: deterministic from the seed, the ground truth agrees with the pixels, captions
// round-trip through the parser and the word ids, bad prompts are refused in one line, and the GIF
// and PNG writers produce files that decode back to the clip.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import omggif from 'omggif';
import pngjs from 'pngjs';
import { ClipStream, clipFromCaption, generateClip, stackClips, trainClipSeed, validationClipSeed, validationClips, type Clip } from '../src/data/clips.js';
import { CAPTION_LENGTH, CAPTION_VOCAB, decodeCaption, encodeCaption, parseCaption, writeCaption } from '../src/data/clip-caption.js';
import { CLIP_DEFAULTS, MIN_FRAMES, PALETTE, clipGeometry, clipLength, maxFrames, type ClipConfig } from '../src/data/clip-world.js';
import { barFits } from '../src/data/clip-scene.js';
import { clipGif, contactSheet, decodeClipGif, readClipGif, writeClipGif, writeContactSheet } from '../src/data/clip-images.js';
import { assertClose, assertUsageError } from './helpers.js';

const assertCloseTo = (a: number[], b: number[]) => assertClose(a, b, 0, 1e-6);

/** The sizes small models train at. */
const SMALL: ClipConfig[] = [{ frames: 8, height: 16, width: 16 }, { frames: 16, height: 16, width: 16 }, { frames: 8, height: 32, width: 32 }];
const size = (c: ClipConfig) => `${c.frames}×${c.height}×${c.width}`;

const streamClips = (seed: number, n: number, c?: ClipConfig) => {
  const s = new ClipStream(seed, c);
  return Array.from({ length: n }, () => s.next());
};

/** Pixels of frame t that have exactly this palette colour. */
function colourPixels(clip: Clip, t: number, rgb: readonly number[]): number[] {
  const { height, width } = clip.config, hw = height * width, out: number[] = [];
  for (let p = 0; p < hw; p++) {
    const at = (t * hw + p) * 3;
    if ([0, 1, 2].every((ch) => clip.frames[at + ch] === 2 * rgb[ch] - 1)) out.push(p);
  }
  return out;
}

describe('procedural clips', () => {
  it('are a function of the seed; a stream resumes from its cursor', () => {
    const a = streamClips(3, 6), b = streamClips(3, 6);
    a.forEach((clip, i) => {
      assert.deepEqual(clip.frames, b[i].frames);
      assert.equal(clip.caption, b[i].caption);
    });
    const resumed = new ClipStream(3, CLIP_DEFAULTS, 4).next();
    assert.deepEqual(resumed.frames, a[4].frames);
    assert.notDeepEqual(streamClips(4, 1)[0].frames, a[0].frames);
  });

  it('draw training and validation clips from disjoint seeds; validation is the same for every run', () => {
    for (let i = 0; i < 200; i++) {
      assert.equal(trainClipSeed(1, i) % 2, 0);
      assert.equal(validationClipSeed(i) % 2, 1);
    }
    const v1 = validationClips(3), v2 = validationClips(3);
    v1.forEach((c, i) => assert.deepEqual(c.frames, v2[i].frames));
  });

  it('are float32 [T, H, W, 3] in [−1, 1], in any size', () => {
    for (const c of [CLIP_DEFAULTS, { frames: 8, height: 24, width: 20 }, { frames: 1, height: 16, width: 16 }]) {
      for (const clip of streamClips(2, 5, c)) {
        assert.equal(clip.frames.length, clipLength(c));
        assert.ok(clip.frames.every((v) => v >= -1 && v <= 1));
        assert.equal(clip.truth.objects[0].x.length, c.frames);
      }
    }
  });

  it('hold one to three objects of distinct colours, the bar in some', () => {
    const clips = streamClips(5, 200);
    const counts = [0, 0, 0, 0];
    for (const c of clips) {
      counts[c.truth.objects.length]++;
      assert.equal(new Set(c.truth.objects.map((o) => o.colour)).size, c.truth.objects.length);
    }
    assert.ok(counts[1] > 30 && counts[2] > 30 && counts[3] > 30, `object counts ${counts}`);
    const barred = clips.filter((c) => c.truth.occluder).length;
    assert.ok(barred > 30 && barred < 100, `${barred} of 200 clips have the bar`);
  });

  for (const c of [CLIP_DEFAULTS, ...SMALL]) it(`ground truth agrees with the pixels at ${size(c)}: each object's visible share, position and motion`, () => {
    const r = clipGeometry(c).radius;
    for (const clip of streamClips(6, 60, c)) {
      for (const o of clip.truth.objects) {
        for (let t = 0; t < clip.config.frames; t++) {
          const px = colourPixels(clip, t, PALETTE[o.colour]);
          assert.equal(px.length, Math.round(o.visible[t] * o.area[t]), `${clip.caption}: ${o.colour} pixels in frame ${t}`);
          if (o.visible[t] === 1) {
            const cols = px.map((p) => p % clip.config.width);
            const middle = (Math.min(...cols) + Math.max(...cols) + 1) / 2;
            assert.ok(Math.abs(middle - o.x[t]) <= 0.5, `${clip.caption}: ${o.colour} box centre ${middle}, truth ${o.x[t]}`);
          }
          assert.ok(o.x[t] >= r && o.x[t] <= clip.config.width - r && o.y[t] >= r && o.y[t] <= clip.config.height - r);
        }
        const T = clip.config.frames - 1;
        const dx = o.x[T] - o.x[0], dy = o.y[T] - o.y[0];
        const expected = { right: [o.speed * T, 0], left: [-o.speed * T, 0], down: [0, o.speed * T], up: [0, -o.speed * T] } as const;
        if (o.motion === 'bounces') {
          const steps = o.x.slice(1).map((x, t) => [x - o.x[t], o.y[t + 1] - o.y[t]]);
          const reverses = steps.slice(1).some(([sx, sy], t) => sx * steps[t][0] < 0 || sy * steps[t][1] < 0);
          assert.ok(reverses, `${clip.caption}: the bouncing ${o.colour} ${o.shape} never turns`);
        } else {
          assert.ok(Math.abs(dx - expected[o.motion][0]) < 1e-9 && Math.abs(dy - expected[o.motion][1]) < 1e-9, `${clip.caption}: ${o.motion}`);
        }
      }
    }
  });

  for (const c of [CLIP_DEFAULTS, ...SMALL]) it(`with the bar, one object goes behind it and comes out the other side (${size(c)})`, () => {
    const barred = streamClips(8, 120, c).filter((clip) => clip.truth.occluder);
    assert.ok(barred.length > 10);
    for (const clip of barred) {
      const mover = clip.truth.objects.find((o) => o.motion === 'left' || o.motion === 'right')!;
      const hidden = mover.visible.findIndex((v) => v < 0.5);
      assert.ok(hidden > 0, `${clip.caption}: the ${mover.colour} ${mover.shape} never goes behind the bar`);
      assert.ok(mover.visible.slice(hidden).some((v) => v === 1), `${clip.caption}: it never comes out`);
      assert.match(clip.caption, / behind a grey bar$/);
    }
  });

  it('make the clip a caption asks for', () => {
    const prompt = 'a green triangle moves right while a white square bounces behind a grey bar';
    const clip = clipFromCaption(prompt, 7);
    assert.equal(clip.caption, prompt);
    assert.deepEqual(clip.truth.objects.map((o) => [o.colour, o.shape, o.motion]), [['green', 'triangle', 'right'], ['white', 'square', 'bounces']]);
    assert.ok(clip.truth.occluder);
    assert.deepEqual(clipFromCaption(prompt, 7).frames, clip.frames);
    assert.notDeepEqual(clipFromCaption(prompt, 8).frames, clip.frames);
  });

  it('stack into batches of frames and word ids', () => {
    const clips = streamClips(1, 3);
    const b = stackClips(clips);
    assert.equal(b.frames.length, 3 * clipLength(CLIP_DEFAULTS));
    assert.equal(b.tokens.length, 3 * CAPTION_LENGTH);
    assert.deepEqual(b.frames.subarray(clipLength(CLIP_DEFAULTS), 2 * clipLength(CLIP_DEFAULTS)), clips[1].frames);
    assert.deepEqual(b.tokens.subarray(CAPTION_LENGTH, 2 * CAPTION_LENGTH), encodeCaption(clips[1].caption));
  });
});

describe('clip sizes', () => {
  it('the default clips are the ones drawn before sizes scaled (runs and tests trained on them)', () => {
    const g = clipGeometry(CLIP_DEFAULTS);
    assert.deepEqual([g.radius, g.occluderWidth, g.linearSpeeds, g.bounceSpeed, g.minWholeFrames, g.maxFramesTouching, g.snapped], [4, 8, [1, 1.5], 2, 4, 2, false]);
    const h = createHash('sha256');
    for (const clip of streamClips(1, 40)) h.update(new Uint8Array(clip.frames.buffer)).update(clip.caption);
    for (const clip of validationClips(8)) h.update(new Uint8Array(clip.frames.buffer));
    assert.equal(h.digest('hex'), 'd8979a387514fc37519c473506998d1adffad74c28f0358a54fa4bed34a67185');
  });

  it('every supported size yields clips, and one with the bar wherever the bar fits', () => {
    const prompt = 'a red circle moves right while a blue square bounces behind a grey bar';
    // Every length at the smallest side; the ends of the range and a few between at others.
    const sizes: ClipConfig[] = Array.from({ length: maxFrames(16) - MIN_FRAMES + 2 }, (_, i) => ({ frames: i ? MIN_FRAMES + i - 1 : 1, height: 16, width: 16 }));
    for (const side of [20, 24, 32, 64]) for (const frames of [1, 4, 5, 6, 7, 8, 12, maxFrames(side)]) sizes.push({ frames, height: side, width: side });
    sizes.push({ frames: 8, height: 16, width: 32 }, { frames: 8, height: 32, width: 16 });
    for (const c of sizes) {
      for (const clip of streamClips(3, 2, c)) assert.equal(clip.frames.length, clipLength(c));
      if (barFits(c)) assert.ok(clipFromCaption(prompt, 1, c).truth.occluder, size(c));
      else assertUsageError(() => clipFromCaption(prompt, 1, c), /too small for an object to pass behind the bar/);
    }
    // The bar fits from 5 frames on at the usual sides.
    for (const side of [16, 24, 32]) assert.deepEqual([4, 5, maxFrames(side)].map((frames) => barFits({ frames, height: side, width: side })), [false, true, true]);
  });

  it('refuse sizes outside the supported range, in one line', () => {
    const refused = (c: ClipConfig, re: RegExp) => assert.throws(() => new ClipStream(1, c), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
    assert.deepEqual([16, 24, 32].map(maxFrames), [17, 26, 35]);
    refused({ frames: 18, height: 16, width: 16 }, /clips of 16×16 pixels hold at most 17 frames .* got 18; use fewer frames or larger ones/);
    refused({ frames: 3, height: 32, width: 32 }, /clips hold 1 frame \(an image\) or 4 and more .* got 3/);
    refused({ frames: 8, height: 15, width: 16 }, /at least 16×16 pixels/);
    refused({ frames: 8, height: 72, width: 64 }, /at most 64×64 pixels, got 72×64/);
  });
});

describe('captions', () => {
  it('round-trip through the parser and the word ids; the vocabulary holds every word written', () => {
    for (const clip of streamClips(9, 300)) {
      const parsed = parseCaption(clip.caption);
      assert.equal(writeCaption(parsed), clip.caption);
      assert.deepEqual(parsed.objects, clip.truth.objects.map((o) => ({ colour: o.colour, shape: o.shape, motion: o.motion })));
      const ids = encodeCaption(clip.caption);
      assert.equal(ids.length, CAPTION_LENGTH);
      assert.equal(decodeCaption(ids), clip.caption);
      assert.ok(ids.every((id) => id >= 0 && id < CAPTION_VOCAB.length));
    }
  });

  it('read prompts loosely: case, a full stop, commas and "and" as joins', () => {
    assert.deepEqual(parseCaption('A Red circle moves right, and a blue square bounces.').objects.length, 2);
    assert.deepEqual(parseCaption('a red circle moves right and a blue square bounces'), parseCaption('a red circle moves right while a blue square bounces'));
    const longest = 'a red circle moves right, a blue square moves left and a green triangle moves down behind a grey bar';
    assert.equal(decodeCaption(encodeCaption(longest)), longest);
    // A prompt is given to the model in the templates' own words.
    assert.deepEqual(encodeCaption('A red circle moves right , , and a blue square bounces.'), encodeCaption('a red circle moves right while a blue square bounces'));
  });

  it('refuse unknown words, too many objects, repeated colours and other sentences, in one line', () => {
    assertUsageError(() => parseCaption('a purple circle moves right'), /unknown word 'purple' in the prompt; known colours: red, green, blue, yellow, white; shapes: circle, square, triangle/);
    assertUsageError(() => encodeCaption('a red hexagon bounces'), /unknown word 'hexagon'/);
    assertUsageError(
      () => parseCaption('a red circle moves right, a blue square bounces, a green circle moves up and a white square moves left'),
      /the prompt asks for 4 objects; clips hold at most 3/,
    );
    assertUsageError(() => parseCaption('a red circle moves right while a red square bounces'), /two objects in the prompt are red/);
    assertUsageError(() => parseCaption('a red moves right'), /cannot read 'a red moves right'/);
    assertUsageError(() => parseCaption('a red circle moves'), /cannot read 'a red circle moves'/);
    assertUsageError(() => parseCaption('   '), /the prompt is empty/);
  });
});

describe('clip images', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-clips-'));
  const clip = clipFromCaption('a red circle moves right while a blue square bounces behind a grey bar', 1);
  const c = clip.config;

  it('a GIF decodes to the clip: size, frame count, palette colours exact', () => {
    const file = path.join(dir, 'clip.gif');
    writeClipGif(file, clip.frames, c, { scale: 3 });
    const gif = new omggif.GifReader(fs.readFileSync(file));
    assert.equal(gif.width, c.width * 3);
    assert.equal(gif.height, c.height * 3);
    assert.equal(gif.numFrames(), c.frames);
    assert.equal(gif.loopCount(), 0);
    const rgba = new Uint8Array(gif.width * gif.height * 4);
    for (const t of [0, c.frames - 1]) {
      gif.decodeAndBlitFrameRGBA(t, rgba);
      for (let y = 0; y < c.height; y++) {
        for (let x = 0; x < c.width; x++) {
          const at = ((t * c.height + y) * c.width + x) * 3, out = ((3 * y + 1) * gif.width + 3 * x + 1) * 4;
          for (let ch = 0; ch < 3; ch++) assert.equal(rgba[out + ch], Math.round((clip.frames[at + ch] + 1) * 127.5));
        }
      }
    }
  });

  it('a GIF reads back to the clip, at its size or enlarged, the world\'s colours exactly', () => {
    for (const scale of [1, 4]) {
      const back = decodeClipGif(clipGif(clip.frames, c, { scale }), c);
      assert.deepEqual([back.count, back.scale], [c.frames, scale]);
      assert.deepEqual(back.frames, clip.frames);
    }
    // A GIF of other colours maps bytes linearly into [−1, 1]; frames past the GIF's are background.
    const small = { frames: 4, height: 16, width: 16 };
    const writer = new omggif.GifWriter(new Uint8Array(4096), 16, 16, { palette: [0x000000, 0x336699], loop: 0 });
    writer.addFrame(0, 0, 16, 16, new Array(256).fill(1));
    writer.addFrame(4, 4, 2, 2, [0, 0, 0, 0]); // a partial frame: the rest of the screen stays as it was
    const bytes = (writer as unknown as { getOutputBuffer(): Uint8Array }).getOutputBuffer().subarray(0, writer.end());
    const back = decodeClipGif(bytes, small);
    assert.equal(back.count, 2);
    const px = (t: number, i: number, j: number) => Array.from(back.frames.subarray(((t * 16 + i) * 16 + j) * 3, ((t * 16 + i) * 16 + j) * 3 + 3));
    assertCloseTo(px(0, 0, 0), [0x33 / 127.5 - 1, 0x66 / 127.5 - 1, 0x99 / 127.5 - 1]);
    assertCloseTo(px(1, 0, 0), px(0, 0, 0));
    assert.deepEqual(px(1, 4, 4), [-1, -1, -1]);
    assert.deepEqual(px(2, 0, 0), [-1, -1, -1]);
  });

  it('a GIF that cannot be read or does not fit the clip is refused in one line', () => {
    const missing = path.join(dir, 'missing.gif'), text = path.join(dir, 'not.gif');
    fs.writeFileSync(text, 'GIF? no, text');
    assertUsageError(() => readClipGif(missing, c), /cannot read the GIF '.*missing\.gif': no such file/);
    assertUsageError(() => readClipGif(dir, c), /cannot read the GIF '.*': it is a folder/);
    assertUsageError(() => readClipGif(text, c), /'.*not\.gif' is not a readable GIF \(Invalid GIF 87a\/89a header\)/);
    const gif = clipGif(clip.frames, c, { scale: 1 });
    assertUsageError(() => decodeClipGif(gif.subarray(0, 100), c), /holds no frames/);
    assertUsageError(() => decodeClipGif(gif, { ...c, height: 20, width: 20 }), /is 32×32 pixels; this model makes clips of 20×20 \(give a GIF of that size or a whole multiple of it, such as the 80×80/);
    assert.equal(decodeClipGif(gif, { ...c, height: 16, width: 16 }).scale, 2);
    assertUsageError(() => decodeClipGif(gif, { ...c, height: 24, width: 24 }), /is 32×32 pixels; this model makes clips of 24×24/);
  });

  it('a one-frame clip (an image) makes a one-frame GIF', () => {
    const one = generateClip(5, { frames: 1, height: 32, width: 32 });
    const gif = new omggif.GifReader(clipGif(one.frames, one.config, { scale: 1 }));
    assert.equal(gif.numFrames(), 1);
  });

  it('a contact sheet decodes to one row per clip and one column per shown frame', () => {
    const file = path.join(dir, 'sheet.png');
    const other = generateClip(11);
    writeContactSheet(file, [clip.frames, other.frames], c, { scale: 2, frameStep: 4, gap: 1 });
    const png = pngjs.PNG.sync.read(fs.readFileSync(file));
    assert.equal(png.width, 4 * (c.width * 2 + 1) + 1);
    assert.equal(png.height, 2 * (c.height * 2 + 1) + 1);
    // Row 2, frame 4 (column 1), pixel (y, x) of the clip.
    const [y, x] = [10, 20];
    const at = ((4 * c.height + y) * c.width + x) * 3;
    const out = ((1 + (2 * c.height + 1) + 2 * y) * png.width + 1 + (2 * c.width + 1) + 2 * x) * 4;
    for (let ch = 0; ch < 3; ch++) assert.equal(png.data[out + ch], Math.round((other.frames[at + ch] + 1) * 127.5));
    assert.ok(contactSheet([clip.frames], c).length > 0);
  });

  it('a path that cannot be written is one line, and nothing is left behind', () => {
    assertUsageError(() => writeClipGif(path.join(dir, 'missing', 'clip.gif'), clip.frames, c), /cannot write '.*clip\.gif': its folder does not exist/);
    assertUsageError(() => writeContactSheet(dir, [clip.frames], c), /cannot write '.*': it is a folder/);
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, 'x');
    assertUsageError(() => writeClipGif(path.join(blocker, 'clip.gif'), clip.frames, c), /a part of the path is not a folder/);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  });

  it('replaces an existing file whole', () => {
    const file = path.join(dir, 'again.gif');
    fs.writeFileSync(file, 'old');
    writeClipGif(file, clip.frames, c);
    assert.equal(new omggif.GifReader(fs.readFileSync(file)).numFrames(), c.frames);
  });
});
