// The engine trains: a tiny GPT overfits a fixed batch, and training is deterministic to the bit;
// so do the model variants, and the default model is the one it was before they existed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../src/engine/graph.js';
import { native, setThreads, getThreads } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import { Rng } from '../src/engine/random.js';
import { GPT, REFERENCE_CONFIG, countParams, type GPTConfig } from '../src/models/gpt.js';
import { AdamW, ADAMW_DEFAULTS } from '../src/train/optimizer.js';
import { trainStep } from '../src/train/step.js';
import { train as trainRun } from '../src/train/train.js';
import { UsageError } from '../src/errors.js';
import { randInts, assertClose } from './helpers.js';

const tiny: GPTConfig = { layers: 2, dModel: 32, heads: 4, ctx: 16, vocab: 64 };

function batch(seed: number, B: number, T: number, V: number) {
  const rng = new Rng(seed);
  const seq = randInts(rng, B * (T + 1), V);
  const ids = new Int32Array(B * T), targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = seq[b * (T + 1) + t];
      targets[b * T + t] = seq[b * (T + 1) + t + 1];
    }
  }
  return { ids, targets };
}

function train(cfg: GPTConfig, steps: number, seed: number, lr: number) {
  const model = new GPT(cfg, { seed });
  const opt = new AdamW(native, model.params, model.grads, model.decayed, { ...ADAMW_DEFAULTS, lr, weightDecay: 0 });
  const g = new Graph(native);
  const B = 4, T = cfg.ctx;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { ids, targets } = batch(seed * 1000 + s, B, T, cfg.vocab);
    losses.push(trainStep(model, opt, g, ids, targets, B, T).loss);
  }
  return { model, losses };
}

const sha = (b: Float32Array | Float64Array) => createHash('sha256').update(Buffer.from(b.buffer, b.byteOffset, b.byteLength)).digest('hex');

/** Train on one fixed batch; the first and last losses, every loss checked finite. */
function overfit(cfg: GPTConfig, steps: number): { first: number; last: number } {
  const model = new GPT(cfg, { seed: 1 });
  const opt = new AdamW(native, model.params, model.grads, model.decayed, { ...ADAMW_DEFAULTS, lr: 3e-3, weightDecay: 0 });
  const g = new Graph(native);
  const B = 4, T = cfg.ctx;
  const { ids, targets } = batch(5, B, T, cfg.vocab);
  let first = 0, last = 0;
  for (let s = 0; s < steps; s++) {
    last = trainStep(model, opt, g, ids, targets, B, T).loss;
    if (s === 0) first = last;
    assert.ok(Number.isFinite(last), `step ${s}: loss ${last}`);
  }
  return { first, last };
}

