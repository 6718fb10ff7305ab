// The kernel contract: every op of the engine reduces to these functions. Two implementations
// exist: `reference` (plain TypeScript, generic over float32/float64, obviously correct) and
// `native` (the C++ addon, float32 only, fast). Tests hold the second to the first.
//
// Conventions, shared by both:
// - All tensors are row-major and flat; shapes are passed as integers.
// - Forward kernels overwrite their outputs. Backward kernels ACCUMULATE (+=) into gradient
//   buffers, so a tensor used twice (the tied embedding) simply receives both contributions.
// - Integer inputs (token ids, targets) are Int32Array and are range-checked before the call.

export type Buf = Float32Array | Float64Array;

/** Outputs per panel of a packed linear weight (see Kernels.packLinear). */
export const PACK_PANEL = 16;

/** Floats a packed [O,K] weight takes: whole panels of PACK_PANEL outputs. */
export function packedLinearLength(K: number, O: number): number {
  return Math.ceil(O / PACK_PANEL) * PACK_PANEL * K;
}

export interface Kernels {
  readonly name: string;

  /** C[M,N] = alpha·op(A)·op(B) + beta·C; op transposes when tA / tB (A stored [K,M], B stored [N,K]). */
  gemm(tA: boolean, tB: boolean, M: number, N: number, K: number, alpha: number,
    A: Buf, lda: number, B: Buf, ldb: number, beta: number, C: Buf, ldc: number): void;

  /** y[N,O] = x[N,K]·wᵀ + b, with w stored [O,K] like torch.nn.Linear; b may be null. */
  linearForward(x: Buf, w: Buf, b: Buf | null, y: Buf, N: number, K: number, O: number): void;
  /**
   * Packs w[O,K] for linearPackedForward: panels of PACK_PANEL outputs side by side,
   * wp[(p·K + k)·PACK_PANEL + j] = w[p·PACK_PANEL + j, k], zero past O; wp holds
   * packedLinearLength(K, O) floats. Inference packs each weight once.
   */
  packLinear(w: Buf, wp: Buf, K: number, O: number): void;
  /**
   * y[N,O] = x[N,K]·wᵀ + b from packed weights. Batch-invariant: each output is one multiply-add
   * chain over k in order, then the bias, whatever N and the thread count, so one row's result
   * does not depend on the rows beside it.
   */
  linearPackedForward(x: Buf, wp: Buf, b: Buf | null, y: Buf, N: number, K: number, O: number): void;
  /** dx += dy·w, dw += dyᵀ·x, db += Σ_rows dy; any of dx, db may be null. */
  linearBackward(x: Buf, w: Buf, dy: Buf, dx: Buf | null, dw: Buf, db: Buf | null,
    N: number, K: number, O: number): void;

  /** y = (x − mean)·rstd·g + b over rows of length D; saves mean and rstd per row. */
  layerNormForward(x: Buf, g: Buf, b: Buf, y: Buf, mean: Buf, rstd: Buf, N: number, D: number, eps: number): void;
  layerNormBackward(x: Buf, g: Buf, mean: Buf, rstd: Buf, dy: Buf, dx: Buf, dg: Buf, db: Buf,
    N: number, D: number): void;

  /** RMSNorm: y = x·rstd·g over rows of length D, rstd = 1/√(mean(x²) + eps); saves rstd per row. */
  rmsNormForward(x: Buf, g: Buf, y: Buf, rstd: Buf, N: number, D: number, eps: number): void;
  rmsNormBackward(x: Buf, g: Buf, rstd: Buf, dy: Buf, dx: Buf, dg: Buf, N: number, D: number): void;

  /** GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  geluForward(x: Buf, y: Buf, n: number): void;
  geluBackward(x: Buf, dy: Buf, dx: Buf, n: number): void;

  /**
   * SwiGLU over x[N, 2H], gate and value side by side: y[n,j] = silu(x[n,j])·x[n,H+j] with
   * silu(a) = a·σ(a), so y is [N, H].
   */
  swigluForward(x: Buf, y: Buf, N: number, H: number): void;
  swigluBackward(x: Buf, dy: Buf, dx: Buf, N: number, H: number): void;

