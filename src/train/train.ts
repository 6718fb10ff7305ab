// `train`: a byte-level GPT on a corpus, recorded in the run store, checkpointed, resumable to the
// bit, guarded against loss spikes. The CLI's `scalelab train` is a thin wrapper over this.
import path from 'node:path';
import { Graph } from '../engine/graph.js';
import { native, setThreads } from '../engine/native.js';
import { GPT, countParams, flopsPerToken, validateConfig, NORMS, MLPS, POSITIONS, type GPTConfig, type NormKind, type MlpKind, type PosKind } from '../models/gpt.js';
import { loadCorpus, splitCorpus, summariseSplit, BatchSampler, evalBatches, bitsPerByte, VOCAB } from '../data/index.js';
import { RunClaim, RunStore, RunTakenOverError, existingHome, resolveHome, runDir, type RunRecord } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { AdamW, ADAMW_DEFAULTS } from './optimizer.js';
import { Checkpoints, removeStaleTemps, saveWeights, type TrainerState } from './checkpoint.js';
import { learningRate, type Schedule, type ScheduleKind } from './schedule.js';
import { silentReporter, type Reporter } from './progress.js';

export interface TrainOptions {
  corpus: string;
  /** Leave out files of a corpus folder that are not UTF-8 text (listed in the 'split' event). */
  skipNonText?: boolean;
  layers: number;
  dModel: number;
  heads: number;
  ctx: number;
  /** Architecture variants (src/models/gpt.ts); GPT-2's layernorm, gelu and learned by default. */
  norm: NormKind;
  mlp: MlpKind;
  pos: PosKind;
  batch: number;
  /** Training budget in tokens; the run takes ceil(tokens / (batch·ctx)) steps. */
  tokens: number;
  lr: number;
  /** The schedule ends at lr·minLrRatio. */
  minLrRatio: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** wsd: fraction of steps in the final cooldown. */
  cooldown: number;
  weightDecay: number;
  clip: number;
  /** Validate every this many steps (and at the end), on up to evalTokens held-out tokens. */
  evalEvery: number;
  evalTokens: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  /** A loss above spikeFactor × its running mean (or NaN/Inf) rolls back to the last checkpoint. */
  spikeFactor: number;
  seed: number;
  threads?: number;
  name?: string;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  corpus: 'brown',
  layers: 4, dModel: 256, heads: 4, ctx: 256, batch: 16,
  norm: 'layernorm', mlp: 'gelu', pos: 'learned',
  tokens: 2e6,
  lr: 2e-3, minLrRatio: 0.1, schedule: 'cosine', warmupSteps: 50, cooldown: 0.2,
  weightDecay: 0.1, clip: 1.0,
  evalEvery: 250, evalTokens: 65536,
  checkpointEvery: 200, keepCheckpoints: 3,
  spikeFactor: 2.5,
  seed: 0,
};

export interface TrainHooks {
  home?: string;
  reporter?: Reporter;
  /** Stop cleanly (checkpoint, status 'stopped') once this returns true; checked every step. */
  shouldStop?: () => boolean;
  /**
   * The token this trainer claims its run under (default: a fresh one). A sweep worker picks it,
   * so that it can let the run go itself if it has to end the trainer abruptly.
   */
  claimToken?: string;
  /** Tests only: pretend the loss at these steps was NaN, once each. */
  injectNanAtSteps?: number[];
}

export interface TrainResult {
  run: RunRecord;
  /** The run's folder: checkpoints/ and model.safetensors. */
  dir: string;
  status: 'done' | 'stopped';
  steps: number;
  finalTrainLoss: number;
  finalValBpb: number | null;
  weightsSha256: string | null;
  /** Seconds spent in training steps and in the rest (data, evaluation, checkpoints, store). */
  seconds: { train: number; data: number; eval: number; checkpoint: number; total: number };
}

