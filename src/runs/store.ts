// The run store: one SQLite database per scalelab home that every process (trainers, the CLI,
// a dashboard) opens at once, through the connection in connection.ts. Its methods are the
// Store interface (interface.ts): runs, metrics and events here, sweeps and jobs in
// sweep-store.ts, chart reads of metrics in metric-series.ts. The connection stays inside this
// folder: nothing else writes or reads SQL.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { RunFolderArtifacts, type Artifacts } from './artifacts.js';
import { Connection } from './connection.js';
import { RUN_ID_PATTERN } from './home.js';
import { defaultRunName, newRunId } from './ids.js';
import type { Store } from './interface.js';
import { SqliteMetricSeries } from './metric-series.js';
import { SqliteSweepStore } from './sweep-store.js';
import { SqliteEvalStore } from './eval-store.js';
import { METRIC_COLUMNS, PATCH_COLUMNS, parseOrNull, toRun, type RunRow } from './rows.js';
import {
  RUN_STATUSES,
  type EventRecord, type MetricRow, type NewEvent, type NewRun, type RunPatch, type RunRecord, type RunStatus, type TrainerRecord,
} from './types.js';

export const DB_FILE = 'scalelab.db';

interface MetricDbRow {
  step: number; tokens: number | null; flops: number | null; train_loss: number | null; val_bpb: number | null;
  lr: number | null; tokens_per_s: number | null; grad_norm: number | null; time: number | null;
}

interface EventDbRow {
  id: number; run_id: string; step: number | null; time: string; kind: string; message: string; data: string | null;
}

export class RunStore implements Store {
  readonly sweeps: SqliteSweepStore;
  readonly series: SqliteMetricSeries;
  readonly evals: SqliteEvalStore;
  readonly artifacts: Artifacts;

  // A true private field: not even a cast reaches the connection from outside.
  readonly #connection: Connection;

  private constructor(connection: Connection, readonly file: string, artifacts: Artifacts = new RunFolderArtifacts()) {
    this.#connection = connection;
    this.artifacts = artifacts;
    // A sweep's removal reads and deletes its runs inside its own transaction.
    this.sweeps = new SqliteSweepStore(connection, {
      namingSweep: (sweep) => this.runsNamingSweepNow(sweep),
      find: (name) => this.findNow(name),
      delete: (names) => this.deleteRunsNow(names),
    });
    this.series = new SqliteMetricSeries(connection);
    this.evals = new SqliteEvalStore(connection);
  }

