// The diffusion transformer's ops (full attention that recomputes its probabilities, adaLN
// modulation and gating, SiLU, MSE, the time embedding, patches): native kernels against the
// reference for every instruction set and the same bits for 1 and 2 threads, the same checks
// as test/kernels.test.ts; and every op's backward against finite differences in float64, as
// test/gradients.test.ts does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { native, setKernel } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import { Graph } from '../src/engine/graph.js';
import { Tensor } from '../src/engine/tensor.js';
import { Rng } from '../src/engine/random.js';
import * as ops from '../src/engine/ops.js';
import { randn, copy32, assertClose, gradChecks } from './helpers.js';
import { both, compare, instructionSets, sameBitsAcrossThreads } from './kernel-checks.js';

const isas = instructionSets();

for (const isa of isas) {
  describe(`video kernels (${isa}) against the reference`, () => {
    const rng = new Rng(17);
    const use = () => assert.ok(setKernel(isa));

    it('full attention, flash forward and recomputing backward, across block edges', () => {
      use();
      // N around the 64-token block: one partial block, exactly one, one and a bit, several.
      for (const [B, N, C, H] of [[1, 1, 1, 1], [2, 3, 6, 2], [1, 63, 12, 3], [1, 64, 16, 2], [2, 65, 16, 2], [1, 150, 32, 4]]) {
        const qkv = randn(rng, B * N * 3 * C, 1.5), out = new Float32Array(B * N * C).fill(NaN), lse = new Float32Array(B * H * N);
        const f = both([qkv, out, lse], (k, [q, o, l]) => k.flashAttentionForward(q, o, l, B, N, C, H));
        compare(f, [1, 2], `flashAttentionForward B=${B} N=${N} C=${C} H=${H}`);
        const dout = randn(rng, B * N * C), dqkv = randn(rng, B * N * 3 * C);
        const g = both([qkv, f.n[1], f.n[2], dout, dqkv], (k, [q, o, l, d, dq]) => k.flashAttentionBackward(q, o, l, d, dq, B, N, C, H));
        compare(g, [4], `flashAttentionBackward B=${B} N=${N} C=${C} H=${H}`, Math.sqrt(N));
      }
    });

    it('naive full attention, keeping the probabilities, against the reference and the flash kernel', () => {
      use();
      for (const [B, N, C, H] of [[1, 1, 1, 1], [2, 3, 6, 2], [2, 65, 16, 2], [1, 150, 32, 4]]) {
        const qkv = randn(rng, B * N * 3 * C, 1.5), att = new Float32Array(B * H * N * N);
        const f = both([qkv, new Float32Array(B * N * C), att], (k, [q, o, a]) => k.naiveFullAttentionForward(q, o, a, B, N, C, H));
        compare(f, [1, 2], `naiveFullAttentionForward B=${B} N=${N} C=${C} H=${H}`);
        const dout = randn(rng, B * N * C), dqkv = randn(rng, B * N * 3 * C);
        const g = both([qkv, f.n[2], dout, dqkv], (k, [q, a, d, dq]) => k.naiveFullAttentionBackward(q, a, d, dq, B, N, C, H));
        compare(g, [1, 3], `naiveFullAttentionBackward B=${B} N=${N} C=${C} H=${H}`, Math.sqrt(N));
        // The recomputing kernels give the same output and gradients within float32 rounding.
        const out = new Float32Array(B * N * C), lse = new Float32Array(B * H * N), dq2 = copy32(dqkv);
        native.flashAttentionForward(qkv, out, lse, B, N, C, H);
        native.flashAttentionBackward(qkv, out, lse, dout, dq2, B, N, C, H);
        assertClose(out, f.n[1], 1e-4, 1e-5, `flash vs naive output N=${N}`);
        assertClose(dq2, g.n[3], 1e-4, 1e-4, `flash vs naive gradient N=${N}`);
      }
    });

    it('full attention equals causal attention where the mask is moot: one query row sees every key', () => {
      use();
      // The last row of a causal window attends to every position: the same maths.
      const B = 2, N = 70, C = 16, H = 2;
      const qkv = randn(rng, B * N * 3 * C) as Float32Array;
      const full = new Float32Array(B * N * C), lse = new Float32Array(B * H * N);
      const causal = new Float32Array(B * N * C), att = new Float32Array(B * H * N * N);
      native.flashAttentionForward(qkv, full, lse, B, N, C, H);
      native.attentionForward(qkv, causal, att, B, N, C, H);
      for (let b = 0; b < B; b++) {
        const row = (b * N + N - 1) * C;
        assertClose(full.subarray(row, row + C), causal.subarray(row, row + C), 1e-5, 1e-6, `batch ${b} last row`);
      }
    });

    it('modulate and gate, forward and backward, with and without each gradient', () => {
      use();
      for (const [B, N, C] of [[1, 1, 1], [2, 3, 5], [3, 17, 33], [2, 64, 128]]) {
        const x = randn(rng, B * N * C, 2), shift = randn(rng, B * C), scale = randn(rng, B * C), y = new Float32Array(B * N * C);
        const f = both([x, shift, scale, y], (k, [x, sh, sc, y]) => k.modulateForward(x, sh, sc, y, B, N, C));
        compare(f, [3], `modulateForward B=${B} N=${N} C=${C}`);
        const dy = randn(rng, B * N * C), dx = randn(rng, B * N * C), dsh = randn(rng, B * C), dsc = randn(rng, B * C);
        for (const mask of [7, 1, 6]) {
          const g = both([x, scale, dy, dx, dsh, dsc], (k, [x, sc, dy, dx, dsh, dsc]) =>
            k.modulateBackward(x, sc, dy, mask & 1 ? dx : null, mask & 2 ? dsh : null, mask & 4 ? dsc : null, B, N, C));
          compare(g, [3, 4, 5], `modulateBackward B=${B} N=${N} C=${C} mask=${mask}`, Math.sqrt(N));
        }
        const gt = randn(rng, B * C);
        const fg = both([x, gt, y], (k, [x, gt, y]) => k.gateForward(x, gt, y, B, N, C));
        compare(fg, [2], `gateForward B=${B} N=${N} C=${C}`);
        for (const mask of [3, 1, 2]) {
          const gg = both([x, gt, dy, dx, dsh], (k, [x, gt, dy, dx, dg]) =>
            k.gateBackward(x, gt, dy, mask & 1 ? dx : null, mask & 2 ? dg : null, B, N, C));
          compare(gg, [3, 4], `gateBackward B=${B} N=${N} C=${C} mask=${mask}`, Math.sqrt(N));
        }
      }
    });

    it('layer norm without gain and bias', () => {
      use();
      for (const [N, D] of [[1, 1], [3, 17], [17, 256]]) {
        const x = randn(rng, N * D, 2), y = new Float32Array(N * D), mean = new Float32Array(N), rstd = new Float32Array(N);
        const f = both([x, y, mean, rstd], (k, [x, y, m, r]) => k.layerNormForward(x, null, null, y, m, r, N, D, 1e-5));
        compare(f, [1, 2, 3], `layerNormForward (no affine) N=${N} D=${D}`);
        const g = both([x, f.n[2], f.n[3], randn(rng, N * D), randn(rng, N * D)], (k, [x, m, r, dy, dx]) =>
          k.layerNormBackward(x, null, m, r, dy, dx, null, null, N, D));
        compare(g, [4], `layerNormBackward (no affine) N=${N} D=${D}`, 4);
      }
    });

    it('silu forward and backward, including large and tiny inputs', () => {
      use();
      for (const n of [1, 3, 17, 255, 4099]) {
        const x = randn(rng, n, 3);
        if (n > 3) { x[0] = 30; x[1] = -30; x[2] = 1e-6; x[3] = -100; }
        const f = both([x, new Float32Array(n)], (k, [x, y]) => k.siluForward(x, y, n));
        compare(f, [1], `siluForward n=${n}`);
        const g = both([x, randn(rng, n), randn(rng, n)], (k, [x, dy, dx]) => k.siluBackward(x, dy, dx, n));
        compare(g, [2], `siluBackward n=${n}`);
      }
    });

    it('mse fused with its gradient', () => {
      use();
      for (const n of [1, 3, 255, 70001]) {
        const res = both([randn(rng, n), randn(rng, n), new Float32Array(n)], (k, [p, t, d]) => k.mse(p, t, d, n, 1 / n));
        compare(res, [2], `mse n=${n}`, 1 / n);
        assertClose([res.nv as number], [res.rv as number], 1e-5, 0, `mse total n=${n}`);
      }
    });

    it('time embedding', () => {
      use();
      for (const [B, dim] of [[1, 2], [5, 8], [7, 256]]) {
        const t = new Float32Array(B);
        for (let b = 0; b < B; b++) t[b] = b === 0 ? 0 : rng.uniform() * 1000;
        const res = both([t, new Float32Array(B * dim)], (k, [t, o]) => k.timeEmbedding(t, o, B, dim, 10000));
        compare(res, [1], `timeEmbedding B=${B} dim=${dim}`);
      }
    });

    it('patchify and unpatchify are inverse permutations, overwriting or accumulating', () => {
      use();
      for (const [B, T, H, W, Ch, pt, p] of [[1, 1, 1, 1, 1, 1, 1], [2, 4, 6, 8, 3, 2, 2], [1, 3, 4, 4, 3, 3, 4], [2, 16, 32, 32, 3, 2, 4]]) {
        const n = B * T * H * W * Ch;
        const video = randn(rng, n), tokens = new Float32Array(n).fill(NaN);
        const f = both([video, tokens], (k, [v, t]) => k.patchify(v, t, B, T, H, W, Ch, pt, p, false));
        compare(f, [1], `patchify ${[B, T, H, W, Ch, pt, p]}`);
        const back = new Float32Array(n).fill(NaN);
        native.unpatchify(f.n[1], back, B, T, H, W, Ch, pt, p, false);
        assert.deepEqual(back, video, `round trip ${[B, T, H, W, Ch, pt, p]}`);
        const acc = both([randn(rng, n), randn(rng, n)], (k, [v, t]) => k.unpatchify(t, v, B, T, H, W, Ch, pt, p, true));
        compare(acc, [0], `unpatchify accumulate ${[B, T, H, W, Ch, pt, p]}`);
        const acc2 = both([randn(rng, n), randn(rng, n)], (k, [v, t]) => k.patchify(v, t, B, T, H, W, Ch, pt, p, true));
        compare(acc2, [1], `patchify accumulate ${[B, T, H, W, Ch, pt, p]}`);
      }
      // Token 1 of a 1×2×4 clip in 1×2×2 patches, 1 channel: columns 2, 3 of rows 0 and 1.
      const v = Float32Array.from({ length: 8 }, (_, i) => i), t = new Float32Array(8);
      native.patchify(v, t, 1, 1, 2, 4, 1, 1, 2, false);
      assert.deepEqual(Array.from(t), [0, 1, 4, 5, 2, 3, 6, 7]);
    });

    it('every threaded video kernel gives the same bits for 1 and 2 threads', () => {
      use();
      const B = 2, N = 130, C = 32, H = 4;
      sameBitsAcrossThreads([randn(rng, B * N * 3 * C), new Float32Array(B * N * C), new Float32Array(B * H * N), randn(rng, B * N * C), randn(rng, B * N * 3 * C)],
        ([q, o, l, d, dq]) => { native.flashAttentionForward(q, o, l, B, N, C, H); native.flashAttentionBackward(q, o, l, d, dq, B, N, C, H); }, 'flashAttention');
      sameBitsAcrossThreads([randn(rng, B * N * 3 * C), new Float32Array(B * N * C), new Float32Array(B * H * N * N), randn(rng, B * N * C), randn(rng, B * N * 3 * C)],
        ([q, o, a, d, dq]) => { native.naiveFullAttentionForward(q, o, a, B, N, C, H); native.naiveFullAttentionBackward(q, a, d, dq, B, N, C, H); }, 'naiveFullAttention');
      sameBitsAcrossThreads([randn(rng, B * N * C), randn(rng, B * C), randn(rng, B * C), new Float32Array(B * N * C), randn(rng, B * N * C), randn(rng, B * N * C), randn(rng, B * C), randn(rng, B * C)],
        ([x, sh, sc, y, dy, dx, dsh, dsc]) => { native.modulateForward(x, sh, sc, y, B, N, C); native.modulateBackward(x, sc, dy, dx, dsh, dsc, B, N, C); }, 'modulate');
      sameBitsAcrossThreads([randn(rng, B * N * C), randn(rng, B * C), new Float32Array(B * N * C), randn(rng, B * N * C), randn(rng, B * N * C), randn(rng, B * C)],
        ([x, gt, y, dy, dx, dg]) => { native.gateForward(x, gt, y, B, N, C); native.gateBackward(x, gt, dy, dx, dg, B, N, C); }, 'gate');
      const n = 70001;
      sameBitsAcrossThreads([randn(rng, n), new Float32Array(n), randn(rng, n), randn(rng, n)],
        ([x, y, dy, dx]) => { native.siluForward(x, y, n); native.siluBackward(x, dy, dx, n); }, 'silu');
      sameBitsAcrossThreads([randn(rng, n), randn(rng, n), new Float32Array(n), new Float32Array(1)],
        ([p, t, d, s]) => { s[0] = native.mse(p, t, d, n, 1 / n); }, 'mse');
      const V = 2 * 16 * 32 * 32 * 3;
      sameBitsAcrossThreads([randn(rng, V), randn(rng, V), randn(rng, V)],
        ([v, t, v2]) => { native.patchify(v, t, 2, 16, 32, 32, 3, 2, 4, true); native.unpatchify(t, v2, 2, 16, 32, 32, 3, 2, 4, true); }, 'patches');
    });
  });
}

