// The kernel declarations: one entry per kernel, the single source of its signature. From this
// list native/generate.js writes the TypeScript interface (src/engine/kernel-ops.ts), the C++
// KernelTable (native/src/kernel_table.gen.h) and the N-API bindings that unpack and check every
// argument (native/src/bindings.gen.cc). The C++ body in kernels_impl.h takes the arguments in
// the order given here, named snake_case (linearForward → linear_forward).
//
// Argument kinds:
//   bool, float, double          a scalar
//   int, size                    a non-negative integer (passed to C++ as int / int64_t)
//   in LEN, out LEN              a Float32Array of at least LEN elements, read / written
//   in? LEN, out? LEN            the same, or null
//   ids LEN                      an Int32Array of at least LEN elements
//   pos? LEN                     an Int32Array of LEN positions in [0, 2^20), or null / left out
//                                (last arguments only)
//   outs[COUNT] LEN              an array of COUNT Float32Arrays, each of at least LEN elements
// LEN and the other expressions are C++ over the integer arguments, with len(arg) for the
// element count of a typed-array argument and the helpers of native/src/args.h.
//   checks   [condition, message]: the call is refused with the message unless it holds
//   ranges   [ids, count, limit]: the first count ids must lie in [0, limit)
//   derive   name: expression, an integer computed before the buffers are checked
//   pass     derived integers the C++ body takes after the declared arguments
//   returns  'number' for a kernel that returns a double
//
// No call from JavaScript can read or write outside a buffer: every buffer's LEN must cover
// everything its kernel touches.

const heads = ['H > 0 && C % H == 0', 'heads must divide the model width'];

