// PostgreSQL for the tests: a database of their own on the server CI runs (created here, dropped
// after), and a private server in a temporary folder for the tests that stop and restart one.
// A server that cannot be reached is a failure, not a skip: CI starts one (.ci/run).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The server the tests use: $SCALELAB_TEST_PG, else the one .ci/run starts. */
export const SERVER = process.env.SCALELAB_TEST_PG || 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

/** `url` with another database. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A fresh database on SERVER; `drop` removes it (and ends its connections). */
export async function testDatabase(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `scalelab_test_${tag}_${process.pid}`;
  const admin = new pg.Client({ connectionString: SERVER });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`the PostgreSQL tests need a server at ${SERVER} (${(err as Error).message}); ` +
      'start one (.ci/run does) or point SCALELAB_TEST_PG at one');
  }
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabase(SERVER, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: SERVER });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function binDir(): string {
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (r.status === 0 && fs.existsSync(path.join(r.stdout.trim(), 'pg_ctl'))) return r.stdout.trim();
  const root = '/usr/lib/postgresql';
  const v = fs.existsSync(root) ? fs.readdirSync(root).sort().pop() : undefined;
  if (!v) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian\'s postgresql package');
  return path.join(root, v, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

export interface PrivateServer {
  /** postgres://postgres:secret@127.0.0.1:PORT/postgres (password authentication). */
  url: string;
  port: number;
  stop(): void;
  start(): void;
  restart(): void;
  remove(): void;
}

/**
 * A server of the tests' own in a temporary folder, with password authentication (the superuser's
 * password is 'secret'). The server refuses to run as root, so as root it runs as 'postgres'.
 */
export async function privateServer(): Promise<PrivateServer> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]] as const : [path.join(bin, cmd), args] as const;
    execFileSync(full[0], [...full[1]], { stdio: 'pipe', timeout: 60_000 });
  };
  fs.writeFileSync(path.join(dir, 'pw'), 'secret\n');
  fs.chmodSync(dir, 0o755);
  if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  run('initdb', ['-D', data, '-U', 'postgres', '--auth-host=scram-sha-256', '--auth-local=trust', `--pwfile=${path.join(dir, 'pw')}`, '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const s: PrivateServer = {
    url: `postgres://postgres:secret@127.0.0.1:${port}/postgres`,
    port,
    start: () => run('pg_ctl', ['-D', data, '-o', opts, '-w', '-l', path.join(dir, 'log'), 'start']),
    stop: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    restart: () => run('pg_ctl', ['-D', data, '-o', opts, '-m', 'fast', '-w', '-l', path.join(dir, 'log'), 'restart']),
    remove: () => {
      try {
        s.stop();
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  s.start();
  return s;
}