describe('video kernels: native argument checks', () => {
  it('reject bad shapes with an error naming the kernel', () => {
    const f = new Float32Array(64);
    assert.throws(() => native.flashAttentionForward(f, f, f, 1, 2, 3, 2), /flashAttentionForward: heads must divide/);
    assert.throws(() => native.flashAttentionBackward(f, f, new Float32Array(3), f, f, 1, 4, 4, 1), /flashAttentionBackward: argument 2 must be at least 4 elements/);
    assert.throws(() => native.naiveFullAttentionBackward(f, new Float32Array(15), f, f, 1, 4, 4, 1), /naiveFullAttentionBackward: argument 1 must be at least 16 elements/);
    assert.throws(() => native.modulateForward(f, new Float32Array(3), f, f, 1, 4, 4), /modulateForward: argument 1 must be at least 4 elements/);
    assert.throws(() => native.timeEmbedding(f, f, 1, 3, 10000), /timeEmbedding: the embedding width must be even/);
    assert.throws(() => native.patchify(f, f, 1, 3, 2, 2, 1, 2, 1, false), /patchify: patch sizes must divide the clip/);
    assert.throws(() => native.unpatchify(f, new Float32Array(7), 1, 2, 2, 2, 1, 1, 1, false), /unpatchify: argument 1 must be at least 8 elements/);
  });
});

