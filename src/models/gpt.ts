// GPT: a decoder-only transformer, as in GPT-2, sized by five numbers, with three switches for
// the variants later models adopted (GPT-2's choice is the default, in brackets below).
//
//   tokens ──► wte[token] (+ wpe[position])                     token (and learned position) embeddings
//          ──► L × block                                        pre-norm residual blocks
//                x = x + proj(attention(rope?(qkv(ln1(x)))))    causal multi-head self-attention
//                x = x + mlp(ln2(x))                            the MLP, GELU or SwiGLU
//          ──► lnf ──► logits = x · wteᵀ                        output tied to the input embedding
//          ──► cross-entropy against the next token
//
//   norm [layernorm]  ln(x) = (x − mean(x)) / σ(x) · g + b
//        rmsnorm      ln(x) = x / √(mean(x²) + ε) · g, gain only (Zhang & Sennrich 2019)
//   mlp  [gelu]       mlp(x) = out(gelu(fc(x))), 4·d wide, with biases
//        swiglu       mlp(x) = out(silu(x·W1ᵀ) ⊙ x·W3ᵀ), no biases (Shazeer 2020); hidden width
//                     round(8·d/3) rounded up to a multiple of 8, so its three matrices hold
//                     about the 8·d² weights of GELU's two (swigluHidden)
//   pos  [learned]    a learned wpe[position] added to the token embedding
//        rope         q and k rotated by position in every head, no wpe (Su et al. 2021); pairs
//                     (i, i + d_head/2) turn by t·10000^(−2i/d_head) (the `rope` op)
//
// This file is the one definition: the config, the parameter layout (`declare`), the forward
// (`transformer`, written against the operations of an `Execution`) and the FLOPs estimate. It
// runs two ways: `GPT.forward` executes it as an autograd graph over a whole window (training),
// and `Decoder.step` (decode.ts) executes it row by row against KV caches with packed weights
// (inference). Adding a variant means editing `declare` and `transformer`, nothing else.
//
// Parameters live in one flat buffer with a view per tensor (as in llm.c), and their gradients
// in a second buffer laid out the same way: the optimiser and gradient clipping each make one
// pass over one array. The buffer is ordered so the weight-decayed matrices come first.
import type { Buf } from '../engine/kernels.js';
import type { Graph } from '../engine/graph.js';
import { Tensor } from '../engine/tensor.js';
import { allocateParams, sizeOf, type ParamSpec } from './params.js';
import { add, attention, crossEntropy, embedding, gelu, layerNorm, linear, rmsNorm, rope, swiglu } from '../engine/ops.js';
import { trainingCompute } from '../common/compute.js';

// ── Config ──────────────────────────────────────────────────────────────────────────────────

export const NORMS = ['layernorm', 'rmsnorm'] as const;
export const MLPS = ['gelu', 'swiglu'] as const;
export const POSITIONS = ['learned', 'rope'] as const;
export type NormKind = (typeof NORMS)[number];
export type MlpKind = (typeof MLPS)[number];
export type PosKind = (typeof POSITIONS)[number];

export interface GPTConfig {
  layers: number;
  dModel: number;
  heads: number;
  /** Context length: the most tokens the model attends over. */
  ctx: number;
  vocab: number;
  /** Absent means the default, so configs (and checkpoints) written before the variants still read the same. */
  norm?: NormKind;
  mlp?: MlpKind;
  pos?: PosKind;
}

/** SwiGLU's hidden width: round(8·d/3), rounded up to a multiple of 8. */
export function swigluHidden(dModel: number): number {
  return Math.ceil(Math.round((8 * dModel) / 3) / 8) * 8;
}

/** The variant switches with their defaults filled in. */
export function variant(cfg: GPTConfig): { norm: NormKind; mlp: MlpKind; pos: PosKind } {
  return { norm: cfg.norm ?? 'layernorm', mlp: cfg.mlp ?? 'gelu', pos: cfg.pos ?? 'learned' };
}

/** The reference configuration that `scalelab bench` trains. */
export const REFERENCE_CONFIG: GPTConfig = { layers: 4, dModel: 256, heads: 4, ctx: 256, vocab: 256 };

