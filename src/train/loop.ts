// The training loop: a step after another until the token budget is spent or the run is asked to
// stop, with the spike guard's rollback, evaluation, reporting and checkpoints as named steps
// around it. All it moves forward is the session's TrainingState (state.ts), which every
// checkpoint stores whole, so a run restored from one goes on bit for bit.
import path from 'node:path';
import { RunTakenOverError } from '../runs/index.js';
import { saveWeights } from './checkpoint.js';
import { MetricsBuffer } from './metrics-buffer.js';
import { learningRate } from './schedule.js';
import { logCorruptCheckpoint, logEvent, type Session } from './session.js';
import { isSpike, observeLoss, MAX_ROLLBACKS } from './spike-guard.js';
import { checkpointState, restoreStateWith } from './state.js';
import { backwardAndUpdate } from './step.js';
import type { TrainResult } from './train.js';
import { trainingCompute } from '../common/compute.js';

/** A step taken, or a spike: a loss the guard would not apply. */
type StepOutcome =
  | { spike: false; loss: number; gradNorm: number; seconds: number }
  | { spike: true; loss: number };

export async function trainLoop(s: Session): Promise<TrainResult> {
  // A checkpoint before the first step, so a spike can always roll back.
  if (s.ckpts.list().length === 0) await saveCheckpoint(s);
  const metrics = new MetricsBuffer(s.store, s.run.id);
  const lossAt = nanInjection(s.hooks.injectNanAtSteps);
  let lastLoss = NaN;
  let stopped = false;
  try {
    while (s.state.step < s.steps) {
      if (s.hooks.shouldStop?.()) {
        stopped = true;
        break;
      }
      await s.claim.keep();
      const lr = learningRate(s.sched, s.state.step);
      const outcome = takeStep(s, lr, lossAt);
      if (outcome.spike) {
        await metrics.flush();
        await rollBack(s, outcome.loss);
        continue;
      }
      lastLoss = outcome.loss;
      const valBpb = evaluateIfDue(s);
      await report(s, metrics, outcome, lr, valBpb);
      if (s.state.step % s.o.checkpointEvery === 0 && s.state.step < s.steps) {
        await metrics.flush();
        await saveCheckpoint(s);
      }
      // Let signal handlers and timers run between steps.
      await new Promise((r) => setImmediate(r));
    }
    await metrics.flush();
    return await finish(s, stopped, lastLoss);
  } catch (err) {
    await recordFailure(s, err);
    throw err;
  }
}

/** One optimisation step on the next batch. On a spike nothing is applied and the state is as it was, but for the batch drawn. */
function takeStep(s: Session, lr: number, lossAt: (step: number, loss: number) => number): StepOutcome {
  const { state, o } = s;
  let t = performance.now();
  const batch = state.sampler.next();
  s.seconds.data += (performance.now() - t) / 1000;

  t = performance.now();
  s.graph.reset();
  s.model.zeroGrad();
  const loss = s.family.loss(s.graph, batch);
  const value = lossAt(state.step, loss.item());
  if (isSpike(state.guard, value, o.spikeFactor)) return { spike: true, loss: value };
  const gradNorm = backwardAndUpdate(s.graph, s.opt, loss, lr);
  const seconds = (performance.now() - t) / 1000;
  state.trainSeconds += seconds;
  observeLoss(state.guard, value);
  state.step++;
  return { spike: false, loss: value, gradNorm, seconds };
}

/** After a spike at the current step: back to the newest good checkpoint, skipping every batch from there to the spike. */
async function rollBack(s: Session, loss: number): Promise<void> {
  const { state } = s;
  if (++state.guard.rollbacks > MAX_ROLLBACKS) {
    throw new Error(`training diverged: loss ${loss} at step ${state.step} after ${MAX_ROLLBACKS} rollbacks`);
  }
  const spikeStep = state.step, rollbacks = state.guard.rollbacks;
  const corrupt: [string, string][] = [];
  const loaded = s.ckpts.restoreLatest(s.model, s.opt, (file, why) => corrupt.push([file, why]));
  for (const [file, why] of corrupt) await logCorruptCheckpoint(s, file, why);
  if (!loaded) throw new Error('loss spike with no checkpoint to roll back to');
  restoreStateWith(state, loaded.state, s.family.restoreStream);
  state.guard.rollbacks = rollbacks;
  const skip = spikeStep - state.step + 1;
  state.sampler.skip(skip);
  await logEvent(s, 'rollback', `loss ${loss} at step ${spikeStep} (running mean ${state.guard.ema.toFixed(3)}); rolled back to step ${state.step} and skipped ${skip} batches`,
    { spike_step: spikeStep, loss, to_step: state.step, skipped: skip });
}

/** The family's validation figure (GPT: bits per byte) every evalEvery steps and after the last; null between. */
function evaluateIfDue(s: Session): number | null {
  const { state } = s;
  if (state.step % s.o.evalEvery !== 0 && state.step !== s.steps) return null;
  const valBpb = evaluate(s);
  state.lastVal = valBpb;
  if (state.bestVal === null || valBpb < state.bestVal) state.bestVal = valBpb;
  return valBpb;
}

/** f run on the weights the run reports, validates and saves: the moving average where the run keeps one. */
function withReportedWeights<T>(s: Session, f: () => T): T {
  return s.opt.average ? s.opt.average.swappedIn(f) : f();
}

