// Only src/runs/ speaks SQL: everything else goes through the store's methods, so another
// database is one more implementation of the Store interface and nothing outside has to change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SQL_SIGNS: [string, RegExp][] = [
  ['a prepared statement', /\.prepare\(/],
  ['a database handle', /\.db\.\w+|\b(store|this)\.db\b/],
  ['a transaction', /\.transaction\(/],
  ['a SQLite driver', /from ['"]better-sqlite3['"]/],
  ['the store\'s connection', /from ['"][./]*runs\/(connection|sweep-store|metric-series|migrations)\.js['"]/],
  ['a SQL statement', /\b(SELECT\s+(\*|DISTINCT\b|COUNT\(|MAX\(|MIN\(|\w+\s*(,|\bFROM\b))|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX)\b)/],
];

/** What in `text` looks like SQL or a way to reach the database, with its line numbers. */
export function sqlSigns(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [what, sign] of SQL_SIGNS) if (sign.test(line)) found.push(`line ${i + 1}: ${what}: ${line.trim()}`);
  });
  return found;
}

/** Every .ts file under `dir` outside src/runs/, with what it holds that only the store may. */
export function sqlOutsideStore(dir: string): string[] {
  const out: string[] = [];
  for (const file of fs.readdirSync(path.join(dir, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.split(path.sep)[0] === 'runs') continue;
    for (const s of sqlSigns(fs.readFileSync(path.join(dir, 'src', file), 'utf8'))) out.push(`src/${file} ${s}`);
  }
  return out;
}

describe('the store boundary', () => {
  it('no module outside src/runs/ prepares statements, holds the database or writes SQL', () => {
    assert.deepEqual(sqlOutsideStore(root), []);
  });

  it('the check sees each way SQL could creep back', () => {
    const bad = [
      "const rows = store.db.prepare('SELECT sweep FROM jobs').all();",
      'const db = this.store.db;',
      "db.transaction(() => insert.run(1)).immediate();",
      "import Database from 'better-sqlite3';",
      "import { Connection } from '../runs/connection.js';",
      '`SELECT step, tokens FROM metrics WHERE run_id = ?`',
      "'SELECT * FROM runs'",
      "'SELECT COUNT(*) AS n FROM sweeps'",
      "'INSERT OR REPLACE INTO metrics (run_id) VALUES (?)'",
      "'UPDATE jobs SET status = ?'",
      "'DELETE FROM sweeps WHERE name = ?'",
    ];
    for (const line of bad) assert.equal(sqlSigns(line).length > 0, true, `not caught: ${line}`);
    const fine = [
      "// Select a run, then delete it from the table: the page's words, not SQL.",
      "fs.rmSync(path.join(home, 'scalelab.db'));",
      "reply.code(405).header('allow', 'GET, DELETE');",
      "import { RunStore } from '../runs/index.js';",
    ];
    for (const line of fine) assert.deepEqual(sqlSigns(line), [], line);
  });

  it('the store hands out no connection', async () => {
    const store = RunStore.openForReading(fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-boundary-')));
    try {
      for (const holder of [store, store.sweeps, store.series] as unknown as Record<string, unknown>[]) {
        for (const key of ['db', 'connection', 'c']) assert.equal(holder[key], undefined, `.${key} is reachable`);
      }
    } finally {
      await store.close();
    }
  });
});
