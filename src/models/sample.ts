// Sampling text from a trained GPT: temperature, top-k, a seeded RNG, decoding incrementally
// with a KV cache (src/models/decode.ts).
import { Graph } from '../engine/graph.js';
import type { Kernels } from '../engine/kernels.js';
import { Rng } from '../engine/random.js';
import { Decoder } from './decode.js';
import type { GPT } from './gpt.js';

export interface SampleOptions {
  tokens: number;
  /** 0 means greedy. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  seed: number;
}

/** Draw one token from logits under temperature and top-k. */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number, rng: Rng): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
  if (temperature === 0) return best;
  let order = Array.from({ length: V }, (_, i) => i);
  if (topK > 0 && topK < V) order = order.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  const max = logits[best];
  const w = order.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let j = 0; j < order.length; j++) {
    u -= w[j];
    if (u < 0) return order[j];
  }
  return order[order.length - 1];
}

/** Continue `prompt` (token ids) by opts.tokens tokens; returns only the new ones. */
export function generate(model: GPT, kernels: Kernels, prompt: ArrayLike<number>, opts: SampleOptions): number[] {
  // An empty prompt starts from a newline, the most common boundary between documents.
  const seq = prompt.length > 0 ? Array.from(prompt) : [10];
  return generateCached(model, kernels, seq, opts);
}

/**
 * One new row through the model per token. When the cache is full the context shifts: the
 * newest half of the window is prefilled again, so a long generation costs one prefill per
 * ctx/2 tokens rather than one per token.
 */
function generateCached(model: GPT, kernels: Kernels, seq: number[], opts: SampleOptions): number[] {
  const { ctx, vocab } = model.config;
  const decoder = new Decoder(model, kernels);
  const cache = decoder.newCache();
  const rng = new Rng(opts.seed);
  const out: number[] = [];
  let pending = seq.slice(-ctx);
  for (let i = 0; i < opts.tokens; i++) {
    const { logits } = decoder.step([{ cache, tokens: pending, logits: 'last' }]);
    const t = sampleToken(logits.subarray(0, vocab), opts.temperature, opts.topK, rng);
    seq.push(t);
    out.push(t);
    if (cache.length < ctx) {
      pending = [t];
    } else {
      cache.length = 0;
      pending = seq.slice(-Math.max(1, Math.floor(ctx / 2)));
    }
  }
  return out;
}

/** The reference path: the whole window through the training forward for every token (tests). */
export function generateByWindow(model: GPT, kernels: Kernels, seq: number[], opts: SampleOptions): number[] {
  const { ctx, vocab } = model.config;
  const g = new Graph(kernels, { training: false });
  const rng = new Rng(opts.seed);
  const out: number[] = [];
  for (let i = 0; i < opts.tokens; i++) {
    const window = seq.slice(-ctx);
    g.reset();
    const { logits } = model.forward(g, Int32Array.from(window), 1, window.length);
    const last = logits.data.subarray((window.length - 1) * vocab, window.length * vocab);
    const t = sampleToken(last, opts.temperature, opts.topK, rng);
    seq.push(t);
    out.push(t);
  }
  return out;
}
