// Incremental decoding with a KV cache: the inference execution of the GPT defined in
// src/models/gpt.ts. `Decoder.step` runs the same `transformer` function as training, over
// different operations: the kernels called directly on the rows of one step.
//
// The training forward recomputes every position of the window for each new token. Here every
// sequence keeps, per layer, the keys and values of the positions it has seen (its KV cache), so
// a new token costs one row through each matrix instead of the whole window. One `step` runs a
// batch of *chunks*: for each sequence some new tokens (a whole prompt when it joins, then one
// token per step). The rows of all chunks are stacked, so every weight matrix is applied once per
// step as [rows, C] × Wᵀ, whatever the number of sequences: that is what makes continuous
// batching pay. The weights are packed once for that product (linearPackedForward), which
// computes each output the same way whatever the number of rows. Attention is per sequence,
// against its own cache, but one kernel call per layer covers every sequence and head
// (attentionDecodeBatch), appending the new keys and values as it goes. Rope is the training
// op's kernel, told each row's position in its sequence (p0 + i), not its row in the step.
//
// Batch invariance: every kernel here computes a row's result from that row alone, in a fixed
// order, so a sequence's logits are the same bits whichever sequences share its steps and
// whether its prompt came at once or token by token (test/decode.test.ts). The logits agree
// with the training forward's to float32 rounding, for every variant (the same test).
import { packedLinearLength, type Kernels } from '../engine/kernels.js';
import { native } from '../engine/native.js';
import type { Tensor } from '../engine/tensor.js';
import { mapWeights, transformer, type Execution, type GPT, type GPTConfig, type Linear, type Weights } from './gpt.js';

const NORM_EPS = 1e-5;

/**
 * One sequence's keys and values: per layer, K [ctx, C] then V [ctx, C], the layout
 * Kernels.attentionDecodeBatch reads and appends to.
 */
export class KVCache {
  /** Positions filled so far (the next token goes at position `length`). */
  length = 0;
  constructor(readonly data: Float32Array, readonly layers: number, readonly ctx: number, readonly C: number) {}
}

/** New tokens for one sequence in a step; `logits` says which rows' logits the caller wants. */
export interface Chunk {
  cache: KVCache;
  tokens: ArrayLike<number>;
  /** 'last': only the last token's (decoding); 'all': every token's (prompt log-probs). */
  logits: 'last' | 'all';
}

/** Activations of a step: `rows` rows of `cols` floats, in scratch. */
interface Rows { data: Float32Array; rows: number; cols: number }

/**
 * Grow-only scratch, so steady-state decoding allocates nothing: numbered slots handed out in
 * order and rewound at each block, since a block's activations are dead once the next begins.
 */
class Scratch {
  private slots: Float32Array[] = [];
  /** Each slot's last view, handed out again while the size stays (steady decoding). */
  private views: Float32Array[] = [];
  private next = 0;
  private ints = new Int32Array(0);
  rewind(): void {
    this.next = 0;
  }
  get(n: number): Float32Array {
    const i = this.next++;
    if (this.views[i]?.length === n) return this.views[i];
    let b = this.slots[i];
    if (!b || b.length < n) this.slots[i] = b = new Float32Array(Math.max(n, Math.ceil((b?.length ?? 0) * 1.5)));
    return (this.views[i] = b.subarray(0, n));
  }
  positions(n: number): Int32Array {
    if (this.ints.length < n) this.ints = new Int32Array(Math.max(n, Math.ceil(this.ints.length * 1.5)));
    return this.ints.subarray(0, n);
  }
}

/** The operations of the forward on the stacked rows of one step's chunks. */
class StepExecution implements Execution<Rows, Float32Array> {
  private readonly R: number;
  private readonly caches: Float32Array[];
  private readonly starts: Int32Array;
  private readonly counts: Int32Array;
  /** Each row's position in its own sequence. */
  private readonly pos: Int32Array;
  /** Each chunk's first row in the logits. */
  readonly rowOf: number[] = [];

