// An exponential moving average of the weights (Polyak averaging), as diffusion models are
// sampled from (DiT keeps one at decay 0.9999; Karras et al. 2024 study why it matters): the
// raw weights of a high-learning-rate run jitter from step to step, and a sampler that runs the
// model 64 times per clip amplifies that noise into the picture; their average does not jitter.
//
// After optimiser step t (counting from 1): avg ← avg + (1 − d_t)·(params − avg), with
// d_t = min(decay, (1 + t)/(10 + t)), the warm-up of TensorFlow's ExponentialMovingAverage, so a
// short run's average is not still mostly its initialisation. The arithmetic is float64 rounded
// to the buffer's type, element by element in order: the same bits on every CPU and thread count.
import type { Buf } from '../engine/kernels.js';

export class WeightAverage {
  readonly avg: Buf;

  constructor(readonly params: Buf, readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`the weight average's decay must be in (0, 1), got ${decay}`);
    this.avg = params.slice();
  }

  /** The decay applied after optimiser step t. */
  decayAt(t: number): number {
    return Math.min(this.decay, (1 + t) / (10 + t));
  }

  /** Fold in the weights as they are after optimiser step t. */
  update(t: number): void {
    const rate = 1 - this.decayAt(t), avg = this.avg, p = this.params;
    for (let i = 0; i < avg.length; i++) avg[i] += rate * (p[i] - avg[i]);
  }

  /** Run f with the averaged weights in the model's parameter buffer, then put the trained ones back. */
  swappedIn<T>(f: () => T): T {
    const trained = this.params.slice();
    this.params.set(this.avg);
    try {
      return f();
    } finally {
      this.params.set(trained);
    }
  }
}
