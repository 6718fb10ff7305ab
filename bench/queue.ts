// The queue's cost per job and the store's metric write rate, SQLite against PostgreSQL.
//
//   node --import tsx bench/queue.ts queue   URL [jobs] [workers...]   no-op jobs through the queue
//   node --import tsx bench/queue.ts metrics URL [rows]                metric rows/s, batches of 50
//
// `queue`: W worker processes claim, "run" (nothing) and complete jobs until none is left; each
// reports the time its claim calls and its complete calls took. The overhead per job is what a
// worker spends in the queue around a job: claim to start, finish to next claim. URL 'sqlite'
// uses a temporary home's SQLite file instead of PostgreSQL.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgRunStore, RunStore, type Store } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';

const self = fileURLToPath(import.meta.url);
const [mode, url, ...rest] = process.argv.slice(2);

function open(target: string): Store {
  return target.startsWith('postgres') ? PgRunStore.open(target) : RunStore.open(target);
}

/** A fresh database (PostgreSQL: a new database on the server at `url`) or home (SQLite). */
async function fresh(tag: string): Promise<{ target: string; drop: () => Promise<void> }> {
  if (url === 'sqlite') {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `scalelab-bench-${tag}-`));
    return { target: home, drop: async () => fs.rmSync(home, { recursive: true, force: true }) };
  }
  const name = `scalelab_bench_${tag}_${process.pid}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { target: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function workerLoop(target: string): Promise<void> {
  const store = open(target);
  const q = new SweepQueue(store);
  const id = `bench:${process.pid}`;
  let claimMs = 0, completeMs = 0, jobs = 0, first = true;
  for (;;) {
    let t = performance.now();
    const job = await q.claim(id, 60, 'bench');
    // The first claim also starts pg-boss in this process (once per worker, not per job).
    if (!first) claimMs += performance.now() - t;
    first = false;
    if (!job) break;
    t = performance.now();
    await q.complete(job, id);
    completeMs += performance.now() - t;
    jobs++;
  }
  await store.close();
  process.stdout.write(JSON.stringify({ jobs, claimMs, completeMs }) + '\n');
}

async function queueBench(jobs: number, workers: number[]): Promise<void> {
  for (const w of workers) {
    const db = await fresh(`q${w}`);
    const store = open(db.target);
    await new SweepQueue(store).createSweep('bench', {}, Array.from({ length: jobs }, (_, i) => ({ options: {}, runName: `b-${i}`, estimatedSeconds: 60 })));
    await store.close();
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: w }, () => new Promise<{ jobs: number; claimMs: number; completeMs: number }>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', self, 'worker', db.target], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
    })));
    const wall = (performance.now() - t0) / 1000;
    const done = results.reduce((a, r) => a + r.jobs, 0);
    const overhead = results.reduce((a, r) => a + r.claimMs + r.completeMs, 0) / done;
    console.log(JSON.stringify({ store: url === 'sqlite' ? 'sqlite' : 'postgres', workers: w, jobs: done,
      overheadMsPerJob: +overhead.toFixed(2), jobsPerSecond: +(done / wall).toFixed(1), wallSeconds: +wall.toFixed(2) }));
    await db.drop();
  }
}

async function metricsBench(rows: number): Promise<void> {
  const db = await fresh('m');
  const store = open(db.target);
  const run = await store.createRun({ name: 'm', config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: 6, tokensTarget: rows });
  const t0 = performance.now();
  for (let s = 0; s < rows; s += 50) {
    await store.logMetrics(run.id, Array.from({ length: 50 }, (_, k) => ({
      step: s + k + 1, tokens: (s + k) * 512, flops: (s + k) * 1e9, trainLoss: 2, valBpb: null, lr: 1e-3, tokensPerS: 1e4, gradNorm: 1, time: Date.now() / 1000,
    })));
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ store: url === 'sqlite' ? 'sqlite' : 'postgres', rows, batch: 50, rowsPerSecond: Math.round(rows / secs) }));
  await store.close();
  await db.drop();
}

if (mode === 'worker') await workerLoop(url);
else if (mode === 'queue') await queueBench(Number(rest[0] ?? 200), rest.length > 1 ? rest.slice(1).map(Number) : [1, 4, 16]);
else if (mode === 'metrics') await metricsBench(Number(rest[0] ?? 20000));
else {
  console.error('usage: bench/queue.ts queue URL|sqlite [jobs] [workers...] | metrics URL|sqlite [rows]');
  process.exitCode = 2;
}