  constructor(private readonly cfg: GPTConfig, private readonly k: Kernels, private readonly chunks: Chunk[],
    private readonly scratch: Scratch, private readonly x: Float32Array) {
    this.caches = chunks.map((ch) => ch.cache.data);
    this.starts = Int32Array.from(chunks, (ch) => ch.cache.length);
    this.counts = Int32Array.from(chunks, (ch) => ch.tokens.length);
    this.R = this.counts.reduce((a, b) => a + b, 0);
    this.pos = scratch.positions(this.R);
    let r = 0;
    for (const ch of chunks) for (let i = 0; i < ch.tokens.length; i++) this.pos[r++] = ch.cache.length + i;
  }

  private rows(rows: number, cols: number): Rows {
    return { data: this.scratch.get(rows * cols), rows, cols };
  }

  embed(wte: Float32Array, wpe: Float32Array | null): Rows {
    const C = this.cfg.dModel, x = this.x;
    let r = 0;
    for (const ch of this.chunks) {
      for (let i = 0; i < ch.tokens.length; i++, r++) {
        const te = ch.tokens[i] * C, pe = this.pos[r] * C, o = r * C;
        if (wpe) for (let c = 0; c < C; c++) x[o + c] = wte[te + c] + wpe[pe + c];
        else x.set(wte.subarray(te, te + C), o);
      }
    }
    return { data: x, rows: this.R, cols: C };
  }

  layerNorm(x: Rows, g: Float32Array, b: Float32Array): Rows {
    const y = this.rows(x.rows, x.cols);
    this.k.layerNormForward(x.data, g, b, y.data, this.scratch.get(x.rows), this.scratch.get(x.rows), x.rows, x.cols, NORM_EPS);
    return y;
  }

  rmsNorm(x: Rows, g: Float32Array): Rows {
    const y = this.rows(x.rows, x.cols);
    this.k.rmsNormForward(x.data, g, y.data, this.scratch.get(x.rows), x.rows, x.cols, NORM_EPS);
    return y;
  }

  linear(x: Rows, l: Linear<Float32Array>): Rows {
    const y = this.rows(x.rows, l.outputs);
    this.k.linearPackedForward(x.data, l.w, l.b, y.data, x.rows, l.inputs, l.outputs);
    return y;
  }

  rope(qkv: Rows): Rows {
    const y = this.rows(qkv.rows, qkv.cols);
    this.k.ropeForward(qkv.data, y.data, 1, qkv.rows, qkv.cols / 3, this.cfg.heads, this.pos);
    return y;
  }

  attention(qkv: Rows, layer: number): Rows {
    const { dModel: C, heads: H, ctx } = this.cfg;
    const y = this.rows(qkv.rows, C);
    this.k.attentionDecodeBatch(qkv.data, this.caches, this.starts, this.counts, y.data, layer, ctx, C, H);
    return y;
  }

  gelu(x: Rows): Rows {
    const y = this.rows(x.rows, x.cols);
    this.k.geluForward(x.data, y.data, x.rows * x.cols);
    return y;
  }

  swiglu(x: Rows): Rows {
    const y = this.rows(x.rows, x.cols / 2);
    this.k.swigluForward(x.data, y.data, x.rows, x.cols / 2);
    return y;
  }

  residual(x: Rows, y: Rows): Rows {
    const n = x.rows * x.cols;
    this.k.addForward(x.data, y.data, x.data, n, n);
    return x;
  }

  /** The last row of each 'last' chunk and every row of each 'all' chunk, chunk after chunk. */
  outputRows(x: Rows): Rows {
    const C = x.cols;
    let want = 0;
    for (const ch of this.chunks) {
      this.rowOf.push(want);
      want += ch.logits === 'all' ? ch.tokens.length : 1;
    }
    const sel = this.rows(want, C);
    let r = 0, o = 0;
    for (const ch of this.chunks) {
      const n = ch.tokens.length, from = ch.logits === 'all' ? r : r + n - 1;
      sel.data.set(x.data.subarray(from * C, (r + n) * C), o * C);
      o += r + n - from;
      r += n;
    }
    return sel;
  }

  block(): void {
    this.scratch.rewind();
  }
}

/** Decodes with a copy of the model's weights packed at construction: later changes to the model do not reach it. */
export class Decoder {
  readonly config: GPTConfig;
  private readonly k: Kernels;
  /** The model's weights, wired as the forward reads them: linear weights packed, the rest copied. */
  private readonly weights: Weights<Float32Array>;
  private readonly scratch = new Scratch();
  /** The residual stream, outside the scratch that each block rewinds. */
  private x = new Float32Array(0);
  private readonly free: Float32Array[] = [];

