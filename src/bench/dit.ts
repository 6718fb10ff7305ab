// `scalelab bench dit`: peak memory and speed of a whole DiT training step (forward, backward,
// AdamW) with the recomputing attention against the naive one that keeps its probabilities, each
// variant in a fresh child process so that one's peak cannot hide in the other's. The op alone is
// bench/attention-memory.ts; this is what the choice costs a training run.
//
// A child builds the model, its optimiser and one batch of random clips (noise, times, captions
// drawn from a seed: memory and time do not depend on what the clips show), notes its resident
// memory, then takes `warmup` untimed steps and `steps` timed ones exactly as the training loop
// does (graph reset, gradients zeroed, loss, backward, update). What a step adds is the process's
// peak resident memory over that baseline; the graph's arena (activations and what ops keep for
// backward) and the attention's own share are reported beside it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Graph } from '../engine/graph.js';
import { getThreads, kernelInfo, native, setThreads } from '../engine/native.js';
import { Rng } from '../engine/random.js';
import { DiT, clipValues, countParams, flopsPerPatch, flowBatch, logitNormal, tokensPerClip, type DiTConfig } from '../models/dit.js';
import { CAPTION_LENGTH, CAPTION_VOCAB } from '../data/clip-caption.js';
import { AdamW } from '../train/optimizer.js';
import { backwardAndUpdate } from '../train/step.js';

export const ATTENTIONS = ['recompute', 'naive'] as const;
export type Attention = (typeof ATTENTIONS)[number];

export interface DitBenchShape {
  frames: number;
  size: number;
  patch: number;
  tpatch: number;
  layers: number;
  dModel: number;
  heads: number;
  textLayers: number;
  batch: number;
}

export interface DitBenchOptions extends DitBenchShape {
  steps: number;
  warmup: number;
  threads?: number;
}

/** One variant's step, measured in its own process. */
export interface DitBenchRun {
  attention: Attention;
  /** Resident memory once the model, optimiser and batch exist, before the first step (MiB). */
  base_rss_mib: number;
  /** The process's peak resident memory (MiB). */
  peak_rss_mib: number;
  /** What a training step adds: peak over base (MiB). */
  step_mib: number;
  /** The graph's arena after a step: activations and what ops keep for backward (MiB). */
  arena_mib: number;
  /** What attention alone keeps for backward, from the shapes (MiB): probabilities [B, heads, N, N] per layer, or a log-sum-exp [B, heads, N]. */
  attention_kept_mib: number;
  step_ms: number;
  patches_per_s: number;
  gflops: number;
  /**
   * Loss of the last step, after warmup + steps − 1 updates from the same weights on the same
   * batch (not the first: adaLN-Zero's closed gates keep attention out of the first loss).
   */
  final_loss: number;
}

export interface DitBenchResult {
  config: DiTConfig;
  batch: number;
  steps: number;
  threads: number;
  kernel: string;
  params: number;
  patches_per_clip: number;
  runs: DitBenchRun[];
  /** naive over recompute, when both ran: peak step memory and step time. */
  memory_ratio: number | null;
  time_ratio: number | null;
  /** |final loss naive − final loss recompute| / final loss recompute, when both ran. */
  loss_rel_diff: number | null;
}

const MiB = 1 << 20;

export function ditBenchConfig(s: DitBenchShape, attention: Attention): DiTConfig {
  return {
    frames: s.frames, height: s.size, width: s.size, channels: 3, patch: s.patch, tpatch: s.tpatch, layers: s.layers, dModel: s.dModel,
    heads: s.heads, vocab: CAPTION_VOCAB.length, captionLength: CAPTION_LENGTH, textLayers: s.textLayers, attention,
  };
}

