// Synthetic runs and sweeps with the shapes real ones have, written through the store's own API:
// what the dashboard's benchmark fills a home with, and what its tests watch. Loss curves fall
// as a power of the step with noise and optional spikes; sweep runs land on a known law.
import { Rng } from '../engine/random.js';
import type { MetricRow, RunRecord, RunStatus, Store } from '../runs/index.js';
import { SweepQueue } from '../sweep/queue.js';

export interface SyntheticRun {
  name?: string;
  /** Metric rows logged, steps 1..steps (default 1000). */
  steps?: number;
  status?: RunStatus;
  /** Non-embedding parameters (default 1e6); total parameters add a byte embedding. */
  params?: number;
  /** Tokens per step (default 16 × 128). */
  tokensPerStep?: number;
  /** Steps whose train loss jumps (by 3 bits per byte); they stay in the curve. */
  spikes?: number[];
  /** Log validation every this many steps (default 50). */
  evalEvery?: number;
  seed?: number;
  /** Rows per logMetrics call (one transaction each; default 10,000). */
  batch?: number;
}

const LN2 = Math.LN2;

/** One run with `steps` metric rows; returns its record. */
export async function addSyntheticRun(store: Store, o: SyntheticRun = {}): Promise<RunRecord> {
  const steps = o.steps ?? 1000;
  const N = o.params ?? 1e6;
  const tps = o.tokensPerStep ?? 16 * 128;
  const run = await store.createRun({
    name: o.name, config: { layers: 4, dModel: 128, heads: 4, ctx: 128, batch: 16, synthetic: true },
    params: N + 256 * 128, nonEmbeddingParams: N, flopsPerToken: 6 * N, tokensTarget: steps * tps,
  });
  const rng = new Rng(o.seed ?? 1);
  const spikes = new Set(o.spikes ?? []);
  const evalEvery = o.evalEvery ?? 50;
  const batch = o.batch ?? 10_000;
  const start = Date.now() / 1000 - steps * 0.05;
  let best: number | null = null;
  let rows: MetricRow[] = [];
  for (let step = 1; step <= steps; step++) {
    const bpb = curve(step, N) + 0.04 * rng.normal() + (spikes.has(step) ? 3 : 0);
    const val = step % evalEvery === 0 || step === steps ? curve(step, N) + 0.02 : null;
    if (val !== null && (best === null || val < best)) best = val;
    rows.push({
      step, tokens: step * tps, flops: step * tps * 6 * N, trainLoss: bpb * LN2, valBpb: val,
      lr: 1e-3 * Math.min(1, step / 50), tokensPerS: 40_000 * (1 + 0.05 * rng.normal()), gradNorm: 1 + 0.1 * Math.abs(rng.normal()),
      time: start + step * 0.05,
    });
    if (rows.length >= batch) {
      await store.logMetrics(run.id, rows);
      rows = [];
    }
  }
  await store.logMetrics(run.id, rows);
  const status = o.status ?? 'done';
  return await store.updateRun(run.id, {
    status, tokensSeen: steps * tps, flops: steps * tps * 6 * N, bestValBpb: best, trainSeconds: steps * 0.05,
    startedAt: new Date(start * 1000).toISOString(),
    ...(status === 'done' ? { finalValBpb: best, finishedAt: new Date().toISOString() } : {}),
  });
}

/** A loss curve that falls like a power of the step towards a floor that bigger models lower. */
function curve(step: number, N: number): number {
  return 0.9 + 30 / N ** 0.3 + 3 * (step + 10) ** -0.45;
}

export const SYNTHETIC_LAW = { E: 0.9, A: 40, B: 60, alpha: 0.3, beta: 0.3 };

export interface SyntheticSweep {
  budgets?: number[];
  /** Model sizes per budget, as multiples of that budget's optimal size. */
  factors?: number[];
  /** Also a verify run at this budget, with its predicted-vs-measured event. */
  verifyFlops?: number;
  /** Jobs left queued after the finished ones. */
  queued?: number;
  seed?: number;
}

