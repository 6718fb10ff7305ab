// Runs one training job inside a worker thread, so the worker's main thread stays free to
// heartbeat its lease however long a step takes; and if the worker process dies, the training
// dies with it, so no orphan can go on training a job another worker has taken over.
import { parentPort, workerData } from 'node:worker_threads';
import { train, type TrainOptions } from '../train/train.js';
import { UsageError } from '../errors.js';
import { RunBusyError } from '../runs/index.js';

export interface TrainerThreadData {
  home: string;
  /** The token the trainer claims its run under, so the worker can let the run go if it ends the thread. */
  claimToken: string;
  options: Partial<TrainOptions> & { resume?: string };
  /** An Int32Array over a SharedArrayBuffer: 1 asks for a clean stop (checkpoint, then return). */
  stop: SharedArrayBuffer;
}

const data = workerData as TrainerThreadData;
const stop = new Int32Array(data.stop);
let lastProgress = 0;

train(data.options, {
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
  (r) => parentPort!.postMessage({ type: 'result', status: r.status, valBpb: r.finalValBpb, run: r.run.name }),
  (err: Error) => parentPort!.postMessage({ type: 'error', message: err.message.split('\n')[0], usage: err instanceof UsageError, busy: err instanceof RunBusyError }),
);
