// The runs table: every run with what a researcher compares at a glance, plus the latest
// throughput and loss from its last metric row and the sweep it belongs to. `scalelab runs`
// prints these same summaries, so a column name means one thing in the terminal and the page:
// losses in the run's unit (bits per byte for a GPT, velocity MSE for a video run: `unit` says
// which), both parameter counts, tokens/s averaged over the run's training time.
import { lossUnit, runFamily, trainLossIn, type LastMetric, type LossUnit, type RunFamily, type RunRecord, type Store } from '../runs/index.js';

export interface RunSummary {
  id: string;
  name: string;
  status: RunRecord['status'];
  sweep: string | null;
  /** A byte-level language model ('gpt') or a video diffusion transformer ('dit'). */
  family: RunFamily;
  /**
   * The unit of every loss below (bestValBpb, finalValBpb, lastTrainBpb, which keep the GPT's
   * names): 'bpb' for a GPT, 'mse' (the velocity's mean squared error) for a DiT.
   */
  unit: LossUnit;
  /** Total parameters, embeddings included. */
  params: number | null;
  /** Parameters outside the embeddings: the N of C = 6·N·D and of the scaling law. */
  nonEmbeddingParams: number | null;
  /** layers × d_model, heads and context, when the config has them. */
  shape: string | null;
  /** Context length in tokens (bytes): the longest prompt plus completion a request may ask of it. */
  ctx: number | null;
  tokensSeen: number;
  tokensTarget: number | null;
  flops: number;
  bestValBpb: number | null;
  finalValBpb: number | null;
  lastStep: number | null;
  /** The newest step's training loss, in `unit`. */
  lastTrainBpb: number | null;
  /** The run's average: tokens seen over seconds spent training (null before any training time is recorded). */
  tokensPerS: number | null;
  /** The newest step's throughput. */
  lastTokensPerS: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  trainSeconds: number;
}

export async function runSummaries(store: Store, runs?: RunRecord[]): Promise<RunSummary[]> {
  runs ??= await store.listRuns();
  const sweepOf = await store.sweeps.sweepsOfRuns();
  const sweeps = await store.sweeps.names();
  // One probe of the primary key (run_id, step) per run: a join with a correlated MAX makes
  // SQLite scan every metric row of every run instead.
  const last = await Promise.all(runs.map((r) => store.series.last(r.id)));
  return runs.map((r, i) => summarize(r, last[i], sweepOf.get(r.name) ?? verifiedSweep(r, sweeps)));
}

export async function runSummary(store: Store, run: RunRecord): Promise<RunSummary> {
  return summarize(run, await store.series.last(run.id), (await store.sweeps.sweepOfRun(run.name)) ?? verifiedSweep(run, await store.sweeps.names()));
}

/** The model's shape from a run's config: trained runs keep it under `model`, older and synthetic ones at the top. */
export function modelShape(config: Record<string, unknown>): { layers?: number; dModel?: number; heads?: number; ctx?: number } {
  const m = (typeof config.model === 'object' && config.model !== null ? config.model : config) as Record<string, unknown>;
  const num = (k: string) => (typeof m[k] === 'number' ? m[k] as number : undefined);
  return { layers: num('layers'), dModel: num('dModel'), heads: num('heads'), ctx: num('ctx') };
}

/** `4×128 h4 ctx128`, or null when the config does not say. */
export function shapeLabel(config: Record<string, unknown>): string | null {
  const s = modelShape(config);
  if (s.layers === undefined || s.dModel === undefined) return null;
  return `${s.layers}×${s.dModel}${s.heads !== undefined ? ` h${s.heads}` : ''}${s.ctx !== undefined ? ` ctx${s.ctx}` : ''}`;
}

/** A `sweep verify` run is no job of its sweep: it records the sweep it checks in its config (older ones only in their name, SWEEP-verify-…). */
export function verifiedSweep(r: RunRecord, sweeps: Set<string>): string | null {
  const recorded = (r.config as { train?: { sweep?: unknown } }).train?.sweep;
  if (typeof recorded === 'string' && sweeps.has(recorded)) return recorded;
  const m = /^(.+)-verify-\d/.exec(r.name);
  return m && sweeps.has(m[1]) ? m[1] : null;
}

/** Tokens per second over the run's recorded training time (the counters move together, at checkpoints). */
export function averageTokensPerS(r: RunRecord): number | null {
  return r.trainSeconds > 0 ? r.tokensSeen / r.trainSeconds : null;
}

function summarize(r: RunRecord, l: LastMetric | undefined, sweep: string | null): RunSummary {
  const family = runFamily(r.config), unit = lossUnit(family);
  return {
    id: r.id, name: r.name, status: r.status, sweep, family, unit, params: r.params, nonEmbeddingParams: r.nonEmbeddingParams,
    shape: shapeLabel(r.config), ctx: modelShape(r.config).ctx ?? null,
    // The store updates a run's counters at checkpoints; its newest metric row is fresher.
    tokensSeen: Math.max(r.tokensSeen, l?.tokens ?? 0), tokensTarget: r.tokensTarget, flops: Math.max(r.flops, l?.flops ?? 0), bestValBpb: r.bestValBpb, finalValBpb: r.finalValBpb,
    lastStep: l?.step ?? null, lastTrainBpb: trainLossIn(unit, l?.trainLoss),
    tokensPerS: averageTokensPerS(r), lastTokensPerS: l?.tokensPerS ?? null,
    createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt, updatedAt: r.updatedAt, trainSeconds: r.trainSeconds,
  };
}
