// Incremental decoding with a KV cache: the inference path of the GPT in src/models/gpt.ts.
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
// (attentionDecodeBatch), appending the new keys and values as it goes.
//
// Batch invariance: every kernel here computes a row's result from that row alone, in a fixed
// order, so a sequence's logits are the same bits whichever sequences share its steps and
// whether its prompt came at once or token by token (test/decode.test.ts).
//
// Same maths as GPT.forward (pre-norm blocks, layer norm ε 1e-5, tanh GELU, tied output head), so
// the logits agree with the training forward's to float32 rounding (test/serve.test.ts holds the
// log-probabilities to 1e-4). Every variant runs: rmsnorm, swiglu, and rope, whose rotation of a
// new row depends on its position in the sequence (p0 + i), not on its row in the step.
import { packedLinearLength, type Kernels } from '../engine/kernels.js';
import { native } from '../engine/native.js';
import { swigluHidden, variant, type GPT, type GPTConfig } from './gpt.js';

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

/** A norm's gain, and its bias for layernorm (null: rmsnorm). */
type Norm = [Float32Array, Float32Array | null];

/** Weights are packed once (Kernels.packLinear) for linearPackedForward. */
interface Layer {
  ln1: Norm;
  qkvW: Float32Array; qkvB: Float32Array;
  projW: Float32Array; projB: Float32Array;
  ln2: Norm;
  /** gelu: fc [4C, C]; swiglu: the gate and up matrices, adjacent in memory, as one [2H, C]. */
  fcW: Float32Array; fcB: Float32Array | null;
  outW: Float32Array; outB: Float32Array | null;
}

/** Grow-only scratch buffers, so steady-state decoding allocates nothing. */
class Scratch {
  private bufs = new Map<string, Float32Array>();
  get(name: string, n: number): Float32Array {
    let b = this.bufs.get(name);
    if (!b || b.length < n) {
      b = new Float32Array(Math.max(n, Math.ceil((b?.length ?? 0) * 1.5)));
      this.bufs.set(name, b);
    }
    return b.subarray(0, n);
  }
}

/** Decodes with a copy of the model's weights packed at construction: later changes to the model do not reach it. */
export class Decoder {
  readonly config: GPTConfig;
  private readonly k: Kernels;
  private readonly wte: Float32Array;
  /** The tied output head: wte packed. */
  private readonly head: Float32Array;
  /** Learned positions, or null with rope. */
  private readonly wpe: Float32Array | null;
  private readonly layers: Layer[];
  private readonly lnf: Norm;
  /** MLP hidden width and whether it is SwiGLU. */
  private readonly hidden: number;
  private readonly swiglu: boolean;
  /** Rope's cos and sin per position: [ctx, head_dim / 2] each; null without rope. */
  private readonly ropeCos: Float32Array | null = null;
  private readonly ropeSin: Float32Array | null = null;
  private readonly scratch = new Scratch();
  private readonly free: Float32Array[] = [];

