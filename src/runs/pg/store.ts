// The run store on PostgreSQL: the Store interface (interface.ts) over a connection pool, for
// many machines sharing one store. Same records, same rules and the same messages as the SQLite
// store (store.ts); sweeps and their queue (pg-boss) are in sweep-store.ts, chart reads in
// metric-series.ts, checkpoints and weights kept in the database in artifacts.ts. Every write
// that a dashboard shows sends a NOTIFY on CHANGES, so a dashboard on another machine hears of it
// at once (watch()).
import { UsageError } from '../../errors.js';
import { RUN_ID_PATTERN } from '../home.js';
import { defaultRunName, newRunId } from '../ids.js';
import type { Store } from '../interface.js';
import {
  RUN_STATUSES,
  type EventRecord, type MetricRow, type NewEvent, type NewRun, type RunPatch, type RunRecord, type RunStatus, type TrainerRecord,
} from '../types.js';
import type { Artifacts } from '../artifacts.js';
import { PgArtifacts } from './artifacts.js';
import { checkUrl, PgConnection, type Queryable } from './connection.js';
import { PgEvalStore } from './eval-store.js';
import { PgMetricSeries } from './metric-series.js';
import { migratePg } from './migrations.js';
import { PgSweepStore } from './sweep-store.js';
import { METRIC_COLUMNS, PATCH_COLUMNS, parseOrNull, toRun, type RunRow } from '../rows.js';

/** The channel every change is announced on. */
export const CHANGES = 'scalelab_changes';

const notify = `SELECT pg_notify('${CHANGES}', '')`;

export class PgRunStore implements Store {
  readonly sweeps: PgSweepStore;
  readonly series: PgMetricSeries;
  readonly evals: PgEvalStore;
  readonly artifacts: Artifacts;
  readonly #c: PgConnection;

  private constructor(c: PgConnection, readonly url: string, artifacts?: Artifacts) {
    this.#c = c;
    this.sweeps = new PgSweepStore(c, {
      namingSweep: (q, sweep) => runsNamingSweep(q, sweep),
      find: (q, name) => findRun(q, name),
      delete: (q, names) => deleteRuns(q, names),
    });
    this.series = new PgMetricSeries(c);
    this.evals = new PgEvalStore(c);
    this.artifacts = artifacts ?? new PgArtifacts(c);
  }

  /**
   * The store at a postgres:// URL, its tables created or migrated on first use. Opening never
   * waits: a server that cannot be reached fails the first method called, with one UsageError line.
   */
  static open(url: string, artifacts?: Artifacts): PgRunStore {
    checkUrl(url);
    return new PgRunStore(new PgConnection(url, migratePg), url, artifacts);
  }

  /** Resolves once the server has answered and the schema is current; rejects as the first method would. */
  ready(): Promise<void> {
    return this.#c.ready;
  }

  async close(): Promise<void> {
    await this.sweeps.stop();
    await this.#c.close();
  }

  /**
   * Call `onChange` whenever any process writes to the store (LISTEN on CHANGES, on a client of
   * its own); returns the function that stops listening. A lost connection is listened on again.
   */
  watch(onChange: () => void): () => void {
    let stopped = false;
    let client: import('pg').PoolClient | null = null;
    const listen = async () => {
      while (!stopped) {
        try {
          await this.#c.ready;
          client = await this.#c.pool.connect();
          if (stopped) break;
          client.on('notification', () => onChange());
          const lost = new Promise((r) => client!.once('error', r).once('end', r));
          await client.query(`LISTEN ${CHANGES}`);
          onChange(); // what changed while nobody listened
          await lost;
        } catch {
          // the server is away: try again shortly
        }
        client?.release(true);
        client = null;
        if (!stopped) await new Promise((r) => setTimeout(r, 500));
      }
    };
    void listen();
    return () => {
      stopped = true;
      client?.release(true);
      client = null;
    };
  }

