// AdamW (Loshchilov & Hutter 2019) over the model's flat parameter buffer, with global
// gradient-norm clipping folded into the update: one pass to measure the norm, one to update.
import type { Buf, Kernels } from '../engine/kernels.js';
import { WeightAverage } from './weight-average.js';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this value; 0 turns clipping off. */
  clip: number;
  /** Decay of a moving average of the weights kept beside them (weight-average.ts); 0: none. */
  ema: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0, ema: 0 };

export class AdamW {
  readonly m: Buf;
  readonly v: Buf;
  /** Steps taken so far; the next update is step + 1 (bias correction counts from 1). */
  step = 0;
  /** The weights' moving average, part of the optimiser's state as the moments are; null without one. */
  readonly average: WeightAverage | null;

  constructor(
    private readonly kernels: Kernels,
    readonly params: Buf,
    readonly grads: Buf,
    /** params[0, decayed) get weight decay, the rest (biases, norm gains) do not. */
    readonly decayed: number,
    readonly config: AdamWConfig = ADAMW_DEFAULTS,
  ) {
    const Arr = params instanceof Float64Array ? Float64Array : Float32Array;
    this.m = new Arr(params.length);
    this.v = new Arr(params.length);
    this.average = config.ema > 0 ? new WeightAverage(params, config.ema) : null;
  }

  /** Apply one update at learning rate lr; returns the gradient norm before clipping. */
  update(lr = this.config.lr): number {
    const { beta1, beta2, eps, weightDecay, clip } = this.config;
    const k = this.kernels;
    const norm = Math.sqrt(k.sumSquares(this.grads, this.grads.length));
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    this.step++;
    const d = this.decayed, n = this.params.length;
    const sub = (b: Buf, from: number, to: number) => b.subarray(from, to);
    k.adamw(sub(this.params, 0, d), sub(this.grads, 0, d), sub(this.m, 0, d), sub(this.v, 0, d), d,
      lr, beta1, beta2, eps, weightDecay, this.step, scale);
    k.adamw(sub(this.params, d, n), sub(this.grads, d, n), sub(this.m, d, n), sub(this.v, d, n), n - d,
      lr, beta1, beta2, eps, 0, this.step, scale);
    this.average?.update(this.step);
    return norm;
  }
}
