// `scalelab eval-video A B --sheet fig.png`: the Sora report's figure from two tiny trained video
// runs, one with 4× the other's compute. Each run is evaluated and stored as alone; one table puts
// their scores, val MSE and compute side by side; the sheet shows the same prompts and seeds drawn
// by each run, a labelled row per run, with exactly the clips a single evaluation draws; refusals
// come before any sampling. And the 5×7 font the labels are drawn in.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { RunStore } from '../src/runs/index.js';
import { trainDit } from '../src/train/dit-train.js';
import { evaluateVideo } from '../src/eval/video-eval.js';
import { VIDEO_METRICS } from '../src/eval/video-detector.js';
import { estimateVideoChance } from '../src/eval/video-chance.js';
import { drawText, textWidth, GLYPH_HEIGHT } from '../src/data/bitmap-font.js';
import { program } from '../src/cli/main.js';
import { UsageError } from '../src/errors.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'scalelab.js');
function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const toByte = (v: number) => Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
const TINY = { frames: 4, size: 16, patch: 4, tpatch: 2, layers: 1, dModel: 32, heads: 2, textLayers: 1, batch: 4, evalClips: 1, warmupSteps: 1, threads: 1, lr: 3e-3 };

describe('scalelab eval-video with several runs', () => {
  let home: string;
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-eval-video-compare-'));
    // 2 and 8 steps of 4 clips: the second has 4× the compute; it keeps checkpoints at 2, 4 and 6, validated every 2 steps.
    await trainDit({ ...TINY, clips: 8, evalEvery: 2, checkpointEvery: 100, name: 'base' }, { home });
    await trainDit({ ...TINY, clips: 32, evalEvery: 2, checkpointEvery: 2, keepCheckpoints: 5, name: 'base-4x' }, { home });
    // Another clip size, which a sheet cannot put beside them.
    await trainDit({ ...TINY, size: 24, clips: 4, evalEvery: 1, checkpointEvery: 100, name: 'tall' }, { home });
  });
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it('evaluates and stores each run as alone, side by side in one JSON, with each run\'s val mse and compute', async () => {
    const sheet = path.join(home, 'fig.png');
    const r = scalelab('eval-video', 'base', 'base-4x', '--home', home, '--prompts', '2', '--seeds', '2', '--steps', '2', '--threads', '1', '--json', '--sheet', sheet, '--sheet-prompts', '1');
    assert.equal(r.code, 0, r.err);
    // One warning line per run: 16-pixel clips are below what the detector reads honestly.
    assert.deepEqual(r.err.trim().split('\n').map((l) => l.replace(/: 4×16×16 clips are below.*/, '')), ['scalelab: warning: base', 'scalelab: warning: base-4x']);
    const o = JSON.parse(r.out);
    assert.deepEqual([o.prompts, o.seeds, o.steps, o.guidance, o.sheet, o.sheet_prompts], [2, 2, 2, 3, sheet, 1]);
    assert.deepEqual(o.runs.map((x: { label: string }) => x.label), ['base', 'base-4x']);
    const store = RunStore.open(home);
    try {
      for (const x of o.runs) {
        const run = await store.getRun(x.run);
        assert.deepEqual([x.step, x.task, x.task_version, x.samples, x.sampled, x.clip], [-1, 'video', 'clips-v1 2x2 steps=2 guidance=3 detector=1', 4, 4, { frames: 4, height: 16, width: 16 }]);
        assert.equal(x.val_mse, run.finalValBpb);
        assert.equal(x.flops, run.flops);
        const stored = await store.evals.results({ subjects: [run.id], task: 'video' });
        assert.deepEqual(stored.map((s) => s.metric).sort(), [...VIDEO_METRICS].sort());
        for (const s of stored) assert.equal(s.value, x.metrics[s.metric].value);
      }
      assert.equal(o.runs[1].flops, 4 * o.runs[0].flops);

      // The sheet: for the first prompt and each seed, a title strip and a row per run in the order
      // given: the frames of exactly the clips a single evaluation draws, and labels beside them.
      const png = pngjs.PNG.sync.read(fs.readFileSync(sheet));
      const cell = 16 * 2 + 2, titleH = GLYPH_HEIGHT + 8;
      const labelW = png.width - (4 * cell + 2);
      const exp = (c: number) => c.toExponential(2).replace('e+', 'e');
      const lines = o.runs.flatMap((x: { label: string; flops: number; val_mse: number }) => [x.label, `${exp(x.flops)} FLOPs`, `val mse ${x.val_mse.toFixed(4)}`]);
      assert.equal(labelW, Math.max(...lines.map((l: string) => textWidth(l))) + 8);
      assert.equal(png.height, 2 * titleH + 4 * cell);
      for (const [k, name] of ['base', 'base-4x'].entries()) {
        const alone = await evaluateVideo(store, home, name, { prompts: 1, seeds: 2, steps: 2, guidance: 3, keepClips: true });
        alone.clips!.forEach((frames, seed) => {
          const y0 = (seed + 1) * titleH + (2 * seed + k) * cell;
          let labelPixels = 0;
          for (let y = y0; y < y0 + 32; y++) {
            for (let x = 0; x < labelW; x++) if (png.data[(y * png.width + x) * 4] === 200) labelPixels++;
            for (let t = 0; t < 4; t++) {
              for (let x = 0; x < 32; x++) {
                const at = ((t * 16 + ((y - y0) >> 1)) * 16 + (x >> 1)) * 3, px = (y * png.width + labelW + 2 + t * cell + x) * 4;
                assert.deepEqual([...png.data.subarray(px, px + 3)], [toByte(frames[at]), toByte(frames[at + 1]), toByte(frames[at + 2])], `${name} seed ${seed} frame ${t}`);
              }
            }
          }
          assert.ok(labelPixels > 50, `${name} seed ${seed}: ${labelPixels} label pixels`);
        });
      }
      for (let g = 0; g < 2; g++) {
        const y0 = g * (titleH + 2 * cell);
        let lit = 0;
        for (let y = y0; y < y0 + titleH; y++) for (let x = 0; x < png.width; x++) if (png.data[(y * png.width + x) * 4 + 1] === 255) lit++;
        assert.ok(lit > 100, `title ${g}: ${lit} pixels`);
      }
    } finally {
      await store.close();
    }
  });

  it('prints one table, a column per run: compute, val mse and every score with its standard error, beside chance', async () => {
    const r = scalelab('eval-video', 'base-4x@4', 'base-4x', '--home', home, '--prompts', '1', '--seeds', '1', '--steps', '2', '--threads', '1');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines[0], '2 runs on 1 clips each (1 prompt × 1 seed of clips-v1), 2 Euler steps, guidance 3');
    assert.match(lines[1], /^ +base-4x@4 +base-4x +chance$/);
    // One chance column, for the one clip size: measured on that prompt at 4×16×16.
    const chance = estimateVideoChance(40, { frames: 4, height: 16, width: 16 }, 1);
    const store = RunStore.open(home);
    try {
      const run = await store.getRun('base-4x');
      const [at4] = await store.series.atSteps(run.id, [4]);
      const exp = (c: number) => c.toExponential(2).replace('e+', 'e');
      assert.match(r.out, new RegExp(`^clip +4×16×16 +4×16×16 +4×16×16$`, 'm'));
      // A checkpoint's compute is its steps' share of the run's, its val mse the one logged at its step.
      assert.match(r.out, new RegExp(`^compute \\(FLOPs\\) +${exp(run.flops / 2)} +${exp(run.flops)}$`, 'm'));
      assert.match(r.out, new RegExp(`^val mse +${at4.valBpb!.toFixed(4)} +${run.finalValBpb!.toFixed(4)}$`, 'm'));
      for (const m of VIDEO_METRICS) {
        assert.match(r.out, new RegExp(`^${m} +((-|[01]\\.\\d{3})( ± [\\d.]+)?) +((-|[01]\\.\\d{3})( ± [\\d.]+)?) +${Number.isFinite(chance[m].value) ? chance[m].value.toFixed(3) : '-'}$`, 'm'));
      }
      const versions = (await store.evals.results({ subjects: [run.id], task: 'video' })).map((x) => `${x.step} ${x.taskVersion}`);
      assert.ok(versions.includes('4 clips-v1 1x1 steps=2 guidance=3 detector=1') && versions.includes('-1 clips-v1 1x1 steps=2 guidance=3 detector=1'), versions.join('; '));
    } finally {
      await store.close();
    }
  });

  it('a single run keeps its own sheet, cut to --sheet-prompts', () => {
    const sheet = path.join(home, 'one.png');
    const r = scalelab('eval-video', 'base', '--home', home, '--prompts', '2', '--seeds', '1', '--steps', '2', '--threads', '1', '--json', '--sheet', sheet, '--sheet-prompts', '1');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).samples, 2);
    const png = fs.readFileSync(sheet);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [4 * 34 + 2, 34 + 2]);
  });

  it('refuses a run given twice, unknown runs, a sheet of two clip sizes and bad --sheet-prompts in one line, before sampling anything', async () => {
    const cases: [string[], RegExp][] = [
      [['base', 'base'], /^'base' is given twice; give each run once$/],
      [['base-4x@4', 'base-4x@4'], /'base-4x@4' is given twice/],
      [['base', 'nope'], /unknown run 'nope'/],
      [['base', 'tall', '--sheet', path.join(home, 'x.png')], /^--sheet shows runs of one clip size side by side: 'base' makes 4×16×16 clips, 'tall' 4×24×24; compare them without --sheet$/],
      [['base', 'base-4x', '--sheet-prompts', '1'], /--sheet-prompts says how many prompts the sheet shows; give --sheet FILE too/],
      [['base', 'base-4x', '--sheet', path.join(home, 'x.png'), '--sheet-prompts', '2'], /--sheet-prompts 2 is more than the 1 prompt evaluated \(--prompts\)/],
      [['base', 'base-4x', '--sheet', path.join(home, 'no', 'x.png')], /cannot write the contact sheet .*its folder does not exist/],
    ];
    for (const [args, re] of cases) {
      await assert.rejects(program().parseAsync(['eval-video', '--home', home, '--prompts', '1', '--seeds', '1', '--steps', '1', '--threads', '1', ...args], { from: 'user' }), (e: Error) => {
        assert.ok(e instanceof UsageError, `${args.join(' ')}: ${e}`);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
    const store = RunStore.open(home);
    try {
      const sampled = (await store.evals.results({ task: 'video' })).filter((x) => x.taskVersion.includes('steps=1 '));
      assert.deepEqual(sampled, [], 'nothing was evaluated');
    } finally {
      await store.close();
    }
    assert.ok(!fs.existsSync(path.join(home, 'x.png')));
  });
});

describe('bitmap font', () => {
  const draw = (text: string, scale = 1) => {
    const img = { width: textWidth(text, scale), height: GLYPH_HEIGHT * scale, data: new Uint8Array(textWidth(text, scale) * GLYPH_HEIGHT * scale * 4) };
    drawText(img, 0, 0, text, { scale, rgb: [9, 9, 9] });
    const rows: string[] = [];
    for (let y = 0; y < img.height; y++) rows.push(Array.from({ length: img.width }, (_, x) => (img.data[(y * img.width + x) * 4] === 9 ? '#' : '.')).join(''));
    return rows;
  };

  it('draws each glyph in 5×7 with a column between, lower case in capitals and anything else as ?', () => {
    const A = ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'];
    const ONE = ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'];
    assert.deepEqual(draw('A1'), A.map((row, y) => `${row}.${ONE[y]}`));
    assert.deepEqual(draw('a'), draw('A'));
    assert.deepEqual(draw('~'), draw('?'));
    assert.deepEqual([textWidth(''), textWidth('x'), textWidth('ab'), textWidth('ab', 2)], [0, 5, 11, 22]);
    // Twice the size: each font pixel a 2×2 block.
    assert.deepEqual(draw('-', 2)[6], '##########');
  });

  it('leaves out what falls outside the image', () => {
    const img = { width: 4, height: 4, data: new Uint8Array(64) };
    drawText(img, -2, -3, 'W', { rgb: [1, 1, 1] });
    assert.ok(img.data.some((v) => v === 1));
  });
});
