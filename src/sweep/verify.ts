// `sweep verify`: the experiment that keeps a scaling law honest. Fit the sweep, predict the
// compute-optimal run at a bigger budget, train that run, and put the predicted loss (with its
// interval) beside the measured one.
import { openStore, existingHome } from '../runs/index.js';
import { countParams } from '../models/gpt.js';
import { computeOptimal, predictLoss } from '../laws/chinchilla.js';
import { UsageError } from '../errors.js';
import { fitLaw, predictWithInterval } from '../laws/report.js';
import { train, TRAIN_DEFAULTS, type TrainHooks, type TrainOptions } from '../train/train.js';
import type { Interval } from '../laws/bootstrap.js';
import { LADDER, MAX_FRESH_EPOCHS, MIN_ISOFLOP_STEPS, lrForWidth, modelConfig, sweepWarmup, trainingTokens, type LrScaling, type RunOptions, type Shape } from './plan.js';
import { SweepQueue } from './queue.js';
import { isDitJob } from './family.js';
import { sweepPoints } from './points.js';
import { tokensForCompute } from '../common/compute.js';

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
  /** Passes over the training data: the verify run's, and the most any fitted run made. */
  epochs: number;
  fittedEpochs: number;
}

/** What verify is about to train, and what the law predicts for it: everything of the result but the measurement. */
export type VerifyPlan = Omit<VerifyResult, 'measured' | 'relativeError'>;

export async function verifySweep(name: string, flops: number,
  o: { home?: string; resamples?: number; hooks?: TrainHooks; onPlan?: (plan: VerifyPlan) => void } = {}): Promise<VerifyResult> {
  const home = existingHome(o.home); // a sweep to verify lives in an existing home
  const store = openStore(home);
  let base: Partial<TrainOptions>, points, sweepConfig;
  try {
    const q = new SweepQueue(store);
    sweepConfig = (await q.getSweep(name)).config;
    points = await sweepPoints(store, name);
    const first = (await q.jobs(name))[0].options;
    // Verify trains the law's compute-optimal shape from the GPT ladder on the sweep's corpus.
    if (isDitJob(first)) {
      throw new UsageError(`sweep '${name}' trains the video model, and sweep verify knows GPT sweeps only; ` +
        `\`scalelab predict --sweep ${name} --flops C\` gives the law's prediction, which a DiT sweep planned at C can check`);
    }
    base = first;
  } finally {
    await store.close();
  }
  const { boot } = fitLaw(points, { resamples: o.resamples ?? 1000, flops: [flops] });
  const opt = computeOptimal(boot.fit, flops);
  const ctx = base.ctx!, batch = base.batch!;
  // Of the ladder's shapes, the one the law expects to do best on this budget (D = C / 6N): the
  // continuous optimum falls between shapes, and the loss is not symmetric in log N around it.
  // Only shapes whose run stays within the data regime the law was fitted on are considered: the
  // law knows nothing of repeated data, so a run far past MAX_FRESH_EPOCHS would test repetition,
  // not the law (the fallback, when no shape qualifies, says so in the result's epochs).
  const perStep = batch * ctx;
  const trainTokens = trainingTokens(base.corpus ?? TRAIN_DEFAULTS.corpus);
  const fittedEpochs = Math.max(...points.map((p) => p.tokens)) / trainTokens;
  const candidates = LADDER.map((shape) => {
    const N = countParams(modelConfig(shape, ctx, base)).nonEmbedding;
    const tokens = Math.max(1, Math.round(tokensForCompute(flops, N) / perStep)) * perStep;
    return { shape, N, tokens, loss: predictLoss(boot.fit, N, tokens) };
  }).filter((c) => c.tokens >= MIN_ISOFLOP_STEPS * perStep);
  if (candidates.length === 0) throw new UsageError(`no model size trains for ${MIN_ISOFLOP_STEPS} steps on ${flops.toExponential(1)} FLOPs; raise --flops`);
  const fresh = candidates.filter((c) => c.tokens / trainTokens <= Math.max(MAX_FRESH_EPOCHS, fittedEpochs));
  const { shape, N, tokens } = (fresh.length ? fresh : candidates).reduce((a, b) => (b.loss < a.loss ? b : a));
  const prediction = predictWithInterval(boot, N, tokens);
  const runName = `${name}-verify-${flops.toExponential(1).replace('+', '')}-${shape.layers}x${shape.dModel}`;
  // The learning rate follows the sweep's rule for the new width (sweeps planned before the rule existed used one rate).
  const lr = typeof sweepConfig.lr === 'number' ? lrForWidth(sweepConfig.lr, shape.dModel, (sweepConfig.lrScaling as LrScaling | undefined) ?? 'constant') : base.lr;
  const plan: VerifyPlan = {
    sweep: name, flops, run: runName, shape, params: N, tokens, optimalParams: opt.params,
    predicted: prediction.loss, interval: prediction.interval,
    extrapolation: flops / Math.max(...points.map((p) => p.flops)),
    epochs: tokens / trainTokens, fittedEpochs,
  };
  o.onPlan?.(plan);
  // The run names its sweep in its stored config, so it shows as the sweep's while it trains.
  const options: RunOptions = { ...base, ...shape, lr, tokens, name: runName, warmupSteps: sweepWarmup(tokens / perStep), sweep: name };
  const res = await train(options, { ...o.hooks, home });
  const measured = res.finalValBpb!;
  const result: VerifyResult = { ...plan, run: res.run.name, measured, relativeError: (measured - prediction.loss) / measured };
  // Kept with the run, so the dashboard and later readers see the prediction beside the measurement.
  const after = openStore(home);
  try {
    await after.logEvent(res.run.id, { kind: 'verify', message: `predicted ${result.predicted.toFixed(3)} bpb, measured ${measured.toFixed(3)}`, data: result });
  } finally {
    await after.close();
  }
  return result;
}
