// Every native kernel equals its reference kernel (run in float64) within float32 tolerance,
// on random shapes with odd sizes, for every instruction set this CPU runs, and gives the same
// bits with one thread as with several.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { native, setKernel, setThreads, kernelInfo } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import { Rng } from '../src/engine/random.js';
import { packedLinearLength } from '../src/engine/kernels.js';
import { randn, randInts, copy64, assertClose } from './helpers.js';
import { both, compare, instructionSets, sameBitsAcrossThreads } from './kernel-checks.js';

const isas = instructionSets();

const SIZES = [1, 3, 17, 64, 255];

for (const isa of isas) {
  describe(`native kernels (${isa}) against the reference`, () => {
    const rng = new Rng(7);
    const use = () => assert.ok(setKernel(isa));

    it('runs the forced instruction set', () => {
      use();
      assert.deepEqual(kernelInfo(), { gemm: isa, kernels: isa === 'generic' ? 'generic' : 'avx2' });
    });

    it('gemm, all transposes, odd sizes, strides, alpha and beta', () => {
      use();
      for (const M of SIZES) for (const N of [1, 5, 17, 33]) for (const K of [1, 3, 17, 255]) {
        for (const tA of [false, true]) for (const tB of [false, true]) {
          const pad = 3;
          const lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
          const A = randn(rng, (tA ? K : M) * lda), B = randn(rng, (tB ? N : K) * ldb), C = randn(rng, M * ldc);
          const alpha = 0.5 + rng.uniform(), beta = rng.uniform() < 0.5 ? 0 : 0.7;
          const res = both([A, B, C], (k, [a, b, c]) => k.gemm(tA, tB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc));
          compare(res, [2], `gemm tA=${tA} tB=${tB} M=${M} N=${N} K=${K}`, Math.sqrt(K));
        }
      }
    });

    it('gemm with beta = 0 ignores NaN in C', () => {
      use();
      const M = 17, N = 19, K = 23;
      const A = randn(rng, M * K), B = randn(rng, K * N), C = new Float32Array(M * N).fill(NaN);
      native.gemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
      assert.ok(C.every(Number.isFinite));
    });

    it('gemm on the model shapes gives the same bits for 1 and 2 threads', () => {
      use();
      const M = 300, N = 200, K = 129;
      sameBitsAcrossThreads([randn(rng, M * K), randn(rng, N * K), randn(rng, M * N)],
        ([a, b, c]) => native.gemm(false, true, M, N, K, 1, a, K, b, K, 1, c, N), 'gemm');
    });

    it('linear forward and backward', () => {
      use();
      for (const N of [1, 3, 17, 64]) for (const K of [1, 7, 255]) for (const O of [1, 3, 48]) {
        for (const withBias of [true, false]) {
          const x = randn(rng, N * K), w = randn(rng, O * K), b = randn(rng, O), y = new Float32Array(N * O);
          const f = both([x, w, b, y], (k, [x, w, b, y]) => k.linearForward(x, w, withBias ? b : null, y, N, K, O));
          compare(f, [3], `linearForward N=${N} K=${K} O=${O}`, Math.sqrt(K));
          const dy = randn(rng, N * O), dx = randn(rng, N * K), dw = randn(rng, O * K), db = randn(rng, O);
          const g = both([x, w, dy, dx, dw, db], (k, [x, w, dy, dx, dw, db]) =>
            k.linearBackward(x, w, dy, dx, dw, withBias ? db : null, N, K, O));
          compare(g, [3, 4, 5], `linearBackward N=${N} K=${K} O=${O}`, Math.sqrt(N + O));
        }
      }
    });

    it('packed linear forward: every row count, ragged panels, bias or none', () => {
      use();
      for (const N of [1, 2, 3, 4, 5, 6, 7, 13, 33]) for (const K of [1, 7, 64]) for (const O of [1, 16, 17, 100]) {
        for (const withBias of [true, false]) {
          const w = randn(rng, O * K), x = randn(rng, N * K), b = randn(rng, O);
          const wp = new Float32Array(packedLinearLength(K, O)).fill(NaN);
          native.packLinear(w, wp, K, O);
          const wpRef = new Float64Array(wp.length);
          reference.packLinear(copy64(w), wpRef, K, O);
          assert.deepEqual(Array.from(wp), Array.from(wpRef), `packLinear K=${K} O=${O}`);
          const f = both([x, wp, b, new Float32Array(N * O)], (k, [x, wp, b, y]) => k.linearPackedForward(x, wp, withBias ? b : null, y, N, K, O));
          compare(f, [3], `linearPackedForward N=${N} K=${K} O=${O}`, Math.sqrt(K));
        }
      }
    });

    it('packed linear forward is batch-invariant: a row gets the same bits in any batch', () => {
      use();
      const N = 33, K = 96, O = 70;
      const x = randn(rng, N * K), w = randn(rng, O * K), b = randn(rng, O);
      const wp = new Float32Array(packedLinearLength(K, O));
      native.packLinear(w, wp, K, O);
      const all = new Float32Array(N * O);
      native.linearPackedForward(x, wp, b, all, N, K, O);
      // Each row alone, and slices that put rows in every position of the 6-row tiles.
      for (const [start, n] of [[0, 1], [5, 1], [32, 1], [1, 2], [3, 5], [7, 13], [2, 31]]) {
        const y = new Float32Array(n * O);
        native.linearPackedForward(x.subarray(start * K), wp, b, y, n, K, O);
        assert.deepEqual(Buffer.from(y.buffer), Buffer.from(all.buffer, start * O * 4, n * O * 4), `rows ${start}..${start + n - 1} alone`);
      }
    });

    it('batched decoding attention appends to each cache and equals per-sequence attention', () => {
      use();
      const C = 16, H = 2, ctx = 40, layers = 2, layer = 1, plane = ctx * C;
      const starts = Int32Array.of(0, 7, 30, 3), counts = Int32Array.of(5, 1, 10, 1);
      const R = counts.reduce((a, n) => a + n, 0);
      const qkv = randn(rng, R * 3 * C);
      const caches = Array.from(starts, () => randn(rng, 2 * layers * plane));
      const out = new Float32Array(R * C);
      const res = both([qkv, out, ...caches], (k, [q, o, ...cs]) => k.attentionDecodeBatch(q, cs, starts, counts, o, layer, ctx, C, H));
      compare(res, [1, 2, 3, 4, 5], 'attentionDecodeBatch');
      // The same rows through attentionDecode, one sequence at a time, on the appended caches.
      let r = 0;
      for (let b = 0; b < starts.length; b++) {
        const K = res.n[2 + b].subarray(2 * layer * plane, (2 * layer + 1) * plane), V = res.n[2 + b].subarray((2 * layer + 1) * plane);
        for (let i = 0; i < counts[b]; i++) {
          const row = qkv.subarray((r + i) * 3 * C);
          assert.deepEqual(Array.from(K.subarray((starts[b] + i) * C, (starts[b] + i + 1) * C)), Array.from(row.subarray(C, 2 * C)), `sequence ${b} row ${i}: key appended`);
        }
        const one = new Float32Array(counts[b] * C);
        native.attentionDecode(qkv.subarray(r * 3 * C), 3 * C, K, V, one, counts[b], starts[b], C, H);
        assert.deepEqual(Buffer.from(one.buffer), Buffer.from((res.n[1] as Float32Array).buffer, r * C * 4, counts[b] * C * 4), `sequence ${b}`);
        // Other layers are untouched.
        assert.deepEqual(Array.from(res.n[2 + b].subarray(0, 2 * plane)), Array.from(caches[b].subarray(0, 2 * plane)), `sequence ${b}: layer 0 untouched`);
        r += counts[b];
      }
    });

    it('layer norm forward and backward', () => {
      use();
      for (const N of [1, 3, 17]) for (const D of [1, 3, 17, 255, 256]) {
        const x = randn(rng, N * D, 2), gn = randn(rng, D), bs = randn(rng, D);
        const y = new Float32Array(N * D), mean = new Float32Array(N), rstd = new Float32Array(N);
        const f = both([x, gn, bs, y, mean, rstd], (k, [x, g, b, y, m, r]) => k.layerNormForward(x, g, b, y, m, r, N, D, 1e-5));
        compare(f, [3, 4, 5], `layerNormForward N=${N} D=${D}`);
        const dy = randn(rng, N * D), dx = randn(rng, N * D), dg = randn(rng, D), db = randn(rng, D);
        const g = both([x, gn, f.n[4], f.n[5], dy, dx, dg, db], (k, [x, g, m, r, dy, dx, dg, db]) =>
          k.layerNormBackward(x, g, m, r, dy, dx, dg, db, N, D));
        compare(g, [5, 6, 7], `layerNormBackward N=${N} D=${D}`, 4);
      }
    });

    it('rms norm forward and backward', () => {
      use();
      for (const N of [1, 3, 17]) for (const D of [1, 3, 17, 255, 256]) {
        const x = randn(rng, N * D, 2), gn = randn(rng, D);
        const y = new Float32Array(N * D), rstd = new Float32Array(N);
        const f = both([x, gn, y, rstd], (k, [x, g, y, r]) => k.rmsNormForward(x, g, y, r, N, D, 1e-5));
        compare(f, [2, 3], `rmsNormForward N=${N} D=${D}`);
        const dy = randn(rng, N * D), dx = randn(rng, N * D), dg = randn(rng, D);
        const g = both([x, gn, f.n[3], dy, dx, dg], (k, [x, g, r, dy, dx, dg]) => k.rmsNormBackward(x, g, r, dy, dx, dg, N, D));
        compare(g, [4, 5], `rmsNormBackward N=${N} D=${D}`, 4);
      }
    });

    it('swiglu forward and backward, including large and tiny inputs', () => {
      use();
      for (const [N, H] of [[1, 1], [3, 5], [17, 17], [4, 255], [33, 688]]) {
        const x = randn(rng, N * 2 * H, 3);
        if (H > 3) { x[0] = 30; x[1] = -30; x[2] = 1e-6; x[3] = -100; }
        const f = both([x, new Float32Array(N * H)], (k, [x, y]) => k.swigluForward(x, y, N, H));
        compare(f, [1], `swigluForward N=${N} H=${H}`, 4);
        const g = both([x, randn(rng, N * H), randn(rng, N * 2 * H)], (k, [x, dy, dx]) => k.swigluBackward(x, dy, dx, N, H));
        compare(g, [2], `swigluBackward N=${N} H=${H}`, 4);
      }
    });

    it('rope forward and backward, and backward undoes forward', () => {
      use();
      for (const [B, T, C, H] of [[1, 1, 2, 1], [2, 3, 6, 3], [1, 17, 12, 2], [3, 40, 16, 2], [2, 70, 64, 4], [1, 300, 256, 4]]) {
        const n = B * T * 3 * C;
        const f = both([randn(rng, n), new Float32Array(n)], (k, [q, o]) => k.ropeForward(q, o, B, T, C, H));
        compare(f, [1], `ropeForward B=${B} T=${T} C=${C} H=${H}`);
        const g = both([randn(rng, n), randn(rng, n)], (k, [d, dq]) => k.ropeBackward(d, dq, B, T, C, H));
        compare(g, [1], `ropeBackward B=${B} T=${T} C=${C} H=${H}`);
        // A rotation's transpose is its inverse: backward of forward from zero gives the input back.
        const back = new Float32Array(n);
        native.ropeBackward(f.n[1], back, B, T, C, H);
        assertClose(back, f.n[0], 1e-5, 1e-5, `rope round trip B=${B} T=${T} C=${C} H=${H}`);
      }
    });

    it('gelu forward and backward, including large and tiny inputs', () => {
      use();
      for (const n of [1, 3, 17, 255, 4099]) {
        const x = randn(rng, n, 3);
        if (n > 3) { x[0] = 30; x[1] = -30; x[2] = 1e-6; }
        const f = both([x, new Float32Array(n)], (k, [x, y]) => k.geluForward(x, y, n));
        compare(f, [1], `geluForward n=${n}`);
        const g = both([x, randn(rng, n), randn(rng, n)], (k, [x, dy, dx]) => k.geluBackward(x, dy, dx, n));
        compare(g, [2], `geluBackward n=${n}`);
      }
    });

    it('add with and without broadcast', () => {
      use();
      for (const [n, m] of [[1, 1], [17, 17], [51, 17], [4096, 256], [255, 1]]) {
        const f = both([randn(rng, n), randn(rng, m), new Float32Array(n)], (k, [a, b, o]) => k.addForward(a, b, o, n, m));
        compare(f, [2], `addForward n=${n} m=${m}`);
        const g = both([randn(rng, n), randn(rng, n), randn(rng, m)], (k, [d, da, db]) => k.addBackward(d, da, db, n, m));
        compare(g, [1, 2], `addBackward n=${n} m=${m}`, Math.sqrt(n / m));
      }
    });

    it('embedding forward and scatter-add backward with repeated ids', () => {
      use();
      for (const [N, V, D] of [[1, 1, 1], [17, 3, 5], [255, 256, 17], [300, 7, 64]]) {
        const ids = randInts(rng, N, V);
        const f = both([randn(rng, V * D), new Float32Array(N * D)], (k, [t, o]) => k.embeddingForward(ids, t, o, N, D));
        compare(f, [1], `embeddingForward N=${N} V=${V} D=${D}`);
        const g = both([randn(rng, N * D), randn(rng, V * D)], (k, [d, t]) => k.embeddingBackward(ids, d, t, N, D));
        compare(g, [1], `embeddingBackward N=${N} V=${V} D=${D}`, Math.sqrt(N));
      }
    });

    it('causal attention forward and backward', () => {
      use();
      for (const [B, T, C, H] of [[1, 1, 1, 1], [2, 3, 6, 2], [1, 17, 12, 3], [2, 40, 16, 2], [1, 70, 64, 4]]) {
        const qkv = randn(rng, B * T * 3 * C), out = new Float32Array(B * T * C), att = new Float32Array(B * H * T * T);
        const f = both([qkv, out, att], (k, [q, o, a]) => k.attentionForward(q, o, a, B, T, C, H));
        compare(f, [1, 2], `attentionForward B=${B} T=${T} C=${C} H=${H}`);
        const dout = randn(rng, B * T * C), dqkv = randn(rng, B * T * 3 * C);
        const g = both([qkv, f.n[2], dout, dqkv], (k, [q, a, d, dq]) => k.attentionBackward(q, a, d, dq, B, T, C, H));
        compare(g, [3], `attentionBackward B=${B} T=${T} C=${C} H=${H}`, Math.sqrt(T));
      }
    });

    it('decoding attention against a KV cache equals the reference and the full forward row', () => {
      use();
      for (const [p0, n, C, H] of [[0, 1, 4, 1], [5, 1, 12, 3], [0, 9, 16, 2], [30, 7, 64, 4], [3, 80, 64, 2]]) {
        const T = p0 + n, C3 = 3 * C;
        const q = randn(rng, n * C3), kc = randn(rng, (T + 2) * C), vc = randn(rng, (T + 2) * C), out = new Float32Array(n * C);
        const f = both([q, kc, vc, out], (k, [qq, kk, vv, o]) => k.attentionDecode(qq, C3, kk, vv, o, n, p0, C, H));
        compare(f, [3], `attentionDecode p0=${p0} n=${n} C=${C} H=${H}`);
      }
      // Against training's attention: the last row of a causal window is one decode row.
      const T = 21, C = 16, H = 2;
      const qkv = randn(rng, T * 3 * C), full = new Float32Array(T * C), att = new Float32Array(H * T * T);
      native.attentionForward(qkv, full, att, 1, T, C, H);
      const kc = new Float32Array(T * C), vc = new Float32Array(T * C);
      for (let t = 0; t < T; t++) {
        kc.set(qkv.subarray(t * 3 * C + C, t * 3 * C + 2 * C), t * C);
        vc.set(qkv.subarray(t * 3 * C + 2 * C, t * 3 * C + 3 * C), t * C);
      }
      const one = new Float32Array(C);
      native.attentionDecode(qkv.subarray((T - 1) * 3 * C), 3 * C, kc, vc, one, 1, T - 1, C, H);
      for (let c = 0; c < C; c++) assert.ok(Math.abs(one[c] - full[(T - 1) * C + c]) < 1e-5, `column ${c}: ${one[c]} vs ${full[(T - 1) * C + c]}`);
    });

    it('cross-entropy fused with its gradient', () => {
      use();
      for (const [N, V] of [[1, 1], [3, 2], [17, 256], [255, 17]]) {
        const targets = randInts(rng, N, V);
        const logits = randn(rng, N * V, 4);
        const res = both([logits, new Float32Array(N), new Float32Array(N * V)], (k, [l, ls, d]) =>
          k.crossEntropy(l, targets, ls, d, N, V, 1 / N));
        compare(res, [1, 2], `crossEntropy N=${N} V=${V}`);
        assertClose([res.nv as number], [res.rv as number], 1e-5, 1e-5, 'crossEntropy total');
      }
    });

    it('sum of squares and AdamW', () => {
      use();
      for (const n of [1, 3, 17, 70001]) {
        const x = randn(rng, n);
        const res = both([x], (k, [x]) => k.sumSquares(x, n));
        assertClose([res.nv as number], [res.rv as number], 1e-6, 0, `sumSquares n=${n}`);
        sameBitsAcrossThreads([x], ([x]) => { x[0] = native.sumSquares(x, n); }, 'sumSquares');
        for (const step of [1, 2, 1000]) {
          const v = randn(rng, n).map(Math.abs);
          const r = both([randn(rng, n), randn(rng, n), randn(rng, n), v], (k, [p, g, m, v]) =>
            k.adamw(p, g, m, v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, step, 0.7));
          compare(r, [0, 2, 3], `adamw n=${n} step=${step}`);
        }
        const ax = both([randn(rng, n), randn(rng, n)], (k, [s, d]) => k.axpy(0.3, s, d, n));
        compare(ax, [1], `axpy n=${n}`);
      }
    });

    it('every threaded kernel gives the same bits for 1 and 2 threads', () => {
      use();
      const B = 2, T = 33, C = 16, H = 2, N = B * T, V = 19;
      const qkv = randn(rng, B * T * 3 * C);
      sameBitsAcrossThreads([qkv, new Float32Array(B * T * C), new Float32Array(B * H * T * T), randn(rng, B * T * C), randn(rng, B * T * 3 * C)],
        ([q, o, a, d, dq]) => { native.attentionForward(q, o, a, B, T, C, H); native.attentionBackward(q, a, d, dq, B, T, C, H); }, 'attention');
      sameBitsAcrossThreads([randn(rng, N * C), randn(rng, C), randn(rng, C), new Float32Array(N * C), new Float32Array(N), new Float32Array(N), randn(rng, N * C), randn(rng, N * C), randn(rng, C), randn(rng, C)],
        ([x, g, b, y, m, r, dy, dx, dg, db]) => { native.layerNormForward(x, g, b, y, m, r, N, C, 1e-5); native.layerNormBackward(x, g, m, r, dy, dx, dg, db, N, C); }, 'layerNorm');
      const ids = randInts(rng, N, V);
      sameBitsAcrossThreads([randn(rng, N * C), randn(rng, V * C)], ([d, t]) => native.embeddingBackward(ids, d, t, N, C), 'embeddingBackward');
      sameBitsAcrossThreads([randn(rng, N * C), randn(rng, C * 4 * C), randn(rng, N * 4 * C), randn(rng, N * C), randn(rng, 4 * C * C), randn(rng, 4 * C)],
        ([x, w, dy, dx, dw, db]) => native.linearBackward(x, w, dy, dx, dw, db, N, C, 4 * C), 'linearBackward');
      sameBitsAcrossThreads([randn(rng, N * C), randn(rng, C), new Float32Array(N * C), new Float32Array(N), randn(rng, N * C), randn(rng, N * C), randn(rng, C)],
        ([x, g, y, r, dy, dx, dg]) => { native.rmsNormForward(x, g, y, r, N, C, 1e-5); native.rmsNormBackward(x, g, r, dy, dx, dg, N, C); }, 'rmsNorm');
      const Hs = 4099; // rows of odd width, more work than one thread's minimum
      sameBitsAcrossThreads([randn(rng, 5 * 2 * Hs), new Float32Array(5 * Hs), randn(rng, 5 * Hs), randn(rng, 5 * 2 * Hs)],
        ([x, y, dy, dx]) => { native.swigluForward(x, y, 5, Hs); native.swigluBackward(x, dy, dx, 5, Hs); }, 'swiglu');
      sameBitsAcrossThreads([qkv, new Float32Array(B * T * 3 * C), randn(rng, B * T * 3 * C), randn(rng, B * T * 3 * C)],
        ([q, o, d, dq]) => { native.ropeForward(q, o, B, T, C, H); native.ropeBackward(d, dq, B, T, C, H); }, 'rope');
      // A decode step's few rows: outputs split over threads in blocks of 4, with a partial last block.
      sameBitsAcrossThreads([randn(rng, 8 * 64), randn(rng, 1030 * 64), randn(rng, 1030), new Float32Array(8 * 1030)],
        ([x, w, b, y]) => native.linearForward(x, w, b, y, 8, 64, 1030), 'linearForward (few rows)');
      // Decode-sized packed linears: panels split over threads, a ragged last panel.
      const wp = new Float32Array(packedLinearLength(256, 300));
      native.packLinear(randn(rng, 300 * 256), wp, 256, 300);
      sameBitsAcrossThreads([randn(rng, 32 * 256), randn(rng, 300), new Float32Array(32 * 300)],
        ([x, b, y]) => native.linearPackedForward(x, wp, b, y, 32, 256, 300), 'linearPackedForward');
      // A batch of 32 sequences' decoding attention, split by rows.
      const caches = Array.from({ length: 32 }, () => randn(rng, 2 * 100 * 64));
      const starts = Int32Array.from({ length: 32 }, (_, b) => 40 + b), counts = new Int32Array(32).fill(1);
      sameBitsAcrossThreads([randn(rng, 32 * 3 * 64), new Float32Array(32 * 64), ...caches],
        ([q, o, ...cs]) => native.attentionDecodeBatch(q, cs, starts, counts, o, 0, 100, 64, 4), 'attentionDecodeBatch');
      // A prompt long enough for decoding attention to split its rows.
      sameBitsAcrossThreads([randn(rng, 120 * 3 * 64), randn(rng, 130 * 64), randn(rng, 130 * 64), new Float32Array(120 * 64)],
        ([q, kc, vc, o]) => native.attentionDecode(q, 3 * 64, kc, vc, o, 120, 10, 64, 4), 'attentionDecode');
    });
  });
}

