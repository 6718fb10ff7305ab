// `sweep verify`: the experiment that keeps a scaling law honest. Fit the sweep, predict the
// compute-optimal run at a bigger budget, train that run, and put the predicted loss (with its
// interval) beside the measured one.
import { RunStore, resolveHome } from '../runs/index.js';
import { countParams } from '../models/gpt.js';
import { VOCAB } from '../data/index.js';
import { computeOptimal } from '../laws/chinchilla.js';
import { fitLaw, predictWithInterval } from '../laws/report.js';
import { train, type TrainHooks, type TrainOptions } from '../train/train.js';
import type { Interval } from '../laws/bootstrap.js';
import { LADDER, type Shape } from './plan.js';
import { SweepQueue } from './queue.js';
import { sweepPoints } from './points.js';

export interface VerifyResult {
  sweep: string;
  flops: number;
  run: string;
  shape: Shape;
  params: number;
  tokens: number;
  /** The law's compute-optimal N at this budget, before rounding to a ladder shape. */
  optimalParams: number;
  predicted: number;
  interval: Interval;
  measured: number;
  /** (measured − predicted) / measured. */
  relativeError: number;
  /** The largest budget among the fitted runs: the verify budget is this many times it. */
  extrapolation: number;
}

export async function verifySweep(name: string, flops: number, o: { home?: string; resamples?: number; hooks?: TrainHooks } = {}): Promise<VerifyResult> {
  const home = resolveHome(o.home);
  const store = RunStore.open(home);
  let base: Partial<TrainOptions>, points;
  try {
    const q = new SweepQueue(store);
    q.getSweep(name);
    points = sweepPoints(store, name);
    base = q.jobs(name)[0].options;
  } finally {
    store.close();
  }
  const { boot } = fitLaw(points, { resamples: o.resamples ?? 1000, flops: [flops] });
  const opt = computeOptimal(boot.fit, flops);
  const ctx = base.ctx!, batch = base.batch!;
  const configOf = (s: Shape) => ({ ...s, ctx, vocab: VOCAB, norm: base.norm, mlp: base.mlp, pos: base.pos });
  const shape = [...LADDER].sort((a, b) =>
    Math.abs(Math.log(countParams(configOf(a)).nonEmbedding / opt.params)) - Math.abs(Math.log(countParams(configOf(b)).nonEmbedding / opt.params)))[0];
  const N = countParams(configOf(shape)).nonEmbedding;
  const perStep = batch * ctx;
  const tokens = Math.max(1, Math.round(flops / (6 * N) / perStep)) * perStep;
  const prediction = predictWithInterval(boot, N, tokens);
  const runName = `${name}-verify-${flops.toExponential(1).replace('+', '')}`;
  const res = await train({ ...base, ...shape, tokens, name: runName, warmupSteps: Math.min(50, Math.ceil(tokens / perStep / 10)) },
    { ...o.hooks, home });
  const measured = res.finalValBpb!;
  return {
    sweep: name, flops, run: res.run.name, shape, params: N, tokens, optimalParams: opt.params,
    predicted: prediction.loss, interval: prediction.interval, measured, relativeError: (measured - prediction.loss) / measured,
    extrapolation: flops / Math.max(...points.map((p) => p.flops)),
  };
}
