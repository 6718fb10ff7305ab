// `generate`: the KV-cache path against the full-window path it replaced.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/engine/native.js';
import { GPT } from '../src/models/gpt.js';
import { generate, generateByWindow } from '../src/models/sample.js';

describe('generate', () => {
  const model = new GPT({ layers: 2, dModel: 32, heads: 2, ctx: 24, vocab: 256 }, { seed: 7 });
  const prompt = Array.from(Buffer.from('The jury'));

  it('with a KV cache picks the same greedy tokens as rerunning the window, within the context', () => {
    const opts = { tokens: 24 - prompt.length, temperature: 0, topK: 0, seed: 1 };
    assert.deepEqual(generate(model, native, prompt, opts), generateByWindow(model, native, [...prompt], opts));
  });

  it('runs past the context by shifting it, and gives the same tokens for the same seed', () => {
    const opts = { tokens: 100, temperature: 0.9, topK: 20, seed: 5 };
    const a = generate(model, native, prompt, opts);
    assert.equal(a.length, 100);
    assert.ok(a.every((t) => Number.isInteger(t) && t >= 0 && t < 256));
    assert.deepEqual(generate(model, native, prompt, opts), a);
    assert.notDeepEqual(generate(model, native, prompt, { ...opts, seed: 6 }), a);
  });

  it('every variant (here rmsnorm, swiglu and rope together) decodes to the window path\'s greedy tokens', () => {
    const rope = new GPT({ layers: 2, dModel: 16, heads: 2, ctx: 38, vocab: 256, norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' }, { seed: 1 });
    const opts = { tokens: 30, temperature: 0, topK: 0, seed: 0 };
    assert.deepEqual(generate(rope, native, prompt, opts), generateByWindow(rope, native, [...prompt], opts));
  });
});