describe('native argument checks', () => {
  it('reject short buffers, wrong types, bad ids and bad sizes with an error naming the kernel', () => {
    const f = new Float32Array(4);
    assert.throws(() => native.gemm(false, false, 2, 2, 2, 1, f, 2, f, 2, 0, new Float32Array(3), 2), /gemm: argument 11 must be at least 4 elements/);
    assert.throws(() => native.geluForward(new Float64Array(4), f, 4), /geluForward: argument 0 must be a Float32Array/);
    assert.throws(() => native.embeddingForward(Int32Array.of(0, 5), f, new Float32Array(4), 2, 2), /embeddingForward: ids in \[0, 2\)/);
    assert.throws(() => native.crossEntropy(f, Int32Array.of(-1), f, f, 1, 4, 1), /crossEntropy: ids in \[0, 4\)/);
    assert.throws(() => native.geluForward(f, f, -1), /geluForward: argument 2 must be a non-negative integer/);
    assert.throws(() => native.attentionForward(f, f, f, 1, 1, 3, 2), /attentionForward: heads must divide/);
    assert.throws(() => native.attentionDecode(new Float32Array(12), 12, new Float32Array(4), new Float32Array(4), f, 1, 1, 4, 1), /attentionDecode: argument 2 must be at least 8 elements/);
    assert.throws(() => native.attentionDecode(new Float32Array(12), 2, f, f, f, 1, 0, 4, 1), /attentionDecode: the query stride must be at least the model width/);
    assert.throws(() => native.packLinear(new Float32Array(8), new Float32Array(31), 2, 4), /packLinear: argument 1 must be at least 32 elements/);
    assert.throws(() => native.linearPackedForward(f, new Float32Array(16), null, f, 2, 2, 2), /linearPackedForward: argument 1 must be at least 32 elements/);
    const cache = new Float32Array(2 * 4 * 4);
    assert.throws(() => native.attentionDecodeBatch(new Float32Array(12), [cache], Int32Array.of(4), Int32Array.of(1), f, 0, 4, 4, 1), /attentionDecodeBatch: a sequence's rows must fit the context/);
    assert.throws(() => native.attentionDecodeBatch(new Float32Array(12), [cache], Int32Array.of(0), Int32Array.of(0), f, 0, 4, 4, 1), /attentionDecodeBatch: every sequence needs at least one new row/);
    assert.throws(() => native.attentionDecodeBatch(new Float32Array(12), [cache], Int32Array.of(0), Int32Array.of(1), f, 1, 4, 4, 1), /attentionDecodeBatch: argument 1 must be buffers of at least 64 elements/);
    assert.throws(() => native.attentionDecodeBatch(new Float32Array(12), [cache, cache], Int32Array.of(0), Int32Array.of(1), f, 0, 4, 4, 1), /attentionDecodeBatch: argument 1 must be an array of 1 buffers/);
    assert.throws(() => native.attentionDecodeBatch(new Float32Array(12), [new Float64Array(32)], Int32Array.of(0), Int32Array.of(1), f, 0, 4, 4, 1), /attentionDecodeBatch: argument 1 must be an array of Float32Array/);
    assert.throws(() => native.ropeForward(f, f, 1, 1, 3, 3), /ropeForward: heads must divide the model width into even head dimensions/);
    assert.throws(() => native.ropeBackward(new Float32Array(12), new Float32Array(11), 1, 1, 4, 2), /ropeBackward: argument 1 must be at least 12 elements/);
    assert.throws(() => native.swigluForward(new Float32Array(6), new Float32Array(3), 2, 2), /swigluForward: argument 0 must be at least 8 elements/);
    assert.throws(() => native.swigluBackward(f, new Float32Array(1), f, 1, 2), /swigluBackward: argument 1 must be at least 2 elements/);
    assert.throws(() => native.rmsNormForward(f, new Float32Array(1), f, f, 2, 2, 1e-5), /rmsNormForward: argument 1 must be at least 2 elements/);
    assert.throws(() => native.rmsNormBackward(f, f, new Float32Array(1), f, f, f, 2, 2), /rmsNormBackward: argument 2 must be at least 2 elements/);
    assert.throws(() => setThreads(0), /threads must be an integer/);
  });
});

describe('kernel declarations (native/ops.js)', () => {
  it('the generated interface, kernel table and bindings are up to date', async () => {
    const { stale } = await import('../native/generate.js');
    assert.deepEqual(stale(), [], 'run `node native/generate.js`');
  });

  it('every declared kernel has a checked native binding and a reference', async () => {
    const { ops } = await import('../native/ops.js');
    for (const { name } of ops as { name: string }[]) {
      const fn = (native as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
      assert.equal(typeof fn, 'function', `native ${name}`);
      assert.equal(typeof (reference as unknown as Record<string, unknown>)[name], 'function', `reference ${name}`);
      assert.throws(() => fn(), new RegExp(`^TypeError: ${name}: argument \\d+ must be`), name);
    }
  });
});
