// The durable job queue of a sweep, in the run store's SQLite database. Workers claim jobs
// under a lease and keep it alive with heartbeats; a job whose lease has run out (its worker
// died) is claimed again by the next worker, which resumes the run from its last checkpoint.
// Every state change is a conditional UPDATE on (job, worker), so a worker that has lost its
// lease cannot complete or fail a job another worker now holds.
import type Database from 'better-sqlite3';
import type { RunStore } from '../runs/index.js';
import { UsageError } from '../errors.js';
import type { TrainOptions } from '../train/train.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  sweep: string;
  idx: number;
  options: Partial<TrainOptions>;
  runName: string;
  status: JobStatus;
  attempts: number;
  worker: string | null;
  leaseExpires: number | null;
  estimatedSeconds: number | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SweepRecord {
  name: string;
  config: Record<string, unknown>;
  createdAt: string;
}

interface JobRow {
  sweep: string; idx: number; options: string; run_name: string; status: JobStatus; attempts: number;
  worker: string | null; lease_expires: number | null; estimated_seconds: number | null; error: string | null;
  started_at: string | null; finished_at: string | null;
}

const toJob = (r: JobRow): Job => ({
  sweep: r.sweep, idx: r.idx, options: JSON.parse(r.options), runName: r.run_name, status: r.status, attempts: r.attempts,
  worker: r.worker, leaseExpires: r.lease_expires, estimatedSeconds: r.estimated_seconds, error: r.error,
  startedAt: r.started_at, finishedAt: r.finished_at,
});

/** A job is retried this many times in all before it is marked failed. */
export const MAX_ATTEMPTS = 3;

const now = () => Date.now() / 1000;

export class SweepQueue {
  private readonly db: Database.Database;

  constructor(store: RunStore) {
    this.db = store.db;
  }

  /**
   * Store a sweep and its jobs in one transaction. With `replace`, an existing plan of that name
   * is swapped for this one, but only while none of its jobs has started (refused otherwise).
   * A job's run name must not be taken by a run already in the store: a worker would take that
   * run for the job's own.
   */
  createSweep(name: string, config: object, jobs: { options: Partial<TrainOptions>; runName: string; estimatedSeconds: number | null }[],
    o: { replace?: boolean } = {}): void {
    const insertSweep = this.db.prepare('INSERT INTO sweeps (name, config, created_at) VALUES (?, ?, ?)');
    const insertJob = this.db.prepare(
      "INSERT INTO jobs (sweep, idx, options, run_name, status, estimated_seconds) VALUES (?, ?, ?, ?, 'queued', ?)");
    const taken = this.db.prepare('SELECT name FROM runs WHERE name = ? OR id = ?');
    this.db.transaction(() => {
      if (this.checkPlannable(name, Boolean(o.replace))) this.db.prepare('DELETE FROM sweeps WHERE name = ?').run(name); // jobs cascade
      for (const j of jobs) {
        const run = taken.get(j.runName, j.runName) as { name: string } | undefined;
        if (run) throw new UsageError(`a run named '${run.name}' is already in the store (kept from an earlier sweep?); plan under another sweep name`);
      }
      insertSweep.run(name, JSON.stringify(config), new Date().toISOString());
      jobs.forEach((j, i) => insertJob.run(name, i, JSON.stringify(j.options), j.runName, j.estimatedSeconds));
    }).immediate();
  }

