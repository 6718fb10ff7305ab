// The PostgreSQL connection every part of the PostgreSQL store shares: one pool per process,
// numbers read back as numbers, and transactions on one pooled client. A server that goes away
// after the store has opened (a restart, a failover) is waited for: a query that failed because
// the connection was lost is tried again on a new one for up to RECONNECT_SECONDS, so workers
// ride out a restart instead of failing their jobs. A server that cannot be reached when the
// store opens is the user's to fix, and says so in one line (openPg).
import pg from 'pg';
import { UsageError } from '../../errors.js';

/** How long a query waits for a lost server to come back before it fails. */
export const RECONNECT_SECONDS = 120;

// int8 (counts, sums, bigserial ids) and numeric come back as strings by default; every value
// scalelab keeps in them is far below 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** Errors that mean the connection, not the statement, failed: worth trying again on a new one. */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code)) return true;
  // admin_shutdown, crash_shutdown, cannot_connect_now, connection_exception family, too_many_connections
  if (e.code && (['57P01', '57P02', '57P03', '53300'].includes(e.code) || e.code.startsWith('08'))) return true;
  return /Connection terminated|connection is closed|Client has encountered a connection error|terminating connection/i.test(e.message ?? '');
}

export type Tx = pg.PoolClient;
/** A pool, a connection or a client inside a transaction: what runs one statement. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export class PgConnection {
  private closed = false;
  readonly pool: pg.Pool;
  /** Settles once the server has answered and `init` (the migrations) has run; every statement waits for it. */
  readonly ready: Promise<void>;

  /**
   * A pool on `url`, opened at once; the server is first reached by `init` in the background,
   * and a server that cannot be reached fails the first statement with one UsageError line.
   */
  constructor(readonly url: string, init: (c: PgConnection) => Promise<void>, o: { max?: number } = {}) {
    const pool = new pg.Pool({ connectionString: url, max: o.max ?? 4, types, connectionTimeoutMillis: 10_000 });
    this.pool = pool;
    // An idle client whose server went away emits 'error' on the pool; without a listener that
    // would end the process. The next query opens a new client.
    pool.on('error', () => {});
    this.ready = (async () => {
      try {
        await pool.query('SELECT 1');
      } catch (err) {
        throw unreachable(url, err);
      }
      await init(this);
    })();
    this.ready.catch(() => {}); // reported by the first statement that waits for it
  }

  /** One statement, tried again while the server is away (see above). */
  async query<R extends pg.QueryResultRow = any>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    await this.ready;
    return this.retrying(() => this.pool.query<R>(text, values));
  }

  /**
   * Run `fn` in one transaction on one client; a throw rolls it back. A transaction whose
   * connection was lost is run again from the start on a new one (nothing of it committed).
   */
  async tx<T>(fn: (c: Tx) => Promise<T>): Promise<T> {
    await this.ready;
    return this.txNow(fn);
  }

  /** tx without waiting for `ready`: for `init` itself. */
  async txNow<T>(fn: (c: Tx) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        broken = isConnectionLost(err);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + RECONNECT_SECONDS * 1000;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
      if (this.closed) throw new Error('the PostgreSQL store is closed');
      try {
        return await fn();
      } catch (err) {
        if (!isConnectionLost(err) || Date.now() + pause > deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => {});
    await this.pool.end();
  }
}

/** The URL with its password left out, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** A store URL that does not parse, or names no database: one line. */
export function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--store '${redact(url)}' is not a URL; use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
  }
  if (!['postgres:', 'postgresql:'].includes(u.protocol) || !u.hostname || u.pathname.length < 2) {
    throw new UsageError(`--store '${redact(url)}' is not a PostgreSQL URL; use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
  }
}

function unreachable(url: string, err: unknown): UsageError {
  const e = err as { code?: string; message?: string };
  const where = redact(url);
  const u = new URL(url);
  if (e.code === '28P01' || e.code === '28000') {
    return new UsageError(`PostgreSQL at ${u.host} refused user '${decodeURIComponent(u.username) || 'default'}' (${e.message}); check the user and password in --store or SCALELAB_STORE`);
  }
  if (e.code === '3D000') {
    return new UsageError(`PostgreSQL at ${u.host} has no database ${u.pathname.slice(1)}; create it (createdb ${u.pathname.slice(1)}) or fix --store`);
  }
  const why = e.code === 'ECONNREFUSED' ? 'connection refused: is PostgreSQL running there?' : (e.message ?? String(err)).split('\n')[0];
  return new UsageError(`cannot reach the PostgreSQL store ${where} (${why}); start PostgreSQL or fix --store / SCALELAB_STORE`);
}
