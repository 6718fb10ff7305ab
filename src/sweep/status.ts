// Where a sweep stands: each job with its run's progress, and an ETA that scales the remaining
// estimates by how the finished jobs' wall time (claim to done: start-up, validation and
// checkpoints included) compared with theirs on this machine. Jobs planned without
// an estimate (--no-estimate) are priced by their training FLOPs at the finished runs' rate.
import type { Store } from '../runs/index.js';
import { flopsPerToken } from '../models/gpt.js';
import { SweepQueue, type JobStatus } from './queue.js';
import { modelConfig } from './plan.js';
import { familyOfJob, isDitJob, type JobOptions } from './family.js';
import { jobWallSeconds } from './calibration.js';

export interface SweepStatus {
  sweep: string;
  counts: Record<JobStatus, number>;
  /** Seconds of training left on one worker (0 when nothing is left; a guess until a run finishes). */
  etaSeconds: number;
  /** False while neither plan estimates nor finished runs give the ETA a basis. */
  etaKnown: boolean;
  /** The estimates of the finished jobs that had one against their wall time: how far off the plan was. */
  estimate: { jobs: number; estimatedSeconds: number; actualSeconds: number } | null;
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
    /** The final validation loss, in `metric` units: a GPT's bits per byte, a DiT's velocity MSE. */
    finalValBpb: number | null;
    metric: 'bpb' | 'mse';
    trainSeconds: number;
    /** The plan's estimate, and seconds from the job's first claim to done. */
    estimatedSeconds: number | null;
    wallSeconds: number | null;
  }[];
}

export async function sweepStatus(store: Store, name: string): Promise<SweepStatus> {
  const q = new SweepQueue(store);
  await q.getSweep(name);
  const jobs = await q.jobs(name);
  const runs = await Promise.all(jobs.map((j) => store.findRun(j.runName)));
  const work = (o: JobOptions) => isDitJob(o) ? (o.layers && o.dModel && o.heads && o.clips ? ditTokens(o) * familyOfJob(o).flopsPerToken({ layers: o.layers, dModel: o.dModel, heads: o.heads }) : 0)
    : o.layers && o.dModel && o.heads && o.ctx && o.tokens
      ? flopsPerToken(modelConfig({ layers: o.layers, dModel: o.dModel, heads: o.heads }, o.ctx, o)) * o.tokens
      : 0;
  let actual = 0, estimated = 0, estimatedJobs = 0, doneFlops = 0, doneSeconds = 0, left = 0, leftFlops = 0;
  jobs.forEach((j, i) => {
    const r = runs[i];
    // A job claimed more than once spent some of its wall time waiting for a dead worker's lease.
    const wall = j.status === 'done' && j.attempts === 1 ? jobWallSeconds(j) : null;
    if (j.status === 'done' && j.estimatedSeconds && wall !== null && wall > 0) {
      actual += wall;
      estimated += j.estimatedSeconds;
      estimatedJobs++;
    }
    if (j.status === 'done' && r && r.trainSeconds > 0) {
      doneFlops += r.flopsPerToken ? r.flopsPerToken * r.tokensSeen : 0;
      doneSeconds += wall ?? r.trainSeconds; // wall time where the job recorded it: steps alone leave out the rest
    }
    if (j.status === 'queued' || j.status === 'running') {
      const remaining = r && r.tokensTarget ? 1 - r.tokensSeen / r.tokensTarget : 1;
      if (j.estimatedSeconds) left += j.estimatedSeconds * remaining;
      else leftFlops += work(j.options) * remaining;
    }
  });
  const flopsPerSecond = doneFlops > 0 && doneSeconds > 0 ? doneFlops / doneSeconds : 0;
  const etaKnown = leftFlops === 0 || flopsPerSecond > 0;
  const etaSeconds = left * (estimated > 0 ? actual / estimated : 1) + (flopsPerSecond > 0 ? leftFlops / flopsPerSecond : 0);
  return {
    sweep: name,
    counts: await q.counts(name),
    etaSeconds, etaKnown,
    estimate: estimatedJobs ? { jobs: estimatedJobs, estimatedSeconds: estimated, actualSeconds: actual } : null,
    jobs: jobs.map((j, i) => ({
      idx: j.idx, run: j.runName, status: j.status, attempts: j.attempts, error: j.error,
      tokensSeen: runs[i]?.tokensSeen ?? 0, tokensTarget: runs[i]?.tokensTarget ?? (isDitJob(j.options) ? (j.options.clips ? ditTokens(j.options) : null) : j.options.tokens ?? null),
      params: runs[i]?.params ?? null, nonEmbeddingParams: runs[i]?.nonEmbeddingParams ?? null,
      finalValBpb: runs[i]?.finalValBpb ?? null, metric: isDitJob(j.options) ? 'mse' : 'bpb', trainSeconds: runs[i]?.trainSeconds ?? 0,
      estimatedSeconds: j.estimatedSeconds, wallSeconds: j.status === 'done' ? jobWallSeconds(j) : null,
    })),
  };
}

/** The patches a DiT job trains on: its clips times the patches of a clip. */
function ditTokens(o: JobOptions & { clips?: number }): number {
  return (o.clips ?? 0) * familyOfJob(o).tokensPerSample;
}
