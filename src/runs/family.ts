// Which model family a stored run is, and the unit its losses are in. The store's columns keep
// the GPT's names (val_bpb, train_loss in nats per byte), but a video run (config family 'dit')
// records the velocity's mean squared error in them: whatever shows a run's losses asks here
// what they are, so an MSE is never printed as bits per byte (nor divided by ln 2 on the way).
import { bitsPerByte } from '../data/stats.js';

export type RunFamily = 'gpt' | 'dit';
/** bits per byte (a GPT), or the velocity's mean squared error (a DiT). */
export type LossUnit = 'bpb' | 'mse';

/** A run's family from its config: 'dit' when it says so; every other run is a GPT. */
export function runFamily(config: unknown): RunFamily {
  return typeof config === 'object' && config !== null && (config as { family?: unknown }).family === 'dit' ? 'dit' : 'gpt';
}

export function lossUnit(family: RunFamily): LossUnit {
  return family === 'dit' ? 'mse' : 'bpb';
}

/** A stored training loss in its family's unit: a GPT's nats per byte as bits per byte, a DiT's MSE as it is. */
export function trainLossIn(unit: LossUnit, stored: number | null | undefined): number | null {
  if (stored === null || stored === undefined) return null;
  return unit === 'bpb' ? bitsPerByte(stored) : stored;
}
