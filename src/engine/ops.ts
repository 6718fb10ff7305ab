// The op set. Each op checks its shapes (naming itself and the shapes when they are wrong, before
// any kernel runs), calls a forward kernel, and records the matching backward kernel on the tape.
// Everything the GPT computes is a composition of the first ten ops; the diffusion transformer
// adds the ones at the end (full attention, modulation, gating, SiLU, MSE, time embedding, patches).
import type { Graph } from './graph.js';
import { Tensor, shapeStr } from './tensor.js';

export class ShapeError extends Error {
  override name = 'ShapeError';
}

function fail(op: string, msg: string): never {
  throw new ShapeError(`${op}: ${msg}`);
}

function checkDims(op: string, what: string, shape: readonly number[]): void {
  for (const d of shape) if (!Number.isInteger(d) || d < 1) fail(op, `${what} must be positive integers, got [${shape}]`);
}

function checkIds(op: string, ids: Int32Array, limit: number): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= limit) fail(op, `id ${ids[i]} at position ${i} is outside [0, ${limit})`);
  }
}

/** out[..., D] = table[ids, :], out shaped [...shape, D]. */
export function embedding(g: Graph, ids: Int32Array, table: Tensor, shape: number[] = [ids.length]): Tensor {
  const op = 'embedding';
  if (table.shape.length !== 2) fail(op, `table must be 2-D [vocab, dim], got ${shapeStr(table)}`);
  checkDims(op, 'shape', shape);
  if (shape.reduce((a, b) => a * b, 1) !== ids.length) fail(op, `${ids.length} ids do not fill shape [${shape}]`);
  const [V, D] = table.shape;
  checkIds(op, ids, V);
  const out = g.output([...shape, D], [table], op);
  g.kernels.embeddingForward(ids, table.data, out.data, ids.length, D);
  g.record(out, () => {
    if (out.grad) g.kernels.embeddingBackward(ids, out.grad, g.gradOf(table), ids.length, D);
  });
  return out;
}

/** a + b, where b's shape is a trailing part of a's (a residual when equal, a broadcast otherwise). */
export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  const op = 'add';
  const tail = a.shape.slice(a.shape.length - b.shape.length);
  if (b.shape.length > a.shape.length || tail.some((d, i) => d !== b.shape[i])) {
    fail(op, `cannot broadcast ${shapeStr(b)} onto ${shapeStr(a)}`);
  }
  const out = g.output([...a.shape], [a, b], op);
  g.kernels.addForward(a.data, b.data, out.data, a.size, b.size);
  g.record(out, () => {
    if (!out.grad) return;
    g.kernels.addBackward(out.grad, a.requiresGrad ? g.gradOf(a) : null, b.requiresGrad ? g.gradOf(b) : null,
      a.size, b.size);
  });
  return out;
}

/** x[..., K]·wᵀ + b with w [O, K] and b [O] (or null): torch.nn.Linear. */
export function linear(g: Graph, x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  const op = 'linear';
  if (w.shape.length !== 2) fail(op, `weight must be 2-D [out, in], got ${shapeStr(w)}`);
  const [O, K] = w.shape;
  if (x.cols() !== K) fail(op, `input ${shapeStr(x)} and weight ${shapeStr(w)} disagree on the input width`);
  if (b && (b.shape.length !== 1 || b.shape[0] !== O)) fail(op, `bias ${shapeStr(b)} does not match weight ${shapeStr(w)}`);
  const N = x.rows();
  const out = g.output([...x.shape.slice(0, -1), O], [x, w, b], op);
  g.kernels.linearForward(x.data, w.data, b ? b.data : null, out.data, N, K, O);
  g.record(out, () => {
    if (!out.grad) return;
    g.kernels.linearBackward(x.data, w.data, out.grad, x.requiresGrad ? g.gradOf(x) : null, g.gradOf(w),
      b ? g.gradOf(b) : null, N, K, O);
  });
  return out;
}

/**
 * Layer normalisation over the last dimension with gain and bias; either may be null (1 and 0):
 * DiT's norms have no affine part, adaLN's modulation takes its place.
 */
