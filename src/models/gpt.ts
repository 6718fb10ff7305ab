// GPT: a decoder-only transformer, as in GPT-2, sized by five numbers.
//
//   tokens ──► wte[token] + wpe[position]                       token and position embeddings
//          ──► L × block                                        pre-norm residual blocks
//                x = x + proj(attention(ln1(x)))                causal multi-head self-attention
//                x = x + out(gelu(fc(ln2(x))))                  MLP, 4× wide, GELU (tanh form)
//          ──► lnf ──► logits = x · wteᵀ                        output tied to the input embedding
//          ──► cross-entropy against the next token
//
// Parameters live in one flat buffer with a view per tensor (as in llm.c), and their gradients
// in a second buffer laid out the same way: the optimiser and gradient clipping each make one
// pass over one array. The buffer is ordered so the weight-decayed matrices come first.
import type { Buf } from '../engine/kernels.js';
import type { Graph } from '../engine/graph.js';
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../engine/random.js';
import { add, attention, crossEntropy, embedding, gelu, layerNorm, linear } from '../engine/ops.js';

export interface GPTConfig {
  layers: number;
  dModel: number;
  heads: number;
  /** Context length: the most tokens the model attends over. */
  ctx: number;
  vocab: number;
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
  // GPT-2 initialisation: N(0, 0.02), with the two projections into the residual stream scaled
  // by 1/√(2L) so the stream's variance does not grow with depth.
  const std = 0.02, residStd = 0.02 / Math.sqrt(2 * L);
  const specs: ParamSpec[] = [
    { name: 'wte', shape: [V, C], decay: true, init: { std } },
    { name: 'wpe', shape: [T, C], decay: true, init: { std } },
  ];
  for (let l = 0; l < L; l++) {
    specs.push(
      { name: `h${l}.attn.qkv.w`, shape: [3 * C, C], decay: true, init: { std } },
      { name: `h${l}.attn.proj.w`, shape: [C, C], decay: true, init: { std: residStd } },
      { name: `h${l}.mlp.fc.w`, shape: [4 * C, C], decay: true, init: { std } },
      { name: `h${l}.mlp.out.w`, shape: [C, 4 * C], decay: true, init: { std: residStd } },
    );
  }
  for (let l = 0; l < L; l++) {
    specs.push(
      { name: `h${l}.ln1.g`, shape: [C], decay: false, init: { value: 1 } },
      { name: `h${l}.ln1.b`, shape: [C], decay: false, init: { value: 0 } },
      { name: `h${l}.attn.qkv.b`, shape: [3 * C], decay: false, init: { value: 0 } },
      { name: `h${l}.attn.proj.b`, shape: [C], decay: false, init: { value: 0 } },
      { name: `h${l}.ln2.g`, shape: [C], decay: false, init: { value: 1 } },
      { name: `h${l}.ln2.b`, shape: [C], decay: false, init: { value: 0 } },
      { name: `h${l}.mlp.fc.b`, shape: [4 * C], decay: false, init: { value: 0 } },
      { name: `h${l}.mlp.out.b`, shape: [C], decay: false, init: { value: 0 } },
    );
  }
  specs.push(
    { name: 'lnf.g', shape: [C], decay: false, init: { value: 1 } },
    { name: 'lnf.b', shape: [C], decay: false, init: { value: 0 } },
  );
  return specs;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Parameter counts. `nonEmbedding` excludes the token and position embeddings (and so the tied
 * output head), following Kaplan et al. 2020; it is the N of the C = 6·N·D convention.
 */
export function countParams(cfg: GPTConfig): { total: number; embedding: number; nonEmbedding: number } {
  const total = paramSpecs(cfg).reduce((a, s) => a + sizeOf(s.shape), 0);
  const emb = (cfg.vocab + cfg.ctx) * cfg.dModel;
  return { total, embedding: emb, nonEmbedding: total - emb };
}

/**
 * Training FLOPs per token (forward + backward), counted as 6 per weight of every matrix a token
 * passes through (the non-embedding weights and the V·d output head) plus causal attention:
 * per layer QKᵀ and P·V cost 2·T·d each forward over the full T×T square, half of it under the
 * causal mask, and backward costs twice forward: 6·L·T·d in all.
 */
export function flopsPerToken(cfg: GPTConfig): number {
  const { nonEmbedding } = countParams(cfg);
  return 6 * (nonEmbedding + cfg.vocab * cfg.dModel) + 6 * cfg.layers * cfg.ctx * cfg.dModel;
}

/** Training compute for D tokens under the C = 6·N·D convention (N non-embedding). */
export function trainingFlops(cfg: GPTConfig, tokens: number): number {
  return 6 * countParams(cfg).nonEmbedding * tokens;
}

interface Block {
  ln1: [Tensor, Tensor];
  qkv: [Tensor, Tensor];
  proj: [Tensor, Tensor];
  ln2: [Tensor, Tensor];
  fc: [Tensor, Tensor];
  out: [Tensor, Tensor];
}

export class GPT {
  readonly params: Buf;
  readonly grads: Buf;
  /** params[0, decayed) are weight-decayed; the rest are not. */
  readonly decayed: number;
  readonly named: Map<string, Tensor>;
  private readonly wte: Tensor;
  private readonly wpe: Tensor;
  private readonly blocks: Block[];
  private readonly lnf: [Tensor, Tensor];

  constructor(readonly config: GPTConfig, opts: { seed?: number; dtype?: 'f32' | 'f64' } = {}) {
    validateConfig(config);
    const specs = paramSpecs(config);
    const total = specs.reduce((a, s) => a + sizeOf(s.shape), 0);
    const Arr = opts.dtype === 'f64' ? Float64Array : Float32Array;
    this.params = new Arr(total);
    this.grads = new Arr(total);
    this.named = new Map();
    const rng = new Rng(opts.seed ?? 0);
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
      offset += n;
      if (s.decay) this.decayed = offset;
    }
    const p = (name: string) => this.named.get(name)!;
    this.wte = p('wte');
    this.wpe = p('wpe');
    this.blocks = [];
    for (let l = 0; l < config.layers; l++) {
      // [weight or gain, bias] of one sub-layer.
      const pair = (a: string): [Tensor, Tensor] => [p(`h${l}.${a}.${a.startsWith('ln') ? 'g' : 'w'}`), p(`h${l}.${a}.b`)];
      this.blocks.push({
        ln1: pair('ln1'), qkv: pair('attn.qkv'), proj: pair('attn.proj'),
        ln2: pair('ln2'), fc: pair('mlp.fc'), out: pair('mlp.out'),
      });
    }
    this.lnf = [p('lnf.g'), p('lnf.b')];
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

    // The first T rows of the position table, sharing its storage and its gradient.
    const pos = new Tensor(this.wpe.data.subarray(0, T * C), [T, C], true, 'wpe[:T]');
    pos.grad = this.wpe.grad!.subarray(0, T * C);

    let x = add(g, embedding(g, ids, this.wte, [B, T]), pos);
    for (const b of this.blocks) {
      const a = attention(g, linear(g, layerNorm(g, x, ...b.ln1), ...b.qkv), heads);
      x = add(g, x, linear(g, a, ...b.proj));
      const m = gelu(g, linear(g, layerNorm(g, x, ...b.ln2), ...b.fc));
      x = add(g, x, linear(g, m, ...b.out));
    }
    const logits = linear(g, layerNorm(g, x, ...this.lnf), this.wte);
    const loss = targets ? crossEntropy(g, logits, targets) : null;
    return { logits, loss };
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }
}
