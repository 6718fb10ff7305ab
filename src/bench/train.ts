// The training benchmark: the reference GPT trained on random tokens, a few warm-up steps, then
// timed steps. bench/torch/compare.mjs prices PyTorch's tokens with this run's FLOPs per token,
// so the two GFLOP/s figures compare directly.
import { Graph } from '../engine/graph.js';
import { native, setThreads, getThreads, kernelInfo } from '../engine/native.js';
import { Rng } from '../engine/random.js';
import { GPT, REFERENCE_CONFIG, countParams, flopsPerToken, type GPTConfig } from '../models/gpt.js';
import { AdamW } from '../train/optimizer.js';
import { trainStep } from '../train/step.js';
import { profiled } from '../engine/profile.js';

export interface TrainBenchOptions {
  config?: Partial<GPTConfig>;
  batch?: number;
  steps?: number;
  warmup?: number;
  threads?: number;
  seed?: number;
  /** Time every kernel call and report where the step goes. */
  profile?: boolean;
}

export interface TrainBenchResult {
  config: GPTConfig;
  batch: number;
  steps: number;
  threads: number;
  kernel: string;
  params: number;
  non_embedding_params: number;
  tokens_per_s: number;
  step_ms: number;
  gflops: number;
  peak_rss_mb: number;
  final_loss: number;
  /** With profile: milliseconds per step in each kernel. */
  profile?: { kernel: string; ms_per_step: number; calls_per_step: number }[];
}

export function benchTrain(opts: TrainBenchOptions = {}): TrainBenchResult {
  const config: GPTConfig = { ...REFERENCE_CONFIG, ...opts.config };
  const batch = opts.batch ?? 16, steps = opts.steps ?? 10, warmup = opts.warmup ?? 3;
  if (opts.threads !== undefined) setThreads(opts.threads);
  const model = new GPT(config, { seed: opts.seed ?? 0 });
  const prof = opts.profile ? profiled(native) : null;
  const kernels = prof ? prof.kernels : native;
  const opt = new AdamW(kernels, model.params, model.grads, model.decayed);
  const g = new Graph(kernels);
  const T = config.ctx, rng = new Rng(opts.seed ?? 0);
  const ids = new Int32Array(batch * T), targets = new Int32Array(batch * T);
  for (let i = 0; i < ids.length; i++) {
    ids[i] = rng.int(config.vocab);
    targets[i] = rng.int(config.vocab);
  }
  let loss = 0;
  for (let s = 0; s < warmup; s++) loss = trainStep(model, opt, g, ids, targets, batch, T).loss;
  prof?.clear();
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < steps; s++) loss = trainStep(model, opt, g, ids, targets, batch, T).loss;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const tokens = batch * T * steps;
  const counts = countParams(config);
  const k = kernelInfo();
  return {
    config,
    batch,
    steps,
    threads: getThreads(),
    kernel: k.gemm === k.kernels ? k.gemm : `gemm ${k.gemm}, others ${k.kernels}`,
    params: counts.total,
    non_embedding_params: counts.nonEmbedding,
    tokens_per_s: tokens / seconds,
    step_ms: (seconds * 1000) / Math.max(1, steps),
    gflops: (flopsPerToken(config) * tokens) / seconds / 1e9,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    final_loss: loss,
    profile: prof?.report().map((r) => ({ kernel: r.kernel, ms_per_step: r.ms / steps, calls_per_step: r.calls / steps })),
  };
}