  /** Open (creating and migrating if needed) `<home>/scalelab.db`. */
  static open(home: string, artifacts?: Artifacts): RunStore {
    fs.mkdirSync(home, { recursive: true });
    const file = path.join(home, DB_FILE);
    try {
      return new RunStore(Connection.open(file), file, artifacts);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_NOTADB') {
        throw new UsageError(`${file} is not a scalelab database; move it away or pass another --home DIR`);
      }
      throw err;
    }
  }

  /**
   * Open the store of an existing home for a command that only reads. A home without a
   * database yet reads as empty, from a database in memory: nothing is created on disk.
   */
  static openForReading(home: string, artifacts?: Artifacts): RunStore {
    const file = path.join(home, DB_FILE);
    if (fs.existsSync(file)) return RunStore.open(home, artifacts);
    return new RunStore(Connection.inMemory(file), file, artifacts);
  }

  async close(): Promise<void> {
    this.#connection.close();
  }

  async createRun(spec: NewRun): Promise<RunRecord> {
    if (spec.name !== undefined) this.checkNewName(spec.name);
    // Retry only when the id or a generated name collides; a user's duplicate name is their error.
    for (let attempt = 0; ; attempt++) {
      const id = newRunId();
      const name = spec.name ?? defaultRunName(id);
      const now = new Date().toISOString();
      try {
        this.stmt(
          `INSERT INTO runs (id, name, status, config, params, non_embedding_params, flops_per_token, tokens_target,
                             created_at, updated_at)
           VALUES (?, ?, 'created', ?, ?, ?, ?, ?, ?, ?)`,
        ).run(id, name, JSON.stringify(spec.config), num(spec.params), num(spec.nonEmbeddingParams),
          num(spec.flopsPerToken), num(spec.tokensTarget), now, now);
        return this.runNow(id);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code !== 'SQLITE_CONSTRAINT_UNIQUE' && e.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
        if (spec.name !== undefined && /runs\.name/.test(e.message ?? '')) throw duplicateName(spec.name);
        if (attempt >= 20) throw err;
      }
    }
  }

  /** Apply `patch` (undefined fields are left alone, null clears) and bump updatedAt. */
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
      sets.push(`${column} = ?`);
      values.push(value);
    }
    sets.push('updated_at = ?');
    values.push(new Date().toISOString());
    const info = this.stmt(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    if (info.changes === 0) throw unknownRun(id);
    return this.runNow(id);
  }

  /** Record metric rows in one transaction; a (run, step) already present is replaced. */
  async logMetrics(runId: string, rows: MetricRow[]): Promise<void> {
    if (rows.length === 0) return;
    const insert = this.stmt(
      `INSERT OR REPLACE INTO metrics (run_id, step, ${METRIC_COLUMNS.join(', ')})
       VALUES (?, ?, ${METRIC_COLUMNS.map(() => '?').join(', ')})`,
    );
    try {
      this.#connection.immediate(() => {
        for (const r of rows) {
          if (!Number.isSafeInteger(r.step)) throw new Error(`logMetrics: step must be an integer, got ${r.step}`);
          insert.run(runId, r.step, num(r.tokens), num(r.flops), num(r.trainLoss), num(r.valBpb), num(r.lr),
            num(r.tokensPerS), num(r.gradNorm), num(r.time));
        }
      });
    } catch (err) {
      throw foreignKeyToUnknownRun(err, runId);
    }
  }

  /** Append an event to a run's log; returns the event's id. */
  async logEvent(runId: string, event: NewEvent): Promise<number> {
    try {
      const info = this.stmt(
        `INSERT INTO events (run_id, step, time, kind, message, data) VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(runId, num(event.step), new Date().toISOString(), event.kind, event.message,
        event.data === undefined ? null : JSON.stringify(event.data));
      return Number(info.lastInsertRowid);
    } catch (err) {
      throw foreignKeyToUnknownRun(err, runId);
    }
  }

  /** The run with this id, else the run with this name; UsageError if neither exists. */
  async getRun(idOrName: string): Promise<RunRecord> {
    return this.runNow(idOrName);
  }

  async findRun(idOrName: string): Promise<RunRecord | undefined> {
    return this.findNow(idOrName);
  }

  /** getRun, answered at once (for use inside a transaction). */
  private runNow(idOrName: string): RunRecord {
    const run = this.findNow(idOrName);
    if (run === undefined) throw unknownRun(idOrName);
    return run;
  }

  /** Ids win over names; createRun refuses a name that equals an existing id, so this is unambiguous. */
  private findNow(idOrName: string): RunRecord | undefined {
    const row = (this.stmt('SELECT * FROM runs WHERE id = ?').get(idOrName)
      ?? this.stmt('SELECT * FROM runs WHERE name = ?').get(idOrName)) as RunRow | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  /** Runs, newest first; `limit` keeps the newest N. */
  async listRuns(options: { status?: RunStatus; limit?: number } = {}): Promise<RunRecord[]> {
    const { status, limit } = options;
    if (status !== undefined && !RUN_STATUSES.includes(status)) {
      throw new UsageError(`unknown status '${status}'; use one of ${RUN_STATUSES.join(', ')}`);
    }
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new UsageError(`limit must be a positive integer, got ${limit}`);
    }
    // LIMIT -1 means no limit in SQLite, which keeps this to two cached statements.
    const rows = (status === undefined
      ? this.stmt('SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?').all(limit ?? -1)
      : this.stmt('SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(status, limit ?? -1)
    ) as RunRow[];
    return rows.map(toRun);
  }

  /** The newest updatedAt of any run ('' in an empty store). */
  async lastRunUpdate(): Promise<string> {
    return (this.stmt('SELECT MAX(updated_at) AS m FROM runs').get() as { m: string | null }).m ?? '';
  }

  /** Runs updated at or after `at`, oldest change first. */
  async runsUpdatedSince(at: string): Promise<{ id: string; updatedAt: string }[]> {
    return (this.stmt('SELECT id, updated_at FROM runs WHERE updated_at >= ? ORDER BY updated_at').all(at) as { id: string; updated_at: string }[])
      .map((r) => ({ id: r.id, updatedAt: r.updated_at }));
  }

  /** A run's metrics in step order; with `sinceStep`, only steps after it (for tailing a live run). */
  async metrics(runId: string, options: { sinceStep?: number } = {}): Promise<Required<MetricRow>[]> {
    const rows = this.stmt(
      `SELECT step, ${METRIC_COLUMNS.join(', ')} FROM metrics WHERE run_id = ? AND step > ? ORDER BY step`,
    ).all(runId, options.sinceStep ?? -Infinity) as MetricDbRow[];
    if (rows.length === 0) this.assertRunExists(runId);
    return rows.map((r) => ({
      step: r.step, tokens: r.tokens, flops: r.flops, trainLoss: r.train_loss, valBpb: r.val_bpb, lr: r.lr,
      tokensPerS: r.tokens_per_s, gradNorm: r.grad_norm, time: r.time,
    }));
  }

  /** A run's events, oldest first. */
  async events(runId: string): Promise<EventRecord[]> {
    const rows = this.stmt('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(runId) as EventDbRow[];
    if (rows.length === 0) this.assertRunExists(runId);
    return rows.map((r) => ({
      id: r.id, runId: r.run_id, step: r.step, time: r.time, kind: r.kind, message: r.message,
      data: r.data === null ? null : JSON.parse(r.data),
    }));
  }

  /** Every run's events of this kind, oldest first, with the run's name; data that is not JSON reads as null. */
  async eventsOfKind(kind: string): Promise<{ runName: string; data: unknown }[]> {
    const rows = this.stmt('SELECT r.name AS name, e.data AS data FROM events e JOIN runs r ON r.id = e.run_id WHERE e.kind = ? ORDER BY e.id')
      .all(kind) as { name: string; data: string | null }[];
    return rows.map((r) => ({ runName: r.name, data: parseOrNull(r.data) }));
  }

  // Deleting runs, for `sweep rm`. Files are the caller's: a run's folder is removed after the
  // transaction that deleted its record commits, so a crash can leave an orphan folder but
  // never a record whose files are gone.

  /** Delete these runs (by name) with their metrics and events, in one transaction; names not in the store are skipped. */
  async deleteRuns(names: readonly string[]): Promise<RunRecord[]> {
    return this.#connection.immediate(() => this.deleteRunsNow(names));
  }

  private deleteRunsNow(names: readonly string[]): RunRecord[] {
    return this.#connection.immediate(() => {
      const gone: RunRecord[] = [];
      for (const name of names) {
        const row = this.stmt('SELECT * FROM runs WHERE name = ?').get(name) as RunRow | undefined;
        if (row === undefined) continue;
        this.stmt('DELETE FROM runs WHERE id = ?').run(row.id); // metrics and events cascade
        gone.push(toRun(row));
      }
      return gone;
    });
  }

  /** Names of runs that say they belong to this sweep: by their stored config, or by a `sweep verify` record. */
  async runsNamingSweep(sweep: string): Promise<string[]> {
    return this.runsNamingSweepNow(sweep);
  }

  private runsNamingSweepNow(sweep: string): string[] {
    const rows = this.stmt(
      `SELECT name FROM runs WHERE json_extract(config, '$.train.sweep') = ?
       UNION SELECT r.name FROM events e JOIN runs r ON r.id = e.run_id WHERE e.kind = 'verify' AND json_extract(e.data, '$.sweep') = ?`,
    ).all(sweep, sweep) as { name: string }[];
    return rows.map((r) => r.name);
  }

  // The run's trainer (src/runs/trainer.ts decides who may claim a run). Each change is one
  // conditional UPDATE, so of several processes racing for a run exactly one wins.

  /** The process that holds the run, or null when nobody does. */
  async trainerOf(runId: string): Promise<TrainerRecord | null> {
    const r = this.stmt('SELECT pid, host, trainer_token, trainer_start, trainer_heartbeat FROM runs WHERE id = ?').get(runId) as
      { pid: number | null; host: string | null; trainer_token: string | null; trainer_start: string | null; trainer_heartbeat: number | null } | undefined;
    if (r === undefined) throw unknownRun(runId);
    if (r.trainer_token === null) return null;
    return { pid: r.pid ?? 0, host: r.host ?? '', token: r.trainer_token, start: r.trainer_start, heartbeat: r.trainer_heartbeat ?? 0 };
  }

  /** Make `trainer` the run's holder if the holder is still the one seen (`seenToken`, null: nobody); false if someone got there first. */
  async claimTrainer(runId: string, trainer: TrainerRecord, seenToken: string | null): Promise<boolean> {
    return this.stmt(
      `UPDATE runs SET pid = ?, host = ?, trainer_token = ?, trainer_start = ?, trainer_heartbeat = ?, updated_at = ?
       WHERE id = ? AND trainer_token IS ?`,
    ).run(trainer.pid, trainer.host, trainer.token, trainer.start, trainer.heartbeat, new Date().toISOString(), runId, seenToken).changes === 1;
  }

  /** Renew the holder's heartbeat; false when `token` no longer holds the run. */
  async beatTrainer(runId: string, token: string, at = Date.now() / 1000): Promise<boolean> {
    return this.stmt('UPDATE runs SET trainer_heartbeat = ? WHERE id = ? AND trainer_token = ?').run(at, runId, token).changes === 1;
  }

  /** Let go of the run if `token` holds it; pid and host stay, as the run's last trainer. */
  async releaseTrainer(runId: string, token: string): Promise<boolean> {
    return this.stmt('UPDATE runs SET trainer_token = NULL, trainer_start = NULL, trainer_heartbeat = NULL WHERE id = ? AND trainer_token = ?')
      .run(runId, token).changes === 1;
  }

  // An empty answer for a mistyped id (or a name where an id belongs) would look like a run
  // that has not logged yet; say so instead. Only checked when the answer is empty.
  private assertRunExists(runId: string): void {
    if (this.stmt('SELECT 1 FROM runs WHERE id = ?').get(runId) === undefined) throw unknownRun(runId);
  }

  // Names are typed on command lines and may end up in file names, so they follow the run id
  // rules; and one that equals another run's id would be unreachable through getRun.
  private checkNewName(name: string): void {
    if (!RUN_ID_PATTERN.test(name)) {
      throw new UsageError(`bad run name '${name}': use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    if (this.stmt('SELECT 1 FROM runs WHERE id = ? OR name = ?').get(name, name) !== undefined) throw duplicateName(name);
  }

  private stmt(sql: string): Database.Statement {
    return this.#connection.stmt(sql);
  }
}


// better-sqlite3 rejects undefined in positional binds on some paths; make absence explicit.
function num(x: number | null | undefined): number | null {
  return x === undefined ? null : x;
}

function unknownRun(idOrName: string): UsageError {
  return new UsageError(`unknown run '${idOrName}'; \`scalelab runs\` lists them`);
}

function duplicateName(name: string): UsageError {
  return new UsageError(`a run named '${name}' already exists; pick another --name or --resume it`);
}

function foreignKeyToUnknownRun(err: unknown, runId: string): unknown {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ? unknownRun(runId) : err;
}