// ---- Gradients against finite differences, float64 on the reference kernels ----

const { param, gradCheck } = gradChecks(new Rng(23));

describe('video ops: gradients match finite differences (float64 reference)', () => {
  it('fullAttention', () => {
    gradCheck('fullAttention', [param([2, 5, 3 * 6])], (g, [qkv]) => ops.fullAttention(g, qkv, 2), 60);
    gradCheck('fullAttention N=1', [param([1, 1, 3 * 4])], (g, [qkv]) => ops.fullAttention(g, qkv, 1));
    gradCheck('fullAttention, probabilities kept', [param([2, 5, 3 * 6])], (g, [qkv]) => ops.fullAttention(g, qkv, 2, { recompute: false }), 60);
  });
  it('fullAttention after modulate, layerNorm without affine and a linear: the DiT block path', () => {
    gradCheck('dit attention path', [param([2, 4, 6]), param([2, 6]), param([2, 6]), param([18, 6])],
      (g, [x, sh, sc, w]) => ops.fullAttention(g, ops.linear(g, ops.modulate(g, ops.layerNorm(g, x, null, null), sh, sc), w), 2), 40);
  });
  it('modulate and gate', () => {
    gradCheck('modulate', [param([2, 3, 4], 2), param([2, 4]), param([2, 4])], (g, [x, sh, sc]) => ops.modulate(g, x, sh, sc));
    gradCheck('gate', [param([2, 3, 4], 2), param([2, 4])], (g, [x, gt]) => ops.gate(g, x, gt));
    // The same tensor as shift and gate: gradients add up.
    gradCheck('modulate then gate, shared', [param([1, 3, 4]), param([1, 4])], (g, [x, c]) => ops.gate(g, ops.modulate(g, x, c, c), c));
  });
  it('layerNorm without gain and bias, and with only a gain', () => {
    gradCheck('layerNorm no affine', [param([4, 6], 2)], (g, [x]) => ops.layerNorm(g, x, null, null));
    gradCheck('layerNorm gain only', [param([3, 5], 2), param([5])], (g, [x, a]) => ops.layerNorm(g, x, a, null));
  });
  it('silu', () => {
    gradCheck('silu', [param([17], 3)], (g, [x]) => ops.silu(g, x));
  });
  it('mse, to the prediction and to the target', () => {
    gradCheck('mse', [param([3, 4], 2), param([3, 4])], (g, [p, t]) => ops.mse(g, p, t));
    gradCheck('mse of a silu', [param([7])], (g, [x]) => ops.mse(g, ops.silu(g, x), new Tensor(new Float64Array(7).fill(0.5), [7])));
  });
  it('patchify and unpatchify', () => {
    gradCheck('patchify', [param([2, 4, 4, 6, 3])], (g, [v]) => ops.patchify(g, v, 2, 2), 60);
    gradCheck('unpatchify', [param([1, 2 * 1 * 3, 2 * 2 * 2 * 3])], (g, [t]) => ops.unpatchify(g, t, [4, 2, 6, 3], 2, 2), 60);
    gradCheck('patchify ∘ unpatchify', [param([1, 2, 4, 4, 2])], (g, [v]) => ops.unpatchify(g, ops.patchify(g, v, 1, 2), [2, 4, 4, 2], 1, 2));
  });
  it('timeEmbedding records no backward and matches the formula', () => {
    const g = new Graph(reference, { dtype: 'f64' });
    const e = ops.timeEmbedding(g, [0, 250.5], 6);
    assert.equal(e.requiresGrad, false);
    assert.deepEqual(e.shape, [2, 6]);
    assert.deepEqual(Array.from(e.data.subarray(0, 6)), [1, 1, 1, 0, 0, 0]);
    const f1 = Math.pow(10000, -1 / 3);
    assert.ok(Math.abs(e.data[6 + 1] - Math.cos(250.5 * f1)) < 1e-12 && Math.abs(e.data[6 + 4] - Math.sin(250.5 * f1)) < 1e-12);
  });
});

