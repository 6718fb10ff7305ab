// The diffusion transformer (src/models/dit.ts): shapes, adaLN-Zero's identity at initialisation,
// gradients that reach every parameter and lower the loss, and the sampler.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/engine/graph.js';
import { native } from '../src/engine/native.js';
import { Rng } from '../src/engine/random.js';
import { AdamW, ADAMW_DEFAULTS } from '../src/train/optimizer.js';
import {
  DiT, clipValues, countParams, flopsPerPatch, flowBatch, logitNormal, sampleClips, tokensPerClip, type DiTConfig,
} from '../src/models/dit.js';

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
