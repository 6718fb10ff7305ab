// Where a run stands between two steps, in one record: what a checkpoint stores beside the
// weights and AdamW's moments, so that a run restored from it goes on bit for bit.
import { BatchSampler, type SamplerOptions, type SamplerState } from '../data/index.js';
import type { TrainerState } from './checkpoint.js';
import type { Stream } from './family.js';
import { newSpikeGuard, type SpikeGuard } from './spike-guard.js';

export interface TrainingState {
  /** Steps applied so far; a rolled-back step does not count. */
  step: number;
  /** Draws the training batches; its RNG's position is the run's place in the data. */
  sampler: Stream;
  guard: SpikeGuard;
  /** Validation bits per byte: the best so far and the latest. */
  bestVal: number | null;
  lastVal: number | null;
  /** Seconds spent in training steps, over every process that has trained the run. */
  trainSeconds: number;
}

export function initialState(sampler: Stream, trainSeconds: number): TrainingState {
  return { step: 0, sampler, guard: newSpikeGuard(), bestVal: null, lastVal: null, trainSeconds };
}

/** The state as a checkpoint stores it, as JSON: its keys and their order are the file format's. */
export function checkpointState(s: TrainingState, tokensPerStep: number): TrainerState {
  return {
    step: s.step, tokensSeen: s.step * tokensPerStep, sampler: s.sampler.state(), guard: s.guard,
    bestVal: s.bestVal, lastVal: s.lastVal, trainSeconds: s.trainSeconds,
  };
}

/** Put `s` back where a checkpoint left it; its sampler goes on drawing from the same training bytes. */
export function restoreState(s: TrainingState, saved: TrainerState, tokens: Uint8Array, samplerOpts: SamplerOptions): void {
  restoreStateWith(s, saved, (state) => BatchSampler.restore(tokens, samplerOpts, state as SamplerState));
}

/** The same for any family: `restoreStream` rebuilds the data stream from the record's sampler state. */
export function restoreStateWith(s: TrainingState, saved: TrainerState, restoreStream: (state: unknown) => Stream): void {
  s.step = saved.step;
  s.sampler = restoreStream(saved.sampler);
  s.guard = saved.guard as SpikeGuard;
  s.bestVal = saved.bestVal as number | null;
  s.lastVal = saved.lastVal as number | null;
  s.trainSeconds = saved.trainSeconds as number;
}