/** Bytes attention keeps for backward in one step: the DiT's blocks over N patches and the caption encoder's over its words. */
function attentionKept(cfg: DiTConfig, B: number): number {
  const rows = (n: number) => (cfg.attention === 'naive' ? n * n : n);
  return 4 * B * cfg.heads * (cfg.layers * rows(tokensPerClip(cfg)) + cfg.textLayers * rows(cfg.captionLength));
}

/** One variant in this process (the child's work; call benchDit for a clean peak). */
export function benchDitHere(o: DitBenchOptions, attention: Attention): DitBenchRun {
  if (o.threads !== undefined) setThreads(o.threads);
  const cfg = ditBenchConfig(o, attention);
  const model = new DiT(cfg, { seed: 1 });
  const opt = new AdamW(native, model.params, model.grads, model.decayed);
  const g = new Graph(native);
  const rng = new Rng(2), B = o.batch, n = clipValues(cfg);
  const x0 = Float32Array.from({ length: B * n }, () => Math.tanh(rng.normal()));
  const eps = Float32Array.from({ length: B * n }, () => rng.normal());
  const t = Float64Array.from({ length: B }, () => logitNormal(rng));
  const caption = Int32Array.from({ length: B * cfg.captionLength }, () => 1 + rng.int(cfg.vocab - 1));
  const batch = flowBatch(x0, eps, t, caption);
  const base = process.memoryUsage().rss;
  const step = (): number => {
    g.reset();
    model.zeroGrad();
    const loss = model.loss(g, batch);
    const value = loss.item();
    backwardAndUpdate(g, opt, loss);
    return value;
  };
  for (let s = 0; s < o.warmup; s++) step();
  let last = NaN;
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < o.steps; s++) last = step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const peak = process.resourceUsage().maxRSS * 1024;
  const patches = o.steps * B * tokensPerClip(cfg);
  return {
    attention,
    base_rss_mib: base / MiB,
    peak_rss_mib: peak / MiB,
    step_mib: (peak - base) / MiB,
    arena_mib: (g.memory.activations * 4) / MiB,
    attention_kept_mib: attentionKept(cfg, B) / MiB,
    step_ms: (seconds * 1000) / o.steps,
    patches_per_s: patches / seconds,
    gflops: (flopsPerPatch(cfg) * patches) / seconds / 1e9,
    final_loss: last,
  };
}

/** The child's entry beside this module (.ts under tsx, .js once built) and the node flags it needs. */
function childCommand(): string[] {
  const ts = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`./dit-child.${ts ? 'ts' : 'js'}`, import.meta.url));
  return ts ? ['--import', import.meta.resolve('tsx'), file] : [file];
}

/** Each variant asked for (both by default) in a fresh child process, recompute first. */
export function benchDit(o: DitBenchOptions, attentions: readonly Attention[] = ATTENTIONS): DitBenchResult {
  const threads = o.threads ?? getThreads();
  const runs = attentions.map((attention) => {
    const r = spawnSync(process.execPath, [...childCommand(), JSON.stringify({ ...o, threads, attention })], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`bench dit: the ${attention} child failed (${r.signal ?? `exit ${r.status}`}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(r.stdout) as DitBenchRun;
  });
  const cfg = ditBenchConfig(o, 'recompute');
  const k = kernelInfo();
  const by = (a: Attention) => runs.find((r) => r.attention === a);
  const [rec, nai] = [by('recompute'), by('naive')];
  return {
    config: cfg,
    batch: o.batch,
    steps: o.steps,
    threads,
    kernel: k.gemm === k.kernels ? k.gemm : `gemm ${k.gemm}, others ${k.kernels}`,
    params: countParams(cfg).total,
    patches_per_clip: tokensPerClip(cfg),
    runs,
    memory_ratio: rec && nai ? nai.step_mib / rec.step_mib : null,
    time_ratio: rec && nai ? nai.step_ms / rec.step_ms : null,
    loss_rel_diff: rec && nai ? Math.abs(nai.final_loss - rec.final_loss) / Math.abs(rec.final_loss) : null,
  };
}