export const ops = [
  {
    name: 'gemm',
    doc: 'C[M,N] = alpha·op(A)·op(B) + beta·C; op transposes when tA / tB (A stored [K,M], B stored [N,K]).',
    args: {
      tA: 'bool', tB: 'bool', M: 'int', N: 'int', K: 'int', alpha: 'float',
      A: 'in tA ? span(K, M, lda) : span(M, K, lda)', lda: 'int',
      B: 'in tB ? span(N, K, ldb) : span(K, N, ldb)', ldb: 'int', beta: 'float',
      C: 'out span(M, N, ldc)', ldc: 'int',
    },
    checks: [['lda >= (tA ? M : K) && ldb >= (tB ? K : N) && ldc >= N', 'leading dimensions too small for the shapes']],
  },
  {
    name: 'linearForward',
    doc: 'y[N,O] = x[N,K]·wᵀ + b, with w stored [O,K] like torch.nn.Linear; b may be null.',
    args: { x: 'in N * K', w: 'in O * K', b: 'in? O', y: 'out N * O', N: 'int', K: 'int', O: 'int' },
  },
  {
    name: 'packLinear',
    doc: `Packs w[O,K] for linearPackedForward: panels of PACK_PANEL outputs side by side,
wp[(p·K + k)·PACK_PANEL + j] = w[p·PACK_PANEL + j, k], zero past O; wp holds
packedLinearLength(K, O) floats. Inference packs each weight once.`,
    args: { w: 'in O * K', wp: 'out packed_linear_length(K, O)', K: 'int', O: 'int' },
  },
  {
    name: 'linearPackedForward',
    doc: `y[N,O] = x[N,K]·wᵀ + b from packed weights. Batch-invariant: each output is one multiply-add
chain over k in order, then the bias, whatever N and the thread count, so one row's result
does not depend on the rows beside it.`,
    args: { x: 'in N * K', wp: 'in packed_linear_length(K, O)', b: 'in? O', y: 'out N * O', N: 'int', K: 'int', O: 'int' },
  },
  {
    name: 'linearBackward',
    doc: 'dx += dy·w, dw += dyᵀ·x, db += Σ_rows dy; any of dx, db may be null.',
    args: {
      x: 'in N * K', w: 'in O * K', dy: 'in N * O', dx: 'out? N * K', dw: 'out O * K', db: 'out? O',
      N: 'int', K: 'int', O: 'int',
    },
  },
  {
    name: 'layerNormForward',
    doc: 'y = (x − mean)·rstd·g + b over rows of length D; saves mean and rstd per row. g, b may be null (1 and 0).',
    args: {
      x: 'in N * D', g: 'in? D', b: 'in? D', y: 'out N * D', mean: 'out N', rstd: 'out N',
      N: 'int', D: 'int', eps: 'float',
    },
  },
  {
    name: 'layerNormBackward',
    args: {
      x: 'in N * D', g: 'in? D', mean: 'in N', rstd: 'in N', dy: 'in N * D', dx: 'out N * D', dg: 'out? D', db: 'out? D',
      N: 'int', D: 'int',
    },
  },
  {
    name: 'rmsNormForward',
    doc: 'RMSNorm: y = x·rstd·g over rows of length D, rstd = 1/√(mean(x²) + eps); saves rstd per row.',
    args: { x: 'in N * D', g: 'in D', y: 'out N * D', rstd: 'out N', N: 'int', D: 'int', eps: 'float' },
  },
  {
    name: 'rmsNormBackward',
    args: { x: 'in N * D', g: 'in D', rstd: 'in N', dy: 'in N * D', dx: 'out N * D', dg: 'out D', N: 'int', D: 'int' },
  },
  {
    name: 'geluForward',
    doc: 'GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).',
    args: { x: 'in n', y: 'out n', n: 'size' },
  },
  {
    name: 'geluBackward',
    args: { x: 'in n', dy: 'in n', dx: 'out n', n: 'size' },
  },
  {
    name: 'swigluForward',
    doc: `SwiGLU over x[N, 2H], gate and value side by side: y[n,j] = silu(x[n,j])·x[n,H+j] with
silu(a) = a·σ(a), so y is [N, H].`,
    args: { x: 'in N * 2 * H', y: 'out N * H', N: 'int', H: 'int' },
  },
  {
    name: 'swigluBackward',
    args: { x: 'in N * 2 * H', dy: 'in N * H', dx: 'out N * 2 * H', N: 'int', H: 'int' },
  },
  {
    name: 'addForward',
    doc: 'out[i] = a[i] + b[i mod m]: a residual add when m = n, a broadcast (positions) when m < n.',
    args: { a: 'in n', b: 'in m', out: 'out n', n: 'size', m: 'size' },
    checks: [['m > 0 && n % m == 0', 'the broadcast period must divide the size']],
  },
  {
    name: 'addBackward',
    args: { dout: 'in n', da: 'out? n', db: 'out? m', n: 'size', m: 'size' },
    checks: [['m > 0 && n % m == 0', 'the broadcast period must divide the size']],
  },
  {
    name: 'embeddingForward',
    doc: 'out[i,:] = table[ids[i],:].',
    args: { ids: 'ids N', table: 'in D', out: 'out N * D', N: 'int', D: 'int' },
    ranges: [['ids', 'N', 'D > 0 ? len(table) / D : 0']],
  },
  {
    name: 'embeddingBackward',
    doc: 'dtable[ids[i],:] += dout[i,:], summed in row order so the result is deterministic.',
    args: { ids: 'ids N', dout: 'in N * D', dtable: 'out D', N: 'int', D: 'int' },
    ranges: [['ids', 'N', 'D > 0 ? len(dtable) / D : 0']],
  },
  {
    name: 'attentionForward',
    doc: `Causal multi-head self-attention over qkv[B,T,3C] (q, k, v side by side, head h at columns
h·C/H ...). Writes out[B,T,C] and the attention probabilities att[B,H,T,T] (kept for backward;
entries above the diagonal are left as zero).`,
    args: { qkv: 'in B * T * 3 * C', out: 'out B * T * C', att: 'out B * H * T * T', B: 'int', T: 'int', C: 'int', H: 'int' },
    checks: [heads],
  },
  {
    name: 'attentionBackward',
    doc: 'Overwrites att with the score gradients.',
    args: {
      qkv: 'in B * T * 3 * C', att: 'out B * H * T * T', dout: 'in B * T * C', dqkv: 'out B * T * 3 * C',
      B: 'int', T: 'int', C: 'int', H: 'int',
    },
    checks: [heads],
  },
  {
    name: 'attentionDecode',
    doc: `Decoding attention for one sequence: n query rows (row i at q[i·qStride …], C wide) against a
KV cache kCache, vCache [ctx, C] whose positions 0 … p0+n−1 are filled; row i attends to
positions 0 … p0+i. Writes out[n, C]. Same maths as attentionForward's row p0+i.`,
    args: {
      q: 'in (n - 1) * qStride + C', qStride: 'int', kCache: 'in (p0 + n) * C', vCache: 'in (p0 + n) * C',
      out: 'out n * C', n: 'int', p0: 'int', C: 'int', H: 'int',
    },
    checks: [heads, ['n > 0', 'at least one new row'], ['qStride >= C', 'the query stride must be at least the model width']],
  },
  {
    name: 'attentionDecodeBatch',
    doc: `A decode step's attention for a batch of sequences in one call. Sequence b owns the next
counts[b] rows of qkv[R, 3C] and a cache caches[b] laid out per layer as K [ctx, C] then
V [ctx, C], with starts[b] positions filled. Appends each new row's k and v to its cache at
this layer, then writes out[R, C]: row i of sequence b attends to positions 0 … starts[b]+i,
as attentionDecode does.`,
    args: {
      qkv: 'in R * 3 * C', caches: 'outs[B] (2 * layer + 2) * ctx * C', starts: 'ids B', counts: 'ids B', out: 'out R * C',
      layer: 'int', ctx: 'int', C: 'int', H: 'int',
    },
    derive: { B: 'len(starts)', R: 'batch_rows(args, starts, counts, B, ctx)' },
    pass: ['B'],
    checks: [heads],
  },
  {
    name: 'ropeForward',
    doc: `Rotary position embedding of the q and k parts of qkv[B,T,3C] (v is copied through), head
dimension d = C/H even, half-split pairs (i, i + d/2) for i < d/2 (the GPT-NeoX layout):
at position p the pair turns by p·θ_i, θ_i = 10000^(−2i/d). Backward turns dout back by −p·θ_i.
Row t of every sequence is at position t, or at pos[t] when pos is given (a decode step, whose
rows sit at their own places in their sequences: B = 1, one row per new token).`,
    args: { qkv: 'in B * T * 3 * C', out: 'out B * T * 3 * C', B: 'int', T: 'int', C: 'int', H: 'int', pos: 'pos? T' },
    checks: [['H > 0 && C % H == 0 && (C / H) % 2 == 0', 'heads must divide the model width into even head dimensions']],
  },
  {
    name: 'ropeBackward',
    args: { dout: 'in B * T * 3 * C', dqkv: 'out B * T * 3 * C', B: 'int', T: 'int', C: 'int', H: 'int', pos: 'pos? T' },
    checks: [['H > 0 && C % H == 0 && (C / H) % 2 == 0', 'heads must divide the model width into even head dimensions']],
  },
  {
    name: 'crossEntropy',
    doc: `Softmax cross-entropy fused with its gradient: losses[i] = −log softmax(logits[i])[targets[i]],
dlogits[i,:] = (softmax(logits[i]) − onehot(targets[i])) · scale. Returns Σ losses (float64).`,
    args: {
      logits: 'in N * V', targets: 'ids N', losses: 'out N', dlogits: 'out N * V', N: 'int', V: 'int', scale: 'float',
    },
    checks: [['V > 0', 'the vocabulary must not be empty']],
    ranges: [['targets', 'N', 'V']],
    returns: 'number',
  },
  {
    name: 'sumSquares',
    doc: 'Σ x² accumulated in float64 in a fixed order.',
    args: { x: 'in n', n: 'size' },
    returns: 'number',
  },
  {
    name: 'adamw',
    doc: `One AdamW step (decoupled weight decay, bias correction) on n parameters; the gradient is
multiplied by gradScale first (global-norm clipping folds in here).`,
    args: {
      p: 'out n', g: 'in n', m: 'out n', v: 'out n', n: 'size', lr: 'float', beta1: 'float', beta2: 'float',
      eps: 'float', weightDecay: 'float', step: 'double', gradScale: 'float',
    },
    checks: [['step >= 1', 'step counts from 1']],
  },
  {
    name: 'axpy',
    doc: 'dst[i] += alpha·src[i].',
    args: { alpha: 'float', src: 'in n', dst: 'out n', n: 'size' },
  },
  // The diffusion transformer's ops (src/models/dit.ts): bidirectional attention that keeps no
  // probabilities, adaLN modulation and gating, SiLU, the MSE loss, the time embedding, patches.
  {
    name: 'flashAttentionForward',
    doc: `Bidirectional ("full") multi-head self-attention over qkv[B,N,3C] (q, k, v side by side, head h
at columns h·C/H ...), flash-style: keys in blocks with an online softmax, so nothing N×N is
kept. Writes out[B,N,C] and the log-sum-exp of every row's scaled scores, lse[B,H,N].`,
    args: { qkv: 'in B * N * 3 * C', out: 'out B * N * C', lse: 'out B * H * N', B: 'int', N: 'int', C: 'int', H: 'int' },
    checks: [heads],
  },
  {
    name: 'flashAttentionBackward',
    doc: `FlashAttention-2's backward: recomputes each block of probabilities P = exp(q·kᵀ/√d − lse)
from q, k and lse, then with D = rowsum(dout∘out): dV += Pᵀ·dout, dS = P∘(dout·Vᵀ − D),
dQ += dS·K/√d, dK += dSᵀ·Q/√d, accumulated into dqkv.`,
    args: {
      qkv: 'in B * N * 3 * C', out: 'in B * N * C', lse: 'in B * H * N', dout: 'in B * N * C', dqkv: 'out B * N * 3 * C',
      B: 'int', N: 'int', C: 'int', H: 'int',
    },
    checks: [heads],
  },
  {
    name: 'naiveFullAttentionForward',
    doc: `The same bidirectional attention, naively: keeps the probabilities att[B,H,N,N] for backward.
Not used for training; fullAttention's recompute: false option, to measure what recomputing saves.`,
    args: { qkv: 'in B * N * 3 * C', out: 'out B * N * C', att: 'out B * H * N * N', B: 'int', N: 'int', C: 'int', H: 'int' },
    checks: [heads],
  },
  {
    name: 'naiveFullAttentionBackward',
    doc: 'Overwrites att with the score gradients.',
    args: {
      qkv: 'in B * N * 3 * C', att: 'out B * H * N * N', dout: 'in B * N * C', dqkv: 'out B * N * 3 * C',
      B: 'int', N: 'int', C: 'int', H: 'int',
    },
    checks: [heads],
  },
  {
    name: 'modulateForward',
    doc: `adaLN modulation: y[b,n,:] = x[b,n,:]·(1 + scale[b,:]) + shift[b,:] over x[B,N,C] (shift and
scale broadcast over the N tokens).`,
    args: { x: 'in B * N * C', shift: 'in B * C', scale: 'in B * C', y: 'out B * N * C', B: 'int', N: 'int', C: 'int' },
  },
  {
    name: 'modulateBackward',
    doc: 'dx += dy·(1 + scale), dshift += Σ_n dy, dscale += Σ_n dy·x; any of dx, dshift, dscale may be null.',
    args: {
      x: 'in B * N * C', scale: 'in B * C', dy: 'in B * N * C', dx: 'out? B * N * C', dshift: 'out? B * C',
      dscale: 'out? B * C', B: 'int', N: 'int', C: 'int',
    },
  },
  {
    name: 'gateForward',
    doc: 'The adaLN-Zero residual gate: y[b,n,:] = x[b,n,:]·gate[b,:] over x[B,N,C].',
    args: { x: 'in B * N * C', gate: 'in B * C', y: 'out B * N * C', B: 'int', N: 'int', C: 'int' },
  },
  {
    name: 'gateBackward',
    doc: 'dx += dy·gate, dgate += Σ_n dy·x; either may be null.',
    args: {
      x: 'in B * N * C', gate: 'in B * C', dy: 'in B * N * C', dx: 'out? B * N * C', dgate: 'out? B * C',
      B: 'int', N: 'int', C: 'int',
    },
  },
  {
    name: 'siluForward',
    doc: 'SiLU (swish): y = x·σ(x).',
    args: { x: 'in n', y: 'out n', n: 'size' },
  },
  {
    name: 'siluBackward',
    args: { x: 'in n', dy: 'in n', dx: 'out n', n: 'size' },
  },
  {
    name: 'mse',
    doc: `Squared error fused with its gradient: dpred[i] = 2·(pred[i] − target[i])·scale. Returns
Σ (pred − target)² (float64, summed in fixed blocks: the same bits for any thread count).`,
    args: { pred: 'in n', target: 'in n', dpred: 'out n', n: 'size', scale: 'float' },
    returns: 'number',
  },
  {
    name: 'timeEmbedding',
    doc: `Sinusoidal embedding of the diffusion time (DiT's): with half = dim/2 and
f_i = maxPeriod^(−i/half), out[b] = [cos(t[b]·f_0 …), sin(t[b]·f_0 …)], computed in double.`,
    args: { t: 'in B', out: 'out B * dim', B: 'int', dim: 'int', maxPeriod: 'double' },
    checks: [['dim > 0 && dim % 2 == 0', 'the embedding width must be even'], ['maxPeriod > 0', 'the period must be positive']],
  },
  {
    name: 'patchify',
    doc: `Video [B,T,H,W,Ch] to spacetime patch tokens [B, (T/pt)·(H/p)·(W/p), pt·p·p·Ch]: tokens in
(frame, row, column) order of their tubes, each token's values in (dt, dy, dx, channel) order.
Overwrites tokens, or adds to them when accumulate (unpatchify's backward).`,
    args: {
      video: 'in B * T * H * W * Ch', tokens: 'out B * T * H * W * Ch', B: 'int', T: 'int', H: 'int', W: 'int', Ch: 'int',
      pt: 'int', p: 'int', accumulate: 'bool',
    },
    checks: [['pt > 0 && p > 0 && T % pt == 0 && H % p == 0 && W % p == 0', 'patch sizes must divide the clip']],
  },
  {
    name: 'unpatchify',
    doc: 'The inverse permutation of patchify: tokens back to video; adds when accumulate (patchify\'s backward).',
    args: {
      tokens: 'in B * T * H * W * Ch', video: 'out B * T * H * W * Ch', B: 'int', T: 'int', H: 'int', W: 'int', Ch: 'int',
      pt: 'int', p: 'int', accumulate: 'bool',
    },
    checks: [['pt > 0 && p > 0 && T % pt == 0 && H % p == 0 && W % p == 0', 'patch sizes must divide the clip']],
  },
];

// The portable decode kernels (native/src/portable_impl.h): the forward ops of a decode step,
// with the arguments and semantics of the op they are named after, computed in one fixed order
// of float32 operations, so every instruction set gives the same bits (compressed files rely on
// it). linearPackedForward and addForward already do.
const PORTABLE = ['layerNormForward', 'rmsNormForward', 'geluForward', 'swigluForward', 'ropeForward', 'attentionDecodeBatch'];
for (const base of PORTABLE) {
  const op = ops.find((o) => o.name === base);
  ops.push({
    ...op,
    name: `${base}Portable`,
    doc: `${base} with the same bits on every instruction set (native/src/portable_impl.h).`,
  });
}
