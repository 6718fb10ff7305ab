// Sweeps and their jobs on PostgreSQL, with pg-boss as the queue (docs/queue.md says why). Each
// sweep is a pg-boss queue and each job a pg-boss job in it; pg-boss hands a job to exactly one
// worker (FOR UPDATE SKIP LOCKED), counts its retries, expires a job held too long, and keeps
// its state. The jobs table beside it keeps what scalelab reports (status, attempts, worker, its
// heartbeat lease, error, times) and is changed in the same transaction as the pg-boss job, so
// the two never disagree.
//
// pg-boss 10 (the last for Node 20) has no heartbeat: a job's expiry is fixed when it is sent.
// So the engine's expiry is the safety net (several times the job's estimate), and the worker's
// heartbeat lease in the jobs table is what notices a dead worker quickly: a claim that finds a
// lease run out fails that job in pg-boss, which retries it or, past its retry limit, fails it.
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { UsageError } from '../../errors.js';
import type { SweepStore } from '../interface.js';
import { JOB_ATTEMPTS, type JobRecord, type JobStatus, type NewJob, type RunRecord, type SweepRecord } from '../types.js';
import type { PgConnection, Queryable } from './connection.js';
import { toJob, toSweep, type JobRow as BaseJobRow, type SweepRow } from '../rows.js';

/** A job's row here also names its pg-boss job. */
interface JobRow extends BaseJobRow { boss_id: string | null }

const now = () => Date.now() / 1000;

/** The pg-boss queue of a sweep. */
export const queueOf = (sweep: string) => `scalelab.sweep.${sweep}`;

/** Seconds pg-boss lets a job stay active: a multiple of its estimate, at least an hour, at most its 24-hour limit. */
export function expirySeconds(estimated: number | null): number {
  return Math.min(23 * 3600, Math.max(3600, Math.ceil(4 * (estimated ?? 3600))));
}

/** The run store's reads and deletes a sweep's removal makes inside its transaction. */
export interface PgSweepRuns {
  namingSweep(q: Queryable, sweep: string): Promise<string[]>;
  find(q: Queryable, name: string): Promise<RunRecord | undefined>;
  delete(q: Queryable, names: readonly string[]): Promise<RunRecord[]>;
}

/** pg-boss runs its statements through this: on the pool (with its reconnects), or inside a transaction. */
const executor = (q: Queryable): PgBoss.Db => ({ executeSql: (text, values) => q.query(text, values) });

export class PgSweepStore implements SweepStore {
  readonly #c: PgConnection;
  readonly #runs: PgSweepRuns;
  #boss: Promise<PgBoss> | null = null;

  constructor(c: PgConnection, runs: PgSweepRuns) {
    this.#c = c;
    this.#runs = runs;
  }