  /** out[i] = a[i] + b[i mod m]: a residual add when m = n, a broadcast (positions) when m < n. */
  addForward(a: Buf, b: Buf, out: Buf, n: number, m: number): void;
  addBackward(dout: Buf, da: Buf | null, db: Buf | null, n: number, m: number): void;

  /** out[i,:] = table[ids[i],:]. */
  embeddingForward(ids: Int32Array, table: Buf, out: Buf, N: number, D: number): void;
  /** dtable[ids[i],:] += dout[i,:], summed in row order so the result is deterministic. */
  embeddingBackward(ids: Int32Array, dout: Buf, dtable: Buf, N: number, D: number): void;

  /**
   * Causal multi-head self-attention over qkv[B,T,3C] (q, k, v side by side, head h at columns
   * h·C/H ...). Writes out[B,T,C] and the attention probabilities att[B,H,T,T] (kept for backward;
   * entries above the diagonal are left as zero).
   */
  attentionForward(qkv: Buf, out: Buf, att: Buf, B: number, T: number, C: number, H: number): void;
  attentionBackward(qkv: Buf, att: Buf, dout: Buf, dqkv: Buf, B: number, T: number, C: number, H: number): void;
  /**
   * Decoding attention for one sequence: n query rows (row i at q[i·qStride …], C wide) against a
   * KV cache kCache, vCache [ctx, C] whose positions 0 … p0+n−1 are filled; row i attends to
   * positions 0 … p0+i. Writes out[n, C]. Same maths as attentionForward's row p0+i.
   */
  attentionDecode(q: Buf, qStride: number, kCache: Buf, vCache: Buf, out: Buf, n: number, p0: number, C: number, H: number): void;
  /**
   * A decode step's attention for a batch of sequences in one call. Sequence b owns the next
   * counts[b] rows of qkv[R, 3C] and a cache caches[b] laid out per layer as K [ctx, C] then
   * V [ctx, C], with starts[b] positions filled. Appends each new row's k and v to its cache at
   * this layer, then writes out[R, C]: row i of sequence b attends to positions 0 … starts[b]+i,
   * as attentionDecode does.
   */
  attentionDecodeBatch(qkv: Buf, caches: Buf[], starts: Int32Array, counts: Int32Array, out: Buf,
    layer: number, ctx: number, C: number, H: number): void;

  /**
   * Rotary position embedding of the q and k parts of qkv[B,T,3C] (v is copied through), head
   * dimension d = C/H even, half-split pairs (i, i + d/2) for i < d/2 (the GPT-NeoX layout):
   * at position p the pair turns by p·θ_i, θ_i = 10000^(−2i/d). Backward turns dout back by −p·θ_i.
   * Row t of every sequence is at position t, or at pos[t] when pos is given (a decode step, whose
   * rows sit at their own places in their sequences: B = 1, one row per new token).
   */
  ropeForward(qkv: Buf, out: Buf, B: number, T: number, C: number, H: number, pos?: Int32Array | null): void;
  ropeBackward(dout: Buf, dqkv: Buf, B: number, T: number, C: number, H: number, pos?: Int32Array | null): void;

  /**
   * Softmax cross-entropy fused with its gradient: losses[i] = −log softmax(logits[i])[targets[i]],
   * dlogits[i,:] = (softmax(logits[i]) − onehot(targets[i])) · scale. Returns Σ losses (float64).
   */
  crossEntropy(logits: Buf, targets: Int32Array, losses: Buf, dlogits: Buf, N: number, V: number, scale: number): number;

  /** Σ x² accumulated in float64 in a fixed order. */
  sumSquares(x: Buf, n: number): number;

  /**
   * One AdamW step (decoupled weight decay, bias correction) on n parameters; the gradient is
   * multiplied by gradScale first (global-norm clipping folds in here).
   */
  adamw(p: Buf, g: Buf, m: Buf, v: Buf, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number, gradScale: number): void;

  /** dst[i] += alpha·src[i]. */
  axpy(alpha: number, src: Buf, dst: Buf, n: number): void;
}
