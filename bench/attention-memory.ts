// Peak memory (and time) of bidirectional attention forward + backward, recomputing (flash)
// against naive, at the op level: the same qkv, dout and dqkv buffers in both, each variant in a
// fresh child process so their peaks do not mix.
//
//   node --import tsx bench/attention-memory.ts [--tokens 1024] [--width 128] [--heads 4] [--batch 2]
//
// flash: the engine's flashAttentionForward/Backward (src/engine/ops.ts fullAttention), which
//   keeps out and the log-sum-exp [B,H,N]; per thread two 64×64 score blocks and one row of N.
// naive: the textbook kernel, written here from the native GEMM (no second native kernel):
//   forward keeps the probabilities [B,H,N,N] for backward, as the engine's causal attention does;
//   backward overwrites them with the score gradients and holds one pair's dP [N,N] at a time.
// causal: the engine's causal attention kernels (not the same maths: half the scores), which
//   keep [B,H,N,N] probabilities as naive does: for scale, in time and in memory.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { native } from '../src/engine/native.js';
import { Rng } from '../src/engine/random.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '1024' }, width: { type: 'string', default: '128' },
    heads: { type: 'string', default: '4' }, batch: { type: 'string', default: '2' }, mode: { type: 'string' },
  },
});
const N = Number(values.tokens), C = Number(values.width), H = Number(values.heads), B = Number(values.batch);
for (const [k, v] of Object.entries({ tokens: N, width: C, heads: H, batch: B })) {
  if (!Number.isInteger(v) || v < 1) { console.error(`attention-memory: --${k} must be a positive integer`); process.exit(2); }
}
if (C % H !== 0) { console.error('attention-memory: --heads must divide --width'); process.exit(2); }
const MiB = 1 << 20;

function inputs(): { qkv: Float32Array; dout: Float32Array; dqkv: Float32Array; out: Float32Array } {
  const rng = new Rng(1);
  const qkv = new Float32Array(B * N * 3 * C), dout = new Float32Array(B * N * C);
  for (let i = 0; i < qkv.length; i++) qkv[i] = rng.normal();
  for (let i = 0; i < dout.length; i++) dout[i] = rng.normal();
  return { qkv, dout, dqkv: new Float32Array(B * N * 3 * C), out: new Float32Array(B * N * C) };
}

function flash(x: ReturnType<typeof inputs>): number {
  const lse = new Float32Array(B * H * N);
  native.flashAttentionForward(x.qkv, x.out, lse, B, N, C, H);
  native.flashAttentionBackward(x.qkv, x.out, lse, x.dout, x.dqkv, B, N, C, H);
  return lse.byteLength;
}

function naive(x: ReturnType<typeof inputs>): number {
  const hd = C / H, C3 = 3 * C, scale = 1 / Math.sqrt(hd);
  const att = new Float32Array(B * H * N * N);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const P = att.subarray((b * H + h) * N * N, (b * H + h + 1) * N * N);
    const q = x.qkv.subarray(b * N * C3 + h * hd), k = q.subarray(C), v = q.subarray(2 * C);
    native.gemm(false, true, N, N, hd, scale, q, C3, k, C3, 0, P, N);
    for (let i = 0; i < N; i++) {
      const row = P.subarray(i * N, (i + 1) * N);
      let mx = -Infinity, z = 0;
      for (let j = 0; j < N; j++) mx = Math.max(mx, row[j]);
      for (let j = 0; j < N; j++) z += (row[j] = Math.exp(row[j] - mx));
      for (let j = 0; j < N; j++) row[j] /= z;
    }
    native.gemm(false, false, N, hd, N, 1, P, N, v, C3, 0, x.out.subarray(b * N * C + h * hd), C);
  }
  const dP = new Float32Array(N * N);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const P = att.subarray((b * H + h) * N * N, (b * H + h + 1) * N * N);
    const q = x.qkv.subarray(b * N * C3 + h * hd), k = q.subarray(C), v = q.subarray(2 * C);
    const dq = x.dqkv.subarray(b * N * C3 + h * hd), dk = dq.subarray(C), dv = dq.subarray(2 * C);
    const dO = x.dout.subarray(b * N * C + h * hd);
    native.gemm(true, false, N, hd, N, 1, P, N, dO, C, 1, dv, C3);
    native.gemm(false, true, N, N, hd, 1, dO, C, v, C3, 0, dP, N);
    for (let i = 0; i < N; i++) {
      let dot = 0;
      for (let j = 0; j < N; j++) dot += P[i * N + j] * dP[i * N + j];
      for (let j = 0; j < N; j++) P[i * N + j] *= dP[i * N + j] - dot;
    }
    native.gemm(false, false, N, hd, N, scale, P, N, k, C3, 1, dq, C3);
    native.gemm(true, false, N, hd, N, scale, P, N, q, C3, 1, dk, C3);
  }
  return att.byteLength + dP.byteLength;
}

// The engine's causal attention, fully native, keeps [B,H,N,N] probabilities too: a yardstick
// for time (it computes half the scores) and for what keeping them costs.
function causal(x: ReturnType<typeof inputs>): number {
  const att = new Float32Array(B * H * N * N);
  native.attentionForward(x.qkv, x.out, att, B, N, C, H);
  native.attentionBackward(x.qkv, att, x.dout, x.dqkv, B, N, C, H);
  return att.byteLength;
}

if (values.mode) {
  // A child: one variant, its peak resident memory over the inputs' baseline, and its time.
  const x = inputs();
  const base = process.memoryUsage().rss;
  const run = { flash, naive, causal }[values.mode] ?? flash;
  const t0 = process.hrtime.bigint();
  const extra = run(x);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const peak = process.resourceUsage().maxRSS * 1024;
  let checksum = 0;
  for (let i = 0; i < x.dqkv.length; i++) checksum += Math.abs(x.dqkv[i]);
  process.stdout.write(JSON.stringify({ base, peak, extra, ms, checksum, out0: x.out[0], dq0: x.dqkv[0] }));
} else {
  const self = fileURLToPath(import.meta.url);
  const res: Record<string, { base: number; peak: number; extra: number; ms: number; checksum: number }> = {};
  for (const mode of ['flash', 'naive', 'causal']) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, '--mode', mode, '--tokens', `${N}`, '--width', `${C}`, '--heads', `${H}`, '--batch', `${B}`], { encoding: 'utf8' });
    if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
    res[mode] = JSON.parse(r.stdout);
  }
  const io = (B * N * 3 * C * 2 + B * N * C * 2) * 4; // qkv, dqkv, out, dout
  console.log(`bidirectional attention forward + backward, B=${B} N=${N} C=${C} heads=${H} (inputs and gradients: ${(io / MiB).toFixed(2)} MiB)`);
  for (const mode of ['flash', 'naive', 'causal']) {
    const r = res[mode];
    console.log(`${mode.padEnd(6)} kept beyond out: ${(r.extra / MiB).toFixed(3).padStart(8)} MiB   ` +
      `peak RSS over the inputs: ${((r.peak - r.base) / MiB).toFixed(1).padStart(6)} MiB   time ${r.ms.toFixed(0)} ms`);
  }
  const rel = Math.abs(res.flash.checksum - res.naive.checksum) / res.naive.checksum;
  console.log(`Σ|dqkv| agrees to ${rel.toExponential(1)} (relative)`);
}