export function layerNorm(g: Graph, x: Tensor, gain: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  const D = x.cols();
  if ((gain && gain.size !== D) || (bias && bias.size !== D)) {
    fail(op, `gain ${gain ? shapeStr(gain) : 'none'} and bias ${bias ? shapeStr(bias) : 'none'} must match the last dimension of ${shapeStr(x)}`);
  }
  const N = x.rows();
  const out = g.output([...x.shape], [x, gain, bias], op);
  const mean = g.alloc(N), rstd = g.alloc(N);
  g.kernels.layerNormForward(x.data, gain ? gain.data : null, bias ? bias.data : null, out.data, mean, rstd, N, D, eps);
  g.record(out, () => {
    if (!out.grad) return;
    g.kernels.layerNormBackward(x.data, gain ? gain.data : null, mean, rstd, out.grad, g.gradOf(x),
      gain?.requiresGrad ? g.gradOf(gain) : null, bias?.requiresGrad ? g.gradOf(bias) : null, N, D);
  });
  return out;
}

/** RMS normalisation over the last dimension with a gain and no bias (Zhang & Sennrich 2019). */
export function rmsNorm(g: Graph, x: Tensor, gain: Tensor, eps = 1e-5): Tensor {
  const op = 'rmsNorm';
  const D = x.cols();
  if (gain.shape.length !== 1 || gain.size !== D) fail(op, `gain ${shapeStr(gain)} must match the last dimension of ${shapeStr(x)}`);
  const N = x.rows();
  const out = g.output([...x.shape], [x, gain], op);
  const rstd = g.alloc(N);
  g.kernels.rmsNormForward(x.data, gain.data, out.data, rstd, N, D, eps);
  g.record(out, () => {
    if (!out.grad) return;
    g.kernels.rmsNormBackward(x.data, gain.data, rstd, out.grad, g.gradOf(x), g.gradOf(gain), N, D);
  });
  return out;
}

/**
 * SwiGLU (Shazeer 2020) on gate and value side by side: x [..., 2H] → silu(x[..., :H]) ⊙ x[..., H:],
 * shaped [..., H]. One linear with weight [gate; value] produces x.
 */
export function swiglu(g: Graph, x: Tensor): Tensor {
  const op = 'swiglu';
  const H2 = x.cols();
  if (x.shape.length < 1 || H2 % 2 !== 0) fail(op, `input must be [..., 2·H] (gate and value halves), got ${shapeStr(x)}`);
  const H = H2 / 2, N = x.rows();
  const out = g.output([...x.shape.slice(0, -1), H], [x], op);
  g.kernels.swigluForward(x.data, out.data, N, H);
  g.record(out, () => {
    if (out.grad) g.kernels.swigluBackward(x.data, out.grad, g.gradOf(x), N, H);
  });
  return out;
}

/** GELU, tanh approximation (as GPT-2). */
export function gelu(g: Graph, x: Tensor): Tensor {
  const out = g.output([...x.shape], [x], 'gelu');
  g.kernels.geluForward(x.data, out.data, x.size);
  g.record(out, () => {
    if (out.grad) g.kernels.geluBackward(x.data, out.grad, g.gradOf(x), x.size);
  });
  return out;
}

/**
 * Rotary position embedding (Su et al. 2021) of the q and k parts of qkv [B, T, 3C], ready for
 * `attention`; v passes through. Positions are 0 … T−1. In each head of dimension d the pairs
 * (i, i + d/2), i < d/2, turn by t·θ_i with θ_i = 10000^(−2i/d) (the half-split GPT-NeoX layout).
 */
export function rope(g: Graph, qkv: Tensor, heads: number): Tensor {
  const op = 'rope';
  if (qkv.shape.length !== 3 || qkv.shape[2] % 3 !== 0) fail(op, `qkv must be [B, T, 3·C], got ${shapeStr(qkv)}`);
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3;
  if (!Number.isInteger(heads) || heads < 1 || C % heads !== 0) fail(op, `${heads} heads do not divide width ${C}`);
  if ((C / heads) % 2 !== 0) fail(op, `head dimension ${C / heads} (width ${C}, ${heads} heads) must be even`);
  const out = g.output([B, T, C3], [qkv], op);
  g.kernels.ropeForward(qkv.data, out.data, B, T, C, heads);
  g.record(out, () => {
    if (out.grad) g.kernels.ropeBackward(out.grad, g.gradOf(qkv), B, T, C, heads);
  });
  return out;
}

/** Causal multi-head self-attention: qkv [B, T, 3C] → [B, T, C]. */
export function attention(g: Graph, qkv: Tensor, heads: number): Tensor {
  const op = 'attention';
  if (qkv.shape.length !== 3 || qkv.shape[2] % 3 !== 0) fail(op, `qkv must be [B, T, 3·C], got ${shapeStr(qkv)}`);
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3;
  if (!Number.isInteger(heads) || heads < 1 || C % heads !== 0) fail(op, `${heads} heads do not divide width ${C}`);
  const out = g.output([B, T, C], [qkv], op);
  const att = g.alloc(B * heads * T * T);
  g.kernels.attentionForward(qkv.data, out.data, att, B, T, C, heads);
  g.record(out, () => {
    if (out.grad) g.kernels.attentionBackward(qkv.data, att, out.grad, g.gradOf(qkv), B, T, C, heads);
  });
  return out;
}

