// The PostgreSQL schema: the SQLite store's tables (migrations.ts, same names, columns and
// meaning) in PostgreSQL's types, plus the artifacts kept in the database, as an append-only list. scalelab_schema records how many have
// been applied; a transaction-scoped advisory lock makes exactly one of several processes that
// open a fresh database apply them. Never edit a migration that has shipped: add one.
import { UsageError } from '../../errors.js';
import type { PgConnection } from './connection.js';

export const PG_MIGRATIONS: readonly string[] = [
  // 1: runs, their metrics and their events. Metrics carry `seq`, where SQLite uses its rowid:
  // a row (re)logged later gets a larger one, which is what the live stream reads after.
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('created','running','done','failed','stopped')),
    config TEXT NOT NULL,
    params BIGINT,
    non_embedding_params BIGINT,
    flops_per_token DOUBLE PRECISION,
    tokens_target DOUBLE PRECISION,
    tokens_seen DOUBLE PRECISION DEFAULT 0,
    flops DOUBLE PRECISION DEFAULT 0,
    best_val_bpb DOUBLE PRECISION,
    final_train_loss DOUBLE PRECISION,
    final_val_bpb DOUBLE PRECISION,
    weights_sha256 TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL,
    train_seconds DOUBLE PRECISION DEFAULT 0,
    host TEXT,
    pid INTEGER
  );
  CREATE INDEX runs_created_at ON runs (created_at);
  CREATE INDEX runs_updated_at ON runs (updated_at);

  CREATE SEQUENCE metrics_seq;
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    tokens DOUBLE PRECISION,
    flops DOUBLE PRECISION,
    train_loss DOUBLE PRECISION,
    val_bpb DOUBLE PRECISION,
    lr DOUBLE PRECISION,
    tokens_per_s DOUBLE PRECISION,
    grad_norm DOUBLE PRECISION,
    time DOUBLE PRECISION,
    seq BIGINT NOT NULL DEFAULT nextval('metrics_seq'),
    PRIMARY KEY (run_id, step)
  );
  CREATE INDEX metrics_seq_idx ON metrics (seq);

  CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT
  );
  CREATE INDEX events_run ON events (run_id, id);
  CREATE INDEX events_kind ON events (kind, id);
  `,
  // 2: sweeps and their jobs. The queue itself is pg-boss's (one queue per sweep); a job row
  // keeps what the store reports (status, attempts, worker, lease) and its pg-boss job id.
  `
  CREATE TABLE sweeps (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE jobs (
    sweep TEXT NOT NULL REFERENCES sweeps (name) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    options TEXT NOT NULL,
    run_name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_expires DOUBLE PRECISION,
    estimated_seconds DOUBLE PRECISION,
    error TEXT,
    started_at TEXT,
    finished_at TEXT,
    boss_id TEXT,
    PRIMARY KEY (sweep, idx)
  );
  CREATE INDEX jobs_lease ON jobs (status, lease_expires);
  `,
  // 3: the run's trainer (see the SQLite migration 3).
  `
  ALTER TABLE runs ADD COLUMN trainer_token TEXT;
  ALTER TABLE runs ADD COLUMN trainer_start TEXT;
  ALTER TABLE runs ADD COLUMN trainer_heartbeat DOUBLE PRECISION;
  `,
  // 4: evaluation (see the SQLite migration 4).
  `
  CREATE TABLE eval_outcomes (
    subject TEXT NOT NULL,
    run_id TEXT REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    task TEXT NOT NULL,
    task_version TEXT NOT NULL,
    shots INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (subject, step, task, task_version, shots, seed, idx)
  );
  CREATE TABLE eval_results (
    subject TEXT NOT NULL,
    run_id TEXT REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    task TEXT NOT NULL,
    task_version TEXT NOT NULL,
    shots INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value DOUBLE PRECISION,
    stderr DOUBLE PRECISION,
    n INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (subject, step, task, task_version, shots, metric)
  );
  CREATE INDEX eval_results_task ON eval_results (task, metric);
  CREATE INDEX eval_outcomes_run ON eval_outcomes (run_id);
  CREATE INDEX eval_results_run ON eval_results (run_id);
  `,
  // 5: artifacts kept in the database: a run's checkpoints and final weights, in chunks of at
  // most a few MB (a bytea value is read whole), with the file's SHA-256 checked on the way out.
  `
  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE artifact_chunks (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (run_id, name, idx),
    FOREIGN KEY (run_id, name) REFERENCES artifacts (run_id, name) ON DELETE CASCADE
  );
  `,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** Bring the database up to PG_SCHEMA_VERSION (a no-op when it is). */
export async function migratePg(c: PgConnection): Promise<void> {
  await c.txNow(async (t) => {
    // One lock for every scalelab process on this database: the migrations run one at a time.
    await t.query('SELECT pg_advisory_xact_lock(7235711)');
    await t.query('CREATE TABLE IF NOT EXISTS scalelab_schema (version INTEGER NOT NULL)');
    const { rows } = await t.query<{ version: number }>('SELECT version FROM scalelab_schema');
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await t.query('INSERT INTO scalelab_schema (version) VALUES (0)');
    if (version > PG_SCHEMA_VERSION) {
      throw new UsageError(`the PostgreSQL store has schema version ${version} but this scalelab knows only up to ${PG_SCHEMA_VERSION}; upgrade scalelab to open it`);
    }
    for (; version < PG_SCHEMA_VERSION; version++) await t.query(PG_MIGRATIONS[version]);
    await t.query('UPDATE scalelab_schema SET version = $1', [version]);
  });
}