/** Spike-guard statistics: an exponential moving average of the training loss. */
interface Guard {
  ema: number;
  count: number;
  rollbacks: number;
}

const GUARD_BETA = 0.9, GUARD_WARMUP = 10, MAX_ROLLBACKS = 5;

function checkOptions(o: TrainOptions): void {
  const posInt = ['layers', 'dModel', 'heads', 'ctx', 'batch', 'evalEvery', 'checkpointEvery', 'keepCheckpoints'] as const;
  for (const k of posInt) if (!Number.isInteger(o[k]) || o[k] < 1) throw new UsageError(`${k} must be a positive integer, got ${o[k]}`);
  for (const k of ['tokens', 'lr', 'evalTokens', 'spikeFactor'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] > 0)) throw new UsageError(`${k} must be a positive number, got ${o[k]}`);
  }
  for (const k of ['minLrRatio', 'weightDecay', 'clip', 'warmupSteps', 'cooldown', 'seed'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new UsageError(`${k} must be a non-negative number, got ${o[k]}`);
  }
  if (o.schedule !== 'cosine' && o.schedule !== 'wsd') throw new UsageError(`schedule must be cosine or wsd, got ${o.schedule}`);
  if (o.dModel % o.heads !== 0) throw new UsageError(`heads (${o.heads}) must divide d_model (${o.dModel})`);
  const variants = [['norm', NORMS], ['mlp', MLPS], ['pos', POSITIONS]] as const;
  for (const [k, allowed] of variants) {
    if (!(allowed as readonly string[]).includes(o[k])) throw new UsageError(`${k} must be one of ${allowed.join(', ')}, got ${o[k]}`);
  }
  if (o.pos === 'rope' && (o.dModel / o.heads) % 2 !== 0) {
    throw new UsageError(`rope needs an even head dimension, got d_model / heads = ${o.dModel / o.heads}`);
  }
}

function modelConfig(o: TrainOptions): GPTConfig {
  const cfg: GPTConfig = { layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, vocab: VOCAB };
  // Variants are written only where they differ from the default, so a default model's config
  // (stored with the run and in every checkpoint) reads as it did before they existed.
  if (o.norm !== 'layernorm') cfg.norm = o.norm;
  if (o.mlp !== 'gelu') cfg.mlp = o.mlp;
  if (o.pos !== 'learned') cfg.pos = o.pos;
  validateConfig(cfg);
  return cfg;
}

/** What `train` takes: a new run's options, or `resume` (its stored options win; `restart` starts it over). */
export type TrainRequest = Partial<TrainOptions> & {
  resume?: string;
  /** With resume: start over from step 0 a run none of whose checkpoints verifies. */
  restart?: boolean;
};

/**
 * Start a new run, or continue one with `resume`. A run has one trainer at a time: resuming a
 * run whose trainer still runs is refused (RunBusyError); one whose trainer died is taken over.
 */
export async function train(options: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
  if (options.restart && !options.resume) throw new UsageError('--restart starts an existing run over; give the run with --resume RUN');
  // A run to resume lives in an existing home; only a new run may create one.
  const home = options.resume ? existingHome(hooks.home) : resolveHome(hooks.home);
  const store = RunStore.open(home);
  const claim = new RunClaim(store, hooks.claimToken);
  try {
    return await trainIn(store, home, options, hooks, claim);
  } finally {
    claim.release();
    store.close();
  }
}