describe('video ops: shape errors name the op and the shapes', () => {
  const g = new Graph(reference, { dtype: 'f64' });
  it('are thrown before any kernel runs', () => {
    assert.throws(() => ops.fullAttention(g, param([1, 2, 9]), 2), /fullAttention: 2 heads do not divide width 3/);
    assert.throws(() => ops.fullAttention(g, param([2, 9]), 1), /fullAttention: qkv must be \[B, N, 3·C\], got \[2,9\]/);
    assert.throws(() => ops.modulate(g, param([2, 3, 4]), param([2, 4]), param([1, 4])), /modulate: scale \[1,4\] must be \[2,4\] for input \[2,3,4\]/);
    assert.throws(() => ops.gate(g, param([2, 4]), param([2, 4])), /gate: input must be \[B, N, C\], got \[2,4\]/);
    assert.throws(() => ops.mse(g, param([2, 3]), param([3, 2])), /mse: prediction \[2,3\] and target \[3,2\] differ in shape/);
    assert.throws(() => ops.timeEmbedding(g, [1], 5), /timeEmbedding: width must be a positive even integer, got 5/);
    assert.throws(() => ops.patchify(g, param([1, 3, 4, 4, 3]), 2, 2), /patchify: 2×2×2 patches do not tile a 3×4×4 clip/);
    assert.throws(() => ops.patchify(g, param([3, 4, 4, 3]), 1, 2), /patchify: clip must be \[B, T, H, W, channels\], got \[3,4,4,3\]/);
    assert.throws(() => ops.unpatchify(g, param([1, 4, 12]), [2, 4, 4, 3], 1, 2), /unpatchify: tokens must be \[B, 8, 12\] for a 2×4×4×3 clip in 1×2×2 patches, got \[1,4,12\]/);
    assert.throws(() => ops.layerNorm(g, param([2, 4]), null, param([3])), /layerNorm: gain none and bias \[3\] must match/);
    assert.throws(() => ops.concatTokens(g, param([2, 3, 4]), param([2, 5, 3])), /concatTokens: inputs must be \[B, N, C\] and \[B, L, C\], got \[2,3,4\] and \[2,5,3\]/);
    assert.throws(() => ops.firstTokens(g, param([2, 3, 4]), 4), /firstTokens: cannot take 4 of 3 tokens/);
  });

  it('joins token sequences row by row and takes the first back, gradients split the same way', () => {
    const a = param([2, 1, 2]), b = param([2, 2, 2]);
    a.data.set([1, 2, 3, 4]);
    b.data.set([5, 6, 7, 8, 9, 10, 11, 12]);
    g.reset();
    const j = ops.concatTokens(g, a, b);
    assert.deepEqual([...j.shape], [2, 3, 2]);
    assert.deepEqual([...j.data], [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12]);
    const first = ops.firstTokens(g, j, 1);
    assert.deepEqual([...first.data], [1, 2, 3, 4]);
  });
});
