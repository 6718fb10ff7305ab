// The loss-spike guard. A step whose loss is not finite, or above `factor` times the running mean
// of the losses before it, is not applied: the run rolls back to its last checkpoint and skips the
// batches that led to the spike. The guard's statistics travel in every checkpoint.

/** An exponential moving average of the training loss, and how often this run has rolled back. */
export interface SpikeGuard {
  ema: number;
  count: number;
  rollbacks: number;
}

const BETA = 0.9;
/** Steps before the mean is trusted: early losses fall too fast for a spike to mean anything. */
const WARMUP = 10;
/** Rollbacks a run may take before it counts as diverged. */
export const MAX_ROLLBACKS = 5;

export const newSpikeGuard = (): SpikeGuard => ({ ema: 0, count: 0, rollbacks: 0 });

export function isSpike(guard: SpikeGuard, loss: number, factor: number): boolean {
  return !Number.isFinite(loss) || (guard.count >= WARMUP && loss > factor * guard.ema);
}

/** Count an applied step's loss into the running mean. */
export function observeLoss(guard: SpikeGuard, loss: number): void {
  guard.ema = guard.count === 0 ? loss : BETA * guard.ema + (1 - BETA) * loss;
  guard.count++;
}