export function validateConfig(cfg: GPTConfig): void {
  for (const key of ['layers', 'dModel', 'heads', 'ctx', 'vocab'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 1) throw new Error(`GPT config: ${key} must be a positive integer, got ${v}`);
  }
  if (cfg.dModel % cfg.heads !== 0) {
    throw new Error(`GPT config: heads (${cfg.heads}) must divide d_model (${cfg.dModel})`);
  }
  const choices = [['norm', NORMS], ['mlp', MLPS], ['pos', POSITIONS]] as const;
  for (const [key, allowed] of choices) {
    const v = cfg[key];
    if (v !== undefined && !(allowed as readonly string[]).includes(v)) {
      throw new Error(`GPT config: ${key} must be one of ${allowed.join(', ')}, got ${v}`);
    }
  }
  if (cfg.pos === 'rope' && (cfg.dModel / cfg.heads) % 2 !== 0) {
    throw new Error(`GPT config: rope needs an even head dimension, got d_model / heads = ${cfg.dModel / cfg.heads}`);
  }
}

// ── Parameter layout ────────────────────────────────────────────────────────────────────────

/** x·wᵀ + b, w [outputs, inputs]. */
export interface Linear<W> { w: W; b: W | null; inputs: number; outputs: number }
/** A norm's gain and, for layernorm, its bias. */
export interface Norm<W> { g: W; b: W | null }
export interface Block<W> { ln1: Norm<W>; qkv: Linear<W>; proj: Linear<W>; ln2: Norm<W>; fc: Linear<W>; out: Linear<W> }
/**
 * The model's weights, wired: what each operation of the forward reads. W is how an execution
 * holds a weight (a Tensor for training, a packed or plain Float32Array for decoding).
 */
export interface Weights<W> { wte: W; wpe: W | null; blocks: Block<W>[]; lnf: Norm<W>; head: Linear<W> }

/**
 * Every parameter, declared once where the forward reads it. A weight is one parameter or, for
 * SwiGLU's gate and up matrices, two adjacent ones read as one [2H, d] matrix, so one linear
 * computes both. The output head is the token embedding (tied).
 */
function declare(cfg: GPTConfig): Weights<ParamSpec[]> {
  const { layers: L, dModel: C, ctx: T, vocab: V } = cfg;
  const { norm, mlp, pos } = variant(cfg);
  // GPT-2 initialisation: N(0, 0.02), with the two projections into the residual stream scaled
  // by 1/√(2L) so the stream's variance does not grow with depth.
  const std = 0.02, residStd = 0.02 / Math.sqrt(2 * L);
  const H = mlp === 'swiglu' ? swigluHidden(C) : 4 * C;
  const matrix = (name: string, rows: number, cols: number, sd = std): ParamSpec => ({ name, shape: [rows, cols], decay: true, init: { std: sd } });
  const vector = (name: string, n: number, value: number): ParamSpec => ({ name, shape: [n], decay: false, init: { value } });
  const lin = (name: string, inputs: number, outputs: number, bias: boolean, sd = std): Linear<ParamSpec[]> => ({
    w: [matrix(`${name}.w`, outputs, inputs, sd)], b: bias ? [vector(`${name}.b`, outputs, 0)] : null, inputs, outputs,
  });
  // Norm gains (and, for layernorm, biases) keep the ln names whichever norm is used.
  const ln = (name: string): Norm<ParamSpec[]> => ({
    g: [vector(`${name}.g`, C, 1)], b: norm === 'layernorm' ? [vector(`${name}.b`, C, 0)] : null,
  });
  const wte = [matrix('wte', V, C)];
  const blocks = Array.from({ length: L }, (_, l): Block<ParamSpec[]> => {
    const h = `h${l}`;
    return {
      ln1: ln(`${h}.ln1`),
      qkv: lin(`${h}.attn.qkv`, C, 3 * C, true),
      proj: lin(`${h}.attn.proj`, C, C, true, residStd),
      ln2: ln(`${h}.ln2`),
      fc: mlp === 'gelu'
        ? lin(`${h}.mlp.fc`, C, H, true)
        : { w: [matrix(`${h}.mlp.gate.w`, H, C), matrix(`${h}.mlp.up.w`, H, C)], b: null, inputs: C, outputs: 2 * H },
      out: lin(`${h}.mlp.out`, H, C, mlp === 'gelu', residStd),
    };
  });
  return {
    wte, wpe: pos === 'learned' ? [matrix('wpe', T, C)] : null, blocks, lnf: ln('lnf'),
    head: { w: wte, b: null, inputs: C, outputs: V },
  };
}

/** The same wiring with every weight mapped by f; `linear` says it is the w of a linear. */
export function mapWeights<A, B>(w: Weights<A>, f: (a: A, linear: boolean) => B): Weights<B> {
  const n = (x: Norm<A>): Norm<B> => ({ g: f(x.g, false), b: x.b && f(x.b, false) });
  const l = (x: Linear<A>): Linear<B> => ({ w: f(x.w, true), b: x.b && f(x.b, false), inputs: x.inputs, outputs: x.outputs });
  return {
    wte: f(w.wte, false),
    wpe: w.wpe && f(w.wpe, false),
    blocks: w.blocks.map((b) => ({ ln1: n(b.ln1), qkv: l(b.qkv), proj: l(b.proj), ln2: n(b.ln2), fc: l(b.fc), out: l(b.out) })),
    lnf: n(w.lnf),
    head: l(w.head),
  };
}

