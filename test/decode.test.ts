// The KV-cache decoder against the training forward, for every model variant: the same
// log-probabilities for a prompt fed at once and for tokens fed one per step beside another sequence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/engine/graph.js';
import { native } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import { GPT, MLPS, NORMS, POSITIONS, type GPTConfig } from '../src/models/gpt.js';
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

/**
 * Largest |Δ logit| between the training forward over the whole window and the decoder fed the
 * same tokens as two prompt chunks (so the second chunk's rows sit at positions 7 … T−1 of their
 * cache, not at rows 0 …): both execute the one definition in gpt.ts.
 */
function logitGap(trained: GPT, decoder: Decoder): number {
  const g = new Graph(native, { training: false });
  const ref = trained.forward(g, Int32Array.from(ids), 1, T).logits.data;
  const cache = decoder.newCache();
  const head = decoder.step([{ cache, tokens: ids.slice(0, 7), logits: 'all' }]).logits.slice();
  const rest = decoder.step([{ cache, tokens: ids.slice(7), logits: 'all' }]).logits;
  let gap = 0;
  for (let i = 0; i < T * 256; i++) gap = Math.max(gap, Math.abs((i < head.length ? head[i] : rest[i - head.length]) - ref[i]));
  return gap;
}

/** Logits of these small models are below 1, so a few float32 ulps are about 1e-7. */
const GAP_TOLERANCE = 1e-6;

describe('One definition, two executions', () => {
  const tiny = { layers: 2, dModel: 32, heads: 4, ctx: T, vocab: 256 };
  for (const norm of NORMS) for (const mlp of MLPS) for (const pos of POSITIONS) {
    it(`the decoder gives the training forward's logits for ${norm}, ${mlp}, ${pos}`, () => {
      const model = new GPT({ ...tiny, norm, mlp, pos }, { seed: 11 });
      const gap = logitGap(model, new Decoder(model));
      assert.ok(gap < GAP_TOLERANCE, `max |Δ logit| ${gap}`);
    });
  }

  it('a mismatch fails the check: another norm in the decoder, or a weight changed after packing', () => {
    // Same seed: the same matrices and gains, and layernorm's biases are zero, so the two models
    // differ only in what the norm computes.
    const layer = new GPT({ ...tiny, pos: 'rope' }, { seed: 11 });
    const rms = new GPT({ ...tiny, pos: 'rope', norm: 'rmsnorm' }, { seed: 11 });
    assert.deepEqual(rms.named.get('h0.attn.qkv.w')!.data, layer.named.get('h0.attn.qkv.w')!.data);
    const swapped = logitGap(layer, new Decoder(rms));
    assert.ok(swapped > 100 * GAP_TOLERANCE, `norm swapped: max |Δ logit| ${swapped}`);
    const decoder = new Decoder(layer);
    layer.named.get('lnf.g')!.data[3] *= 1.001;
    const nudged = logitGap(layer, decoder);
    assert.ok(nudged > 10 * GAP_TOLERANCE, `one gain nudged by 0.1%: max |Δ logit| ${nudged}`);
  });

  it('rope in the decoder is the training op\'s kernel at each row\'s position', () => {
    // Rows at positions 5, 0, 9 rotated in one call equal rows 5, 0, 9 of a whole window.
    const C = 8, H = 2, Tw = 10, qkv = new Float32Array(Tw * 3 * C).map((_, i) => Math.sin(i * 0.37));
    const whole = new Float32Array(qkv.length);
    native.ropeForward(qkv, whole, 1, Tw, C, H);
    const pos = Int32Array.from([5, 0, 9]), rows = new Float32Array(3 * 3 * C), out = new Float32Array(rows.length);
    pos.forEach((p, r) => rows.set(qkv.subarray(p * 3 * C, (p + 1) * 3 * C), r * 3 * C));
    native.ropeForward(rows, out, 1, 3, C, H, pos);
    pos.forEach((p, r) => assert.deepEqual(out.subarray(r * 3 * C, (r + 1) * 3 * C), whole.subarray(p * 3 * C, (p + 1) * 3 * C)));
    const ref = new Float32Array(rows.length);
    reference.ropeForward(rows, ref, 1, 3, C, H, pos);
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(ref[i] - out[i]) < 1e-6, `reference at ${i}: ${ref[i]} vs ${out[i]}`);
    assert.throws(() => native.ropeForward(rows, out, 1, 3, C, H, Int32Array.from([1, -2, 3])), /positions in \[0, 2\^20\)/);
    assert.throws(() => native.ropeForward(rows, out, 1, 3, C, H, Int32Array.from([1, 2, 1 << 20])), /positions in \[0, 2\^20\)/);
    assert.throws(() => native.ropeForward(rows, out, 1, 3, C, H, Int32Array.from([1, 2])), /at least 3 elements/);
  });
});

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