  constructor(model: GPT, kernels: Kernels = native) {
    this.config = model.config;
    if (!(model.params instanceof Float32Array)) throw new Error('Decoder: the model must be float32');
    this.k = kernels;
    // Copies, never views into the model's buffer: a server can then drop the model and hold
    // each weight once.
    const pack = (t: Tensor) => {
      const [O, K] = t.shape, wp = new Float32Array(packedLinearLength(K, O));
      kernels.packLinear(t.data, wp, K, O);
      return wp;
    };
    this.weights = mapWeights(model.weights, (t, linear) => (linear ? pack(t) : (t.data as Float32Array).slice()));
  }

  /** Bytes one sequence's cache takes. */
  get cacheBytes(): number {
    const { layers, ctx, dModel } = this.config;
    return 4 * 2 * layers * ctx * dModel;
  }

  /** A cache for a new sequence (recycled from released ones when possible). */
  newCache(): KVCache {
    const { layers, ctx, dModel } = this.config;
    const data = this.free.pop() ?? new Float32Array(2 * layers * ctx * dModel);
    return new KVCache(data, layers, ctx, dModel);
  }

  /** Make `dst` hold what `src` holds: its filled positions, every layer (a shared prompt's prefill). */
  copyCache(src: KVCache, dst: KVCache): void {
    const plane = this.config.ctx * this.config.dModel, n = src.length * this.config.dModel;
    for (let p = 0; p < 2 * this.config.layers; p++) dst.data.set(src.data.subarray(p * plane, p * plane + n), p * plane);
    dst.length = src.length;
  }

  /** Give a cache's memory back for reuse; the cache must not be used again. */
  release(cache: KVCache): void {
    cache.length = 0;
    if (this.free.length < 256) this.free.push(cache.data);
  }

  /** Drop the recycled caches (memory goes back to the garbage collector). */
  trim(keep = 0): void {
    this.free.length = Math.min(this.free.length, keep);
  }

  /**
   * Run the chunks' tokens through the model, appending their keys and values to each chunk's
   * cache. Returns the logits [rows, V] of the requested rows, chunk after chunk ('last': one row,
   * 'all': one per token), and each chunk's first row in that array. The returned buffer is
   * scratch, valid until the next step.
   */
  step(chunks: Chunk[]): { logits: Float32Array; rowOf: number[] } {
    const { dModel: C, ctx, vocab: V } = this.config;
    let R = 0;
    for (const ch of chunks) {
      const n = ch.tokens.length;
      if (n < 1) throw new Error('Decoder.step: a chunk needs at least one token');
      if (ch.cache.length + n > ctx) throw new Error(`Decoder.step: ${ch.cache.length} + ${n} tokens exceed the context (${ctx})`);
      for (let i = 0; i < n; i++) {
        const t = ch.tokens[i];
        if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`Decoder.step: token ${t} outside [0, ${V})`);
      }
      R += n;
    }
    if (this.x.length < R * C) this.x = new Float32Array(Math.max(R * C, Math.ceil(this.x.length * 1.5)));
    this.scratch.rewind();
    const run = new StepExecution(this.config, this.k, chunks, this.scratch, this.x.subarray(0, R * C));
    const logits = transformer(run, this.weights, this.config);
    for (const ch of chunks) ch.cache.length += ch.tokens.length;
    return { logits: logits.data, rowOf: run.rowOf };
  }
}

/** log-softmax of one row of logits, in float64. */
export function logSoftmax(logits: ArrayLike<number>, out: Float64Array = new Float64Array(logits.length)): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = logits[i] - lse;
  return out;
}

/** The k largest entries of a row as [index, value] pairs, largest first (ties: lower index). */
export function topK(values: ArrayLike<number>, k: number): [number, number][] {
  const best: [number, number][] = [];
  if (k <= 0) return best;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (best.length < k) best.push([i, v]);
    else if (v > best[k - 1][1]) best[k - 1] = [i, v];
    else continue;
    for (let j = best.length - 1; j > 0 && best[j - 1][1] < best[j][1]; j--) {
      const t = best[j];
      best[j] = best[j - 1];
      best[j - 1] = t;
    }
  }
  return best;
}