function evaluate(s: Session): number {
  const t = performance.now();
  const value = withReportedWeights(s, () => s.family.validate(s.evalGraph));
  s.seconds.eval += (performance.now() - t) / 1000;
  return value;
}

/** The step's metrics for the store and its progress line for the reporter. */
async function report(s: Session, metrics: MetricsBuffer, step: StepOutcome & { spike: false }, lr: number, valBpb: number | null): Promise<void> {
  const tokens = s.state.step * s.tokensPerStep;
  const tokensPerS = s.tokensPerStep / step.seconds;
  metrics.push({
    step: s.state.step, tokens, flops: trainingCompute(s.nonEmbeddingParams, tokens), trainLoss: step.loss, valBpb, lr,
    tokensPerS, gradNorm: step.gradNorm, time: Date.now() / 1000,
  });
  s.reporter.progress({
    step: s.state.step, steps: s.steps, tokens, tokensTarget: s.steps * s.tokensPerStep, loss: step.loss,
    valBpb: valBpb ?? s.state.lastVal, tokensPerS, lr, ...(s.family.metric === 'bpb' ? {} : { metric: s.family.metric }),
  });
  await metrics.flushIfFull();
}

async function saveCheckpoint(s: Session): Promise<void> {
  await s.claim.keep(true); // a trainer that lost the run must not write into its folder
  const t = performance.now();
  const { step, trainSeconds, bestVal } = s.state;
  const file = s.ckpts.save(s.model, s.opt, checkpointState(s.state, s.tokensPerStep));
  await keepCheckpoint(s, file);
  await s.store.updateRun(s.run.id, { tokensSeen: step * s.tokensPerStep, flops: trainingCompute(s.nonEmbeddingParams, step * s.tokensPerStep), trainSeconds, bestValBpb: bestVal });
  s.seconds.checkpoint += (performance.now() - t) / 1000;
}

/** A new checkpoint into the artifact store, and the ones the folder no longer keeps out of it. */
async function keepCheckpoint(s: Session, file: string): Promise<void> {
  const a = s.store.artifacts;
  await a.put(s.run.id, `checkpoints/${path.basename(file)}`, file);
  const kept = new Set(s.ckpts.list().map((c) => `checkpoints/${path.basename(c.file)}`));
  const gone = (await a.list(s.run.id)).map((x) => x.name).filter((n) => n.startsWith('checkpoints/') && !kept.has(n));
  await a.remove(s.run.id, gone);
}

/** The last checkpoint and, for a finished run, the final weights; the run's record closed. */
async function finish(s: Session, stopped: boolean, lastLoss: number): Promise<TrainResult> {
  const { state } = s;
  const status = stopped ? 'stopped' : 'done';
  await saveCheckpoint(s);
  let weightsSha256: string | null = null;
  if (!stopped) {
    const t = performance.now();
    weightsSha256 = withReportedWeights(s, () => saveWeights(path.join(s.dir, 'model.safetensors'), s.model));
    await s.store.artifacts.put(s.run.id, 'model.safetensors', path.join(s.dir, 'model.safetensors'));
    s.seconds.checkpoint += (performance.now() - t) / 1000;
  }
  await s.store.updateRun(s.run.id, {
    status, tokensSeen: state.step * s.tokensPerStep, flops: trainingCompute(s.nonEmbeddingParams, state.step * s.tokensPerStep),
    trainSeconds: state.trainSeconds, bestValBpb: state.bestVal, finalTrainLoss: Number.isNaN(lastLoss) ? null : lastLoss,
    finalValBpb: state.lastVal, weightsSha256, finishedAt: stopped ? null : new Date().toISOString(),
  });
  await logEvent(s, status, status === 'done'
    ? `finished ${s.steps} steps; val ${state.lastVal?.toFixed(s.family.metric === 'bpb' ? 3 : 4)} ${s.family.metric}`
    : `stopped at step ${state.step}; resume with \`scalelab train --resume ${s.run.name}\``);
  s.reporter.done();
  const { data, eval: evalSeconds, checkpoint, t0 } = s.seconds;
  return {
    run: await s.store.getRun(s.run.id), dir: s.dir, status, steps: state.step, finalTrainLoss: lastLoss, finalValBpb: state.lastVal, weightsSha256,
    seconds: { train: state.trainSeconds, data, eval: evalSeconds, checkpoint, total: (performance.now() - t0) / 1000 },
  };
}

/** Whatever stopped the run goes on record; its last checkpoint is still there to resume from. */
async function recordFailure(s: Session, err: unknown): Promise<void> {
  // The run is another trainer's now: its record is not this process's to change.
  if (err instanceof RunTakenOverError) return;
  await s.store.updateRun(s.run.id, { status: 'failed' });
  await logEvent(s, 'error', (err as Error).message.split('\n')[0]);
}

/** Tests only (TrainHooks.injectNanAtSteps): the loss as measured, or NaN the first time a listed step is taken. */
function nanInjection(steps: number[] | undefined): (step: number, loss: number) => number {
  const injected = new Set<number>();
  return (step, loss) => {
    if (!steps?.includes(step) || injected.has(step)) return loss;
    injected.add(step);
    return NaN;
  };
}
