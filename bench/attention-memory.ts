// Peak memory and time of bidirectional attention forward + backward, recomputing (flash)
// against naive (probabilities kept), at the op level: the same inputs in both, each variant in
// a fresh child process so their peaks do not mix. What the choice costs a whole DiT training
// step is `scalelab bench dit` (src/bench/dit.ts).
//
//   node --import tsx bench/attention-memory.ts [--tokens 1024] [--width 128] [--heads 4] [--batch 2] [--threads N]
//
// flash: fullAttention(g, qkv, heads), the engine's flashAttentionForward/Backward: keeps the
//   output and the log-sum-exp [B,H,N]; per thread two 64×64 score blocks and one row of N.
// naive: fullAttention(g, qkv, heads, { recompute: false }), naiveFullAttentionForward/Backward:
//   keeps the probabilities [B,H,N,N] (as the engine's causal attention does), overwritten by
//   the score gradients in backward, plus one 64-row block of dP per thread.
// Each runs once through a Graph on the native kernels (the arena then holds what the op keeps)
// and is then timed over five more steps (the median), as training reuses its arena.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { native, setThreads, getThreads } from '../src/engine/native.js';
import { Graph } from '../src/engine/graph.js';
import { Tensor } from '../src/engine/tensor.js';
import { Rng } from '../src/engine/random.js';
import { fullAttention } from '../src/engine/ops.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '1024' }, width: { type: 'string', default: '128' },
    heads: { type: 'string', default: '4' }, batch: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(getThreads()) }, mode: { type: 'string' },
  },
});
const N = Number(values.tokens), C = Number(values.width), H = Number(values.heads), B = Number(values.batch);
const threads = Number(values.threads);
for (const [k, v] of Object.entries({ tokens: N, width: C, heads: H, batch: B, threads })) {
  if (!Number.isInteger(v) || v < 1) { console.error(`attention-memory: --${k} must be a positive integer`); process.exit(2); }
}
if (C % H !== 0) { console.error('attention-memory: --heads must divide --width'); process.exit(2); }
const MiB = 1 << 20;

if (values.mode) {
  // A child: one variant. Peak resident memory over the baseline once qkv, its gradient and the
  // seed exist and are touched; the step then adds out, out's gradient and what the op keeps.
  setThreads(threads);
  const rng = new Rng(1);
  const qkv = new Tensor(Float32Array.from({ length: B * N * 3 * C }, () => rng.normal()), [B, N, 3 * C], true, 'qkv');
  const seed = Float32Array.from({ length: B * N * C }, () => rng.normal());
  qkv.grad = new Float32Array(qkv.size).fill(1);
  qkv.grad.fill(0); // pages written now, so they count in the baseline
  const g = new Graph(native);
  const recompute = values.mode === 'flash';
  const base = process.memoryUsage().rss;
  const step = (): void => {
    g.reset();
    const out = fullAttention(g, qkv, H, { recompute });
    g.backward(out, seed);
  };
  step();
  const peak = process.resourceUsage().maxRSS * 1024;
  const arena = g.memory.activations * 4;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const ms = times.sort((a, b) => a - b)[2]; // the median of five: the machine is shared
  let checksum = 0;
  for (let i = 0; i < qkv.size; i++) checksum += Math.abs(qkv.grad[i]);
  process.stdout.write(JSON.stringify({ base, peak, arena, ms, checksum }));
} else {
  const self = fileURLToPath(import.meta.url);
  const res: Record<string, { base: number; peak: number; arena: number; ms: number; checksum: number }> = {};
  const args = ['--tokens', `${N}`, '--width', `${C}`, '--heads', `${H}`, '--batch', `${B}`, '--threads', `${threads}`];
  for (const mode of ['flash', 'naive']) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, '--mode', mode, ...args], { encoding: 'utf8' });
    if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
    res[mode] = JSON.parse(r.stdout);
  }
  const kept = { flash: B * H * N * 4, naive: B * H * N * N * 4 };
  const scratch = { flash: threads * (2 * 64 * 64 + N) * 4, naive: threads * 64 * N * 4 };
  console.log(`bidirectional attention forward + backward, B=${B} N=${N} C=${C} heads=${H}, ${threads} threads ` +
    `(out and its gradient: ${((B * N * C * 2 * 4) / MiB).toFixed(1)} MiB)`);
  for (const mode of ['flash', 'naive'] as const) {
    const r = res[mode];
    console.log(`${mode.padEnd(6)} kept for backward besides out: ${(kept[mode] / MiB).toFixed(3).padStart(7)} MiB, ` +
      `native scratch ${(scratch[mode] / MiB).toFixed(3)} MiB; peak RSS over the start: ${((r.peak - r.base) / MiB).toFixed(1).padStart(5)} MiB ` +
      `(graph arena ${(r.arena / MiB).toFixed(0)} MiB, in 16 MiB chunks); step ${r.ms.toFixed(0)} ms (median of 5)`);
  }
  const rel = Math.abs(res.flash.checksum - res.naive.checksum) / res.naive.checksum;
  console.log(`Σ|dqkv| of the two agrees to ${rel.toExponential(1)} (relative)`);
}
