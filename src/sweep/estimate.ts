// What a sweep run costs in wall time: its training steps, and everything around them that the
// first estimates left out (on the Brown recipe they came out 4.4x short): the validation passes,
// the checkpoints and the final weights, and the start of each run (a fresh training thread that
// loads its modules and the corpus). Pure: the per-shape and per-machine costs come from
// measure.ts, the calibration from the store's finished jobs (calibration.ts).
import { TRAIN_DEFAULTS } from '../train/train.js';
import { DIT_DEFAULTS, VAL_TIMES } from '../train/dit-train.js';
import type { PlannedRun, Shape } from './plan.js';
import { isDitJob, type JobOptions } from './family.js';

/** Seconds for one batch of the plan (batch × ctx tokens, or batch clips drawn and noised): a training step, and a forward pass alone. */
export interface ShapeCost {
  stepSeconds: number;
  forwardSeconds: number;
}

export interface MachineCosts {
  /** By shapeKey. */
  shapes: Record<string, ShapeCost>;
  /** One checkpoint (weights and both AdamW moments, hashed, fsynced) as fixed + perParam · params seconds. */
  checkpoint: { fixed: number; perParam: number };
  /** Seconds before a run's first step: its thread's start and the corpus load (a DiT's: its validation clips). */
  startupSeconds: number;
  /** Tokens in the validation split, which caps a GPT's validation pass (unused for a DiT). */
  valTokens: number;
}

export interface RunEstimate {
  seconds: number;
  steps: number;
  evals: number;
  checkpoints: number;
  parts: { train: number; eval: number; checkpoint: number; startup: number };
}

export const shapeKey = (s: Shape) => `${s.layers}x${s.dModel}h${s.heads}`;

/** Wall seconds of one planned run, with the machine's costs scaled by `calibration` (1: none). */
export function estimateRun(run: PlannedRun, costs: MachineCosts, calibration = 1): RunEstimate {
  const shape = costs.shapes[shapeKey(run.shape)];
  if (!shape) throw new Error(`estimateRun: no measured cost for ${shapeKey(run.shape)}`);
  const o = schedule(run.options, costs.valTokens);
  const steps = o.steps, evalBatches = o.evalBatches;
  // Training validates every evalEvery steps and after the last.
  const evals = Math.ceil(steps / o.evalEvery);
  // One checkpoint before the first step, one every checkpointEvery steps before the last, one
  // at the end, and the final weights (a third of a checkpoint's bytes: no moments).
  const checkpoints = 2 + Math.floor((steps - 1) / o.checkpointEvery);
  const perCheckpoint = costs.checkpoint.fixed + costs.checkpoint.perParam * run.params;
  const parts = {
    train: steps * shape.stepSeconds,
    eval: evals * evalBatches * shape.forwardSeconds,
    checkpoint: (checkpoints + 1 / 3) * perCheckpoint,
    startup: costs.startupSeconds,
  };
  const seconds = calibration * (parts.train + parts.eval + parts.checkpoint + parts.startup);
  return { seconds, steps, evals, checkpoints, parts };
}

/** A run's steps, its validation batches and how often it validates and checkpoints, from its job's options. */
function schedule(options: JobOptions, valTokens: number): { steps: number; evalBatches: number; evalEvery: number; checkpointEvery: number } {
  if (isDitJob(options)) {
    // A DiT validates every fixed clip at each of the fixed times, batch rows at a time.
    const o = { ...DIT_DEFAULTS, ...options };
    return { steps: Math.ceil(o.clips / o.batch), evalBatches: Math.ceil((o.evalClips * VAL_TIMES.length) / o.batch), evalEvery: o.evalEvery, checkpointEvery: o.checkpointEvery };
  }
  // A GPT validates on up to evalTokens held-out tokens.
  const o = { ...TRAIN_DEFAULTS, ...options };
  const rows = Math.min(Math.floor((valTokens - 1) / o.ctx), Math.max(1, Math.floor(o.evalTokens / o.ctx)));
  return { steps: Math.ceil(o.tokens / (o.batch * o.ctx)), evalBatches: Math.ceil(Math.max(1, rows) / o.batch), evalEvery: o.evalEvery, checkpointEvery: o.checkpointEvery };
}
