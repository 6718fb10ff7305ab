// A language model as a lossless compressor: each byte is range-coded with the probabilities the
// model gave it from the bytes before it (Delétang et al. 2024; Bellard's nncp and ts_zip), so
// the coded size is the model's cross-entropy on the data, plus a few bytes.
//
// The input is cut into segments of `segment` bytes, each modelled from a fresh context: the
// byte `prefix` (a newline), then the segment's own bytes. Segments are independent, which is
// what makes both directions fast:
//   - compressing scores a whole segment in one decoder step (every position's logits at once,
//     as training does), many segments per step;
//   - decompressing steps `group` segments together, one byte of each per step, so every weight
//     matrix is applied to `group` rows at a time instead of one.
// The cost is context: a byte near a segment's start sees fewer bytes before it. Longer segments
// (up to the model's context) give a better rate; shorter ones more segments to batch when the
// input is small, and cheaper attention.
//
// The coded order is the decoding order: group after group, and within a group byte t of every
// segment that has one, segment by segment, then byte t + 1. One range-coder stream holds it all,
// so segments cost nothing beyond their lost context.
//
// Both sides must compute the same probabilities to the bit. The decoder is batch- and
// prefill-invariant (a segment's logits are the same scored whole or byte by byte, alone or with
// others), it runs the portable kernels (the same bits on every instruction set), and the
// frequencies come from the logits by a fixed rule (frequencies.ts).
import { createHash } from 'node:crypto';
import { Decoder, type Chunk, type KVCache } from '../models/decode.js';
import type { GPT } from '../models/gpt.js';
import { portable } from '../engine/portable.js';
import { CorruptStreamError, RangeDecoder, RangeEncoder } from './range-coder.js';
import { FREQUENCY_RULE, SYMBOLS } from './frequencies.js';
import { CONTEXT_MIXER, predictorFor } from './predictor.js';
import type { CodingParams } from './container.js';

export const PORTABLE_KERNELS = 'portable-1';
/** Newline: Brown's paragraphs and most text files start after one. */
export const DEFAULT_PREFIX = 10;
/** KV-cache memory a group may take by default. */
const GROUP_BYTES = 512 * 2 ** 20;
/** A decompressor refuses files that need more cache memory than this for one group. */
export const MAX_GROUP_BYTES = 4 * 2 ** 30;
/** Rows per compression step: enough to fill the matrix kernels, few enough to keep activations small. */
const COMPRESS_ROWS = 2048;

export interface CodingOptions {
  /** Bytes per segment, at most the model's context (default: the context). */
  segment?: number;
  /** Segments decoded together (default: as many as 512 MB of KV caches hold, at most 256). */
  group?: number;
  /** Mix the model with an adaptive context model of the bytes coded so far (default: true). */
  contextMix?: boolean;
}

/** The coding parameters for a model: the defaults above, or the caller's, checked. */
export function codingParams(model: GPT, o: CodingOptions = {}): CodingParams {
  const { ctx } = model.config;
  const segment = o.segment ?? ctx;
  if (!Number.isInteger(segment) || segment < 1 || segment > ctx) {
    throw new RangeError(`segment length must be an integer from 1 to the model's context (${ctx}), got ${segment}`);
  }
  const group = o.group ?? Math.max(1, Math.min(256, Math.floor(GROUP_BYTES / cacheBytes(model))));
  if (!Number.isInteger(group) || group < 1) throw new RangeError(`group must be a positive integer, got ${group}`);
  const params: CodingParams = { segment, group, prefix: DEFAULT_PREFIX, frequencies: FREQUENCY_RULE, kernels: PORTABLE_KERNELS };
  if (o.contextMix ?? true) params.mixer = CONTEXT_MIXER;
  return params;
}

