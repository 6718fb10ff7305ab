// The diffusion transformer (src/models/dit.ts): shapes, adaLN-Zero's identity at initialisation,
// gradients that reach every parameter and lower the loss, and the sampler.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { train } from '../src/train/train.js';
import { trainDit, validationBatches, ditConfig, DIT_DEFAULTS, VAL_TIMES, type DitRequest } from '../src/train/dit-train.js';
import { Graph } from '../src/engine/graph.js';
import { generateClip } from '../src/data/clips.js';
import { decodeClipGif, writeClipGif } from '../src/data/clip-images.js';
import { native } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import { Rng } from '../src/engine/random.js';
import { AdamW, ADAMW_DEFAULTS } from '../src/train/optimizer.js';
import { WeightAverage } from '../src/train/weight-average.js';
import { checkpointName, loadWeights } from '../src/train/checkpoint.js';
import { readSafetensors } from '../src/train/safetensors.js';
import {
  DiT, clipValues, countParams, flopsPerPatch, flowBatch, logitNormal, sampleClips, shiftTime, tokensPerClip, type DiTConfig,
} from '../src/models/dit.js';
import { assertClose, centralDifference } from './helpers.js';

const TINY: DiTConfig = {
  frames: 4, height: 8, width: 8, channels: 3, patch: 4, tpatch: 2, layers: 2, dModel: 16, heads: 2,
  vocab: 12, captionLength: 6, textLayers: 1,
};

function batch(cfg: DiTConfig, B: number, seed: number) {
  const rng = new Rng(seed);
  const n = clipValues(cfg);
  // A learnable target: each clip a constant colour chosen by its first caption word.
  const caption = new Int32Array(B * cfg.captionLength);
  const x0 = new Float32Array(B * n), eps = new Float32Array(B * n), t = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < cfg.captionLength; i++) caption[b * cfg.captionLength + i] = 1 + rng.int(cfg.vocab - 1);
    const c = (caption[b * cfg.captionLength] % 3) - 1;
    for (let i = 0; i < n; i++) {
      x0[b * n + i] = i % 3 === 0 ? c : -c;
      eps[b * n + i] = rng.normal();
    }
    t[b] = logitNormal(rng);
  }
  return flowBatch(x0, eps, t, caption);
}

