// The KV-cache decoder against the training forward, for every model variant: the same
// log-probabilities for a prompt fed at once and for tokens fed one per step beside another sequence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/engine/graph.js';
import { native } from '../src/engine/native.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { Decoder, logSoftmax } from '../src/models/decode.js';

const T = 24;
const ids = Array.from({ length: T }, (_, i) => 'Call me Ishmael. Some years ago'.charCodeAt(i));

function trainingLogprobs(model: GPT): number[] {
  const g = new Graph(native, { training: false });
  const { logits } = model.forward(g, Int32Array.from(ids), 1, T);
  const out: number[] = [];
  for (let t = 0; t + 1 < T; t++) out.push(logSoftmax(logits.data.subarray(t * 256, (t + 1) * 256))[ids[t + 1]]);
  return out;
}

describe('Decoder', () => {
  const variants: Partial<GPTConfig>[] = [
    {}, { norm: 'rmsnorm' }, { mlp: 'swiglu' }, { pos: 'rope' }, { norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' },
  ];
  for (const v of variants) {
    it(`matches the training forward for ${JSON.stringify(v)}`, () => {
      const model = new GPT({ layers: 2, dModel: 32, heads: 4, ctx: T, vocab: 256, ...v }, { seed: 11 });
      const ref = trainingLogprobs(model);
      const d = new Decoder(model);
      const a = d.newCache(), b = d.newCache();
      let worst = 0;
      // Ten tokens as one prompt, then one token a step, batched with an unrelated sequence.
      const first = d.step([{ cache: a, tokens: ids.slice(0, 10), logits: 'all' }]);
      for (let t = 0; t < 9; t++) worst = Math.max(worst, Math.abs(logSoftmax(first.logits.subarray(t * 256, (t + 1) * 256))[ids[t + 1]] - ref[t]));
      let last = first.logits.slice(9 * 256, 10 * 256);
      d.step([{ cache: b, tokens: [65, 66, 67], logits: 'last' }]);
      for (let t = 10; t < T; t++) {
        worst = Math.max(worst, Math.abs(logSoftmax(last)[ids[t]] - ref[t - 1]));
        const out = d.step([{ cache: b, tokens: [t], logits: 'last' }, { cache: a, tokens: [ids[t]], logits: 'last' }].slice(b.length < T ? 0 : 1));
        const row = out.rowOf[out.rowOf.length - 1];
        last = out.logits.slice(row * 256, (row + 1) * 256);
      }
      assert.ok(worst < 1e-4, `max |Δ log-prob| ${worst}`);
    });
  }

  for (const v of [{}, { norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope' }] as Partial<GPTConfig>[]) {
    it(`is batch-invariant for ${JSON.stringify(v)}: a sequence's logits are the same bits alone or beside others, prompt at once or token by token`, () => {
      const model = new GPT({ layers: 2, dModel: 48, heads: 4, ctx: T, vocab: 256, ...v }, { seed: 5 });
      const d = new Decoder(model);
      // Alone: a 10-token prompt at once, then one token a step.
      const alone = d.newCache();
      let out = d.step([{ cache: alone, tokens: ids.slice(0, 10), logits: 'all' }]);
      const aloneRows = [out.logits.slice()];
      for (let t = 10; t < T; t++) aloneRows.push(d.step([{ cache: alone, tokens: [ids[t]], logits: 'last' }]).logits.slice(0, 256));
      // In a crowd: every token one a step, beside sequences that join, grow and leave.
      const mine = d.newCache();
      const others = Array.from({ length: 7 }, () => d.newCache());
      const crowdRows: Float32Array[] = [];
      for (let t = 0; t < T; t++) {
        const busy = others.filter((c, j) => c.length < T - 4 && (t + j) % 3 !== 0);
        const chunks = [...busy.map((c, j) => ({ cache: c, tokens: c.length === 0 ? [1, 2, 3, 4].slice(0, 1 + (j % 4)) : [t + j], logits: 'last' as const })),
          { cache: mine, tokens: [ids[t]], logits: 'last' as const }];
        out = d.step(chunks);
        crowdRows.push(out.logits.slice(out.rowOf[busy.length] * 256, (out.rowOf[busy.length] + 1) * 256));
      }
      const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
      for (let t = 0; t < 10; t++) assert.equal(bits(crowdRows[t]), bits(aloneRows[0].subarray(t * 256, (t + 1) * 256)), `prompt position ${t}`);
      for (let t = 10; t < T; t++) assert.equal(bits(crowdRows[t]), bits(aloneRows[t - 9]), `position ${t}`);
    });
  }
});