  /**
   * Write a run as another store holds it (same id, name, times and counters) with its events,
   * for `store copy`; false, writing nothing, when a run of that id is here already.
   */
  async importRun(run: RunRecord, events: readonly EventRecord[]): Promise<boolean> {
    return this.#c.tx(async (t) => {
      const r = await t.query(
        `INSERT INTO runs (id, name, status, config, params, non_embedding_params, flops_per_token, tokens_target, tokens_seen, flops,
                           best_val_bpb, final_train_loss, final_val_bpb, weights_sha256, created_at, started_at, finished_at, updated_at,
                           train_seconds, host, pid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT (id) DO NOTHING`,
        [run.id, run.name, run.status, JSON.stringify(run.config), run.params, run.nonEmbeddingParams, run.flopsPerToken, run.tokensTarget,
          run.tokensSeen, run.flops, run.bestValBpb, run.finalTrainLoss, run.finalValBpb, run.weightsSha256, run.createdAt, run.startedAt,
          run.finishedAt, run.updatedAt, run.trainSeconds, run.host, run.pid]);
      if (r.rowCount === 0) return false;
      for (const e of events) {
        await t.query('INSERT INTO events (run_id, step, time, kind, message, data) VALUES ($1, $2, $3, $4, $5, $6)',
          [run.id, e.step, e.time, e.kind, e.message, e.data === null ? null : JSON.stringify(e.data)]);
      }
      await t.query(notify);
      return true;
    });
  }

  async createRun(spec: NewRun): Promise<RunRecord> {
    if (spec.name !== undefined) await this.checkNewName(spec.name);
    for (let attempt = 0; ; attempt++) {
      const id = newRunId();
      const name = spec.name ?? defaultRunName(id);
      const now = new Date().toISOString();
      try {
        await this.#c.tx(async (t) => {
          await t.query(
            `INSERT INTO runs (id, name, status, config, params, non_embedding_params, flops_per_token, tokens_target, created_at, updated_at)
             VALUES ($1, $2, 'created', $3, $4, $5, $6, $7, $8, $8)`,
            [id, name, JSON.stringify(spec.config), spec.params ?? null, spec.nonEmbeddingParams ?? null, spec.flopsPerToken ?? null, spec.tokensTarget ?? null, now]);
          await t.query(notify);
        });
        return this.getRun(id);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        if (spec.name !== undefined && /runs_name_key/.test((err as { constraint?: string }).constraint ?? '')) throw duplicateName(spec.name);
        if (attempt >= 20) throw err;
      }
    }
  }

  async updateRun(id: string, patch: RunPatch): Promise<RunRecord> {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const key of Object.keys(patch).sort() as (keyof RunPatch)[]) {
      const column = PATCH_COLUMNS[key];
      if (column === undefined) throw new Error(`updateRun: '${key}' is not an updatable run field`);
      const value = patch[key];
      if (value === undefined) continue;
      if (key === 'status' && value !== null && !RUN_STATUSES.includes(value as RunStatus)) {
        throw new Error(`updateRun: status must be one of ${RUN_STATUSES.join(', ')}, got '${String(value)}'`);
      }
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    }
    values.push(new Date().toISOString());
    sets.push(`updated_at = $${values.length}`);
    values.push(id);
    const n = await this.#c.tx(async (t) => {
      const r = await t.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $${values.length}`, values);
      await t.query(notify);
      return r.rowCount;
    });
    if (n === 0) throw unknownRun(id);
    return this.getRun(id);
  }

  /** One multi-row upsert per batch: a resumed run that logs a step again replaces it (with a new seq). */
  async logMetrics(runId: string, rows: MetricRow[]): Promise<void> {
    if (rows.length === 0) return;
    const cols = ['run_id', 'step', ...METRIC_COLUMNS];
    // Several rows of one step in one batch would make ON CONFLICT touch a row twice; the last wins, as in SQLite.
    const byStep = new Map<number, MetricRow>();
    for (const r of rows) {
      if (!Number.isSafeInteger(r.step)) throw new Error(`logMetrics: step must be an integer, got ${r.step}`);
      byStep.set(r.step, r);
    }
    const all = [...byStep.values()];
    try {
      await this.#c.tx(async (t) => {
        // A statement takes at most 65535 parameters: 5000 rows of 10 at a time.
        for (let from = 0; from < all.length; from += 5000) {
          const values: unknown[] = [];
          const tuples: string[] = [];
          for (const r of all.slice(from, from + 5000)) {
            const base = values.length;
            values.push(runId, r.step, r.tokens ?? null, r.flops ?? null, r.trainLoss ?? null, r.valBpb ?? null, r.lr ?? null,
              r.tokensPerS ?? null, r.gradNorm ?? null, r.time ?? null);
            tuples.push(`(${cols.map((_, i) => `$${base + i + 1}`).join(', ')})`);
          }
          await t.query(
            `INSERT INTO metrics (${cols.join(', ')}) VALUES ${tuples.join(', ')}
             ON CONFLICT (run_id, step) DO UPDATE SET ${METRIC_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, seq = nextval('metrics_seq')`,
            values);
        }
        await t.query(notify);
      });
    } catch (err) {
      throw foreignKeyToUnknownRun(err, runId);
    }
  }

  async logEvent(runId: string, event: NewEvent): Promise<number> {
    try {
      const r = await this.#c.query<{ id: number }>(
        'INSERT INTO events (run_id, step, time, kind, message, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [runId, event.step ?? null, new Date().toISOString(), event.kind, event.message, event.data === undefined ? null : JSON.stringify(event.data)]);
      return r.rows[0].id;
    } catch (err) {
      throw foreignKeyToUnknownRun(err, runId);
    }
  }

  async getRun(idOrName: string): Promise<RunRecord> {
    const run = await this.findRun(idOrName);
    if (run === undefined) throw unknownRun(idOrName);
    return run;
  }

  async findRun(idOrName: string): Promise<RunRecord | undefined> {
    return findRun(this.#c, idOrName);
  }

  async listRuns(options: { status?: RunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    const { status, limit } = options;
    if (status !== undefined && !RUN_STATUSES.includes(status)) throw new UsageError(`unknown status '${status}'; use one of ${RUN_STATUSES.join(', ')}`);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new UsageError(`limit must be a positive integer, got ${limit}`);
    const r = await this.#c.query<RunRow>(
      `SELECT * FROM runs WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2`, [status ?? null, limit ?? null]);
    return r.rows.map(toRun);
  }

  async lastRunUpdate(): Promise<string> {
    return (await this.#c.query<{ m: string | null }>('SELECT MAX(updated_at) AS m FROM runs')).rows[0].m ?? '';
  }

  async runsUpdatedSince(at: string): Promise<{ id: string; updatedAt: string }[]> {
    const r = await this.#c.query<{ id: string; updated_at: string }>('SELECT id, updated_at FROM runs WHERE updated_at >= $1 ORDER BY updated_at', [at]);
    return r.rows.map((x) => ({ id: x.id, updatedAt: x.updated_at }));
  }

  async metrics(runId: string, options: { sinceStep?: number } = {}): Promise<Required<MetricRow>[]> {
    const since = options.sinceStep ?? -1; // steps are never negative
    const r = await this.#c.query(`SELECT step, ${METRIC_COLUMNS.join(', ')} FROM metrics WHERE run_id = $1 AND step > $2 ORDER BY step`, [runId, since]);
    if (r.rows.length === 0) await this.assertRunExists(runId);
    return r.rows.map((x) => ({
      step: x.step, tokens: x.tokens, flops: x.flops, trainLoss: x.train_loss, valBpb: x.val_bpb, lr: x.lr,
      tokensPerS: x.tokens_per_s, gradNorm: x.grad_norm, time: x.time,
    }));
  }

  async events(runId: string): Promise<EventRecord[]> {
    const r = await this.#c.query('SELECT * FROM events WHERE run_id = $1 ORDER BY id', [runId]);
    if (r.rows.length === 0) await this.assertRunExists(runId);
    return r.rows.map((x) => ({
      id: x.id, runId: x.run_id, step: x.step, time: x.time, kind: x.kind, message: x.message, data: x.data === null ? null : JSON.parse(x.data),
    }));
  }

  async eventsOfKind(kind: string): Promise<{ runName: string; data: unknown }[]> {
    const r = await this.#c.query('SELECT r.name AS name, e.data AS data FROM events e JOIN runs r ON r.id = e.run_id WHERE e.kind = $1 ORDER BY e.id', [kind]);
    return r.rows.map((x) => ({ runName: x.name, data: parseOrNull(x.data) }));
  }

  async deleteRuns(names: readonly string[]): Promise<RunRecord[]> {
    return this.#c.tx((t) => deleteRuns(t, names));
  }

  async runsNamingSweep(sweep: string): Promise<string[]> {
    return runsNamingSweep(this.#c, sweep);
  }

  async trainerOf(runId: string): Promise<TrainerRecord | null> {
    const r = (await this.#c.query('SELECT pid, host, trainer_token, trainer_start, trainer_heartbeat FROM runs WHERE id = $1', [runId])).rows[0];
    if (r === undefined) throw unknownRun(runId);
    if (r.trainer_token === null) return null;
    return { pid: r.pid ?? 0, host: r.host ?? '', token: r.trainer_token, start: r.trainer_start, heartbeat: r.trainer_heartbeat ?? 0 };
  }

  async claimTrainer(runId: string, trainer: TrainerRecord, seenToken: string | null): Promise<boolean> {
    const r = await this.#c.query(
      `UPDATE runs SET pid = $1, host = $2, trainer_token = $3, trainer_start = $4, trainer_heartbeat = $5, updated_at = $6
       WHERE id = $7 AND trainer_token IS NOT DISTINCT FROM $8`,
      [trainer.pid, trainer.host, trainer.token, trainer.start, trainer.heartbeat, new Date().toISOString(), runId, seenToken]);
    return r.rowCount === 1;
  }

  async beatTrainer(runId: string, token: string, at = Date.now() / 1000): Promise<boolean> {
    return (await this.#c.query('UPDATE runs SET trainer_heartbeat = $1 WHERE id = $2 AND trainer_token = $3', [at, runId, token])).rowCount === 1;
  }

  async releaseTrainer(runId: string, token: string): Promise<boolean> {
    return (await this.#c.query('UPDATE runs SET trainer_token = NULL, trainer_start = NULL, trainer_heartbeat = NULL WHERE id = $1 AND trainer_token = $2', [runId, token])).rowCount === 1;
  }

  private async assertRunExists(runId: string): Promise<void> {
    if ((await this.#c.query('SELECT 1 FROM runs WHERE id = $1', [runId])).rows.length === 0) throw unknownRun(runId);
  }

  private async checkNewName(name: string): Promise<void> {
    if (!RUN_ID_PATTERN.test(name)) {
      throw new UsageError(`bad run name '${name}': use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    if ((await this.#c.query('SELECT 1 FROM runs WHERE id = $1 OR name = $1', [name])).rows.length > 0) throw duplicateName(name);
  }
}

async function findRun(q: Queryable, idOrName: string): Promise<RunRecord | undefined> {
  const r = await q.query<RunRow>('SELECT * FROM runs WHERE id = $1 UNION ALL SELECT * FROM runs WHERE name = $1 AND id <> $1 LIMIT 1', [idOrName]);
  return r.rows[0] && toRun(r.rows[0]);
}

async function deleteRuns(q: Queryable, names: readonly string[]): Promise<RunRecord[]> {
  const gone: RunRecord[] = [];
  for (const name of names) {
    const r = await q.query<RunRow>('DELETE FROM runs WHERE name = $1 RETURNING *', [name]); // metrics, events, artifacts cascade
    if (r.rows[0]) gone.push(toRun(r.rows[0]));
  }
  await q.query(notify);
  return gone;
}

async function runsNamingSweep(q: Queryable, sweep: string): Promise<string[]> {
  const r = await q.query<{ name: string }>(
    `SELECT name FROM runs WHERE (config::jsonb) #>> '{train,sweep}' = $1
     UNION SELECT r.name FROM events e JOIN runs r ON r.id = e.run_id WHERE e.kind = 'verify' AND (e.data::jsonb) ->> 'sweep' = $1`, [sweep]);
  return r.rows.map((x) => x.name);
}


function unknownRun(idOrName: string): UsageError {
  return new UsageError(`unknown run '${idOrName}'; \`scalelab runs\` lists them`);
}

function duplicateName(name: string): UsageError {
  return new UsageError(`a run named '${name}' already exists; pick another --name or --resume it`);
}

function foreignKeyToUnknownRun(err: unknown, runId: string): unknown {
  return (err as { code?: string }).code === '23503' ? unknownRun(runId) : err;
}