/**
 * Every parameter tensor in buffer order: the decayed matrices first, then the rest, each group
 * in the order the forward first reads them.
 */
function paramSpecs(cfg: GPTConfig): ParamSpec[] {
  const seen = new Map<string, ParamSpec>();
  mapWeights(declare(cfg), (specs) => { for (const s of specs) seen.set(s.name, s); });
  const all = [...seen.values()];
  return [...all.filter((s) => s.decay), ...all.filter((s) => !s.decay)];
}

// ── The forward, once ───────────────────────────────────────────────────────────────────────

/**
 * The operations the forward is written in, over activations X (rows of a width) and weights W.
 * Two executions implement them: GPT.forward's training graph (X = W = Tensor, autograd, the
 * whole window) and Decoder.step (decode.ts: the rows of a step, KV caches, packed weights).
 */
export interface Execution<X, W> {
  /** The token embedding of every input row, plus wpe at the row's position when given. */
  embed(wte: W, wpe: W | null): X;
  layerNorm(x: X, g: W, b: W): X;
  rmsNorm(x: X, g: W): X;
  linear(x: X, l: Linear<W>): X;
  /** Rotate the q and k parts of qkv rows by each row's position (the `rope` op). */
  rope(qkv: X): X;
  /** Causal multi-head self-attention of block `layer` (decoding reads and extends its KV cache). */
  attention(qkv: X, layer: number): X;
  gelu(x: X): X;
  swiglu(x: X): X;
  /** x + y into the residual stream; may update x in place, so x is not read again. */
  residual(x: X, y: X): X;
  /** The rows whose logits are wanted (training: all). */
  outputRows(x: X): X;
  /** Block `layer` begins (decoding reuses the previous block's scratch from here). */
  block(layer: number): void;
}

/** Logits of the execution's rows: the architecture, every variant, in one function. */
export function transformer<X, W>(e: Execution<X, W>, w: Weights<W>, cfg: GPTConfig): X {
  const { norm, mlp, pos } = variant(cfg);
  const ln = (x: X, n: Norm<W>): X => (norm === 'layernorm' ? e.layerNorm(x, n.g, n.b!) : e.rmsNorm(x, n.g));
  let x = e.embed(w.wte, w.wpe);
  w.blocks.forEach((b, l) => {
    e.block(l);
    let qkv = e.linear(ln(x, b.ln1), b.qkv);
    if (pos === 'rope') qkv = e.rope(qkv);
    x = e.residual(x, e.linear(e.attention(qkv, l), b.proj));
    const h = e.linear(ln(x, b.ln2), b.fc);
    x = e.residual(x, e.linear(mlp === 'swiglu' ? e.swiglu(h) : e.gelu(h), b.out));
  });
  return e.linear(ln(e.outputRows(x), w.lnf), w.head);
}

// ── Size and compute ────────────────────────────────────────────────────────────────────────


/**
 * Parameter counts. `nonEmbedding` excludes the token and position embeddings (and so the tied
 * output head), following Kaplan et al. 2020; it is the N of the C = 6·N·D convention. A rope
 * model has no position embedding; a SwiGLU MLP counts its three matrices; RMSNorm has no biases.
 */
export function countParams(cfg: GPTConfig): { total: number; embedding: number; nonEmbedding: number } {
  const total = paramSpecs(cfg).reduce((a, s) => a + sizeOf(s.shape), 0);
  const emb = (cfg.vocab + (variant(cfg).pos === 'learned' ? cfg.ctx : 0)) * cfg.dModel;
  return { total, embedding: emb, nonEmbedding: total - emb };
}

/**
 * Training FLOPs per token (forward + backward), counted as 6 per weight of every matrix a token
 * passes through (the non-embedding weights, so two MLP matrices or SwiGLU's three, and the V·d
 * output head; elementwise work, GELU, SwiGLU, norms and rope, is not counted) plus causal
 * attention: per layer QKᵀ and P·V cost 2·T·d each forward over the full T×T square, half of it
 * under the causal mask, and backward costs twice forward: 6·L·T·d in all.
 */
export function flopsPerToken(cfg: GPTConfig): number {
  const { nonEmbedding } = countParams(cfg);
  return 6 * (nonEmbedding + cfg.vocab * cfg.dModel) + 6 * cfg.layers * cfg.ctx * cfg.dModel;
}

