// The database schema as an append-only list of migrations. PRAGMA user_version records how
// many have been applied, so a database always says which schema it has. Never edit a
// migration that has shipped: add a new one, because existing databases already ran the old.
import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';

export const MIGRATIONS: readonly string[] = [
  // 1: runs, their metrics and their events.
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('created','running','done','failed','stopped')),
    config TEXT NOT NULL,              -- JSON
    params INTEGER,
    non_embedding_params INTEGER,
    flops_per_token REAL,
    tokens_target REAL,
    tokens_seen REAL DEFAULT 0,
    flops REAL DEFAULT 0,
    best_val_bpb REAL,
    final_train_loss REAL,
    final_val_bpb REAL,
    weights_sha256 TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    updated_at TEXT NOT NULL,
    train_seconds REAL DEFAULT 0,
    host TEXT,
    pid INTEGER
  );
  CREATE INDEX runs_created_at ON runs (created_at);

  -- One row per (run, step): a resumed run that re-logs a step replaces it, never duplicates it.
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    tokens REAL,
    flops REAL,
    train_loss REAL,
    val_bpb REAL,
    lr REAL,
    tokens_per_s REAL,
    grad_norm REAL,
    time REAL,
    PRIMARY KEY (run_id, step)
  );
  -- No separate metrics-by-run index: the primary key's index (run_id, step) is exactly that,
  -- and a second copy would only slow the hot insert path.

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT                          -- JSON
  );
  CREATE INDEX events_run ON events (run_id, id);
  `,
  // 2: sweeps and their durable job queue. A job names its run (run_name), so a worker that
  // takes over a dead worker's job finds the run and resumes it instead of starting another.
  `
  CREATE TABLE sweeps (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,              -- JSON: how the sweep was planned
    created_at TEXT NOT NULL
  );

  CREATE TABLE jobs (
    sweep TEXT NOT NULL REFERENCES sweeps (name) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    options TEXT NOT NULL,             -- JSON: the train() options of this run
    run_name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,                       -- who holds the lease
    lease_expires REAL,                -- unix seconds; a running job past it is up for takeover
    estimated_seconds REAL,
    error TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (sweep, idx)
  );
  CREATE INDEX jobs_claim ON jobs (status, lease_expires);
  `,
  // 3: the run's trainer. One process trains a run at a time; it claims the run by writing a
  // fresh token (pid and host go in the columns of migration 1), records its own start identity
  // so a reused pid is not mistaken for it, and renews a heartbeat for trainers on other hosts.
  // A NULL token means nobody trains the run.
  `
  ALTER TABLE runs ADD COLUMN trainer_token TEXT;
  ALTER TABLE runs ADD COLUMN trainer_start TEXT;
  ALTER TABLE runs ADD COLUMN trainer_heartbeat REAL;  -- unix seconds
  `,
  // 4: evaluation. A subject is what was evaluated: a run (run_id set, so its results go when it
  // goes) or an endpoint (`endpoint:URL#MODEL`, run_id NULL); step is the checkpoint's, -1 for
  // final weights and endpoints. Per-example outcomes are kept as they are scored, so an
  // interrupted evaluation resumes; a task's metrics replace the previous ones of the same key.
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
    outcome TEXT NOT NULL,             -- JSON
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
    value REAL,
    stderr REAL,
    n INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (subject, step, task, task_version, shots, metric)
  );
  CREATE INDEX eval_results_task ON eval_results (task, metric);
  CREATE INDEX eval_outcomes_run ON eval_outcomes (run_id);
  CREATE INDEX eval_results_run ON eval_results (run_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Bring `db` up to SCHEMA_VERSION. Safe when several processes open a fresh database at once:
 * the version is re-read under an IMMEDIATE (write-locked) transaction, so exactly one process
 * applies each migration and the others find it done.
 */
export function migrate(db: Database.Database, file = db.name): number {
  refuseFuture(schemaVersion(db), file);
  if (schemaVersion(db) === SCHEMA_VERSION) return SCHEMA_VERSION;
  const apply = db.transaction(() => {
    const from = schemaVersion(db);
    refuseFuture(from, file);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    // user_version lives in the file header and is written inside this transaction, so a crash
    // mid-migration leaves neither the tables nor the version behind.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  apply.immediate();
  return SCHEMA_VERSION;
}

function refuseFuture(version: number, file: string): void {
  if (version > SCHEMA_VERSION) {
    throw new UsageError(
      `${file} has schema version ${version} but this scalelab knows only up to ${SCHEMA_VERSION}; upgrade scalelab to open it`,
    );
  }
}
