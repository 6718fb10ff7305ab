// Sweeps and their jobs in the SQLite store: the tables the job queue (src/sweep/queue.ts) runs
// on. Workers claim jobs under a lease; every later change is a conditional UPDATE on (job,
// worker), so a worker that has lost its lease cannot touch a job another worker now holds.
// What a plan may replace and when a removal is refused are the queue's rules: they arrive here
// as callbacks run inside the transaction, on what it read.
import { UsageError } from '../errors.js';
import type { Connection } from './connection.js';
import { toJob, toSweep, type JobRow, type SweepRow } from './rows.js';
import type { SweepStore } from './interface.js';
import type { JobRecord, JobStatus, NewJob, RunRecord, SweepRecord } from './types.js';

const now = () => Date.now() / 1000;

/** The run store's reads and deletes a sweep's removal makes inside its transaction, answered at once. */
export interface SweepRuns {
  namingSweep(sweep: string): string[];
  find(name: string): RunRecord | undefined;
  delete(names: readonly string[]): RunRecord[];
}

export class SqliteSweepStore implements SweepStore {
  readonly #c: Connection;
  readonly #runs: SweepRuns;

  constructor(c: Connection, runs: SweepRuns) {
    this.#c = c;
    this.#runs = runs;
  }

  async create(name: string, config: object, jobs: readonly NewJob[], replaces: (existing: JobRecord[] | undefined) => boolean): Promise<void> {
    this.#c.immediate(() => {
      const existing = this.findNow(name) && this.jobsNow(name);
      if (replaces(existing)) this.#c.stmt('DELETE FROM sweeps WHERE name = ?').run(name); // jobs cascade
      const taken = this.#c.stmt('SELECT name FROM runs WHERE name = ? OR id = ?');
      for (const j of jobs) {
        const run = taken.get(j.runName, j.runName) as { name: string } | undefined;
        if (run) throw new UsageError(`a run named '${run.name}' is already in the store (kept from an earlier sweep?); plan under another sweep name`);
      }
      this.#c.stmt('INSERT INTO sweeps (name, config, created_at) VALUES (?, ?, ?)').run(name, JSON.stringify(config), new Date().toISOString());
      const insertJob = this.#c.stmt(
        "INSERT INTO jobs (sweep, idx, options, run_name, status, estimated_seconds) VALUES (?, ?, ?, ?, 'queued', ?)");
      jobs.forEach((j, i) => insertJob.run(name, i, JSON.stringify(j.options), j.runName, j.estimatedSeconds));
    });
  }

  async remove(name: string, o: { refuse: (jobs: JobRecord[]) => void; deleteRuns: boolean }): Promise<{ jobs: JobRecord[]; runs: RunRecord[] }> {
    return this.#c.immediate(() => {
      if (!this.findNow(name)) throw unknownSweep(name);
      const jobs = this.jobsNow(name);
      o.refuse(jobs);
      // The sweep's verify runs belong to it too; read before anything is gone.
      const names = [...new Set([...jobs.map((j) => j.runName), ...this.#runs.namingSweep(name)])];
      const runs = o.deleteRuns ? this.#runs.delete(names) : names.flatMap((n) => this.#runs.find(n) ?? []);
      this.#c.stmt('DELETE FROM sweeps WHERE name = ?').run(name); // jobs cascade
      return { jobs, runs };
    });
  }

  async find(name: string): Promise<SweepRecord | undefined> {
    return this.findNow(name);
  }

  private findNow(name: string): SweepRecord | undefined {
    const r = this.#c.stmt('SELECT * FROM sweeps WHERE name = ?').get(name) as SweepRow | undefined;
    return r && toSweep(r);
  }

  async get(name: string): Promise<SweepRecord> {
    const s = this.findNow(name);
    if (!s) throw unknownSweep(name);
    return s;
  }

  async list(): Promise<SweepRecord[]> {
    return (this.#c.stmt('SELECT * FROM sweeps ORDER BY created_at DESC').all() as SweepRow[]).map(toSweep);
  }

  async names(): Promise<Set<string>> {
    return new Set((this.#c.stmt('SELECT name FROM sweeps').all() as { name: string }[]).map((s) => s.name));
  }

  async jobs(sweep: string): Promise<JobRecord[]> {
    return this.jobsNow(sweep);
  }

  private jobsNow(sweep: string): JobRecord[] {
    return (this.#c.stmt('SELECT * FROM jobs WHERE sweep = ? ORDER BY idx').all(sweep) as JobRow[]).map(toJob);
  }

  async sweepOfRun(runName: string): Promise<string | undefined> {
    return (this.#c.stmt('SELECT sweep FROM jobs WHERE run_name = ?').get(runName) as { sweep: string } | undefined)?.sweep;
  }

  async sweepsOfRuns(): Promise<Map<string, string>> {
    const rows = this.#c.stmt('SELECT run_name, sweep FROM jobs').all() as { run_name: string; sweep: string }[];
    return new Map(rows.map((j) => [j.run_name, j.sweep]));
  }

  async claim(worker: string, leaseSeconds: number, sweep?: string): Promise<JobRecord | null> {
    return this.#c.immediate(() => {
      const t = now();
      const row = this.#c.stmt(
        `SELECT * FROM jobs WHERE (status = 'queued' OR (status = 'running' AND lease_expires < ?))
         ${sweep ? 'AND sweep = ?' : ''} ORDER BY sweep, idx LIMIT 1`,
      ).get(...(sweep ? [t, sweep] : [t])) as JobRow | undefined;
      if (!row) return null;
      this.#c.stmt(
        `UPDATE jobs SET status = 'running', worker = ?, lease_expires = ?, attempts = attempts + 1,
         started_at = COALESCE(started_at, ?) WHERE sweep = ? AND idx = ?`,
      ).run(worker, t + leaseSeconds, new Date().toISOString(), row.sweep, row.idx);
      return toJob({ ...row, status: 'running', worker, lease_expires: t + leaseSeconds, attempts: row.attempts + 1 });
    });
  }

  async renewLease(job: JobRecord<unknown>, worker: string, leaseSeconds: number): Promise<boolean> {
    return this.#c.stmt(
      "UPDATE jobs SET lease_expires = ? WHERE sweep = ? AND idx = ? AND worker = ? AND status = 'running'",
    ).run(now() + leaseSeconds, job.sweep, job.idx, worker).changes === 1;
  }

  async complete(job: JobRecord<unknown>, worker: string): Promise<boolean> {
    return this.#c.stmt(
      "UPDATE jobs SET status = 'done', lease_expires = NULL, error = NULL, finished_at = ? WHERE sweep = ? AND idx = ? AND worker = ? AND status = 'running'",
    ).run(new Date().toISOString(), job.sweep, job.idx, worker).changes === 1;
  }

  /** `refund`: the claim did not count as an attempt (the job never ran). */
  async release(job: JobRecord<unknown>, worker: string, outcome: { failed: boolean; error: string | null; refund?: boolean }): Promise<boolean> {
    return this.#c.stmt(
      `UPDATE jobs SET status = ?, lease_expires = NULL, worker = NULL, error = ?, finished_at = ?, attempts = attempts - ?
       WHERE sweep = ? AND idx = ? AND worker = ? AND status = 'running'`,
    ).run(outcome.failed ? 'failed' : 'queued', outcome.error, outcome.failed ? new Date().toISOString() : null, outcome.refund ? 1 : 0,
      job.sweep, job.idx, worker).changes === 1;
  }

  async counts(sweep: string): Promise<Record<JobStatus, number>> {
    const c: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of this.#c.stmt('SELECT status, COUNT(*) AS n FROM jobs WHERE sweep = ? GROUP BY status').all(sweep) as { status: JobStatus; n: number }[]) {
      c[r.status] = r.n;
    }
    return c;
  }

  async allCounts(): Promise<{ sweep: string; status: JobStatus; jobs: number }[]> {
    return (this.#c.stmt('SELECT sweep, status, COUNT(*) AS n FROM jobs GROUP BY sweep, status ORDER BY sweep, status').all() as
      { sweep: string; status: JobStatus; n: number }[]).map((r) => ({ sweep: r.sweep, status: r.status, jobs: r.n }));
  }

  async count(): Promise<number> {
    return (this.#c.stmt('SELECT COUNT(*) AS n FROM sweeps').get() as { n: number }).n;
  }

  async finished(sweep?: string): Promise<boolean> {
    const r = this.#c.stmt(
      `SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running') ${sweep ? 'AND sweep = ?' : ''}`,
    ).get(...(sweep ? [sweep] : [])) as { n: number };
    return r.n === 0;
  }
}

function unknownSweep(name: string): UsageError {
  return new UsageError(`unknown sweep '${name}'; \`scalelab sweep list\` lists them`);
}