/** Training compute for D tokens under the C = 6·N·D convention (N non-embedding). */
export function trainingFlops(cfg: GPTConfig, tokens: number): number {
  return trainingCompute(countParams(cfg).nonEmbedding, tokens);
}

// ── Training: the forward as an autograd graph over a whole window ──────────────────────────

/** The operations as graph ops on tensors of ids [B, T], positions 0 … T−1. */
class GraphExecution implements Execution<Tensor, Tensor> {
  constructor(private readonly g: Graph, private readonly ids: Int32Array, private readonly B: number,
    private readonly T: number, private readonly heads: number) {}

  embed(wte: Tensor, wpe: Tensor | null): Tensor {
    const { g, B, T } = this;
    const x = embedding(g, this.ids, wte, [B, T]);
    if (!wpe) return x;
    // The first T rows of the position table, sharing its storage and its gradient.
    const C = wpe.shape[1];
    const pos = new Tensor(wpe.data.subarray(0, T * C), [T, C], true, 'wpe[:T]');
    pos.grad = wpe.grad!.subarray(0, T * C);
    return add(g, x, pos);
  }
  layerNorm(x: Tensor, gain: Tensor, bias: Tensor): Tensor { return layerNorm(this.g, x, gain, bias); }
  rmsNorm(x: Tensor, gain: Tensor): Tensor { return rmsNorm(this.g, x, gain); }
  linear(x: Tensor, l: Linear<Tensor>): Tensor { return linear(this.g, x, l.w, l.b); }
  rope(qkv: Tensor): Tensor { return rope(this.g, qkv, this.heads); }
  attention(qkv: Tensor): Tensor { return attention(this.g, qkv, this.heads); }
  gelu(x: Tensor): Tensor { return gelu(this.g, x); }
  swiglu(x: Tensor): Tensor { return swiglu(this.g, x); }
  residual(x: Tensor, y: Tensor): Tensor { return add(this.g, x, y); }
  outputRows(x: Tensor): Tensor { return x; }
  block(): void {}
}

export class GPT {
  readonly params: Buf;
  readonly grads: Buf;
  /** params[0, decayed) are weight-decayed; the rest are not. */
  readonly decayed: number;
  readonly named: Map<string, Tensor>;
  /** The weights as the forward reads them: views into params (and grads). */
  readonly weights: Weights<Tensor>;

  constructor(readonly config: GPTConfig, opts: { seed?: number; dtype?: 'f32' | 'f64' } = {}) {
    validateConfig(config);
    ({ params: this.params, grads: this.grads, decayed: this.decayed, named: this.named } = allocateParams(paramSpecs(config), opts));
    this.weights = mapWeights(declare(config), (w) => this.view(w));
  }

  /** One parameter's tensor, or adjacent ones (SwiGLU's gate and up) seen as one matrix and gradient. */
  private view(specs: ParamSpec[]): Tensor {
    const parts = specs.map((s) => this.named.get(s.name)!);
    if (parts.length === 1) return parts[0];
    const start = parts[0].data.byteOffset / parts[0].data.BYTES_PER_ELEMENT;
    const n = parts.reduce((a, t) => a + t.size, 0);
    if (parts.some((t, i) => i > 0 && t.data.byteOffset !== parts[i - 1].data.byteOffset + parts[i - 1].data.byteLength)) {
      throw new Error(`GPT: ${parts.map((t) => t.name).join(' and ')} are not adjacent in the parameter buffer`);
    }
    const t = new Tensor(this.params.subarray(start, start + n), [n / parts[0].shape[1], parts[0].shape[1]], true, parts.map((p) => p.name).join('+'));
    t.grad = this.grads.subarray(start, start + n);
    return t;
  }

  /**
   * Logits for ids [B, T] and, given targets, the mean cross-entropy loss in nats.
   * T may be anything up to the context length.
   */
  forward(g: Graph, ids: Int32Array, B: number, T: number, targets?: Int32Array): { logits: Tensor; loss: Tensor | null } {
    const { heads, ctx } = this.config;
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1 || T > ctx) {
      throw new Error(`GPT.forward: need 1 ≤ T ≤ ctx (${ctx}) and B ≥ 1, got B=${B} T=${T}`);
    }
    if (ids.length !== B * T) throw new Error(`GPT.forward: ${ids.length} ids for B=${B} × T=${T}`);
    const logits = transformer(new GraphExecution(g, ids, B, T, heads), this.weights, this.config);
    const loss = targets ? crossEntropy(g, logits, targets) : null;
    return { logits, loss };
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }
}
