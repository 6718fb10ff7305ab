// The durable job queue of a sweep, kept in the run store (its sweeps and jobs: the store's
// sweep-store.ts). Workers claim jobs under a lease and keep it alive with heartbeats; a job
// whose lease has run out (its worker died) is claimed again by the next worker, which resumes
// the run from its last checkpoint. A worker that has lost its lease cannot complete or fail a
// job another worker now holds. What this module adds are the queue's rules: which names a plan
// may take, when a plan may be replaced or removed, and how often a job is retried.
import { JOB_ATTEMPTS, type JobRecord, type JobStatus, type NewJob, type RunRecord, type Store, type SweepRecord, type SweepStore } from '../runs/index.js';
import { UsageError } from '../errors.js';
import type { JobOptions } from './family.js';

export type { JobStatus, SweepRecord };
/** A job trains a GPT or (its options say model 'dit') a video DiT. */
export type Job = JobRecord<JobOptions>;

/** A job is retried this many times in all before it is marked failed. */
export const MAX_ATTEMPTS = JOB_ATTEMPTS;

const now = () => Date.now() / 1000;

export class SweepQueue {
  private readonly sweeps: SweepStore;

  constructor(store: Store) {
    this.sweeps = store.sweeps;
  }

  /**
   * Store a sweep and its jobs in one transaction. With `replace`, an existing plan of that name
   * is swapped for this one, but only while none of its jobs has started (refused otherwise).
   * A job's run name must not be taken by a run already in the store: a worker would take that
   * run for the job's own.
   */
  async createSweep(name: string, config: object, jobs: (NewJob & { options: JobOptions })[], o: { replace?: boolean } = {}): Promise<void> {
    checkSweepName(name);
    await this.sweeps.create(name, config, jobs, (existing) => replaceable(name, existing, Boolean(o.replace)));
  }

  /**
   * Whether a plan may be stored under `name`: refuses a bad or taken name, or (with replace) a
   * plan one of whose jobs has started. True when an existing plan is to be replaced.
   */
  async checkPlannable(name: string, replace: boolean): Promise<boolean> {
    checkSweepName(name);
    return replaceable(name, (await this.findSweep(name)) && await this.jobs(name), replace);
  }

  /**
   * Delete a sweep and its jobs, and with `deleteRuns` its runs (their metrics and events go with
   * them), in one transaction: a crash leaves the sweep whole or gone. Refuses while a job is
   * running under a live lease, unless forced; a forced delete makes that job's worker lose its
   * lease at its next heartbeat and stop.
   */
  async removeSweep(name: string, o: { force?: boolean; deleteRuns?: boolean } = {}): Promise<{ jobs: Job[]; runs: RunRecord[] }> {
    const { jobs, runs } = await this.sweeps.remove(name, {
      refuse: (jobs) => {
        const live = jobs.filter((j) => j.status === 'running' && (j.leaseExpires ?? 0) > now());
        if (live.length && !o.force) {
          throw new UsageError(`sweep '${name}' has ${live.length} running job${live.length === 1 ? '' : 's'} (${live.map((j) => j.runName).join(', ')}); ` +
            'stop its workers first, or pass --force to delete it anyway');
        }
      },
      deleteRuns: Boolean(o.deleteRuns),
    });
    return { jobs: jobs as Job[], runs };
  }

  findSweep(name: string): Promise<SweepRecord | undefined> {
    return this.sweeps.find(name);
  }

  getSweep(name: string): Promise<SweepRecord> {
    return this.sweeps.get(name);
  }

  listSweeps(): Promise<SweepRecord[]> {
    return this.sweeps.list();
  }

  jobs(sweep: string): Promise<Job[]> {
    return this.sweeps.jobs(sweep) as Promise<Job[]>;
  }

  /**
   * Claim the next job: a queued one, or a running one whose lease has expired. Returns null
   * when nothing is claimable (the sweep may still have jobs running under live leases).
   */
  claim(worker: string, leaseSeconds: number, sweep?: string): Promise<Job | null> {
    return this.sweeps.claim(worker, leaseSeconds, sweep) as Promise<Job | null>;
  }

  /** Extend the lease; false means this worker no longer holds the job and must stop at once. */
  heartbeat(job: Job, worker: string, leaseSeconds: number): Promise<boolean> {
    return this.sweeps.renewLease(job, worker, leaseSeconds);
  }

  complete(job: Job, worker: string): Promise<boolean> {
    return this.sweeps.complete(job, worker);
  }

  /** Put the job back in the queue (a clean stop), or mark it failed after MAX_ATTEMPTS. */
  release(job: Job, worker: string, error?: string): Promise<boolean> {
    return this.sweeps.release(job, worker, { failed: error !== undefined && job.attempts >= MAX_ATTEMPTS, error: error ?? null });
  }

  /** Back in the queue as if never claimed: its run was busy, so the job did not run and spends no attempt. */
  putBack(job: Job, worker: string): Promise<boolean> {
    return this.sweeps.release(job, worker, { failed: false, error: null, refund: true });
  }

  /** Queued, running, done and failed counts. */
  counts(sweep: string): Promise<Record<JobStatus, number>> {
    return this.sweeps.counts(sweep);
  }

  /** True when no job of the sweep (or of any sweep) is queued or running. */
  finished(sweep?: string): Promise<boolean> {
    return this.sweeps.finished(sweep);
  }
}

function checkSweepName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(`bad sweep name '${name}': use letters, digits, '.', '_' or '-'`);
  }
}

/** Whether a plan of that name, holding `existing` jobs (undefined: none), is to be replaced; refuses unless asked to and none has started. */
function replaceable(name: string, existing: JobRecord<unknown>[] | undefined, replace: boolean): boolean {
  if (!existing) return false;
  if (!replace) throw new UsageError(`a sweep named '${name}' already exists; pick another name, or --replace it if none of its jobs has started`);
  const started = existing.filter((j) => j.attempts > 0 || j.status !== 'queued').length;
  if (started) {
    throw new UsageError(`sweep '${name}' has started (${started} of its jobs ${started === 1 ? 'has' : 'have'} run); ` +
      `remove it with \`scalelab sweep rm ${name}\` first, or plan under another name`);
  }
  return true;
}