/** An isoFLOP sweep whose finished runs lie on SYNTHETIC_LAW (with 0.3% noise). */
export async function addSyntheticSweep(store: Store, name: string, o: SyntheticSweep = {}): Promise<void> {
  const { E, A, B, alpha, beta } = SYNTHETIC_LAW;
  const law = (n: number, d: number) => E + A / n ** alpha + B / d ** beta;
  const rng = new Rng(o.seed ?? 7);
  const planned: { params: number; tokens: number }[] = [];
  const budgets = o.budgets ?? [1e12, 3e12, 1e13];
  for (const C of budgets) {
    const nOpt = Math.sqrt(C / 120);
    for (const f of o.factors ?? [0.25, 0.5, 1, 2, 4]) planned.push({ params: Math.round(nOpt * f), tokens: Math.round(C / (6 * nOpt * f)) });
  }
  const queued = o.queued ?? 0;
  const q = new SweepQueue(store);
  const jobs = [...planned, ...planned.slice(0, queued)].map((p, i) => ({
    options: { tokens: p.tokens }, runName: `${name}-${String(i).padStart(3, '0')}`, estimatedSeconds: 60,
  }));
  await q.createSweep(name, { synthetic: true, flops: budgets }, jobs);
  const worker = 'synthetic';
  for (let i = 0; i < planned.length; i++) {
    const job = (await q.claim(worker, 60, name))!;
    const p = planned[i];
    const run = await addSyntheticRun(store, { name: job.runName, steps: 20, params: p.params, tokensPerStep: Math.round(p.tokens / 20), seed: i });
    const loss = law(p.params, run.tokensSeen) * (1 + 0.003 * (rng.uniform() - 0.5));
    await store.updateRun(run.id, { finalValBpb: loss, bestValBpb: loss });
    await q.complete(job, worker);
  }
  if (o.verifyFlops) {
    const C = o.verifyFlops;
    const nOpt = Math.sqrt(C / 120), tokens = Math.round(C / (6 * nOpt));
    const run = await addSyntheticRun(store, { name: `${name}-verify-${C.toExponential(1).replace('+', '')}`, steps: 20, params: Math.round(nOpt), tokensPerStep: Math.round(tokens / 20) });
    const predicted = law(Math.round(nOpt), run.tokensSeen);
    const measured = predicted * 1.01;
    await store.updateRun(run.id, { finalValBpb: measured });
    await store.logEvent(run.id, {
      kind: 'verify', message: `predicted ${predicted.toFixed(3)} bpb, measured ${measured.toFixed(3)}`,
      data: { sweep: name, flops: C, params: Math.round(nOpt), tokens: run.tokensSeen, predicted, interval: [predicted * 0.98, predicted * 1.02], measured, relativeError: (measured - predicted) / measured },
    });
  }
}

/**
 * A sweep `name` of four runs that name it (as `sweep run` records them), with `scalelab eval`
 * results on their final weights: add3 (exact match jumping between 3e12 and 1e13 FLOPs while
 * its log-prob rises steadily, and edit distance) and brown-cloze with 2 shots (acc, p_gold).
 */
export async function addSyntheticEvaluatedSweep(store: Store, name: string): Promise<void> {
  const flops = [1e12, 3e12, 1e13, 3e13];
  await new SweepQueue(store).createSweep(name, { flops }, flops.map((_, i) => ({ options: {}, runName: `${name}-${i}`, estimatedSeconds: 10 })));
  const em = [0, 0.02, 0.85, 0.95], lp = [-3, -2.4, -1.7, -1.1];
  for (const [i, c] of flops.entries()) {
    const N = 1e5 * 2 ** i, tokens = Math.round(c / (6 * N));
    const run = await store.createRun({
      name: `${name}-${i}`, config: { layers: i + 1, dModel: 64, heads: 2, ctx: 64, train: { sweep: name } },
      params: N + 256 * 64, nonEmbeddingParams: N, flopsPerToken: 6 * N, tokensTarget: tokens,
    });
    await store.updateRun(run.id, { status: 'done', tokensSeen: tokens, flops: c });
    const key = (task: string, shots: number) => ({ subject: run.id, runId: run.id, step: -1, task, taskVersion: 'v1', shots, seed: 0 });
    await store.evals.saveResults(key('add3', 0), [
      { metric: 'edit_distance', value: 1 - em[i], stderr: 0.02, n: 200 },
      { metric: 'exact_match', value: em[i], stderr: 0.015, n: 200 },
      { metric: 'logprob_per_byte', value: lp[i], stderr: 0.05, n: 200 },
    ]);
    await store.evals.saveResults(key('brown-cloze', 2), [
      { metric: 'acc', value: 0.3 + 0.1 * i, stderr: 0.03, n: 100 }, { metric: 'p_gold', value: 0.28 + 0.1 * i, stderr: 0.01, n: 100 },
    ]);
  }
}

/** A run `name` trained to step 300 with copy evaluated at checkpoints 100 and 200 and on its final weights. */
export async function addSyntheticEvaluatedRun(store: Store, name: string): Promise<RunRecord> {
  const N = 5e4;
  const run = await store.createRun({ name, config: { layers: 2, dModel: 32, heads: 2, ctx: 64 }, params: N + 256 * 32, nonEmbeddingParams: N, flopsPerToken: 6 * N, tokensTarget: 300 * 512 });
  await store.logMetrics(run.id, [{ step: 300, tokens: 300 * 512, trainLoss: 1 }]);
  const key = (step: number) => ({ subject: run.id, runId: run.id, step, task: 'copy', taskVersion: 'v2', shots: 0, seed: 0 });
  for (const [step, em] of [[100, 0], [200, 0.1], [-1, 0.9]] as const) {
    await store.evals.saveResults(key(step), [{ metric: 'exact_match', value: em, stderr: 0.01, n: 50 }, { metric: 'logprob_per_byte', value: -2 + em, stderr: 0.01, n: 50 }]);
  }
  return run;
}