/**
 * Mean softmax cross-entropy of logits [..., V] against targets, in nats. The gradient is
 * computed in the same pass as the loss and kept until backward.
 */
export function crossEntropy(g: Graph, logits: Tensor, targets: Int32Array): Tensor {
  const op = 'crossEntropy';
  const V = logits.cols(), N = logits.rows();
  if (targets.length !== N) fail(op, `${targets.length} targets for ${N} rows of logits ${shapeStr(logits)}`);
  checkIds(op, targets, V);
  const losses = g.alloc(N);
  const dlogits = g.alloc(N * V);
  const total = g.kernels.crossEntropy(logits.data, targets, losses, dlogits, N, V, 1 / N);
  const out = g.output([], [logits], op);
  out.data[0] = total / N;
  g.record(out, () => {
    if (!out.grad) return;
    const scale = out.grad[0];
    if (!logits.grad && scale === 1) logits.grad = dlogits; // nothing else flows into logits: adopt the buffer
    else g.kernels.axpy(scale, dlogits, g.gradOf(logits), N * V);
  });
  return out;
}

// ---- The diffusion transformer's ops (src/models/dit.ts) ----

function checkHeads(op: string, qkv: Tensor, heads: number): [number, number, number] {
  if (qkv.shape.length !== 3 || qkv.shape[2] % 3 !== 0) fail(op, `qkv must be [B, N, 3·C], got ${shapeStr(qkv)}`);
  const [B, N, C3] = qkv.shape;
  const C = C3 / 3;
  if (!Number.isInteger(heads) || heads < 1 || C % heads !== 0) fail(op, `${heads} heads do not divide width ${C}`);
  return [B, N, C];
}

/**
 * Bidirectional multi-head self-attention over tokens: qkv [B, N, 3C] → [B, N, C], every token
 * attending to every token. Flash-style: saves only each row's log-sum-exp [B, heads, N], and
 * backward recomputes the probabilities block by block, so no N×N matrix is ever kept.
 * `recompute: false` keeps the probabilities [B, heads, N, N] instead (the naive kernel, the same
 * maths): only to measure what recomputing saves.
 */
export function fullAttention(g: Graph, qkv: Tensor, heads: number, opts: { recompute?: boolean } = {}): Tensor {
  const op = 'fullAttention';
  const [B, N, C] = checkHeads(op, qkv, heads);
  const out = g.output([B, N, C], [qkv], op);
  if (opts.recompute === false) {
    const att = g.alloc(B * heads * N * N);
    g.kernels.naiveFullAttentionForward(qkv.data, out.data, att, B, N, C, heads);
    g.record(out, () => {
      if (out.grad) g.kernels.naiveFullAttentionBackward(qkv.data, att, out.grad, g.gradOf(qkv), B, N, C, heads);
    });
    return out;
  }
  const lse = g.alloc(B * heads * N);
  g.kernels.flashAttentionForward(qkv.data, out.data, lse, B, N, C, heads);
  g.record(out, () => {
    if (out.grad) g.kernels.flashAttentionBackward(qkv.data, out.data, lse, out.grad, g.gradOf(qkv), B, N, C, heads);
  });
  return out;
}

function checkPerBatch(op: string, x: Tensor, what: string, t: Tensor): [number, number, number] {
  if (x.shape.length !== 3) fail(op, `input must be [B, N, C], got ${shapeStr(x)}`);
  const [B, N, C] = x.shape;
  if (t.shape.length !== 2 || t.shape[0] !== B || t.shape[1] !== C) fail(op, `${what} ${shapeStr(t)} must be [${B},${C}] for input ${shapeStr(x)}`);
  return [B, N, C];
}

/** adaLN modulation (Peebles & Xie 2023): x [B, N, C] · (1 + scale [B, C]) + shift [B, C], per batch row. */
export function modulate(g: Graph, x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  const op = 'modulate';
  const [B, N, C] = checkPerBatch(op, x, 'shift', shift);
  checkPerBatch(op, x, 'scale', scale);
  const out = g.output([B, N, C], [x, shift, scale], op);
  g.kernels.modulateForward(x.data, shift.data, scale.data, out.data, B, N, C);
  g.record(out, () => {
    if (!out.grad) return;
    g.kernels.modulateBackward(x.data, scale.data, out.grad, x.requiresGrad ? g.gradOf(x) : null,
      shift.requiresGrad ? g.gradOf(shift) : null, scale.requiresGrad ? g.gradOf(scale) : null, B, N, C);
  });
  return out;
}