  constructor(model: GPT, kernels: Kernels = native) {
    this.config = model.config;
    if (!(model.params instanceof Float32Array)) throw new Error('Decoder: the model must be float32');
    this.k = kernels;
    const { norm, mlp, pos } = variant(model.config);
    const C = model.config.dModel;
    const p = (n: string) => {
      const t = model.named.get(n);
      if (!t) throw new Error(`Decoder: the model has no tensor ${n}`);
      return t.data as Float32Array;
    };
    // The decoder keeps copies of what it reads as is (norms, biases, embeddings) and packed copies
    // of the matrices, never views into the model's buffer: a server can then drop the model and
    // hold each weight once.
    const own = (n: string) => p(n).slice();
    const normOf = (n: string): Norm => [own(`${n}.g`), norm === 'layernorm' ? own(`${n}.b`) : null];
    const packed = (w: Float32Array, K: number, O: number) => {
      const wp = new Float32Array(packedLinearLength(K, O));
      kernels.packLinear(w, wp, K, O);
      return wp;
    };
    this.swiglu = mlp === 'swiglu';
    this.hidden = this.swiglu ? swigluHidden(C) : 4 * C;
    const H = this.hidden;
    // The gate and up matrices sit next to each other in the flat buffer; one view covers both.
    const gateUp = (h: string) => {
      const gate = p(`${h}.mlp.gate.w`), up = p(`${h}.mlp.up.w`);
      if (up.byteOffset !== gate.byteOffset + gate.byteLength) throw new Error('Decoder: gate and up weights are not adjacent');
      return new Float32Array(gate.buffer, gate.byteOffset, 2 * H * C);
    };
    this.wte = own('wte');
    this.wpe = pos === 'learned' ? own('wpe') : null;
    this.layers = [];
    for (let l = 0; l < model.config.layers; l++) {
      const h = `h${l}`;
      this.layers.push({
        ln1: normOf(`${h}.ln1`),
        qkvW: packed(p(`${h}.attn.qkv.w`), C, 3 * C), qkvB: own(`${h}.attn.qkv.b`),
        projW: packed(p(`${h}.attn.proj.w`), C, C), projB: own(`${h}.attn.proj.b`),
        ln2: normOf(`${h}.ln2`),
        fcW: packed(this.swiglu ? gateUp(h) : p(`${h}.mlp.fc.w`), C, this.swiglu ? 2 * H : H), fcB: this.swiglu ? null : own(`${h}.mlp.fc.b`),
        outW: packed(p(`${h}.mlp.out.w`), H, C), outB: this.swiglu ? null : own(`${h}.mlp.out.b`),
      });
    }
    this.lnf = normOf('lnf');
    this.head = packed(this.wte, C, model.config.vocab);
    if (pos === 'rope') {
      // The same angles as the rope kernel: t·10000^(−2i/d), computed in double, kept as float.
      const hd = C / model.config.heads, half = hd / 2, T = model.config.ctx;
      this.ropeCos = new Float32Array(T * half);
      this.ropeSin = new Float32Array(T * half);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < half; i++) {
          const angle = t * Math.pow(10000, -(2 * i) / hd);
          this.ropeCos[t * half + i] = Math.cos(angle);
          this.ropeSin[t * half + i] = Math.sin(angle);
        }
      }
    }
  }

  private norm(x: Float32Array, [gain, bias]: Norm, y: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number): void {
    const C = this.config.dModel;
    if (bias) this.k.layerNormForward(x, gain, bias, y, mean, rstd, rows, C, NORM_EPS);
    else this.k.rmsNormForward(x, gain, y, rstd, rows, C, NORM_EPS);
  }

  /** Rotate the q and k heads of one qkv row to position t (the pairs of the rope kernel). */
  private rotate(qkv: Float32Array, row: number, t: number): void {
    const { dModel: C, heads: H } = this.config;
    const hd = C / H, half = hd / 2, cs = this.ropeCos!, sn = this.ropeSin!;
    const base = row * 3 * C, tb = t * half;
    for (let h = 0; h < 2 * H; h++) {
      const o = base + h * hd;
      for (let i = 0; i < half; i++) {
        const x1 = qkv[o + i], x2 = qkv[o + half + i], c = cs[tb + i], s = sn[tb + i];
        qkv[o + i] = x1 * c - x2 * s;
        qkv[o + half + i] = x2 * c + x1 * s;
      }
    }
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
    const { dModel: C, heads: H, ctx, vocab: V } = this.config;
    const C3 = 3 * C, Hm = this.hidden, F = this.swiglu ? 2 * Hm : Hm;
    const k = this.k;
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
    const s = this.scratch;
    const x = s.get('x', R * C), h = s.get('h', R * C), tmp = s.get('tmp', R * C), att = s.get('att', R * C);
    const qkv = s.get('qkv', R * C3), fc = s.get('fc', R * F), act = s.get('act', R * Hm);
    const mean = s.get('mean', R), rstd = s.get('rstd', R);
    const caches = chunks.map((ch) => ch.cache.data);
    const starts = Int32Array.from(chunks, (ch) => ch.cache.length), counts = Int32Array.from(chunks, (ch) => ch.tokens.length);

    // Token plus (learned) position embeddings.
    let r = 0;
    for (const ch of chunks) {
      const p0 = ch.cache.length;
      for (let i = 0; i < ch.tokens.length; i++, r++) {
        const te = ch.tokens[i] * C, pe = (p0 + i) * C, o = r * C;
        if (this.wpe) for (let c = 0; c < C; c++) x[o + c] = this.wte[te + c] + this.wpe[pe + c];
        else x.set(this.wte.subarray(te, te + C), o);
      }
    }

    for (let l = 0; l < this.layers.length; l++) {
      const w = this.layers[l];
      this.norm(x, w.ln1, h, mean, rstd, R);
      k.linearPackedForward(h, w.qkvW, w.qkvB, qkv, R, C, C3);
      // Rope turns each new q and k row to its position in its sequence; then one call appends
      // the new keys and values to every cache and attends each row against its own.
      if (this.ropeCos) {
        r = 0;
        for (const ch of chunks) {
          for (let i = 0; i < ch.tokens.length; i++) this.rotate(qkv, r + i, ch.cache.length + i);
          r += ch.tokens.length;
        }
      }
      k.attentionDecodeBatch(qkv, caches, starts, counts, att, l, ctx, C, H);
      k.linearPackedForward(att, w.projW, w.projB, tmp, R, C, C);
      k.addForward(x, tmp, x, R * C, R * C);
      this.norm(x, w.ln2, h, mean, rstd, R);
      k.linearPackedForward(h, w.fcW, w.fcB, fc, R, C, F);
      if (this.swiglu) k.swigluForward(fc, act, R, Hm);
      else k.geluForward(fc, act, R * Hm);
      k.linearPackedForward(act, w.outW, w.outB, tmp, R, Hm, C);
      k.addForward(x, tmp, x, R * C, R * C);
    }
    for (const ch of chunks) ch.cache.length += ch.tokens.length;

    // Gather the rows whose logits are wanted, then the final norm and the tied head.
    const rowOf: number[] = [];
    let want = 0;
    for (const ch of chunks) {
      rowOf.push(want);
      want += ch.logits === 'all' ? ch.tokens.length : 1;
    }
    const sel = s.get('sel', want * C);
    r = 0;
    let o = 0;
    for (const ch of chunks) {
      const n = ch.tokens.length;
      if (ch.logits === 'all') {
        sel.set(x.subarray(r * C, (r + n) * C), o * C);
        o += n;
      } else {
        sel.set(x.subarray((r + n - 1) * C, (r + n) * C), o * C);
        o += 1;
      }
      r += n;
    }
    const seln = s.get('seln', want * C), sm = s.get('smean', want), sr = s.get('srstd', want);
    this.norm(sel, this.lnf, seln, sm, sr, want);
    const logits = s.get('logits', want * V);
    k.linearPackedForward(seln, this.head, null, logits, want, C, V);
    return { logits, rowOf };
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
