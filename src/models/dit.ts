// DiT: a diffusion transformer over spacetime patches (Peebles & Xie 2023, as the Sora report
// uses it), conditioned on a caption and the diffusion time through adaLN-Zero, trained with
// rectified flow (Liu et al. 2022; Esser et al. 2024).
//
//   clip x [B, T, H, W, 3] ──► patchify into pt×p×p tubes ──► linear ──► + pos[tube]   N tokens of width d
//   caption ──► words[id] + wpos ──► textLayers × pre-norm block ──► ln ──► flatten ──► linear   y [B, d]
//   time t ──► sinusoids ──► linear ──► silu ──► linear                                       τ [B, d]
//   c = silu(τ + y)                                                         the conditioning of every block
//   (joint conditioning: the caption's tokens ──► linear ──► appended to the N patches, x [B, N + Lc, d])
//          ──► L × adaLN-Zero block
//                (shift, scale, gate)₁,₂ = six linears of c, all zero at initialisation
//                x = x + gate₁ · proj(attention(qkv(ln(x) · (1 + scale₁) + shift₁)))   bidirectional
//                x = x + gate₂ · mlp(ln(x) · (1 + scale₂) + shift₂)                      4·d GELU MLP
//          ──► ln(x) · (1 + scale) + shift ──► linear (zero at init) ──► unpatchify   velocity [B, T, H, W, 3]
//
// Every gate and the output layer start at zero, so each block starts as the identity and the
// model as v = 0 (adaLN-Zero): the conditioning learns to open each block.
//
// Joint conditioning (as SD3's MM-DiT does, with one set of weights): the caption's encoded tokens
// also join the patches in every block, so attention relates them directly. A patch's query
// carries its place in space and time, a word's key its meaning: "an object here, in this frame,
// if the caption says right" is one attention score, where through the pooled vector it must be
// built from a product of position and modulation. The patches alone go to the output layer.
//
// Rectified flow: a clip x₀ and noise ε ~ N(0, I) are joined by the straight line
// x_t = (1 − t)·x₀ + t·ε, t ∈ [0, 1]; the model predicts its velocity v = ε − x₀ (MSE loss), with
// t drawn logit-normal (t = σ(n), n ~ N(0, 1)), which puts the training where the path is hardest,
// in the middle. Sampling integrates dx/dt = v from t = 1 (noise) to 0 with Euler steps.
//
// Time shift (Esser et al. 2024, §5.3.2): t ↦ s·t / (1 + (s − 1)·t) moves both the training times
// and the sampler's steps toward noise for s > 1. What a caption decides (where an object starts,
// which way it goes) is decided at high noise: by t = 0.8 the noisy clip itself shows the
// trajectory, and the model needs the caption no more. Unshifted, logit-normal times put 1.4% of
// training above t = 0.9.
//
// Classifier-free guidance (Ho & Salimans 2022): in training a caption is replaced, with
// probability `captionDrop`, by the null caption (every word the extra id `vocab`, whose embedding
// is learned), so the same model predicts v(x, t, ∅); sampling moves along
// v∅ + w·(v_caption − v∅).
//
// This file is the one definition: the config, the parameter layout (`declare`), the forward, the
// sampler and the FLOPs estimate. Parameters live in one flat buffer with a view per tensor, the
// weight-decayed matrices first, as in gpt.ts.
import type { Buf } from '../engine/kernels.js';
import type { Graph } from '../engine/graph.js';
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../engine/random.js';
import { allocateParams, sizeOf, type ParamSpec } from './params.js';
import {
  add, concatTokens, embedding, firstTokens, fullAttention, gate, gelu, layerNorm, linear, modulate, mse, patchify, silu, timeEmbedding, unpatchify,
} from '../engine/ops.js';
import { trainingCompute } from '../common/compute.js';

// ── Config ──────────────────────────────────────────────────────────────────────────────────