describe('DiT', () => {
  it('predicts a velocity of the clip\'s shape; counts its parameters and FLOPs', () => {
    const model = new DiT(TINY, { seed: 1 });
    const g = new Graph(native);
    const b = batch(TINY, 3, 2);
    const v = model.forward(g, b.xt, b.t, b.caption);
    assert.deepEqual(v.shape, [3, 4, 8, 8, 3]);
    assert.equal(tokensPerClip(TINY), 2 * 2 * 2);
    const c = countParams(TINY);
    assert.equal(c.total, model.params.length);
    assert.equal(c.embedding, (8 + 13 + 6) * 16);
    assert.ok(flopsPerPatch(TINY) > 6 * c.nonEmbedding / 8);
  });

  it('starts as the identity in every block and predicts v = 0 (adaLN-Zero)', () => {
    const model = new DiT(TINY, { seed: 1 });
    const g = new Graph(native, { training: false });
    const b = batch(TINY, 2, 3);
    assert.ok(model.forward(g, b.xt, b.t, b.caption).data.every((x) => x === 0));
    // With the output layer open, the blocks still pass their input through: scrambling their
    // attention and MLP weights changes nothing while the gates are zero.
    const rng = new Rng(9);
    for (const [name, t] of model.named) if (name.startsWith('final.out')) for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * 0.1;
    g.reset();
    const before = Float32Array.from(model.forward(g, b.xt, b.t, b.caption).data);
    assert.ok(before.some((x) => x !== 0));
    for (const [name, t] of model.named) if (/^h\d+\.(attn|mlp)\./.test(name)) for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
    g.reset();
    assert.deepEqual(Float32Array.from(model.forward(g, b.xt, b.t, b.caption).data), before);
  });

  it('sends gradients to every parameter once the gates open, and a few steps lower the loss', () => {
    const model = new DiT(TINY, { seed: 4 });
    const opt = new AdamW(native, model.params, model.grads, model.decayed, { ...ADAMW_DEFAULTS, lr: 3e-3, weightDecay: 0 });
    const g = new Graph(native);
    const b = batch(TINY, 8, 5);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      g.reset();
      model.zeroGrad();
      const loss = model.loss(g, b);
      losses.push(loss.item());
      g.backward(loss);
      opt.update();
    }
    assert.ok(losses[39] < 0.8 * losses[0], `loss ${losses[0]} → ${losses[39]}`);
    g.reset();
    model.zeroGrad();
    g.backward(model.loss(g, b));
    for (const [name, t] of model.named) {
      // Padding-free: every word row that the batch uses gets a gradient; unused rows need not.
      if (name === 'text.words') continue;
      assert.ok(t.grad!.some((x) => x !== 0), `${name} has no gradient`);
    }
  });

  it('gives the same loss and gradients with the naive attention as with the recomputing one', () => {
    const run = (attention: 'recompute' | 'naive') => {
      const model = new DiT({ ...TINY, attention }, { seed: 2 });
      const rng = new Rng(3);
      // Open every gate and the output layer, so attention reaches the loss.
      for (let i = 0; i < model.params.length; i++) model.params[i] += rng.normal() * 0.1;
      const g = new Graph(native);
      const loss = model.loss(g, batch(TINY, 3, 4));
      g.backward(loss);
      return { loss: loss.item(), grads: Float32Array.from(model.grads) };
    };
    const flash = run('recompute'), naive = run('naive');
    assert.ok(Math.abs(naive.loss - flash.loss) <= 1e-6 * flash.loss, `loss ${naive.loss} vs ${flash.loss}`);
    assert.ok(flash.grads.some((x) => x !== 0));
    assertClose(naive.grads, flash.grads, 1e-4, 1e-6, 'gradients');
    assert.throws(() => new DiT({ ...TINY, attention: 'fast' as 'naive' }), /attention must be recompute or naive, got fast/);
  });

  for (const conditioning of ['adaln', 'joint'] as const) it(`has the gradient of its loss, ${conditioning} conditioning (float64 reference kernels against central differences)`, () => {
    const cfg: DiTConfig = conditioning === 'joint' ? { ...TINY, conditioning } : TINY;
    const model = new DiT(cfg, { seed: 2, dtype: 'f64' });
    const rng = new Rng(3);
    // Open every gate and the output layer, so each parameter reaches the loss.
    for (let i = 0; i < model.params.length; i++) model.params[i] += rng.normal() * 0.05;
    const g = new Graph(reference, { dtype: 'f64' });
    const b = batch(cfg, 2, 4);
    const lossAt = () => {
      g.reset();
      return model.loss(g, b).item();
    };
    g.reset();
    model.zeroGrad();
    g.backward(model.loss(g, b));
    const grads = Float64Array.from(model.grads);
    if (conditioning === 'joint') assert.ok(model.named.has('text.in.w'));
    for (const [name, t] of model.named) {
      const start = t.data.byteOffset / 8;
      const i = start + rng.int(t.size);
      const numeric = centralDifference(model.params, i, 1e-5, lossAt);
      assert.ok(Math.abs(numeric - grads[i]) <= 1e-6 + 1e-4 * Math.abs(numeric), `${name}[${i - start}]: ${grads[i]} vs ${numeric}`);
    }
  });

  it('samples with guidance from a seed: deterministic, finite, the given frames kept when extending', () => {
    const model = new DiT(TINY, { seed: 6 });
    const rng = new Rng(1);
    for (let i = 0; i < model.params.length; i++) model.params[i] += rng.normal() * 0.02;
    const g = new Graph(native, { training: false });
    const caption = batch(TINY, 2, 7).caption;
    const a = sampleClips(model, g, caption, { steps: 4, guidance: 2, seed: 3 });
    const b = sampleClips(model, g, caption, { steps: 4, guidance: 2, seed: 3 });
    assert.equal(a.length, 2 * clipValues(TINY));
    assert.deepEqual(a, b);
    assert.ok(a.every(Number.isFinite));
    const clip = batch(TINY, 1, 8).xt;
    const ext = sampleClips(model, g, caption, { steps: 4, guidance: 2, seed: 3, from: { clip, frames: 2 } });
    const known = 2 * 8 * 8 * 3;
    for (let b2 = 0; b2 < 2; b2++) assert.deepEqual(ext.subarray(b2 * clipValues(TINY), b2 * clipValues(TINY) + known), clip.subarray(0, known));
  });
});

