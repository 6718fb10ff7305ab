// SGEMM throughput for square sizes, the figure to hold against OpenBLAS.
import { native, setThreads, getThreads, kernelInfo } from '../engine/native.js';
import { Rng } from '../engine/random.js';

export interface GemmBenchRow {
  size: number;
  gflops: number;
  ms: number;
}

export function benchGemm(opts: { sizes?: number[]; threads?: number } = {}): { kernel: string; threads: number; rows: GemmBenchRow[] } {
  if (opts.threads !== undefined) setThreads(opts.threads);
  const rng = new Rng(0);
  const rows: GemmBenchRow[] = [];
  for (const n of opts.sizes ?? [256, 512, 1024, 2048]) {
    const A = new Float32Array(n * n).map(() => rng.uniform() - 0.5);
    const B = new Float32Array(n * n).map(() => rng.uniform() - 0.5);
    const C = new Float32Array(n * n);
    const flops = 2 * n * n * n;
    // Repeat until about half a second has run, after one warm-up call; keep the best repetition.
    native.gemm(false, false, n, n, n, 1, A, n, B, n, 0, C, n);
    let best = Infinity, spent = 0;
    for (let r = 0; r < 50 && spent < 0.5; r++) {
      const t0 = process.hrtime.bigint();
      native.gemm(false, false, n, n, n, 1, A, n, B, n, 0, C, n);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.min(best, dt);
      spent += dt;
    }
    rows.push({ size: n, gflops: flops / best / 1e9, ms: best * 1000 });
  }
  return { kernel: kernelInfo().gemm, threads: getThreads(), rows };
}
