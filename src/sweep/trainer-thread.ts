// Runs one training job inside a worker thread, so the worker's main thread stays free to
// heartbeat its lease however long a step takes; and if the worker process dies, the training
// dies with it, so no orphan can go on training a job another worker has taken over. A job of a
// DiT sweep (its options say model 'dit') starts the video trainer; a resumed job goes through
// train(), which knows a video run by its stored config.
import { parentPort, workerData } from 'node:worker_threads';
import { train, type TrainHooks } from '../train/train.js';
import { trainDit } from '../train/dit-train.js';
import { UsageError } from '../errors.js';
import { RunBusyError } from '../runs/index.js';
import { isDitJob, type JobOptions } from './family.js';

export interface TrainerThreadData {
  home: string;
  /** The token the trainer claims its run under, so the worker can let the run go if it ends the thread. */
  claimToken: string;
  options: JobOptions & { resume?: string };
  /** An Int32Array over a SharedArrayBuffer: 1 asks for a clean stop (checkpoint, then return). */
  stop: SharedArrayBuffer;
}

const data = workerData as TrainerThreadData;
const stop = new Int32Array(data.stop);
let lastProgress = 0;

function start(options: TrainerThreadData['options'], hooks: TrainHooks) {
  if (!isDitJob(options)) return train(options, hooks);
  const { model: _dit, ...rest } = options;
  return trainDit(rest, hooks);
}

start(data.options, {
  home: data.home,
  claimToken: data.claimToken,
  shouldStop: () => Atomics.load(stop, 0) === 1,
  reporter: {
    progress(p) {
      const t = Date.now();
      if (t - lastProgress < 1000 && p.step < p.steps) return;
      lastProgress = t;
      parentPort!.postMessage({ type: 'progress', step: p.step, steps: p.steps, loss: p.loss, valBpb: p.valBpb });
    },
    event(kind, message) {
      parentPort!.postMessage({ type: 'event', kind, message });
    },
    done() {},
  },
}).then(
  (r) => parentPort!.postMessage({ type: 'result', status: r.status, valBpb: r.finalValBpb, run: r.run.name,
    metric: (r.run.config as { family?: string }).family === 'dit' ? 'mse' : 'bpb' }),
  (err: Error) => parentPort!.postMessage({ type: 'error', message: err.message.split('\n')[0], usage: err instanceof UsageError, busy: err instanceof RunBusyError }),
);
