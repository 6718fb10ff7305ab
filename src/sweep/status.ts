// Where a sweep stands: each job with its run's progress, and an ETA that scales the remaining
// estimates by how the finished runs compared with theirs on this machine.
import type { RunStore } from '../runs/index.js';
import { SweepQueue, type JobStatus } from './queue.js';

export interface SweepStatus {
  sweep: string;
  counts: Record<JobStatus, number>;
  /** Seconds of training left on one worker. */
  etaSeconds: number;
  jobs: {
    idx: number;
    run: string;
    status: JobStatus;
    attempts: number;
    error: string | null;
    tokensSeen: number;
    tokensTarget: number | null;
    params: number | null;
    nonEmbeddingParams: number | null;
    finalValBpb: number | null;
    trainSeconds: number;
  }[];
}

export function sweepStatus(store: RunStore, name: string): SweepStatus {
  const q = new SweepQueue(store);
  q.getSweep(name);
  const jobs = q.jobs(name);
  const runs = jobs.map((j) => store.findRun(j.runName));
  let actual = 0, estimated = 0, left = 0;
  jobs.forEach((j, i) => {
    const r = runs[i];
    if (j.status === 'done' && r && j.estimatedSeconds) {
      actual += r.trainSeconds;
      estimated += j.estimatedSeconds;
    }
    if (j.status === 'queued' || j.status === 'running') {
      const remaining = r && r.tokensTarget ? 1 - r.tokensSeen / r.tokensTarget : 1;
      left += (j.estimatedSeconds ?? 0) * remaining;
    }
  });
  return {
    sweep: name,
    counts: q.counts(name),
    etaSeconds: left * (estimated > 0 ? actual / estimated : 1),
    jobs: jobs.map((j, i) => ({
      idx: j.idx, run: j.runName, status: j.status, attempts: j.attempts, error: j.error,
      tokensSeen: runs[i]?.tokensSeen ?? 0, tokensTarget: runs[i]?.tokensTarget ?? j.options.tokens ?? null,
      params: runs[i]?.params ?? null, nonEmbeddingParams: runs[i]?.nonEmbeddingParams ?? null,
      finalValBpb: runs[i]?.finalValBpb ?? null, trainSeconds: runs[i]?.trainSeconds ?? 0,
    })),
  };
}
