// `train`: a byte-level GPT on a corpus, recorded in the run store, checkpointed, resumable to the
// bit, guarded against loss spikes. The CLI's `scalelab train` is a thin wrapper over this.
// session.ts sets a run up (create or resume, restore); loop.ts trains it.
import { RunClaim, openStore, existingHome, resolveHome, type RunRecord, type Store } from '../runs/index.js';
import { UsageError } from '../errors.js';
import type { Reporter } from './progress.js';
import { trainLoop } from './loop.js';
import { openSession, type RunPlan } from './session.js';
import { TRAIN_DEFAULTS, checkOptions, modelConfig, type TrainOptions, type TrainRequest } from './options.js';
import { isDitRun, trainDit } from './dit-train.js';

export { TRAIN_DEFAULTS, type TrainOptions, type TrainRequest } from './options.js';

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


/**
 * Start a new run, or continue one with `resume`. A run has one trainer at a time: resuming a
 * run whose trainer still runs is refused (RunBusyError); one whose trainer died is taken over.
 */
export async function train(options: TrainRequest, hooks: TrainHooks = {}): Promise<TrainResult> {
  if (options.restart && !options.resume) throw new UsageError('--restart starts an existing run over; give the run with --resume RUN');
  // A new run's options are checked before its home is touched: a refused run leaves nothing behind.
  const fresh = options.resume ? null : newRunPlan(options);
  // A run to resume lives in an existing home; only a new run may create one.
  const home = options.resume ? existingHome(hooks.home) : resolveHome(hooks.home);
  // A video model's run resumes as one (src/train/dit-train.ts).
  if (options.resume && await isVideoRun(home, options.resume)) {
    return trainDit({ resume: options.resume, restart: options.restart, threads: options.threads }, { ...hooks, home });
  }
  const store = openStore(home);
  const claim = new RunClaim(store, hooks.claimToken);
  try {
    const t0 = performance.now();
    const session = await openSession(store, home, fresh ?? await resumePlan(store, options, claim), hooks, claim, t0);
    return await trainLoop(session);
  } finally {
    await claim.release();
    await store.close();
  }
}

async function isVideoRun(home: string, run: string): Promise<boolean> {
  const store = openStore(home);
  try {
    return isDitRun(await store.getRun(run));
  } finally {
    await store.close();
  }
}

/** A resumed run (claimed now) with its stored options. */
async function resumePlan(store: Store, options: TrainRequest, claim: RunClaim): Promise<RunPlan> {
  const run = await store.getRun(options.resume!);
  if (run.status === 'done') throw new UsageError(`run '${run.name}' is already done; start a new run instead`);
  await claim.take(run);
  const o = { ...TRAIN_DEFAULTS, ...(run.config as { train: TrainOptions }).train };
  if (options.threads !== undefined) o.threads = options.threads;
  return { o, cfg: modelConfig(o), resumed: run, restart: Boolean(options.restart) };
}

/** A new run's checked options. */
function newRunPlan(options: TrainRequest): RunPlan {
  const { resume: _ignored, restart: _no, ...rest } = options;
  const o = { ...TRAIN_DEFAULTS, ...rest };
  checkOptions(o);
  return { o, cfg: modelConfig(o), resumed: null, restart: false };
}