// The smallest clips the generator draws: 4 frames of 16×16, 32 tubes of 2×4×4.
const TINY_RUN: DitRequest = {
  frames: 4, size: 16, patch: 4, tpatch: 2, layers: 1, dModel: 32, heads: 2, textLayers: 1, batch: 4, clips: 40,
  evalEvery: 4, evalClips: 2, checkpointEvery: 3, warmupSteps: 2, threads: 1, lr: 3e-3,
};
const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dit-'));

describe('train --model dit', () => {
  it('records a run whose val is the velocity MSE at fixed times, and resumes to the same bits', async () => {
    const home = tmpHome();
    const whole = await trainDit({ ...TINY_RUN, name: 'whole' }, { home });
    assert.equal(whole.status, 'done');
    assert.equal(whole.steps, 10);
    assert.ok(whole.finalValBpb !== null && whole.finalValBpb > 0 && whole.finalValBpb < 3);
    let steps = 0;
    const cut = await trainDit({ ...TINY_RUN, name: 'cut' }, { home, shouldStop: () => ++steps > 5 });
    assert.equal(cut.status, 'stopped');
    // Resumed through plain `train`, which knows a video run by its config.
    const resumed = await train({ resume: 'cut' }, { home });
    assert.equal(resumed.status, 'done');
    assert.equal(resumed.weightsSha256, whole.weightsSha256);
    assert.equal(resumed.finalValBpb, whole.finalValBpb);
    const store = RunStore.open(home);
    try {
      const run = await store.getRun('whole');
      assert.equal((run.config as { family: string }).family, 'dit');
      assert.equal(run.tokensTarget, 10 * 4 * 32);
      const kinds = (await store.events(run.id)).map((e) => e.kind);
      assert.ok(kinds.includes('data'));
    } finally {
      await store.close();
    }
  });

  it('keeps a moving average of the weights with --ema: validated, saved as the final weights and in checkpoints, resumed to the same bits', async () => {
    const home = tmpHome();
    const run = { ...TINY_RUN, ema: 0.9 };
    const whole = await trainDit({ ...run, name: 'avg' }, { home });
    const plain = await trainDit({ ...TINY_RUN, ema: 0, name: 'raw' }, { home });
    // The same training, so the same trained weights; the average is other weights, validated as such.
    assert.notEqual(whole.weightsSha256, plain.weightsSha256);
    assert.notEqual(whole.finalValBpb, plain.finalValBpb);
    const last = path.join(whole.dir, 'checkpoints', checkpointName(10));
    const f = readSafetensors(last), g = readSafetensors(path.join(plain.dir, 'checkpoints', checkpointName(10)));
    // Averaging never touches the training itself: its trained weights are the plain run's, bit for bit.
    for (const [name, t] of g.tensors) if (!name.startsWith('optimizer.')) assert.deepEqual(f.tensors.get(name)!.data, t.data, name);
    assert.ok(f.tensors.has('optimizer.ema') && !g.tensors.has('optimizer.ema'));
    // A checkpoint loads as its average, which are the final weights at the last step.
    const fromCkpt = loadWeights(last, (c) => new DiT(c)).model, final = loadWeights(path.join(whole.dir, 'model.safetensors'), (c) => new DiT(c)).model;
    assert.deepEqual(fromCkpt.params, final.params);
    assert.deepEqual(final.params, f.tensors.get('optimizer.ema')!.data);
    let steps = 0;
    await trainDit({ ...run, name: 'avg-cut' }, { home, shouldStop: () => ++steps > 5 });
    const resumed = await train({ resume: 'avg-cut' }, { home });
    assert.deepEqual([resumed.weightsSha256, resumed.finalValBpb], [whole.weightsSha256, whole.finalValBpb]);
  });

  it('averages with a warm-up, so a short run is not its initialisation; swapping the average in and out restores the weights', () => {
    const params = new Float32Array([0, 0]);
    const avg = new WeightAverage(params, 0.999);
    assert.equal(avg.decayAt(1), 2 / 11);
    assert.equal(avg.decayAt(1e6), 0.999);
    params.set([1, -2]);
    avg.update(1);
    assert.deepEqual([...avg.avg], [Math.fround(9 / 11), Math.fround(-18 / 11)]);
    const seen = avg.swappedIn(() => [...params]);
    assert.deepEqual(seen, [...avg.avg]);
    assert.deepEqual([...params], [1, -2]);
    assert.throws(() => new WeightAverage(params, 1), /decay must be in \(0, 1\)/);
  });

  it('rolls a loss spike back to the last checkpoint', async () => {
    const home = tmpHome();
    const res = await trainDit({ ...TINY_RUN, clips: 24, name: 'spiky' }, { home, injectNanAtSteps: [4] });
    assert.equal(res.status, 'done');
    const store = RunStore.open(home);
    try {
      assert.ok((await store.events(res.run.id)).some((e) => e.kind === 'rollback'));
    } finally {
      await store.close();
    }
  });

  it('trains with the naive attention when asked; a default run\'s model config is as before', async () => {
    const home = tmpHome();
    const res = await trainDit({ ...TINY_RUN, clips: 8, attention: 'naive', name: 'naive' }, { home });
    assert.equal(res.status, 'done');
    assert.equal((res.run.config as { model: DiTConfig }).model.attention, 'naive');
    const plain = ditConfig({ ...DIT_DEFAULTS, ...TINY_RUN, timeShift: 1 } as typeof DIT_DEFAULTS);
    assert.ok(!('attention' in plain) && !('timeShift' in plain));
    // New runs shift by 3 unless told otherwise.
    assert.equal(ditConfig({ ...DIT_DEFAULTS, ...TINY_RUN } as typeof DIT_DEFAULTS).timeShift, 3);
  });

  it('shifts training times and sampling steps toward noise with --time-shift, kept in the model config', async () => {
    assert.deepEqual([0, 0.25, 0.5, 1].map((t) => shiftTime(t, 3)), [0, 0.5, 0.75, 1]);
    for (const t of [0.1, 0.37, 0.9]) assert.equal(shiftTime(t, 1), t);
    const home = tmpHome();
    const shifted = await trainDit({ ...TINY_RUN, clips: 8, timeShift: 3, name: 'shifted' }, { home });
    const plain = await trainDit({ ...TINY_RUN, clips: 8, timeShift: 1, name: 'plain' }, { home });
    const cfg = (shifted.run.config as { model: DiTConfig }).model;
    assert.equal(cfg.timeShift, 3);
    // Other training times, so other weights; validation stays at the same fixed times for both.
    assert.notEqual(shifted.weightsSha256, plain.weightsSha256);
    // The sampler walks the shifted times: the same weights sample differently unshifted.
    const model = loadWeights(path.join(shifted.dir, 'model.safetensors'), (c) => new DiT(c)).model;
    const g = new Graph(native, { training: false });
    const caption = new Int32Array(cfg.captionLength).fill(1);
    const a = sampleClips(model, g, caption, { steps: 4, guidance: 2, seed: 5 });
    const unshifted = new DiT({ ...cfg, timeShift: undefined });
    unshifted.params.set(model.params);
    assert.notDeepEqual(sampleClips(unshifted, g, caption, { steps: 4, guidance: 2, seed: 5 }), a);
    assert.deepEqual(sampleClips(model, g, caption, { steps: 4, guidance: 2, seed: 5 }), a);
  });

  it('validates on the same fixed clips, times and noise every time', () => {
    const cfg = ditConfig({ ...DIT_DEFAULTS, ...TINY_RUN } as typeof DIT_DEFAULTS);
    const a = validationBatches(cfg, 2, 4), b = validationBatches(cfg, 2, 4);
    assert.equal(a.reduce((n, x) => n + x.t.length, 0), 2 * VAL_TIMES.length);
    assert.deepEqual(a, b);
  });

  it('refuses bad options in one line', () => {
    const home = tmpHome();
    const bad = async (o: DitRequest, re: RegExp) => {
      await assert.rejects(trainDit({ ...TINY_RUN, ...o }, { home }), (e: Error) => {
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    };
    return Promise.all([
      bad({ patch: 3 }, /patch \(3\) must divide/),
      bad({ tpatch: 3 }, /temporal patch/),
      bad({ heads: 3 }, /heads \(3\) must divide/),
      bad({ captionDrop: 2 }, /captionDrop must be a number in \[0, 1\]/),
      bad({ ema: 1 }, /ema must be a number in \[0, 1\)/),
      bad({ timeShift: 0 }, /timeShift must be a positive number/),
      (async () => {
        // Refused before the home is touched: a home that did not exist still does not.
        const fresh = path.join(home, 'never-made');
        await assert.rejects(trainDit({ ...TINY_RUN, captionDrop: 2 }, { home: fresh }), /captionDrop must be a number in \[0, 1\]/);
        assert.ok(!fs.existsSync(fresh));
      })(),
      bad({ frames: 18 }, /--frames 18 --size 16: clips of 16×16 pixels hold at most 17 frames/),
      bad({ frames: 2, tpatch: 1 }, /--frames 2 --size 16: clips hold 1 frame \(an image\) or 4 and more/),
      bad({ size: 12, patch: 4 }, /--size 12: clips need at least 16×16 pixels/),
    ]);
  });
});

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'scalelab.js');
function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scalelab bench dit', () => {
  it('measures a step with each attention in its own process: the same losses, the naive one keeping more', () => {
    const tiny = ['--frames', '4', '--size', '16', '--patch', '2', '--tpatch', '1', '--layers', '1', '--d-model', '16', '--heads', '2', '--steps', '1', '--threads', '1'];
    const r = scalelab('bench', 'dit', ...tiny, '--json');
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    assert.equal(res.patches_per_clip, 4 * 8 * 8);
    assert.deepEqual(res.runs.map((x: { attention: string }) => x.attention), ['recompute', 'naive']);
    assert.ok(res.loss_rel_diff < 1e-5, `losses differ by ${res.loss_rel_diff}`);
    const [flash, naive] = res.runs;
    assert.ok(naive.attention_kept_mib > 100 * flash.attention_kept_mib);
    assert.ok(res.memory_ratio > 0 && flash.peak_rss_mib > 0);
    const one = scalelab('bench', 'dit', ...tiny, '--attention', 'naive', '--json');
    assert.equal(one.code, 0, one.err);
    assert.equal(JSON.parse(one.out).memory_ratio, null);
    for (const [args, re] of [[['--attention', 'fast'], /argument 'fast' is invalid/], [['--patch', '3'], /patch \(3\) must divide/]] as const) {
      const bad = scalelab('bench', 'dit', ...args);
      assert.equal(bad.code, 2, bad.err);
      assert.match(bad.err, re);
      assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
    }
  });
});

