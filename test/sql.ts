// Tests that arrange what no command does (a job marked done without a worker) or look under the
// store (rows left behind) use SQL on a connection of their own: scalelab reaches its database
// only through the store's methods.
import Database from 'better-sqlite3';
import type { RunStore } from '../src/runs/index.js';

/** Run `fn` on a second connection to the store's database file. */
export function withSql<T>(store: RunStore, fn: (db: Database.Database) => T): T {
  const db = new Database(store.file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