/** The adaLN-Zero residual gate: x [B, N, C] · gate [B, C], per batch row. */
export function gate(g: Graph, x: Tensor, gateT: Tensor): Tensor {
  const op = 'gate';
  const [B, N, C] = checkPerBatch(op, x, 'gate', gateT);
  const out = g.output([B, N, C], [x, gateT], op);
  g.kernels.gateForward(x.data, gateT.data, out.data, B, N, C);
  g.record(out, () => {
    if (!out.grad) return;
    g.kernels.gateBackward(x.data, gateT.data, out.grad, x.requiresGrad ? g.gradOf(x) : null,
      gateT.requiresGrad ? g.gradOf(gateT) : null, B, N, C);
  });
  return out;
}

/** SiLU (swish), x·σ(x), elementwise: DiT's conditioning MLP and the adaLN input. */
export function silu(g: Graph, x: Tensor): Tensor {
  const out = g.output([...x.shape], [x], 'silu');
  g.kernels.siluForward(x.data, out.data, x.size);
  g.record(out, () => {
    if (out.grad) g.kernels.siluBackward(x.data, out.grad, g.gradOf(x), x.size);
  });
  return out;
}

/**
 * Mean squared error over every element, a scalar. The gradient is computed in the same pass
 * as the loss and kept until backward; the target gets the opposite gradient if it needs one.
 */
export function mse(g: Graph, pred: Tensor, target: Tensor): Tensor {
  const op = 'mse';
  if (pred.shape.length !== target.shape.length || pred.shape.some((d, i) => d !== target.shape[i])) {
    fail(op, `prediction ${shapeStr(pred)} and target ${shapeStr(target)} differ in shape`);
  }
  const n = pred.size;
  const dpred = g.alloc(n);
  const total = g.kernels.mse(pred.data, target.data, dpred, n, 1 / n);
  const out = g.output([], [pred, target], op);
  out.data[0] = total / n;
  g.record(out, () => {
    if (!out.grad) return;
    const scale = out.grad[0];
    if (target.requiresGrad) g.kernels.axpy(-scale, dpred, g.gradOf(target), n);
    if (!pred.requiresGrad) return;
    if (!pred.grad && scale === 1) pred.grad = dpred; // nothing else flows into pred: adopt the buffer
    else g.kernels.axpy(scale, dpred, g.gradOf(pred), n);
  });
  return out;
}

/**
 * Sinusoidal embedding of diffusion times t [B] → [B, dim] (DiT's: cosines then sines at
 * frequencies maxPeriod^(−i/(dim/2))). t is data, so nothing flows back: no backward.
 */
export function timeEmbedding(g: Graph, t: ArrayLike<number>, dim: number, maxPeriod = 10000): Tensor {
  const op = 'timeEmbedding';
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) fail(op, `width must be a positive even integer, got ${dim}`);
  if (t.length < 1) fail(op, 'needs at least one time');
  const B = t.length;
  const ts = g.alloc(B);
  for (let b = 0; b < B; b++) ts[b] = t[b];
  const out = g.output([B, dim], [], op);
  g.kernels.timeEmbedding(ts, out.data, B, dim, maxPeriod);
  return out;
}

function checkPatches(op: string, dims: readonly number[], pt: number, p: number): void {
  const [, T, H, W] = dims;
  if (!Number.isInteger(pt) || !Number.isInteger(p) || pt < 1 || p < 1) fail(op, `patch sizes must be positive integers, got ${pt}×${p}×${p}`);
  if (T % pt !== 0 || H % p !== 0 || W % p !== 0) fail(op, `${pt}×${p}×${p} patches do not tile a ${T}×${H}×${W} clip`);
}

/**
 * Cuts a clip [B, T, H, W, Ch] into spacetime tubes of pt frames × p × p pixels: tokens
 * [B, (T/pt)·(H/p)·(W/p), pt·p·p·Ch] in (frame, row, column) order of the tubes, each token's
 * values in (frame, row, column, channel) order. A permutation, so its backward is the inverse.
 */