describe('scalelab video', () => {
  const home = tmpHome();
  const trained = trainDit({ ...TINY_RUN, clips: 12, name: 'film' }, { home });

  it('writes an animated GIF and a contact sheet of a trained run, extension included', async () => {
    await trained;
    const dir = tmpHome();
    const gif = path.join(dir, 'clip.gif'), sheet = path.join(dir, 'sheet.png');
    const r = scalelab('video', 'film', '--home', home, '--prompt', 'a green triangle bounces', '--seed', '1', '--steps', '3',
      '--samples', '2', '--from-frames', '2', '--out', gif, '--sheet', sheet, '--threads', '1');
    assert.equal(r.code, 0, r.err);
    assert.equal(fs.readFileSync(gif).subarray(0, 6).toString('latin1'), 'GIF89a');
    assert.deepEqual([...fs.readFileSync(sheet).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.match(r.out, /a green triangle bounces/);
  });

  it("extends the user's own GIF: its first frames kept exactly, the rest made by the model", async () => {
    await trained;
    const dir = tmpHome();
    const source = generateClip(5, { frames: 4, height: 16, width: 16 });
    const from = path.join(dir, 'mine.gif'), out = path.join(dir, 'out.gif');
    writeClipGif(from, source.frames, source.config); // 64×64, as scalelab video writes
    const r = scalelab('video', 'film', '--home', home, '--prompt', source.caption, '--from', from, '--from-frames', '2', '--steps', '2', '--out', out, '--threads', '1');
    assert.equal(r.code, 0, r.err);
    const made = decodeClipGif(fs.readFileSync(out), source.config).frames, known = 2 * 16 * 16 * 3;
    assert.deepEqual(made.subarray(0, known), source.frames.subarray(0, known));
    assert.notDeepEqual(made.subarray(known), source.frames.subarray(known));
  });

  it('refuses a GIF that is missing, not a GIF, of another size or too short, in one line, exit 2', async () => {
    await trained;
    const dir = tmpHome(), out = path.join(dir, 'out.gif');
    const gifOf = (name: string, c: { frames: number; height: number; width: number }) => {
      const file = path.join(dir, name);
      writeClipGif(file, generateClip(1, c).frames, c, { scale: 1 });
      return file;
    };
    const text = path.join(dir, 'text.gif');
    fs.writeFileSync(text, 'not a picture');
    const cases: [string[], RegExp][] = [
      [['--from', path.join(dir, 'nope.gif'), '--from-frames', '2'], /cannot read the GIF '.*nope\.gif': no such file/],
      [['--from', text, '--from-frames', '2'], /'.*text\.gif' is not a readable GIF/],
      [['--from', gifOf('wide.gif', { frames: 4, height: 24, width: 24 }), '--from-frames', '2'], /'.*wide\.gif' is 24×24 pixels; this model makes clips of 16×16/],
      [['--from', gifOf('one.gif', { frames: 1, height: 16, width: 16 }), '--from-frames', '2'], /'.*one\.gif' has 1 frame; --from-frames 2 needs at least 2/],
      [['--from', gifOf('four.gif', { frames: 4, height: 16, width: 16 })], /--from needs --from-frames K/],
      [['--from', gifOf('four.gif', { frames: 4, height: 16, width: 16 }), '--from-frames', '4'], /--from-frames must be .* from 1 to 3/],
    ];
    for (const [args, re] of cases) {
      const r = scalelab('video', 'film', '--home', home, '--prompt', 'a green triangle bounces', '--out', out, ...args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
    assert.ok(!fs.existsSync(out));
  });

  it('refuses unknown words, too many objects, an unwritable path and a language run, in one line, exit 2', async () => {
    await trained;
    const out = path.join(tmpHome(), 'x.gif');
    const cases: [string[], RegExp][] = [
      [['--prompt', 'a purple triangle bounces', '--out', out], /unknown word 'purple'/],
      [['--prompt', 'a red circle bounces, a green square bounces, a blue triangle bounces and a white circle bounces', '--out', out], /at most 3/],
      [['--prompt', 'a green triangle bounces', '--out', path.join(out, 'no', 'such.gif')], /cannot write the clip .*its folder does not exist/],
      [['--prompt', 'a green triangle bounces', '--out', out, '--from-frames', '4'], /--from-frames must be .* from 1 to 3/],
    ];
    for (const [args, re] of cases) {
      const r = scalelab('video', 'film', '--home', home, ...args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
    assert.ok(!fs.existsSync(out));
    const t = scalelab('train', '--model', 'dit', '--ctx', '16', '--home', home);
    assert.equal(t.code, 2);
    assert.match(t.err, /--ctx is an option of the GPT/);
    const small = scalelab('train', '--model', 'dit', '--frames', '40', '--size', '16', '--home', home);
    assert.equal(small.code, 2);
    assert.match(small.err, /--frames 40 --size 16: clips of 16×16 pixels hold at most 17 frames/);
    assert.equal(small.err.trim().split('\n').length, 1, small.err);
    const f = scalelab('train', '--frames', '4', '--home', home);
    assert.equal(f.code, 2);
    assert.match(f.err, /--frames is an option of the video model; add --model dit/);
  });
});
