// The SQLite connection every part of the store shares: opened with the settings many processes
// need at once, its statements prepared once and cached, and its multi-statement writes run as
// IMMEDIATE transactions. WAL lets readers run beside the single writer; busy_timeout makes a
// writer wait for the lock instead of failing with "database is locked"; a deferred transaction
// that upgrades from read to write gets SQLITE_BUSY at once, without waiting, when another
// process committed in between, which IMMEDIATE avoids.
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

export class Connection {
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private constructor(private readonly db: Database.Database) {}

  /** The database at `file`, created and migrated if needed; closed again if that fails. */
  static open(file: string): Connection {
    const db = new Database(file);
    try {
      // busy_timeout first: the pragmas and migrations below may themselves wait on another
      // process that is opening the same fresh database.
      db.pragma('busy_timeout = 10000');
      enableWal(db);
      // NORMAL under WAL loses at most the last commits on power loss, never consistency;
      // FULL would fsync every metrics batch.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, file);
      return new Connection(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** An empty database in memory, with the schema the file at `file` would have. */
  static inMemory(file: string): Connection {
    const db = new Database(':memory:');
    migrate(db, file);
    return new Connection(db);
  }

  /** The statement for `sql`, prepared on first use. */
  stmt(sql: string): Database.Statement {
    if (this.closed) throw new Error('RunStore is closed');
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Run `fn` in one IMMEDIATE transaction (a savepoint when already inside one); a throw rolls it all back. */
  immediate<T>(fn: () => T): T {
    if (this.closed) throw new Error('RunStore is closed');
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }
}

/**
 * Switch a database to WAL (a persistent setting, so only a fresh database needs it). SQLite may
 * answer SQLITE_BUSY to the switch at once, without waiting on busy_timeout, while another
 * process is opening the same fresh file; so retry for up to ten seconds.
 */
function enableWal(db: Database.Database): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited += 20) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || waited >= 10_000) throw err;
      Atomics.wait(pause, 0, 0, 20); // a synchronous 20 ms sleep
    }
  }
}