export interface DiTConfig {
  /** The clip: frames × height × width × channels. */
  frames: number;
  height: number;
  width: number;
  channels: number;
  /** Spatial patch side p and temporal patch length pt: a token is a pt×p×p tube. */
  patch: number;
  tpatch: number;
  layers: number;
  dModel: number;
  heads: number;
  /** Caption words (padding included); the null caption's word is the extra id `vocab`. */
  vocab: number;
  captionLength: number;
  /** Transformer blocks of the caption encoder. */
  textLayers: number;
  /**
   * What attention keeps for backward: 'recompute' (absent: the default) keeps its output and the
   * log-sum-exp of each row and recomputes the probabilities block by block (flash-style, memory
   * linear in the tokens); 'naive' keeps the probabilities [B, heads, N, N]. The same function,
   * equal to float rounding; `scalelab bench dit` measures what the choice costs in memory.
   */
  attention?: 'recompute' | 'naive';
  /** The time shift s of training and sampling (absent: 1, none). */
  timeShift?: number;
  /** 'joint': the caption's tokens join every block's attention too (absent: 'adaln', the pooled caption only). */
  conditioning?: 'adaln' | 'joint';
}

export function validateDiTConfig(cfg: DiTConfig): void {
  for (const key of ['frames', 'height', 'width', 'channels', 'patch', 'tpatch', 'layers', 'dModel', 'heads', 'vocab', 'captionLength'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 1) throw new Error(`DiT config: ${key} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(cfg.textLayers) || cfg.textLayers < 0) throw new Error(`DiT config: textLayers must be a non-negative integer, got ${cfg.textLayers}`);
  if (cfg.dModel % cfg.heads !== 0) throw new Error(`DiT config: heads (${cfg.heads}) must divide d_model (${cfg.dModel})`);
  if (cfg.dModel % 2 !== 0) throw new Error(`DiT config: d_model must be even (the time embedding's sines and cosines), got ${cfg.dModel}`);
  if (cfg.attention !== undefined && cfg.attention !== 'recompute' && cfg.attention !== 'naive') throw new Error(`DiT config: attention must be recompute or naive, got ${cfg.attention}`);
  if (cfg.conditioning !== undefined && cfg.conditioning !== 'adaln' && cfg.conditioning !== 'joint') throw new Error(`DiT config: conditioning must be adaln or joint, got ${cfg.conditioning}`);
  if (cfg.timeShift !== undefined && !(Number.isFinite(cfg.timeShift) && cfg.timeShift > 0)) throw new Error(`DiT config: timeShift must be a positive number, got ${cfg.timeShift}`);
  if (cfg.frames % cfg.tpatch !== 0) throw new Error(`DiT config: the temporal patch (${cfg.tpatch}) must divide frames (${cfg.frames})`);
  if (cfg.height % cfg.patch !== 0 || cfg.width % cfg.patch !== 0) {
    throw new Error(`DiT config: the patch (${cfg.patch}) must divide the frame size (${cfg.height}×${cfg.width})`);
  }
}

/** Tokens per clip: the number of spacetime tubes. */
export function tokensPerClip(cfg: DiTConfig): number {
  return (cfg.frames / cfg.tpatch) * (cfg.height / cfg.patch) * (cfg.width / cfg.patch);
}

/** Values per token: one tube's pixels. */
export function patchValues(cfg: DiTConfig): number {
  return cfg.tpatch * cfg.patch * cfg.patch * cfg.channels;
}

/** Values per clip, [T, H, W, channels]. */
export function clipValues(cfg: DiTConfig): number {
  return cfg.frames * cfg.height * cfg.width * cfg.channels;
}

// ── Parameter layout ────────────────────────────────────────────────────────────────────────

export interface Linear<W> { w: W; b: W }
export interface Norm<W> { g: W; b: W }
/** A caption-encoder block: pre-norm, as GPT's, but bidirectional. */
export interface TextBlock<W> { ln1: Norm<W>; qkv: Linear<W>; proj: Linear<W>; ln2: Norm<W>; fc: Linear<W>; out: Linear<W> }
/** The six adaLN-Zero projections of the conditioning for one block. */
export interface Modulation<W> { shift1: Linear<W>; scale1: Linear<W>; gate1: Linear<W>; shift2: Linear<W>; scale2: Linear<W>; gate2: Linear<W> }
export interface Block<W> { ada: Modulation<W>; qkv: Linear<W>; proj: Linear<W>; fc: Linear<W>; out: Linear<W> }
export interface Weights<W> {
  patchEmbed: Linear<W>;
  pos: W;
  words: W;
  wordPos: W;
  text: TextBlock<W>[];
  textLn: Norm<W>;
  textPool: Linear<W>;
  /** Joint conditioning only: the caption's tokens into the blocks' space. */
  textIn?: Linear<W>;
  time1: Linear<W>;
  time2: Linear<W>;
  blocks: Block<W>[];
  finalShift: Linear<W>;
  finalScale: Linear<W>;
  final: Linear<W>;
}

function declare(cfg: DiTConfig): Weights<ParamSpec> {
  const { dModel: C, captionLength: Lc } = cfg;
  const std = 0.02, residStd = 0.02 / Math.sqrt(2 * Math.max(1, cfg.textLayers));
  const matrix = (name: string, rows: number, cols: number, init: ParamSpec['init'] = { std }): ParamSpec => ({ name, shape: [rows, cols], decay: true, init });
  const vector = (name: string, n: number, value: number): ParamSpec => ({ name, shape: [n], decay: false, init: { value } });
  const lin = (name: string, inputs: number, outputs: number, init: ParamSpec['init'] = { std }): Linear<ParamSpec> => ({
    w: matrix(`${name}.w`, outputs, inputs, init), b: vector(`${name}.b`, outputs, 0),
  });
  // adaLN-Zero: every projection of the conditioning, and the output layer, start at zero.
  const zero = (name: string, outputs = C) => lin(name, C, outputs, { value: 0 });
  const ln = (name: string): Norm<ParamSpec> => ({ g: vector(`${name}.g`, C, 1), b: vector(`${name}.b`, C, 0) });
  return {
    patchEmbed: lin('patch', patchValues(cfg), C),
    pos: matrix('pos', tokensPerClip(cfg), C),
    // One row more than the vocabulary: the null caption's word.
    words: matrix('text.words', cfg.vocab + 1, C),
    wordPos: matrix('text.pos', Lc, C),
    text: Array.from({ length: cfg.textLayers }, (_, l): TextBlock<ParamSpec> => ({
      ln1: ln(`text.h${l}.ln1`), qkv: lin(`text.h${l}.attn.qkv`, C, 3 * C), proj: lin(`text.h${l}.attn.proj`, C, C, { std: residStd }),
      ln2: ln(`text.h${l}.ln2`), fc: lin(`text.h${l}.mlp.fc`, C, 4 * C), out: lin(`text.h${l}.mlp.out`, 4 * C, C, { std: residStd }),
    })),
    textLn: ln('text.lnf'),
    // The caption's words, flattened in order, to one vector: word order matters ("a red circle
    // … while a blue square" says which shape is red).
    textPool: lin('text.pool', Lc * C, C),
    ...(cfg.conditioning === 'joint' ? { textIn: lin('text.in', C, C) } : {}),
    time1: lin('time.fc1', C, C),
    time2: lin('time.fc2', C, C),
    blocks: Array.from({ length: cfg.layers }, (_, l): Block<ParamSpec> => ({
      ada: {
        shift1: zero(`h${l}.ada.shift1`), scale1: zero(`h${l}.ada.scale1`), gate1: zero(`h${l}.ada.gate1`),
        shift2: zero(`h${l}.ada.shift2`), scale2: zero(`h${l}.ada.scale2`), gate2: zero(`h${l}.ada.gate2`),
      },
      qkv: lin(`h${l}.attn.qkv`, C, 3 * C), proj: lin(`h${l}.attn.proj`, C, C),
      fc: lin(`h${l}.mlp.fc`, C, 4 * C), out: lin(`h${l}.mlp.out`, 4 * C, C),
    })),
    finalShift: zero('final.shift'),
    finalScale: zero('final.scale'),
    final: zero('final.out', patchValues(cfg)),
  };
}

const isSpec = (x: unknown): x is ParamSpec => typeof x === 'object' && x !== null && 'init' in x && 'shape' in x;

/** The same wiring with every parameter mapped by f, walked in declaration order. */
function mapParams<B>(w: Weights<ParamSpec>, f: (s: ParamSpec) => B): Weights<B> {
  const walk = (x: unknown): unknown => {
    if (isSpec(x)) return f(x);
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
    return x;
  };
  return walk(w) as Weights<B>;
}

/** Every parameter tensor in buffer order: the decayed matrices first, each group in declaration order. */
function paramSpecs(cfg: DiTConfig): ParamSpec[] {
  const all: ParamSpec[] = [];
  mapParams(declare(cfg), (s) => all.push(s));
  return [...all.filter((s) => s.decay), ...all.filter((s) => !s.decay)];
}

// ── The forward ─────────────────────────────────────────────────────────────────────────────

/** x as another shape of the same size (a copy, whose gradient flows back unchanged). */
function reshape(g: Graph, x: Tensor, shape: number[]): Tensor {
  const out = g.output(shape, [x], 'reshape');
  if (out.size !== x.size) throw new Error(`reshape: [${x.shape}] has ${x.size} elements, [${shape}] ${out.size}`);
  out.data.set(x.data);
  g.record(out, () => {
    if (out.grad) g.kernels.axpy(1, out.grad, g.gradOf(x), x.size);
  });
  return out;
}

const lin = (g: Graph, x: Tensor, l: Linear<Tensor>) => linear(g, x, l.w, l.b);

/** The caption encoder: word ids [B, captionLength] → its tokens [B, captionLength, d] and y [B, d]. */
function encodeText(g: Graph, w: Weights<Tensor>, cfg: DiTConfig, ids: Int32Array, B: number): { tokens: Tensor; pooled: Tensor } {
  const { captionLength: Lc, dModel: C, heads } = cfg;
  let x = add(g, embedding(g, ids, w.words, [B, Lc]), w.wordPos);
  for (const b of w.text) {
    const a = fullAttention(g, lin(g, layerNorm(g, x, b.ln1.g, b.ln1.b), b.qkv), heads, { recompute: cfg.attention !== 'naive' });
    x = add(g, x, lin(g, a, b.proj));
    x = add(g, x, lin(g, gelu(g, lin(g, layerNorm(g, x, b.ln2.g, b.ln2.b), b.fc)), b.out));
  }
  const tokens = layerNorm(g, x, w.textLn.g, w.textLn.b);
  return { tokens, pooled: lin(g, reshape(g, tokens, [B, Lc * C]), w.textPool) };
}

/**
 * The velocity the model predicts for noisy clips xt [B, T, H, W, ch] at diffusion times t (one
 * per clip) under captions (word ids [B, captionLength]; the null caption for guidance).
 */
export function diffusionTransformer(g: Graph, w: Weights<Tensor>, cfg: DiTConfig, xt: Tensor, t: ArrayLike<number>, caption: Int32Array): Tensor {
  const { heads, patch: p, tpatch: pt } = cfg;
  const B = xt.shape[0];
  // Conditioning: c = silu(τ(t) + y(caption)), shared by every block's modulation.
  const tau = lin(g, silu(g, lin(g, timeEmbedding(g, t, cfg.dModel), w.time1)), w.time2);
  const text = encodeText(g, w, cfg, caption, B);
  const c = silu(g, add(g, tau, text.pooled));
  let x = add(g, lin(g, patchify(g, xt, pt, p), w.patchEmbed), w.pos);
  const N = x.shape[1];
  if (w.textIn) x = concatTokens(g, x, lin(g, text.tokens, w.textIn));
  for (const b of w.blocks) {
    const m = b.ada;
    let h = modulate(g, layerNorm(g, x, null, null), lin(g, c, m.shift1), lin(g, c, m.scale1));
    h = lin(g, fullAttention(g, lin(g, h, b.qkv), heads, { recompute: cfg.attention !== 'naive' }), b.proj);
    x = add(g, x, gate(g, h, lin(g, c, m.gate1)));
    h = modulate(g, layerNorm(g, x, null, null), lin(g, c, m.shift2), lin(g, c, m.scale2));
    h = lin(g, gelu(g, lin(g, h, b.fc)), b.out);
    x = add(g, x, gate(g, h, lin(g, c, m.gate2)));
  }
  if (w.textIn) x = firstTokens(g, x, N);
  const out = lin(g, modulate(g, layerNorm(g, x, null, null), lin(g, c, w.finalShift), lin(g, c, w.finalScale)), w.final);
  return unpatchify(g, out, [cfg.frames, cfg.height, cfg.width, cfg.channels], pt, p);
}

// ── Size and compute ────────────────────────────────────────────────────────────────────────


/**
 * Parameter counts. `embedding` is the lookup tables (spacetime positions, caption words and
 * their positions), which cost no multiplications; everything else is `nonEmbedding`, the N of
 * C = 6·N·D with D counted in patches (tokens).
 */
export function countParams(cfg: DiTConfig): { total: number; embedding: number; nonEmbedding: number } {
  const total = paramSpecs(cfg).reduce((a, s) => a + sizeOf(s.shape), 0);
  const emb = (tokensPerClip(cfg) + cfg.vocab + 1 + cfg.captionLength) * cfg.dModel;
  return { total, embedding: emb, nonEmbedding: total - emb };
}

/**
 * Training FLOPs per patch (forward + backward): 6 per weight of every matrix a patch passes
 * through (patch embedding, the blocks' attention and MLP, the output layer), 12·L·M·d for
 * bidirectional attention over the M tokens of its clip (QKᵀ and P·V, 2·M·d each forward, over
 * the full square; backward twice forward), and its share 1/N of the per-clip work: the caption
 * encoder (once per caption word), the time MLP and the adaLN projections, and with joint
 * conditioning the caption's tokens through every block and their attention. M is N, or N + Lc
 * with joint conditioning.
 */
export function flopsPerPatch(cfg: DiTConfig): number {
  const { dModel: C, layers: L, textLayers: Lt, captionLength: Lc } = cfg;
  const N = tokensPerClip(cfg), P = patchValues(cfg);
  const joint = cfg.conditioning === 'joint' ? Lc : 0, M = N + joint;
  const perPatch = P * C + L * (3 * C * C + C * C + 8 * C * C) + C * P;
  const text = Lc * Lt * (12 * C * C + 2 * 2 * Lc * C) + Lc * C * C;
  const jointText = joint * (C * C + L * 12 * C * C);
  const perClip = text + 2 * C * C + L * 6 * C * C + 2 * C * C + jointText;
  return 6 * perPatch + 12 * L * M * C * (M / N) + (6 * perClip) / N;
}

/** Training compute for D patches under the C = 6·N·D convention (N non-embedding). */
export function trainingFlops(cfg: DiTConfig, patches: number): number {
  return trainingCompute(countParams(cfg).nonEmbedding, patches);
}

// ── The model ───────────────────────────────────────────────────────────────────────────────

export class DiT {
  readonly params: Buf;
  readonly grads: Buf;
  /** params[0, decayed) are weight-decayed; the rest are not. */
  readonly decayed: number;
  readonly named: Map<string, Tensor>;
  readonly weights: Weights<Tensor>;

  constructor(readonly config: DiTConfig, opts: { seed?: number; dtype?: 'f32' | 'f64' } = {}) {
    validateDiTConfig(config);
    ({ params: this.params, grads: this.grads, decayed: this.decayed, named: this.named } = allocateParams(paramSpecs(config), opts));
    this.weights = mapParams(declare(config), (s) => this.named.get(s.name)!);
  }

  /** The null caption: what guidance compares against, and what caption dropout trains. */
  nullCaption(B = 1): Int32Array {
    return new Int32Array(B * this.config.captionLength).fill(this.config.vocab);
  }

  /** Velocity for noisy clips xt (flat [B, T, H, W, ch]) at times t under captions [B, captionLength]. */
  forward(g: Graph, xt: Buf, t: ArrayLike<number>, caption: Int32Array): Tensor {
    const { frames, height, width, channels, captionLength, vocab } = this.config;
    const B = t.length;
    if (B < 1 || xt.length !== B * clipValues(this.config)) {
      throw new Error(`DiT.forward: ${xt.length} values for ${B} clips of ${frames}×${height}×${width}×${channels}`);
    }
    if (caption.length !== B * captionLength) throw new Error(`DiT.forward: ${caption.length} caption ids for ${B} captions of ${captionLength}`);
    for (const id of caption) if (id < 0 || id > vocab) throw new Error(`DiT.forward: caption id ${id} outside [0, ${vocab}]`);
    const x = new Tensor(g.alloc(xt.length), [B, frames, height, width, channels], false, 'xt');
    x.data.set(xt);
    return diffusionTransformer(g, this.weights, this.config, x, t, caption);
  }

  /** The rectified-flow loss of a prepared batch: MSE between predicted and true velocity. */
  loss(g: Graph, b: FlowBatch): Tensor {
    const v = this.forward(g, b.xt, b.t, b.caption);
    const target = new Tensor(g.alloc(b.v.length), [...v.shape], false, 'v');
    target.data.set(b.v);
    return mse(g, v, target);
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }
}

// ── Rectified flow ──────────────────────────────────────────────────────────────────────────

/** One training (or validation) batch on the flow's path: inputs x_t, times, captions, and targets v = ε − x₀. */
export interface FlowBatch {
  xt: Float32Array;
  t: Float64Array;
  caption: Int32Array;
  v: Float32Array;
}

/** t = σ(n), n ~ N(0, 1): the logit-normal time distribution of Esser et al. 2024. */
export function logitNormal(rng: Rng): number {
  return 1 / (1 + Math.exp(-rng.normal()));
}

/** t moved toward noise by the shift s: s·t / (1 + (s − 1)·t); s = 1 leaves t as it is, bit for bit. */
export function shiftTime(t: number, s = 1): number {
  return s === 1 ? t : (s * t) / (1 + (s - 1) * t);
}

/** Points on the path between clips x0 [B·n] and noise eps at times t [B]: x_t = (1 − t)·x₀ + t·ε, v = ε − x₀. */
export function flowBatch(x0: Float32Array, eps: Float32Array, t: Float64Array, caption: Int32Array): FlowBatch {
  const B = t.length, n = x0.length / B;
  const xt = new Float32Array(x0.length), v = new Float32Array(x0.length);
  for (let b = 0; b < B; b++) {
    const tb = t[b];
    for (let i = b * n; i < (b + 1) * n; i++) {
      xt[i] = (1 - tb) * x0[i] + tb * eps[i];
      v[i] = eps[i] - x0[i];
    }
  }
  return { xt, t, caption, v };
}

export interface SampleOptions {
  /** Euler steps from t = 1 to 0. */
  steps: number;
  /** Guidance scale w: 1 is the conditional model alone, 0 the unconditional. */
  guidance: number;
  seed: number;
  /**
   * Extension: the first `frames` frames of `clip` ([T, H, W, ch], only those frames read) are
   * given; at every step they are put back on the path at the current time, so the model
   * generates the rest consistently with them (the replacement method of Song et al. 2021).
   */
  from?: { clip: Float32Array; frames: number };
}

/**
 * Clips for captions [B, captionLength] by Euler integration of the guided velocity from noise
 * (seeded) at t = 1 to t = 0. The conditional and unconditional halves run as one batch of 2B.
 * Returns [B, T, H, W, ch] (values around [−1, 1]).
 */
export function sampleClips(model: DiT, g: Graph, caption: Int32Array, o: SampleOptions): Float32Array {
  const cfg = model.config;
  const B = caption.length / cfg.captionLength, n = clipValues(cfg);
  const rng = new Rng(o.seed);
  const x = new Float32Array(B * n);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  // The noise the given frames are mixed with: fixed for the whole trajectory, as the path is.
  const known = o.from ? o.from.frames * cfg.height * cfg.width * cfg.channels : 0;
  const eps = x.slice();
  const both = new Int32Array(2 * B * cfg.captionLength);
  both.set(caption);
  both.set(model.nullCaption(B), caption.length);
  const x2 = new Float32Array(2 * B * n);
  const shift = cfg.timeShift ?? 1;
  for (let s = 0; s < o.steps; s++) {
    const t = shiftTime(1 - s / o.steps, shift), next = shiftTime(1 - (s + 1) / o.steps, shift);
    if (o.from) putBack(x, eps, o.from.clip, known, n, B, t);
    x2.set(x);
    x2.set(x, B * n);
    g.reset();
    const v = model.forward(g, x2, new Float64Array(2 * B).fill(t), both).data;
    const dt = next - t;
    for (let i = 0; i < x.length; i++) {
      const vc = v[i], vu = v[B * n + i];
      x[i] += dt * (vu + o.guidance * (vc - vu));
    }
  }
  if (o.from) putBack(x, eps, o.from.clip, known, n, B, 0);
  return x;
}

/** The first `known` values of every clip set to the given clip's, on the path at time t. */
function putBack(x: Float32Array, eps: Float32Array, clip: Float32Array, known: number, n: number, B: number, t: number): void {
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < known; i++) x[b * n + i] = (1 - t) * clip[i] + t * eps[b * n + i];
  }
}