export function patchify(g: Graph, video: Tensor, pt: number, p: number): Tensor {
  const op = 'patchify';
  if (video.shape.length !== 5) fail(op, `clip must be [B, T, H, W, channels], got ${shapeStr(video)}`);
  checkPatches(op, video.shape, pt, p);
  const [B, T, H, W, Ch] = video.shape;
  const out = g.output([B, (T / pt) * (H / p) * (W / p), pt * p * p * Ch], [video], op);
  g.kernels.patchify(video.data, out.data, B, T, H, W, Ch, pt, p, false);
  g.record(out, () => {
    if (out.grad) g.kernels.unpatchify(out.grad, g.gradOf(video), B, T, H, W, Ch, pt, p, true);
  });
  return out;
}

/**
 * Two token sequences side by side, per batch row: a [B, N, C] then b [B, L, C] → [B, N + L, C]
 * (the DiT's joint attention: the caption's tokens after the clip's patches). A copy; the
 * gradient is split back.
 */
export function concatTokens(g: Graph, a: Tensor, b: Tensor): Tensor {
  const op = 'concatTokens';
  if (a.shape.length !== 3 || b.shape.length !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[2]) {
    fail(op, `inputs must be [B, N, C] and [B, L, C], got ${shapeStr(a)} and ${shapeStr(b)}`);
  }
  const [B, N, C] = a.shape, L = b.shape[1], na = N * C, nb = L * C;
  const out = g.output([B, N + L, C], [a, b], op);
  for (let r = 0; r < B; r++) {
    out.data.set(a.data.subarray(r * na, (r + 1) * na), r * (na + nb));
    out.data.set(b.data.subarray(r * nb, (r + 1) * nb), r * (na + nb) + na);
  }
  g.record(out, () => {
    if (!out.grad) return;
    const ga = a.requiresGrad ? g.gradOf(a) : null, gb = b.requiresGrad ? g.gradOf(b) : null;
    for (let r = 0; r < B; r++) {
      if (ga) g.kernels.axpy(1, out.grad.subarray(r * (na + nb), r * (na + nb) + na), ga.subarray(r * na, (r + 1) * na), na);
      if (gb) g.kernels.axpy(1, out.grad.subarray(r * (na + nb) + na, (r + 1) * (na + nb)), gb.subarray(r * nb, (r + 1) * nb), nb);
    }
  });
  return out;
}

/** The first n tokens of every batch row: x [B, M, C] → [B, n, C] (the patches back out of a joint sequence). */
export function firstTokens(g: Graph, x: Tensor, n: number): Tensor {
  const op = 'firstTokens';
  if (x.shape.length !== 3) fail(op, `input must be [B, M, C], got ${shapeStr(x)}`);
  const [B, M, C] = x.shape;
  if (!Number.isInteger(n) || n < 1 || n > M) fail(op, `cannot take ${n} of ${M} tokens`);
  const out = g.output([B, n, C], [x], op);
  for (let r = 0; r < B; r++) out.data.set(x.data.subarray(r * M * C, (r * M + n) * C), r * n * C);
  g.record(out, () => {
    if (!out.grad) return;
    const gx = g.gradOf(x);
    for (let r = 0; r < B; r++) g.kernels.axpy(1, out.grad.subarray(r * n * C, (r + 1) * n * C), gx.subarray(r * M * C, (r * M + n) * C), n * C);
  });
  return out;
}

/** The inverse of patchify: tokens [B, n, pt·p·p·Ch] back to a clip [B, T, H, W, Ch]. */
export function unpatchify(g: Graph, tokens: Tensor, clip: readonly [T: number, H: number, W: number, Ch: number], pt: number, p: number): Tensor {
  const op = 'unpatchify';
  const [T, H, W, Ch] = clip;
  checkDims(op, 'clip dimensions', clip);
  checkPatches(op, [0, T, H, W], pt, p);
  const n = (T / pt) * (H / p) * (W / p), width = pt * p * p * Ch;
  if (tokens.shape.length !== 3 || tokens.shape[1] !== n || tokens.shape[2] !== width) {
    fail(op, `tokens must be [B, ${n}, ${width}] for a ${T}×${H}×${W}×${Ch} clip in ${pt}×${p}×${p} patches, got ${shapeStr(tokens)}`);
  }
  const B = tokens.shape[0];
  const out = g.output([B, T, H, W, Ch], [tokens], op);
  g.kernels.unpatchify(tokens.data, out.data, B, T, H, W, Ch, pt, p, false);
  g.record(out, () => {
    if (out.grad) g.kernels.patchify(out.grad, g.gradOf(tokens), B, T, H, W, Ch, pt, p, true);
  });
  return out;
}
