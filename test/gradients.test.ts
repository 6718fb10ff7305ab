// Every op's backward equals central finite differences of its forward, in float64 on the
// reference kernels; so does the whole GPT's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/engine/graph.js';
import { reference } from '../src/engine/reference.js';
import { Rng } from '../src/engine/random.js';
import * as ops from '../src/engine/ops.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { randInts, gradChecks } from './helpers.js';

const rng = new Rng(11);
const { param, gradCheck } = gradChecks(rng);

describe('gradients match finite differences (float64 reference)', () => {
  it('linear, with and without bias', () => {
    gradCheck('linear', [param([3, 5]), param([4, 5]), param([4])], (g, [x, w, b]) => ops.linear(g, x, w, b));
    gradCheck('linear no bias', [param([2, 3, 7]), param([1, 7])], (g, [x, w]) => ops.linear(g, x, w));
  });
  it('layerNorm', () => {
    gradCheck('layerNorm', [param([4, 6], 2), param([6]), param([6])], (g, [x, a, b]) => ops.layerNorm(g, x, a, b));
    gradCheck('layerNorm D=1', [param([3, 1]), param([1]), param([1])], (g, [x, a, b]) => ops.layerNorm(g, x, a, b));
  });
  it('rmsNorm', () => {
    gradCheck('rmsNorm', [param([4, 6], 2), param([6])], (g, [x, a]) => ops.rmsNorm(g, x, a));
    gradCheck('rmsNorm D=1', [param([3, 1]), param([1])], (g, [x, a]) => ops.rmsNorm(g, x, a));
  });
  it('swiglu', () => {
    gradCheck('swiglu', [param([3, 2 * 7], 3)], (g, [x]) => ops.swiglu(g, x), 42);
    gradCheck('swiglu H=1', [param([2, 2, 2], 3)], (g, [x]) => ops.swiglu(g, x));
  });
  it('rope, alone and in front of attention', () => {
    gradCheck('rope', [param([2, 5, 3 * 8])], (g, [qkv]) => ops.rope(g, qkv, 2), 60);
    gradCheck('rope head dim 2', [param([1, 4, 3 * 2])], (g, [qkv]) => ops.rope(g, qkv, 1));
    gradCheck('rope + attention', [param([2, 5, 3 * 8])], (g, [qkv]) => ops.attention(g, ops.rope(g, qkv, 2), 2), 60);
  });
  it('gelu', () => {
    gradCheck('gelu', [param([17], 3)], (g, [x]) => ops.gelu(g, x));
  });
  it('add, residual and broadcast', () => {
    gradCheck('add', [param([3, 4]), param([3, 4])], (g, [a, b]) => ops.add(g, a, b));
    gradCheck('add broadcast', [param([2, 3, 4]), param([3, 4])], (g, [a, b]) => ops.add(g, a, b));
  });
  it('embedding with repeated ids', () => {
    const ids = Int32Array.of(2, 0, 2, 1, 2);
    gradCheck('embedding', [param([4, 3])], (g, [t]) => ops.embedding(g, ids, t));
  });
  it('causal attention', () => {
    gradCheck('attention', [param([2, 5, 3 * 6])], (g, [qkv]) => ops.attention(g, qkv, 2), 60);
    gradCheck('attention T=1', [param([1, 1, 3 * 4])], (g, [qkv]) => ops.attention(g, qkv, 1));
  });
  it('crossEntropy', () => {
    const targets = Int32Array.of(0, 3, 3, 1);
    gradCheck('crossEntropy', [param([4, 5], 2)], (g, [l]) => ops.crossEntropy(g, l, targets));
  });
  const gptCheck = (cfg: GPTConfig, name: string) => {
    const model = new GPT(cfg, { seed: 3, dtype: 'f64' });
    // Larger weights than the 0.02 init, so every path carries a gradient well above rounding.
    for (let i = 0; i < model.params.length; i++) model.params[i] += rng.normal() * 0.3;
    const B = 2, T = 5;
    const ids = randInts(rng, B * T, cfg.vocab), targets = randInts(rng, B * T, cfg.vocab);
    const inputs = [...model.named.values()];
    for (const t of inputs) t.grad!.fill(0);
    gradCheck(name, inputs, (g) => model.forward(g, ids, B, T, targets).loss!, 6);
  };
  it('a whole GPT, end to end through the tape', () => {
    gptCheck({ layers: 2, dModel: 8, heads: 2, ctx: 6, vocab: 11 }, 'gpt');
  });
  it('a whole GPT with RMSNorm, SwiGLU and rope, end to end', () => {
    gptCheck({ layers: 2, dModel: 8, heads: 2, ctx: 6, vocab: 11, norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' }, 'gpt rmsnorm+swiglu+rope');
  });
});

describe('shape errors name the op and the shapes', () => {
  const g = new Graph(reference, { dtype: 'f64' });
  it('are thrown before any kernel runs', () => {
    assert.throws(() => ops.linear(g, param([3, 5]), param([4, 6])), /linear: input \[3,5\] and weight \[4,6\] disagree/);
    assert.throws(() => ops.linear(g, param([3, 5]), param([4, 5]), param([3])), /linear: bias \[3\] does not match weight \[4,5\]/);
    assert.throws(() => ops.add(g, param([3, 4]), param([3])), /add: cannot broadcast \[3\] onto \[3,4\]/);
    assert.throws(() => ops.layerNorm(g, param([2, 4]), param([3]), param([4])), /layerNorm: gain \[3\] and bias \[4\]/);
    assert.throws(() => ops.attention(g, param([1, 2, 9]), 2), /attention: 2 heads do not divide width 3/);
    assert.throws(() => ops.rmsNorm(g, param([2, 4]), param([3])), /rmsNorm: gain \[3\] must match the last dimension of \[2,4\]/);
    assert.throws(() => ops.swiglu(g, param([2, 5])), /swiglu: input must be \[\.\.\., 2·H\] \(gate and value halves\), got \[2,5\]/);
    assert.throws(() => ops.rope(g, param([1, 2, 9]), 2), /rope: 2 heads do not divide width 3/);
    assert.throws(() => ops.rope(g, param([1, 2, 9]), 1), /rope: head dimension 3 \(width 3, 1 heads\) must be even/);
    assert.throws(() => ops.rope(g, param([2, 9]), 1), /rope: qkv must be \[B, T, 3·C\], got \[2,9\]/);
    assert.throws(() => ops.attention(g, param([2, 9]), 1), /attention: qkv must be \[B, T, 3·C\], got \[2,9\]/);
    assert.throws(() => ops.embedding(g, Int32Array.of(0, 4), param([4, 2])), /embedding: id 4 at position 1 is outside \[0, 4\)/);
    assert.throws(() => ops.crossEntropy(g, param([2, 3]), Int32Array.of(1)), /crossEntropy: 1 targets for 2 rows/);
    assert.throws(() => ops.crossEntropy(g, param([1, 3]), Int32Array.of(-1)), /crossEntropy: id -1/);
    assert.throws(() => new GPT({ layers: 1, dModel: 10, heads: 3, ctx: 4, vocab: 5 }), /heads \(3\) must divide d_model \(10\)/);
    assert.throws(() => new GPT({ layers: 0, dModel: 8, heads: 2, ctx: 4, vocab: 5 }), /layers must be a positive integer/);
    assert.throws(() => new GPT({ layers: 1, dModel: 6, heads: 2, ctx: 4, vocab: 5, pos: 'rope' }), /rope needs an even head dimension, got d_model \/ heads = 3/);
    assert.throws(() => new GPT({ layers: 1, dModel: 8, heads: 2, ctx: 4, vocab: 5, norm: 'batchnorm' as 'rmsnorm' }), /norm must be one of layernorm, rmsnorm, got batchnorm/);
  });
});