function cacheBytes(model: GPT): number {
  const { layers, ctx, dModel } = model.config;
  return 4 * 2 * layers * ctx * dModel;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Where segment s lies in the input: [start, start + len). */
function segmentOf(s: number, n: number, S: number): { start: number; len: number } {
  const start = s * S;
  return { start, len: Math.min(S, n - start) };
}

/** The range-coded stream of `data` under `model` and `p`. */
export function encodeBytes(model: GPT, data: Uint8Array, p: CodingParams, decoder = new Decoder(model, portable)): Uint8Array {
  checkParams(model, p);
  const n = data.length, S = p.segment, segments = Math.ceil(n / S);
  const enc = new RangeEncoder();
  const predictor = predictorFor(p.mixer, n, p.prefix);
  const perStep = Math.max(1, Math.floor(COMPRESS_ROWS / S));
  for (let g0 = 0; g0 < segments; g0 += p.group) {
    const g1 = Math.min(segments, g0 + p.group);
    // Every position's logits, scored segment by segment, then coded in decoding order.
    const rows = new Float32Array((g1 - g0) * S * SYMBOLS);
    for (let s0 = g0; s0 < g1; s0 += perStep) {
      const s1 = Math.min(g1, s0 + perStep);
      const chunks: Chunk[] = [];
      for (let s = s0; s < s1; s++) {
        const { start, len } = segmentOf(s, n, S);
        const tokens = new Uint8Array(len);
        tokens[0] = p.prefix;
        tokens.set(data.subarray(start, start + len - 1), 1);
        chunks.push({ cache: decoder.newCache(), tokens, logits: 'all' });
      }
      const { logits, rowOf } = decoder.step(chunks);
      chunks.forEach((ch, i) => {
        const s = s0 + i, { len } = segmentOf(s, n, S);
        rows.set(logits.subarray(rowOf[i] * SYMBOLS, (rowOf[i] + len) * SYMBOLS), (s - g0) * S * SYMBOLS);
        decoder.release(ch.cache);
      });
    }
    for (let t = 0; t < S; t++) {
      for (let s = g0; s < g1; s++) {
        const { start, len } = segmentOf(s, n, S);
        if (len <= t) continue;
        predictor.encode(enc, rows, ((s - g0) * S + t) * SYMBOLS, s, data[start + t]);
      }
    }
    for (let s = g0; s < g1; s++) predictor.forget(s);
  }
  return enc.finish();
}

/** The n bytes coded in `payload` under `model` and `p` (a damaged payload throws CorruptStreamError). */
export function decodeBytes(model: GPT, payload: Uint8Array, n: number, p: CodingParams, decoder = new Decoder(model, portable)): Uint8Array {
  checkParams(model, p);
  const out = new Uint8Array(n);
  if (n === 0) return out;
  const dec = new RangeDecoder(payload);
  const S = p.segment, segments = Math.ceil(n / S);
  const predictor = predictorFor(p.mixer, n, p.prefix);
  for (let g0 = 0; g0 < segments; g0 += p.group) {
    const g1 = Math.min(segments, g0 + p.group);
    const caches: KVCache[] = [], last = new Uint8Array(g1 - g0).fill(p.prefix);
    for (let s = g0; s < g1; s++) caches.push(decoder.newCache());
    try {
      for (let t = 0; t < S; t++) {
        const active: number[] = [];
        for (let s = g0; s < g1; s++) if (segmentOf(s, n, S).len > t) active.push(s);
        if (active.length === 0) break;
        const { logits, rowOf } = decoder.step(active.map((s) => ({ cache: caches[s - g0], tokens: [last[s - g0]], logits: 'last' as const })));
        active.forEach((s, i) => {
          const b = predictor.decode(dec, logits, rowOf[i] * SYMBOLS, s);
          out[s * S + t] = b;
          last[s - g0] = b;
        });
      }
    } finally {
      for (const c of caches) decoder.release(c);
    }
    for (let s = g0; s < g1; s++) predictor.forget(s);
  }
  // The encoder's stream ends exactly where decoding it ends: bytes beyond were added later.
  if (dec.unread !== 0) throw new CorruptStreamError(`${dec.unread} bytes follow the coded stream`);
  return out;
}

function checkParams(model: GPT, p: CodingParams): void {
  if (p.segment > model.config.ctx) throw new RangeError(`segment length ${p.segment} exceeds the model's context (${model.config.ctx})`);
  if (p.frequencies !== FREQUENCY_RULE) throw new RangeError(`unknown frequency rule '${p.frequencies}' (this scalelab has ${FREQUENCY_RULE})`);
  if (p.kernels !== PORTABLE_KERNELS) throw new RangeError(`unknown kernel set '${p.kernels}' (this scalelab has ${PORTABLE_KERNELS})`);
  if (p.group * cacheBytes(model) > MAX_GROUP_BYTES) {
    throw new RangeError(`a group of ${p.group} segments needs ${(p.group * cacheBytes(model) / 2 ** 30).toFixed(1)} GiB of caches, over the ${MAX_GROUP_BYTES / 2 ** 30} GiB limit`);
  }
}