  /** pg-boss, started (its schema installed or migrated) on first use. */
  private boss(): Promise<PgBoss> {
    this.#boss ??= (async () => {
      const boss = new PgBoss({ db: executor(this.#c), schedule: false, supervise: true, maintenanceIntervalSeconds: 60 });
      boss.on('error', () => {}); // maintenance that failed (a server restart) runs again at its next interval
      await boss.start();
      return boss;
    })();
    return this.#boss;
  }

  async stop(): Promise<void> {
    const b = this.#boss;
    this.#boss = null;
    if (b) await (await b).stop({ graceful: false, wait: true }).catch(() => {});
  }

  async create(name: string, config: object, jobs: readonly NewJob[], replaces: (existing: JobRecord[] | undefined) => boolean): Promise<void> {
    const boss = await this.boss();
    const queue = queueOf(name);
    if (!(await boss.getQueue(queue))) {
      try {
        await boss.createQueue(queue, { name: queue, retryLimit: JOB_ATTEMPTS - 1, retryDelay: 0 });
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err; // created meanwhile by another process
      }
    }
    await this.#c.tx(async (t) => {
      await t.query('LOCK TABLE sweeps IN SHARE ROW EXCLUSIVE MODE'); // plans of one name, one after another
      const existing = (await findSweep(t, name)) && (await jobRows(t, name));
      if (replaces(existing?.map(toJob))) {
        const ids = existing!.map((j) => j.boss_id).filter((x): x is string => x !== null);
        if (ids.length) await boss.deleteJob(queue, ids, { db: executor(t) });
        await t.query('DELETE FROM sweeps WHERE name = $1', [name]);
      }
      for (const j of jobs) {
        const r = await t.query('SELECT name FROM runs WHERE name = $1 OR id = $1', [j.runName]);
        if (r.rows[0]) throw new UsageError(`a run named '${r.rows[0].name}' is already in the store (kept from an earlier sweep?); plan under another sweep name`);
      }
      await t.query('INSERT INTO sweeps (name, config, created_at) VALUES ($1, $2, $3)', [name, JSON.stringify(config), new Date().toISOString()]);
      const ids = jobs.map(() => randomUUID());
      for (const [i, j] of jobs.entries()) {
        await t.query(`INSERT INTO jobs (sweep, idx, options, run_name, status, estimated_seconds, boss_id) VALUES ($1, $2, $3, $4, 'queued', $5, $6)`,
          [name, i, JSON.stringify(j.options), j.runName, j.estimatedSeconds, ids[i]]);
      }
      // Priorities fall with the index, so jobs are handed out in plan order, as SQLite does.
      if (jobs.length) {
        await boss.insert(jobs.map((j, i) => ({
          id: ids[i], name: queue, data: { sweep: name, idx: i }, priority: jobs.length - i,
          retryLimit: JOB_ATTEMPTS - 1, retryDelay: 0, expireInSeconds: expirySeconds(j.estimatedSeconds),
        })), { db: executor(t) });
      }
    });
  }

  /**
   * Write a sweep as another store holds it (for `store copy`): its jobs keep their status,
   * attempts and times; the unfinished ones (a running one as queued: its worker is elsewhere) go
   * to pg-boss. False, writing nothing, when a sweep of that name is here already.
   */
  async importSweep(sweep: SweepRecord, jobs: readonly JobRecord[]): Promise<boolean> {
    const boss = await this.boss();
    const queue = queueOf(sweep.name);
    if (!(await boss.getQueue(queue))) await boss.createQueue(queue, { name: queue, retryLimit: JOB_ATTEMPTS - 1, retryDelay: 0 });
    return this.#c.tx(async (t) => {
      const r = await t.query('INSERT INTO sweeps (name, config, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
        [sweep.name, JSON.stringify(sweep.config), sweep.createdAt]);
      if (r.rowCount === 0) return false;
      const open: { id: string; idx: number; estimated: number | null }[] = [];
      for (const j of jobs) {
        const unfinished = j.status === 'queued' || j.status === 'running';
        const id = unfinished ? randomUUID() : null;
        if (id) open.push({ id, idx: j.idx, estimated: j.estimatedSeconds });
        await t.query(
          `INSERT INTO jobs (sweep, idx, options, run_name, status, attempts, estimated_seconds, error, started_at, finished_at, boss_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [sweep.name, j.idx, JSON.stringify(j.options), j.runName, unfinished ? 'queued' : j.status, j.attempts, j.estimatedSeconds, j.error,
            j.startedAt, j.finishedAt, id]);
      }
      if (open.length) {
        await boss.insert(open.map((o) => ({
          id: o.id, name: queue, data: { sweep: sweep.name, idx: o.idx }, priority: jobs.length - o.idx,
          retryLimit: JOB_ATTEMPTS - 1, retryDelay: 0, expireInSeconds: expirySeconds(o.estimated),
        })), { db: executor(t) });
      }
      return true;
    });
  }

  async remove(name: string, o: { refuse: (jobs: JobRecord[]) => void; deleteRuns: boolean }): Promise<{ jobs: JobRecord[]; runs: RunRecord[] }> {
    const boss = await this.boss();
    const out = await this.#c.tx(async (t) => {
      if (!(await findSweep(t, name, true))) throw unknownSweep(name);
      const rows = await jobRows(t, name);
      const jobs = rows.map(toJob);
      o.refuse(jobs);
      // pg-boss 10 drops a queue only once it holds no jobs.
      const ids = rows.map((j) => j.boss_id).filter((x): x is string => x !== null);
      if (ids.length) await boss.deleteJob(queueOf(name), ids, { db: executor(t) });
      const names = [...new Set([...jobs.map((j) => j.runName), ...(await this.#runs.namingSweep(t, name))])];
      const runs = o.deleteRuns ? await this.#runs.delete(t, names) : (await Promise.all(names.map((n) => this.#runs.find(t, n)))).filter((r): r is RunRecord => !!r);
      await t.query('DELETE FROM sweeps WHERE name = $1', [name]);
      return { jobs, runs };
    });
    // The queue goes once the sweep has: a worker still on one of its jobs loses its lease at its next heartbeat.
    await boss.deleteQueue(queueOf(name));
    return out;
  }

  async find(name: string): Promise<SweepRecord | undefined> {
    const r = await findSweep(this.#c, name);
    return r && toSweep(r);
  }

  async get(name: string): Promise<SweepRecord> {
    const s = await this.find(name);
    if (!s) throw unknownSweep(name);
    return s;
  }

  async list(): Promise<SweepRecord[]> {
    return (await this.#c.query<SweepRow>('SELECT * FROM sweeps ORDER BY created_at DESC')).rows.map(toSweep);
  }

  async names(): Promise<Set<string>> {
    return new Set((await this.#c.query<{ name: string }>('SELECT name FROM sweeps')).rows.map((s) => s.name));
  }

  async jobs(sweep: string): Promise<JobRecord[]> {
    return (await jobRows(this.#c, sweep)).map(toJob);
  }

  async sweepOfRun(runName: string): Promise<string | undefined> {
    return (await this.#c.query<{ sweep: string }>('SELECT sweep FROM jobs WHERE run_name = $1', [runName])).rows[0]?.sweep;
  }

  async sweepsOfRuns(): Promise<Map<string, string>> {
    const rows = (await this.#c.query<{ run_name: string; sweep: string }>('SELECT run_name, sweep FROM jobs')).rows;
    return new Map(rows.map((j) => [j.run_name, j.sweep]));
  }

  /**
   * The next job from pg-boss, for `worker`: of one sweep, or of every sweep in name order. Jobs
   * whose worker stopped heartbeating are failed in pg-boss first, so it retries them.
   */
  async claim(worker: string, leaseSeconds: number, sweep?: string): Promise<JobRecord | null> {
    const boss = await this.boss();
    await this.reapExpired(boss, sweep);
    const sweeps = sweep ? [sweep] : [...(await this.names())].sort();
    for (const s of sweeps) {
      for (;;) {
        const claimed = await this.#c.tx(async (t) => {
          const [job] = await boss.fetch<{ sweep: string; idx: number }>(queueOf(s), { db: executor(t) });
          if (!job) return null;
          const r = await t.query<JobRow>(
            `UPDATE jobs SET status = 'running', worker = $1, lease_expires = $2, attempts = attempts + 1, started_at = COALESCE(started_at, $3), error = NULL
             WHERE sweep = $4 AND idx = $5 AND status IN ('queued', 'running') RETURNING *`,
            [worker, now() + leaseSeconds, new Date().toISOString(), job.data.sweep, job.data.idx]);
          // A pg-boss job whose row says it is over (or is gone) is settled here and skipped.
          if (!r.rows[0]) {
            await boss.cancel(queueOf(s), job.id, { db: executor(t) });
            return 'skip' as const;
          }
          return toJob(r.rows[0]);
        });
        if (claimed === 'skip') continue;
        if (claimed) return claimed;
        break;
      }
    }
    return null;
  }

  /** Fail in pg-boss the jobs whose worker's lease has run out; the row follows what pg-boss decided. */
  private async reapExpired(boss: PgBoss, sweep?: string): Promise<void> {
    const stale = await this.#c.query<JobRow>(
      `SELECT * FROM jobs WHERE status = 'running' AND lease_expires < $1 ${sweep ? 'AND sweep = $2' : ''}`, sweep ? [now(), sweep] : [now()]);
    for (const j of stale.rows) {
      await this.#c.tx(async (t) => {
        const r = await t.query(`SELECT 1 FROM jobs WHERE sweep = $1 AND idx = $2 AND worker IS NOT DISTINCT FROM $3 AND status = 'running' AND lease_expires < $4 FOR UPDATE SKIP LOCKED`,
          [j.sweep, j.idx, j.worker, now()]);
        if (!r.rows[0] || !j.boss_id) return; // another claimer got there first
        const queue = queueOf(j.sweep);
        await boss.fail(queue, j.boss_id, { message: `worker ${j.worker} stopped renewing its lease` }, { db: executor(t) });
        const after = await boss.getJobById(queue, j.boss_id, { db: executor(t), includeArchive: false });
        const failed = after?.state === 'failed';
        await t.query(`UPDATE jobs SET status = $1, worker = NULL, lease_expires = NULL, error = $2, finished_at = $3 WHERE sweep = $4 AND idx = $5`,
          [failed ? 'failed' : 'queued', `worker ${j.worker} stopped renewing its lease`, failed ? new Date().toISOString() : null, j.sweep, j.idx]);
      });
    }
  }

  async renewLease(job: JobRecord<unknown>, worker: string, leaseSeconds: number): Promise<boolean> {
    const r = await this.#c.query("UPDATE jobs SET lease_expires = $1 WHERE sweep = $2 AND idx = $3 AND worker = $4 AND status = 'running'",
      [now() + leaseSeconds, job.sweep, job.idx, worker]);
    return r.rowCount === 1;
  }

  async complete(job: JobRecord<unknown>, worker: string): Promise<boolean> {
    const boss = await this.boss();
    return this.#c.tx(async (t) => {
      const r = await t.query<{ boss_id: string | null }>(
        "UPDATE jobs SET status = 'done', lease_expires = NULL, error = NULL, finished_at = $1 WHERE sweep = $2 AND idx = $3 AND worker = $4 AND status = 'running' RETURNING boss_id",
        [new Date().toISOString(), job.sweep, job.idx, worker]);
      if (!r.rows[0]) return false;
      if (r.rows[0].boss_id) await boss.complete(queueOf(job.sweep), r.rows[0].boss_id, {}, { db: executor(t) });
      return true;
    });
  }

  async release(job: JobRecord<unknown>, worker: string, outcome: { failed: boolean; error: string | null; refund?: boolean }): Promise<boolean> {
    const boss = await this.boss();
    return this.#c.tx(async (t) => {
      const r = await t.query<{ boss_id: string | null }>(
        `UPDATE jobs SET status = $1, lease_expires = NULL, worker = NULL, error = $2, finished_at = $3, attempts = attempts - $4
         WHERE sweep = $5 AND idx = $6 AND worker = $7 AND status = 'running' RETURNING boss_id`,
        [outcome.failed ? 'failed' : 'queued', outcome.error, outcome.failed ? new Date().toISOString() : null, outcome.refund ? 1 : 0,
          job.sweep, job.idx, worker]);
      const id = r.rows[0]?.boss_id;
      if (r.rows.length === 0) return false;
      if (!id) return true;
      const queue = queueOf(job.sweep), db = executor(t);
      if (outcome.error !== null && !outcome.refund) {
        // A failure: pg-boss counts it, and retries the job or (past its limit) fails it.
        await boss.fail(queue, id, { message: outcome.error }, { db });
        if (outcome.failed) await boss.cancel(queue, id, { db }); // failed here even if pg-boss had a retry left
      } else {
        // A clean stop, or a job that never ran: back in the queue as it was, no retry spent.
        await boss.cancel(queue, id, { db });
        await boss.resume(queue, id, { db });
      }
      return true;
    });
  }

  async counts(sweep: string): Promise<Record<JobStatus, number>> {
    const c: Record<JobStatus, number> = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of (await this.#c.query<{ status: JobStatus; n: number }>('SELECT status, COUNT(*)::int AS n FROM jobs WHERE sweep = $1 GROUP BY status', [sweep])).rows) c[r.status] = r.n;
    return c;
  }

  async allCounts(): Promise<{ sweep: string; status: JobStatus; jobs: number }[]> {
    const r = await this.#c.query<{ sweep: string; status: JobStatus; n: number }>(
      'SELECT sweep, status, COUNT(*)::int AS n FROM jobs GROUP BY sweep, status ORDER BY sweep, status');
    return r.rows.map((x) => ({ sweep: x.sweep, status: x.status, jobs: x.n }));
  }

  async count(): Promise<number> {
    return (await this.#c.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM sweeps')).rows[0].n;
  }

  async finished(sweep?: string): Promise<boolean> {
    const r = await this.#c.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM jobs WHERE status IN ('queued', 'running') ${sweep ? 'AND sweep = $1' : ''}`, sweep ? [sweep] : []);
    return r.rows[0].n === 0;
  }
}

async function findSweep(q: Queryable, name: string, lock = false): Promise<SweepRow | undefined> {
  return (await q.query<SweepRow>(`SELECT * FROM sweeps WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [name])).rows[0];
}

async function jobRows(q: Queryable, sweep: string): Promise<JobRow[]> {
  return (await q.query<JobRow>('SELECT * FROM jobs WHERE sweep = $1 ORDER BY idx', [sweep])).rows;
}

function unknownSweep(name: string): UsageError {
  return new UsageError(`unknown sweep '${name}'; \`scalelab sweep list\` lists them`);
}