describe('training', () => {
  it('a tiny GPT overfits a fixed batch to near-zero loss', () => {
    const { first, last } = overfit(tiny, 300);
    assert.ok(Math.abs(first - Math.log(tiny.vocab)) < 0.1, `initial loss ${first} should be about ln(64) = 4.16`);
    assert.ok(last < 0.05, `loss after 300 steps on one batch: ${last}`);
  });

  it('two trainings with the same seed, config and threads give bit-identical weights after 20 steps', () => {
    const a = train(tiny, 20, 9, 1e-3), b = train(tiny, 20, 9, 1e-3);
    assert.equal(sha(a.model.params), sha(b.model.params));
    assert.deepEqual(a.losses, b.losses);
    const c = train(tiny, 20, 10, 1e-3);
    assert.notEqual(sha(a.model.params), sha(c.model.params), 'a different seed must give different weights');
  });

  it('gives the same bits with 1 thread as with 2', () => {
    const before = getThreads();
    try {
      setThreads(1);
      const one = train(tiny, 5, 4, 1e-3);
      setThreads(2);
      const two = train(tiny, 5, 4, 1e-3);
      assert.equal(sha(one.model.params), sha(two.model.params));
    } finally {
      setThreads(before);
    }
  });

  for (const extra of [{}, { norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' }] as const) {
    it(`native training follows the reference kernels step for step ${JSON.stringify(extra)}`, () => {
      const cfg: GPTConfig = { layers: 1, dModel: 16, heads: 2, ctx: 8, vocab: 32, ...extra };
      const run = (k: typeof native) => {
        const model = new GPT(cfg, { seed: 2 });
        const opt = new AdamW(k, model.params, model.grads, model.decayed, { ...ADAMW_DEFAULTS, lr: 1e-3 });
        const g = new Graph(k);
        const losses: number[] = [];
        for (let s = 0; s < 5; s++) {
          const { ids, targets } = batch(s, 2, cfg.ctx, cfg.vocab);
          losses.push(trainStep(model, opt, g, ids, targets, 2, cfg.ctx).loss);
        }
        return { losses, params: model.params };
      };
      const n = run(native), r = run(reference);
      assertClose(n.losses, r.losses, 1e-5, 1e-5, 'losses');
      assertClose(n.params, r.params, 1e-3, 1e-5, 'weights after 5 steps');
    });
  }
});

describe('model variants', () => {
  const variants: Partial<GPTConfig>[] = [{ norm: 'rmsnorm' }, { mlp: 'swiglu' }, { pos: 'rope' }, { norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' }];
  for (const v of variants) {
    it(`${JSON.stringify(v)} trains: the loss on a fixed batch falls`, () => {
      const cfg = { ...tiny, ...v };
      const { first, last } = overfit(cfg, 80);
      assert.ok(Math.abs(first - Math.log(cfg.vocab)) < 0.1, `initial loss ${first} should be about ln(64) = 4.16`);
      assert.ok(last < 0.5 * first, `loss after 80 steps on one batch: ${last} (from ${first})`);
    });
  }

  it('name their parameters: rmsnorm has no norm biases, swiglu three matrices and no MLP biases, rope no wpe', () => {
    const names = (v: Partial<GPTConfig>) => [...new GPT({ ...tiny, ...v }).named.keys()];
    const base = names({});
    assert.ok(base.includes('wpe') && base.includes('h0.ln1.b') && base.includes('h0.mlp.fc.w'));
    assert.ok(!names({ norm: 'rmsnorm' }).some((n) => /ln\w*\.b$/.test(n)));
    assert.ok(names({ norm: 'rmsnorm' }).includes('lnf.g'));
    const swi = names({ mlp: 'swiglu' });
    for (const n of ['h1.mlp.gate.w', 'h1.mlp.up.w', 'h1.mlp.out.w']) assert.ok(swi.includes(n), n);
    assert.ok(!swi.some((n) => /mlp\.(fc|out)\.b$|mlp\.fc\.w$/.test(n)));
    assert.ok(!names({ pos: 'rope' }).includes('wpe'));
    // Weight-decayed matrices come first in the flat buffer for every variant.
    for (const v of variants) {
      const m = new GPT({ ...tiny, ...v });
      let offset = 0;
      for (const t of m.named.values()) {
        assert.equal(offset < m.decayed, t.shape.length === 2, `${JSON.stringify(v)}: ${t.name} on the wrong side of the decay boundary`);
        offset += t.size;
      }
    }
  });

  it('count parameters for the reference config (4 layers, d 256) per variant', () => {
    const count = (v: Partial<GPTConfig>) => countParams({ ...REFERENCE_CONFIG, ...v });
    assert.deepEqual(count({}), { total: 3290624, embedding: 131072, nonEmbedding: 3159552 });
    assert.deepEqual(count({ norm: 'rmsnorm' }), { total: 3288320, embedding: 131072, nonEmbedding: 3157248 });
    // SwiGLU hidden width round(8·256/3) = 683, up to 688: 3·688·256 against GELU's 8·256² + 1280 biases.
    assert.deepEqual(count({ mlp: 'swiglu' }), { total: 3301888, embedding: 131072, nonEmbedding: 3170816 });
    assert.deepEqual(count({ pos: 'rope' }), { total: 3225088, embedding: 65536, nonEmbedding: 3159552 });
    for (const v of variants) assert.equal(count(v).total, new GPT({ ...REFERENCE_CONFIG, ...v }).params.length);
  });

  it('leave the default model as it was: parameter count, initial weights and first-step loss', () => {
    assert.deepEqual(countParams(tiny), { total: 28032, embedding: 2560, nonEmbedding: 25472 });
    const rng = new Rng(5), B = 4, T = 16;
    const ids = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let i = 0; i < B * T; i++) {
      ids[i] = rng.int(64);
      targets[i] = rng.int(64);
    }
    const m = new GPT(tiny, { seed: 1 });
    assert.equal(m.decayed, 27136);
    assert.equal(sha(m.params), '0e7d121daa5bfedd77f8af22deb10729f68b0739794c356ec10295d84b34a88a');
    // Float64 reference kernels: the same number to rounding on any machine.
    const m64 = new GPT(tiny, { seed: 1, dtype: 'f64' });
    const ref = m64.forward(new Graph(reference, { dtype: 'f64' }), ids, B, T, targets).loss!.item();
    assert.ok(Math.abs(ref - 4.159892711903421) < 1e-12, `first-step loss (float64 reference) ${ref}`);
    const nat = m.forward(new Graph(native), ids, B, T, targets).loss!.item();
    assert.ok(Math.abs(nat - 4.159892559051514) < 1e-5, `first-step loss (native) ${nat}`);
    // Spelling the defaults out changes nothing.
    const explicit = new GPT({ ...tiny, norm: 'layernorm', mlp: 'gelu', pos: 'learned' }, { seed: 1 });
    assert.equal(sha(explicit.params), sha(m.params));
    assert.equal(explicit.forward(new Graph(native), ids, B, T, targets).loss!.item(), nat);
  });
});

describe('train() with the variant options', () => {
  const small = { layers: 1, dModel: 32, heads: 2, ctx: 32, batch: 4, tokens: 4 * 32 * 6, evalEvery: 100, evalTokens: 512, warmupSteps: 1, threads: 2 };
  const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-variants-'));

  it('records the variants in the model config, and leaves them out for the defaults', async () => {
    const home = tmpHome();
    const v = await trainRun({ ...small, norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope', name: 'variant' }, { home });
    assert.equal(v.status, 'done');
    assert.ok(Number.isFinite(v.finalTrainLoss));
    const model = (v.run.config as { model: GPTConfig }).model;
    assert.deepEqual({ norm: model.norm, mlp: model.mlp, pos: model.pos }, { norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' });
    assert.equal(v.run.params, countParams(model).total);
    const d = await trainRun({ ...small, name: 'default' }, { home });
    assert.deepEqual(Object.keys((d.run.config as { model: GPTConfig }).model), ['layers', 'dModel', 'heads', 'ctx', 'vocab']);
  });

  it('rejects an unknown variant, or rope with an odd head dimension, with a UsageError', async () => {
    const home = tmpHome();
    await assert.rejects(trainRun({ ...small, norm: 'batchnorm' as 'rmsnorm' }, { home }), (e: Error) => e instanceof UsageError && /norm must be one of layernorm, rmsnorm, got batchnorm/.test(e.message));
    await assert.rejects(trainRun({ ...small, mlp: 'relu' as 'gelu' }, { home }), (e: Error) => e instanceof UsageError && /mlp must be one of gelu, swiglu/.test(e.message));
    await assert.rejects(trainRun({ ...small, pos: 'alibi' as 'rope' }, { home }), (e: Error) => e instanceof UsageError && /pos must be one of learned, rope/.test(e.message));
    await assert.rejects(trainRun({ ...small, dModel: 30, heads: 2, pos: 'rope' }, { home }), (e: Error) => e instanceof UsageError && /rope needs an even head dimension/.test(e.message));
  });
});
