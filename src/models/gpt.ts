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
// Parameters live in one flat buffer with a view per tensor (as in llm.c), and their gradients
// in a second buffer laid out the same way: the optimiser and gradient clipping each make one
// pass over one array. The buffer is ordered so the weight-decayed matrices come first.
import type { Buf } from '../engine/kernels.js';
import type { Graph } from '../engine/graph.js';
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../engine/random.js';
import { add, attention, crossEntropy, embedding, gelu, layerNorm, linear, rmsNorm, rope, swiglu } from '../engine/ops.js';

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

interface ParamSpec {
  name: string;
  shape: number[];
  /** Weight decay applies to matrices, not to biases and norm gains. */
  decay: boolean;
  /** 'normal' with this standard deviation, or a constant. */
  init: { std: number } | { value: number };
}

/** Every parameter tensor, decayed ones first. */
function paramSpecs(cfg: GPTConfig): ParamSpec[] {
  const { layers: L, dModel: C, ctx: T, vocab: V } = cfg;
  const { norm, mlp, pos } = variant(cfg);
  // GPT-2 initialisation: N(0, 0.02), with the two projections into the residual stream scaled
  // by 1/√(2L) so the stream's variance does not grow with depth.
  const std = 0.02, residStd = 0.02 / Math.sqrt(2 * L);
  const H = mlp === 'swiglu' ? swigluHidden(C) : 4 * C;
  const specs: ParamSpec[] = [{ name: 'wte', shape: [V, C], decay: true, init: { std } }];
  if (pos === 'learned') specs.push({ name: 'wpe', shape: [T, C], decay: true, init: { std } });
  for (let l = 0; l < L; l++) {
    specs.push(
      { name: `h${l}.attn.qkv.w`, shape: [3 * C, C], decay: true, init: { std } },
      { name: `h${l}.attn.proj.w`, shape: [C, C], decay: true, init: { std: residStd } },
    );
    if (mlp === 'gelu') specs.push({ name: `h${l}.mlp.fc.w`, shape: [H, C], decay: true, init: { std } });
    // W1 (gate) and W3 (up) are adjacent, so one linear over the [2H, C] pair computes both.
    else specs.push(
      { name: `h${l}.mlp.gate.w`, shape: [H, C], decay: true, init: { std } },
      { name: `h${l}.mlp.up.w`, shape: [H, C], decay: true, init: { std } },
    );
    specs.push({ name: `h${l}.mlp.out.w`, shape: [C, H], decay: true, init: { std: residStd } });
  }
  // Norm gains (and, for layernorm, biases) keep the ln names whichever norm is used.
  const normSpecs = (name: string): ParamSpec[] => [
    { name: `${name}.g`, shape: [C], decay: false, init: { value: 1 } },
    ...(norm === 'layernorm' ? [{ name: `${name}.b`, shape: [C], decay: false, init: { value: 0 } }] : []),
  ];
  for (let l = 0; l < L; l++) {
    specs.push(
      ...normSpecs(`h${l}.ln1`),
      { name: `h${l}.attn.qkv.b`, shape: [3 * C], decay: false, init: { value: 0 } },
      { name: `h${l}.attn.proj.b`, shape: [C], decay: false, init: { value: 0 } },
      ...normSpecs(`h${l}.ln2`),
    );
    if (mlp === 'gelu') {
      specs.push(
        { name: `h${l}.mlp.fc.b`, shape: [H], decay: false, init: { value: 0 } },
        { name: `h${l}.mlp.out.b`, shape: [C], decay: false, init: { value: 0 } },
      );
    }
  }
  specs.push(...normSpecs('lnf'));
  return specs;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

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
  return 6 * countParams(cfg).nonEmbedding * tokens;
}

/** A norm's gain and, for layernorm, its bias. */
type Norm = [Tensor, Tensor | null];

interface Block {
  ln1: Norm;
  qkv: [Tensor, Tensor];
  proj: [Tensor, Tensor];
  ln2: Norm;
  /** gelu: fc [4d, d] with bias; swiglu: the [gate; up] pair as one [2H, d] matrix, no bias. */
  fc: [Tensor, Tensor | null];
  out: [Tensor, Tensor | null];
}

export class GPT {
  readonly params: Buf;
  readonly grads: Buf;
  /** params[0, decayed) are weight-decayed; the rest are not. */
  readonly decayed: number;
  readonly named: Map<string, Tensor>;
  private readonly wte: Tensor;
  private readonly wpe: Tensor | null;
  private readonly blocks: Block[];
  private readonly lnf: Norm;
  private readonly kind: ReturnType<typeof variant>;