  /**
   * Whether a plan may be stored under `name`: refuses a bad or taken name, or (with replace) a
   * plan one of whose jobs has started. True when an existing plan is to be replaced.
   */
  checkPlannable(name: string, replace: boolean): boolean {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
      throw new UsageError(`bad sweep name '${name}': use letters, digits, '.', '_' or '-'`);
    }
    if (!this.findSweep(name)) return false;
    if (!replace) throw new UsageError(`a sweep named '${name}' already exists; pick another name, or --replace it if none of its jobs has started`);
    const started = this.jobs(name).filter((j) => j.attempts > 0 || j.status !== 'queued').length;
    if (started) {
      throw new UsageError(`sweep '${name}' has started (${started} of its jobs ${started === 1 ? 'has' : 'have'} run); ` +
        `remove it with \`scalelab sweep rm ${name}\` first, or plan under another name`);
    }
    return true;
  }

  /**
   * Delete a sweep and its jobs, and with `runs` the given runs (their metrics and events go with
   * them), in one transaction: a crash leaves the sweep whole or gone. Refuses while a job is
   * running under a live lease, unless forced; a forced delete makes that job's worker lose its
   * lease at its next heartbeat and stop.
   */
  removeSweep(name: string, o: { force?: boolean; deleteRuns?: (runNames: string[]) => void } = {}): { jobs: Job[] } {
    return this.db.transaction(() => {
      this.getSweep(name);
      const jobs = this.jobs(name);
      const live = jobs.filter((j) => j.status === 'running' && (j.leaseExpires ?? 0) > now());
      if (live.length && !o.force) {
        throw new UsageError(`sweep '${name}' has ${live.length} running job${live.length === 1 ? '' : 's'} (${live.map((j) => j.runName).join(', ')}); ` +
          'stop its workers first, or pass --force to delete it anyway');
      }
      this.db.prepare('DELETE FROM sweeps WHERE name = ?').run(name); // jobs cascade
      o.deleteRuns?.(jobs.map((j) => j.runName));
      return { jobs };
    }).immediate();
  }

  findSweep(name: string): SweepRecord | undefined {
    const r = this.db.prepare('SELECT * FROM sweeps WHERE name = ?').get(name) as { name: string; config: string; created_at: string } | undefined;
    return r && { name: r.name, config: JSON.parse(r.config), createdAt: r.created_at };
  }

  getSweep(name: string): SweepRecord {
    const s = this.findSweep(name);
    if (!s) throw new UsageError(`unknown sweep '${name}'; \`scalelab sweep list\` lists them`);
    return s;
  }

  listSweeps(): SweepRecord[] {
    return (this.db.prepare('SELECT * FROM sweeps ORDER BY created_at DESC').all() as { name: string; config: string; created_at: string }[])
      .map((r) => ({ name: r.name, config: JSON.parse(r.config), createdAt: r.created_at }));
  }

  jobs(sweep: string): Job[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE sweep = ? ORDER BY idx').all(sweep) as JobRow[]).map(toJob);
  }

  /**
   * Claim the next job: a queued one, or a running one whose lease has expired. Returns null
   * when nothing is claimable (the sweep may still have jobs running under live leases).
   */
  claim(worker: string, leaseSeconds: number, sweep?: string): Job | null {
    return this.db.transaction(() => {
      const t = now();
      const row = this.db.prepare(
        `SELECT * FROM jobs WHERE (status = 'queued' OR (status = 'running' AND lease_expires < ?))
         ${sweep ? 'AND sweep = ?' : ''} ORDER BY sweep, idx LIMIT 1`,
      ).get(...(sweep ? [t, sweep] : [t])) as JobRow | undefined;
      if (!row) return null;
      this.db.prepare(
        `UPDATE jobs SET status = 'running', worker = ?, lease_expires = ?, attempts = attempts + 1,
         started_at = COALESCE(started_at, ?) WHERE sweep = ? AND idx = ?`,
      ).run(worker, t + leaseSeconds, new Date().toISOString(), row.sweep, row.idx);
      return toJob({ ...row, status: 'running', worker, lease_expires: t + leaseSeconds, attempts: row.attempts + 1 });
    }).immediate();
  }

  /** Extend the lease; false means this worker no longer holds the job and must stop at once. */
  heartbeat(job: Job, worker: string, leaseSeconds: number): boolean {
    const info = this.db.prepare(
      "UPDATE jobs SET lease_expires = ? WHERE sweep = ? AND idx = ? AND worker = ? AND status = 'running'",
    ).run(now() + leaseSeconds, job.sweep, job.idx, worker);
    return info.changes === 1;
  }

  complete(job: Job, worker: string): boolean {
    const info = this.db.prepare(
      "UPDATE jobs SET status = 'done', lease_expires = NULL, error = NULL, finished_at = ? WHERE sweep = ? AND idx = ? AND worker = ? AND status = 'running'",
    ).run(new Date().toISOString(), job.sweep, job.idx, worker);
    return info.changes === 1;
  }

  /** Put the job back in the queue (a clean stop), or mark it failed after MAX_ATTEMPTS. */
  release(job: Job, worker: string, error?: string): boolean {
    const failed = error !== undefined && job.attempts >= MAX_ATTEMPTS;
    const info = this.db.prepare(
      `UPDATE jobs SET status = ?, lease_expires = NULL, worker = NULL, error = ?, finished_at = ?
       WHERE sweep = ? AND idx = ? AND worker = ? AND status = 'running'`,
    ).run(failed ? 'failed' : 'queued', error ?? null, failed ? new Date().toISOString() : null, job.sweep, job.idx, worker);
    return info.changes === 1;
  }

  /** Queued, running, done and failed counts. */
  counts(sweep: string): Record<JobStatus, number> {
    const c: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs WHERE sweep = ? GROUP BY status').all(sweep) as { status: JobStatus; n: number }[]) {
      c[r.status] = r.n;
    }
    return c;
  }

  /** True when no job of the sweep (or of any sweep) is queued or running. */
  finished(sweep?: string): boolean {
    const r = this.db.prepare(
      `SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') ${sweep ? 'AND sweep = ?' : ''}`,
    ).get(...(sweep ? [sweep] : [])) as { n: number };
    return r.n === 0;
  }
}