async function trainIn(store: RunStore, home: string, options: TrainRequest, hooks: TrainHooks, claim: RunClaim): Promise<TrainResult> {
  const t0 = performance.now();
  const reporter = hooks.reporter ?? silentReporter;
  let run: RunRecord;
  let o: TrainOptions;
  if (options.resume) {
    run = store.getRun(options.resume);
    if (run.status === 'done') throw new UsageError(`run '${run.name}' is already done; start a new run instead`);
    claim.take(run);
    o = { ...TRAIN_DEFAULTS, ...(run.config as { train: TrainOptions }).train };
    if (options.threads !== undefined) o.threads = options.threads;
  } else {
    const { resume: _ignored, restart: _no, ...rest } = options;
    o = { ...TRAIN_DEFAULTS, ...rest };
    checkOptions(o);
  }
  const cfg = modelConfig(o);
  if (o.threads !== undefined) setThreads(o.threads);

  // Data first: a bad corpus or a context longer than it fails before anything is written.
  const tData = performance.now();
  const corpus = loadCorpus(o.corpus, { skipNonText: o.skipNonText });
  const split = splitCorpus(corpus, { seed: 0 });
  const samplerOpts = { batch: o.batch, ctx: o.ctx, seed: o.seed };
  let sampler = new BatchSampler(split.train, samplerOpts);
  const evals = evalBatches(split.val, o.batch, o.ctx, o.evalTokens);
  let dataSeconds = (performance.now() - tData) / 1000;

  const counts = countParams(cfg);
  const fpt = flopsPerToken(cfg);
  const tokensPerStep = o.batch * o.ctx;
  const steps = Math.ceil(o.tokens / tokensPerStep);
  if (!options.resume) {
    const { threads: _t, ...stored } = o;
    run = store.createRun({
      name: o.name, config: { model: cfg, train: stored },
      params: counts.total, nonEmbeddingParams: counts.nonEmbedding, flopsPerToken: fpt, tokensTarget: steps * tokensPerStep,
    });
  }
  run = run!;
  if (!options.resume) claim.take(run);
  const dir = runDir(home, run.id);
  const ckpts = new Checkpoints(path.join(dir, 'checkpoints'), o.keepCheckpoints);
  // This process holds the run now: what dead writers left half-written can go.
  removeStaleTemps(dir);
  ckpts.removeStaleTemps();
  const model = new GPT(cfg, { seed: o.seed });
  const opt = new AdamW(native, model.params, model.grads, model.decayed,
    { ...ADAMW_DEFAULTS, lr: o.lr, weightDecay: o.weightDecay, clip: o.clip });
  const sched: Schedule = { kind: o.schedule, lr: o.lr, minLr: o.lr * o.minLrRatio, warmupSteps: o.warmupSteps, totalSteps: steps, cooldown: o.cooldown };
  const g = new Graph(native);
  const evalGraph = new Graph(native, { training: false });

  let step = 0;
  let guard: Guard = { ema: 0, count: 0, rollbacks: 0 };
  let bestVal: number | null = null;
  let lastVal: number | null = null;
  let trainSeconds = run.trainSeconds ?? 0;
  const log = (kind: string, message: string, data?: Record<string, unknown>) => {
    store.logEvent(run.id, { step, kind, message, data });
    reporter.event(kind, message, data);
  };
  const trainerState = (): TrainerState => ({
    step, tokensSeen: step * tokensPerStep, sampler: sampler.state(), guard, bestVal, lastVal, trainSeconds,
  });
  const restoreFrom = (st: TrainerState) => {
    step = st.step;
    sampler = BatchSampler.restore(split.train, samplerOpts, st.sampler as ReturnType<BatchSampler['state']>);
    guard = st.guard as Guard;
    bestVal = st.bestVal as number | null;
    lastVal = st.lastVal as number | null;
    trainSeconds = st.trainSeconds as number;
  };
  const onCorrupt = (file: string, why: string) => log('checkpoint_corrupt', `${path.basename(file)} failed verification (${why.replace(`${file}: `, '')}); using an older checkpoint`);

  if (options.resume) {
    // The damaged ones are logged once it is clear the run goes on; a refusal is one line.
    const corrupt: [string, string][] = [];
    const loaded = ckpts.restoreLatest(model, opt, (file, why) => corrupt.push([file, why]));
    if (loaded && options.restart) {
      throw new UsageError(`run '${run.name}' has a good checkpoint at step ${loaded.step}; resume it without --restart`);
    }
    if (!loaded && corrupt.length > 0 && !options.restart) {
      // Starting over silently would throw away the run's progress; that takes an explicit word.
      throw new UsageError(`every checkpoint of run '${run.name}' is damaged (${corrupt.length} failed verification, ` +
        `the newest: ${corrupt[0][1].replace(`${corrupt[0][0]}: `, '')}); ` +
        `\`scalelab train --resume ${run.name} --restart\` starts it over from step 0`);
    }
    if (claim.tookOverFrom) {
      const t = claim.tookOverFrom;
      log('takeover', `took the run over from pid ${t.pid} on ${t.host}, which is no longer running`, { pid: t.pid, host: t.host });
    }
    for (const [file, why] of corrupt) onCorrupt(file, why);
    if (loaded) {
      restoreFrom(loaded.state);
      log('resume', `resumed from step ${step}`, { checkpoint: path.basename(loaded.file) });
    } else {
      const damaged = ckpts.setAsideDamaged();
      log('resume', damaged.length > 0
        ? `starting over from step 0 as asked; ${damaged.length} damaged checkpoint(s) renamed to *.damaged`
        : 'no checkpoint yet; starting from step 0');
    }
  }
  // Printed once the run is sure to go on, so a refused resume stays one line.
  const data = summariseSplit(corpus, split);
  log('split', data.message, data.data);
  for (const w of data.warnings) log('warning', w);
  store.updateRun(run.id, { status: 'running', startedAt: run.startedAt ?? new Date().toISOString() });

  let ckptSeconds = 0;
  const checkpoint = () => {
    claim.keep(true); // a trainer that lost the run must not write into its folder
    const t = performance.now();
    ckpts.save(model, opt, trainerState());
    store.updateRun(run.id, { tokensSeen: step * tokensPerStep, flops: step * tokensPerStep * 6 * counts.nonEmbedding, trainSeconds, bestValBpb: bestVal });
    ckptSeconds += (performance.now() - t) / 1000;
  };
  // A checkpoint before the first step, so a spike can always roll back.
  if (ckpts.list().length === 0) checkpoint();

  let evalSeconds = 0;
  const evaluate = (): number => {
    const t = performance.now();
    let nats = 0, n = 0;
    for (const b of evals) {
      evalGraph.reset();
      const B = b.ids.length / o.ctx;
      const { loss } = model.forward(evalGraph, b.ids, B, o.ctx, b.targets);
      nats += loss!.item() * b.ids.length;
      n += b.ids.length;
    }
    evalSeconds += (performance.now() - t) / 1000;
    return bitsPerByte(nats / n);
  };

  const pending: Parameters<RunStore['logMetrics']>[1] = [];
  const flush = () => {
    if (pending.length) store.logMetrics(run.id, pending.splice(0));
  };
  const injected = new Set<number>();
  let lastLoss = NaN;
  let stopped = false;

  try {
    while (step < steps) {
      if (hooks.shouldStop?.()) {
        stopped = true;
        break;
      }
      claim.keep();
      const lr = learningRate(sched, step);
      let t = performance.now();
      const { ids, targets } = sampler.next();
      dataSeconds += (performance.now() - t) / 1000;

      t = performance.now();
      g.reset();
      model.zeroGrad();
      const { loss } = model.forward(g, ids, o.batch, o.ctx, targets);
      let value = loss!.item();
      if (hooks.injectNanAtSteps?.includes(step) && !injected.has(step)) {
        injected.add(step);
        value = NaN;
      }
      const spike = !Number.isFinite(value) || (guard.count >= GUARD_WARMUP && value > o.spikeFactor * guard.ema);
      if (spike) {
        trainSeconds += (performance.now() - t) / 1000;
        flush();
        if (++guard.rollbacks > MAX_ROLLBACKS) {
          throw new Error(`training diverged: loss ${value} at step ${step} after ${MAX_ROLLBACKS} rollbacks`);
        }
        const spikeStep = step, rollbacks = guard.rollbacks;
        const loaded = ckpts.restoreLatest(model, opt, onCorrupt);
        if (!loaded) throw new Error('loss spike with no checkpoint to roll back to');
        restoreFrom(loaded.state);
        guard.rollbacks = rollbacks;
        // Skip the stretch of data that led to the spike: every batch from the checkpoint to it.
        const skip = spikeStep - step + 1;
        sampler.skip(skip);
        log('rollback', `loss ${value} at step ${spikeStep} (running mean ${guard.ema.toFixed(3)}); rolled back to step ${step} and skipped ${skip} batches`,
          { spike_step: spikeStep, loss: value, to_step: step, skipped: skip });
        continue;
      }
      g.backward(loss!);
      const gradNorm = opt.update(lr);
      const dt = (performance.now() - t) / 1000;
      trainSeconds += dt;
      guard.ema = guard.count === 0 ? value : GUARD_BETA * guard.ema + (1 - GUARD_BETA) * value;
      guard.count++;
      step++;
      lastLoss = value;

      const isLast = step === steps;
      let valBpb: number | null = null;
      if (step % o.evalEvery === 0 || isLast) {
        valBpb = evaluate();
        lastVal = valBpb;
        if (bestVal === null || valBpb < bestVal) bestVal = valBpb;
      }
      const tokens = step * tokensPerStep;
      pending.push({ step, tokens, flops: tokens * 6 * counts.nonEmbedding, trainLoss: value, valBpb, lr, tokensPerS: tokensPerStep / dt, gradNorm, time: Date.now() / 1000 });
      reporter.progress({ step, steps, tokens, tokensTarget: steps * tokensPerStep, loss: value, valBpb: valBpb ?? lastVal, tokensPerS: tokensPerStep / dt, lr });
      if (pending.length >= 50) flush();
      if (step % o.checkpointEvery === 0 && !isLast) {
        flush();
        checkpoint();
      }
      // Let signal handlers and timers run between steps.
      await new Promise((r) => setImmediate(r));
    }
    flush();

    let weightsSha256: string | null = null;
    const status = stopped ? 'stopped' : 'done';
    checkpoint();
    if (!stopped) {
      const t = performance.now();
      weightsSha256 = saveWeights(path.join(dir, 'model.safetensors'), model);
      ckptSeconds += (performance.now() - t) / 1000;
    }
    store.updateRun(run.id, {
      status, tokensSeen: step * tokensPerStep, flops: step * tokensPerStep * 6 * counts.nonEmbedding, trainSeconds,
      bestValBpb: bestVal, finalTrainLoss: Number.isNaN(lastLoss) ? null : lastLoss, finalValBpb: lastVal, weightsSha256,
      finishedAt: stopped ? null : new Date().toISOString(),
    });
    log(status === 'done' ? 'done' : 'stopped', status === 'done'
      ? `finished ${steps} steps; val ${lastVal?.toFixed(3)} bpb`
      : `stopped at step ${step}; resume with \`scalelab train --resume ${run.name}\``);
    reporter.done();
    return {
      run: store.getRun(run.id), dir, status, steps: step, finalTrainLoss: lastLoss, finalValBpb: lastVal, weightsSha256,
      seconds: { train: trainSeconds, data: dataSeconds, eval: evalSeconds, checkpoint: ckptSeconds, total: (performance.now() - t0) / 1000 },
    };
  } catch (err) {
    // The run is another trainer's now: its record is not this process's to change.
    if (err instanceof RunTakenOverError) throw err;
    // Whatever stopped the run is on record; the last checkpoint is still there to resume from.
    store.updateRun(run.id, { status: 'failed' });
    log('error', (err as Error).message.split('\n')[0]);
    throw err;
  }
}

