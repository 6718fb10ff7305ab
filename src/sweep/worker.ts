// A worker: claims jobs from the queue one at a time and trains them in a worker thread while
// the main thread renews the lease. Any number of workers, on one machine or several sharing the
// store, may serve the same queue.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
// Loaded here, in the main thread, so the OpenMP settings it makes reach the process before any
// training thread starts (a worker thread's process.env is only a copy).
import '../engine/native.js';
import { openStore, existingHome, type Store } from '../runs/index.js';
import { SweepQueue, type Job } from './queue.js';
import type { TrainerThreadData } from './trainer-thread.js';

export interface WorkerOptions {
  home?: string;
  /** Serve only this sweep (default: any). */
  sweep?: string;
  /** Seconds a claim stays valid without a heartbeat; heartbeats come every third of it. */
  leaseSeconds?: number;
  /** Kernel threads for training. */
  threads?: number;
  log?: (line: string) => void;
  /** Stop cleanly once this returns true: the running job checkpoints and goes back to the queue. */
  shouldStop?: () => boolean;
}

const threadFile = new URL(import.meta.url.endsWith('.ts') ? './trainer-thread.ts' : './trainer-thread.js', import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Serve the queue until nothing is left to claim or run; returns the number of jobs finished. */
export async function runWorker(o: WorkerOptions = {}): Promise<number> {
  // A worker serves sweeps already planned in a home; a mistyped --home has none.
  const home = existingHome(o.home);
  const lease = o.leaseSeconds ?? 60;
  const id = `${os.hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  const store = openStore(home);
  const queue = new SweepQueue(store);
  let done = 0;
  try {
    // A mistyped sweep would otherwise look like one with nothing left to do.
    if (o.sweep !== undefined) await queue.getSweep(o.sweep);
    while (!o.shouldStop?.()) {
      const job = await queue.claim(id, lease, o.sweep);
      if (!job) {
        if (await queue.finished(o.sweep)) break;
        await sleep(Math.min(1000, (lease * 1000) / 4)); // a job may be waiting for its lease to run out
        continue;
      }
      const outcome = await runJob(store, queue, job, id, home, lease, o, log);
      if (outcome === 'done') done++;
      // Its run's trainer is alive elsewhere (a stalled worker that has not noticed its lost
      // lease yet): give it time to stop before claiming the job again.
      if (outcome === 'busy') await sleep(Math.min(5000, (lease * 1000) / 2));
    }
  } finally {
    await store.close();
  }
  return done;
}

async function runJob(store: Store, queue: SweepQueue, job: Job, id: string, home: string, lease: number,
  o: WorkerOptions, log: (line: string) => void): Promise<'done' | 'released' | 'lost' | 'busy'> {
  const label = `${job.sweep}#${job.idx} (${job.runName})`;
  const existing = await store.findRun(job.runName);
  if (existing?.status === 'done') {
    // The previous holder finished training but died before marking the job done.
    await queue.complete(job, id);
    log(`${label}: already trained`);
    return 'done';
  }
  const options = existing ? { resume: job.runName, threads: o.threads } : { ...job.options, name: job.runName, threads: o.threads };
  log(`${label}: ${existing ? 'resuming' : 'starting'} (attempt ${job.attempts})`);
  const stop = new SharedArrayBuffer(4);
  const claimToken = randomUUID();
  const data: TrainerThreadData = { home, options, stop, claimToken };
  const thread = new Worker(threadFile, { workerData: data });
  let lost = false;
  let beating = false; // one heartbeat at a time: a slow store must not pile them up
  const beat = setInterval(() => {
    if (o.shouldStop?.()) Atomics.store(new Int32Array(stop), 0, 1);
    if (beating || lost) return;
    beating = true;
    queue.heartbeat(job, id, lease).then((held) => {
      if (held) return;
      // Someone else holds the job now: stop training at once, without a checkpoint.
      lost = true;
      void thread.terminate();
    }, (err: Error) => log(`${label}: heartbeat failed (${err.message}); trying again`)).finally(() => (beating = false));
  }, Math.max(200, (lease * 1000) / 3));
  const result = await new Promise<{ type: string; status?: string; message?: string; valBpb?: number | null; metric?: string; busy?: boolean }>((resolve) => {
    let last: { type: string; message?: string } = { type: 'error', message: 'the training thread exited without a result' };
    thread.on('message', (m) => {
      if (m.type === 'result' || m.type === 'error') last = m;
      // The run's own done and stopped events are said below, once, in the worker's words.
      else if (m.type === 'event' && !['signal', 'done', 'stopped'].includes(m.kind)) log(`${label}: ${m.kind}: ${m.message}`);
    });
    thread.on('error', (err) => (last = { type: 'error', message: err.message }));
    thread.on('exit', () => resolve(last));
  });
  clearInterval(beat);
  // A terminated thread never let its run go; this process is not training it any more.
  const run = await store.findRun(job.runName);
  if (run) await store.releaseTrainer(run.id, claimToken);
  if (lost) {
    log(`${label}: lost the lease; another worker has it`);
    return 'lost';
  }
  if (result.type === 'result' && result.status === 'done') {
    await queue.complete(job, id);
    log(`${label}: done, val ${result.valBpb?.toFixed(result.metric === 'mse' ? 4 : 3)} ${result.metric ?? 'bpb'}`);
    return 'done';
  }
  if (result.type === 'result') {
    await queue.release(job, id);
    log(`${label}: stopped; back in the queue`);
    return 'released';
  }
  if (result.busy) {
    // Not a failure of the job: its run is still being trained, so it goes back unchanged.
    await queue.putBack(job, id);
    log(`${label}: ${result.message}; back in the queue`);
    return 'busy';
  }
  await queue.release(job, id, result.message);
  log(`${label}: failed: ${result.message}`);
  return 'released';
}