  constructor(readonly config: GPTConfig, opts: { seed?: number; dtype?: 'f32' | 'f64' } = {}) {
    validateConfig(config);
    this.kind = variant(config);
    const specs = paramSpecs(config);
    const total = specs.reduce((a, s) => a + sizeOf(s.shape), 0);
    const Arr = opts.dtype === 'f64' ? Float64Array : Float32Array;
    this.params = new Arr(total);
    this.grads = new Arr(total);
    this.named = new Map();
    const rng = new Rng(opts.seed ?? 0);
    const offsets = new Map<string, number>();
    let offset = 0;
    this.decayed = 0;
    for (const s of specs) {
      const n = sizeOf(s.shape);
      const data = this.params.subarray(offset, offset + n);
      if ('std' in s.init) for (let i = 0; i < n; i++) data[i] = rng.normal() * s.init.std;
      else data.fill(s.init.value);
      const t = new Tensor(data, s.shape, true, s.name);
      t.grad = this.grads.subarray(offset, offset + n);
      this.named.set(s.name, t);
      offsets.set(s.name, offset);
      offset += n;
      if (s.decay) this.decayed = offset;
    }
    const p = (name: string) => this.named.get(name)!;
    const norm = (name: string): Norm => [p(`${name}.g`), this.kind.norm === 'layernorm' ? p(`${name}.b`) : null];
    // SwiGLU's gate and up matrices, adjacent in the buffer, seen as one [2H, d] matrix (and gradient).
    const stacked = (a: string, b: string): Tensor => {
      const start = offsets.get(a)!, n = p(a).size + p(b).size;
      const t = new Tensor(this.params.subarray(start, start + n), [p(a).shape[0] + p(b).shape[0], p(a).shape[1]], true, `${a}+${b}`);
      t.grad = this.grads.subarray(start, start + n);
      return t;
    };
    this.wte = p('wte');
    this.wpe = this.kind.pos === 'learned' ? p('wpe') : null;
    this.blocks = [];
    for (let l = 0; l < config.layers; l++) {
      const h = `h${l}`;
      const swi = this.kind.mlp === 'swiglu';
      this.blocks.push({
        ln1: norm(`${h}.ln1`),
        qkv: [p(`${h}.attn.qkv.w`), p(`${h}.attn.qkv.b`)],
        proj: [p(`${h}.attn.proj.w`), p(`${h}.attn.proj.b`)],
        ln2: norm(`${h}.ln2`),
        fc: swi ? [stacked(`${h}.mlp.gate.w`, `${h}.mlp.up.w`), null] : [p(`${h}.mlp.fc.w`), p(`${h}.mlp.fc.b`)],
        out: [p(`${h}.mlp.out.w`), swi ? null : p(`${h}.mlp.out.b`)],
      });
    }
    this.lnf = norm('lnf');
  }

  private norm(g: Graph, x: Tensor, [gain, bias]: Norm): Tensor {
    return bias ? layerNorm(g, x, gain, bias) : rmsNorm(g, x, gain);
  }

  /**
   * Logits for ids [B, T] and, given targets, the mean cross-entropy loss in nats.
   * T may be anything up to the context length.
   */
  forward(g: Graph, ids: Int32Array, B: number, T: number, targets?: Int32Array): { logits: Tensor; loss: Tensor | null } {
    const { dModel: C, heads, ctx } = this.config;
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1 || T > ctx) {
      throw new Error(`GPT.forward: need 1 ≤ T ≤ ctx (${ctx}) and B ≥ 1, got B=${B} T=${T}`);
    }
    if (ids.length !== B * T) throw new Error(`GPT.forward: ${ids.length} ids for B=${B} × T=${T}`);

    let x = embedding(g, ids, this.wte, [B, T]);
    if (this.wpe) {
      // The first T rows of the position table, sharing its storage and its gradient.
      const pos = new Tensor(this.wpe.data.subarray(0, T * C), [T, C], true, 'wpe[:T]');
      pos.grad = this.wpe.grad!.subarray(0, T * C);
      x = add(g, x, pos);
    }
    const useRope = this.kind.pos === 'rope', useSwiglu = this.kind.mlp === 'swiglu';
    for (const b of this.blocks) {
      let qkv = linear(g, this.norm(g, x, b.ln1), ...b.qkv);
      if (useRope) qkv = rope(g, qkv, heads);
      x = add(g, x, linear(g, attention(g, qkv, heads), ...b.proj));
      const h = linear(g, this.norm(g, x, b.ln2), ...b.fc);
      x = add(g, x, linear(g, useSwiglu ? swiglu(g, h) : gelu(g, h), ...b.out));
    }
    const logits = linear(g, this.norm(g, x, this.lnf), this.wte);
    const loss = targets ? crossEntropy(g, logits, targets) : null;
    return { logits, loss };
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }
}
