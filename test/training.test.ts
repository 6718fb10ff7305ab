// The engine trains: a tiny GPT overfits a fixed batch, and training is deterministic to the bit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Graph } from '../src/engine/graph.js';
import { native, setThreads, getThreads } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import { Rng } from '../src/engine/random.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { AdamW, ADAMW_DEFAULTS } from '../src/train/optimizer.js';
import { trainStep } from '../src/train/step.js';
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

describe('training', () => {
  it('a tiny GPT overfits a fixed batch to near-zero loss', () => {
    const model = new GPT(tiny, { seed: 1 });
    const opt = new AdamW(native, model.params, model.grads, model.decayed, { ...ADAMW_DEFAULTS, lr: 3e-3, weightDecay: 0 });
    const g = new Graph(native);
    const B = 4, T = tiny.ctx;
    const { ids, targets } = batch(5, B, T, tiny.vocab);
    let first = 0, last = 0;
    for (let s = 0; s < 300; s++) {
      last = trainStep(model, opt, g, ids, targets, B, T).loss;
      if (s === 0) first = last;
    }
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

  it('native training follows the reference kernels step for step', () => {
    const cfg: GPTConfig = { layers: 1, dModel: 16, heads: 2, ctx: 8, vocab: 32 };
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
});
