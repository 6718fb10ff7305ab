// The run store and the sweep queue on PostgreSQL: the same records and rules as the SQLite store,
// the queue on pg-boss, run files in the database; workers in homes of their own (so, "other
// machines": nothing shared but the database) finish a sweep through a SIGKILL and through a
// server restart; a store that cannot be reached is one line and exit code 2. These tests need a
// PostgreSQL server (test/pg.ts) and fail without one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgRunStore, RunStore, type Store } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { train } from '../src/train/train.js';
import { startDashboard } from '../src/dashboard/server.js';
import { privateServer, testDatabase, withDatabase, type PrivateServer } from './pg.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
const tmp = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `scalelab-pg-${tag}-`));

const newRun = (name: string) => ({ name, config: { model: { layers: 1 } }, params: 10, nonEmbeddingParams: 5, flopsPerToken: 30, tokensTarget: 100 });

// A small corpus (the README cut into documents): tiny runs load it in milliseconds, where the
// Brown corpus would take each job a second or two.
const corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-pg-corpus-'));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(corpus, `doc${String(i).padStart(2, '0')}.txt`), readme.slice(i * 2000, (i + 1) * 2000));

/** A tiny run's options: `steps` steps of 4 × 16 bytes. */
const tiny = (steps: number, seed: number) => ({
  layers: 1, dModel: 16, heads: 2, ctx: 16, batch: 4, tokens: steps * 64, evalTokens: 128, evalEvery: 1000,
  checkpointEvery: 10, seed, lr: 3e-3, warmupSteps: 2, corpus,
});

function scalelab(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
}

function worker(url: string, sweep: string, home: string): ChildProcess & { out: () => string } {
  const c = spawn(process.execPath, [bin, 'worker', '--sweep', sweep, '--lease', '2', '--threads', '1', '--home', home, '--store', url],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (out += d));
  return Object.assign(c, { out: () => out });
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('close', (code) => r(code))));

async function until(what: string, ok: () => Promise<boolean>, limitMs = 120_000): Promise<void> {
  // Bounded, so a sweep that never gets going fails the test instead of hanging it.
  for (let waited = 0; !(await ok()); waited += 100) {
    assert.ok(waited < limitMs, `never: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every job done once, every run done with each of its steps logged exactly once. */
async function assertSweepDone(store: Store, sweep: string, jobs: number): Promise<void> {
  const q = new SweepQueue(store);
  assert.deepEqual(await q.counts(sweep), { queued: 0, running: 0, done: jobs, failed: 0 });
  const runs = await store.listRuns();
  assert.equal(runs.length, jobs, 'one run per job, none twice');
  for (const r of runs) {
    assert.equal(r.status, 'done', r.name);
    const steps = (await store.metrics(r.id)).map((m) => m.step);
    assert.deepEqual(steps, Array.from({ length: r.tokensTarget! / 64 }, (_, i) => i + 1), `${r.name}: every step exactly once`);
  }
}

describe('the PostgreSQL store', () => {
  let db: { url: string; drop: () => Promise<void> };
  let store: PgRunStore;
  before(async () => {
    db = await testDatabase('store');
    store = PgRunStore.open(db.url);
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  it('records runs, metrics, events and trainers as the SQLite store does', async () => {
    const a = await store.createRun(newRun('alpha'));
    assert.deepEqual(await store.getRun('alpha'), a);
    await assert.rejects(store.createRun(newRun('alpha')), /a run named 'alpha' already exists/);
    await assert.rejects(store.getRun('ghost'), /unknown run 'ghost'/);
    const u = await store.updateRun(a.id, { status: 'running', tokensSeen: 50, pid: 7 });
    assert.equal(u.status, 'running');
    assert.equal(u.tokensSeen, 50);
    const start = await store.series.position();
    await store.logMetrics(a.id, [1, 2, 3].map((step) => ({ step, tokens: step * 10, trainLoss: 1 / step })));
    await store.logMetrics(a.id, [{ step: 2, tokens: 20, trainLoss: 0.25 }]); // logged again: replaced, and comes again
    assert.deepEqual((await store.metrics(a.id)).map((m) => [m.step, m.trainLoss]), [[1, 1], [2, 0.25], [3, 1 / 3]]);
    const after1 = await store.series.after(start, 10);
    assert.deepEqual(after1.rows.map((r) => r.step), [1, 3, 2]);
    assert.deepEqual(await store.series.span(a.id), { first: 1, last: 3 });
    const chunks: number[][] = [];
    for await (const c of store.series.curve(a.id, 'tokens', -Infinity, Infinity)) chunks.push(c.map((p) => p[0]));
    assert.deepEqual(chunks, [[1, 2, 3]]);
    await assert.rejects(store.logMetrics('ghost', [{ step: 1 }]), /unknown run 'ghost'/);
    await store.logEvent(a.id, { kind: 'verify', message: 'v', data: { sweep: 's' } });
    assert.deepEqual(await store.eventsOfKind('verify'), [{ runName: 'alpha', data: { sweep: 's' } }]);
    assert.deepEqual(await store.runsNamingSweep('s'), ['alpha']);
    const t = { pid: 1, host: 'h', token: 'tok', start: null, heartbeat: 1 };
    assert.equal(await store.claimTrainer(a.id, t, null), true);
    assert.equal(await store.claimTrainer(a.id, { ...t, token: 'other' }, null), false, 'of two claims one wins');
    assert.equal((await store.trainerOf(a.id))?.token, 'tok');
    assert.equal(await store.releaseTrainer(a.id, 'tok'), true);
    assert.deepEqual((await store.deleteRuns(['alpha', 'nope'])).map((r) => r.name), ['alpha']);
  });

  it('queues a sweep on pg-boss: plan order, one worker per job, retries, refunds, removal', async () => {
    const q = new SweepQueue(store);
    await q.createSweep('s1', {}, [0, 1, 2].map((i) => ({ options: { seed: i }, runName: `s1-${i}`, estimatedSeconds: null })));
    await assert.rejects(q.createSweep('s1', {}, []), /already exists/);
    const [a, b] = await Promise.all([q.claim('w1', 60, 's1'), q.claim('w2', 60, 's1')]);
    assert.deepEqual([a!.idx, b!.idx].sort(), [0, 1], 'two claims, two jobs, in plan order');
    assert.equal(await q.heartbeat(a!, a!.worker!, 60), true);
    assert.equal(await q.heartbeat(a!, 'someone-else', 60), false);
    assert.equal(await q.putBack(b!, b!.worker!), true); // its run was busy: back, no attempt spent
    assert.equal((await q.jobs('s1'))[b!.idx].attempts, 0);
    assert.equal(await q.release(a!, a!.worker!, 'boom'), true); // a failure: pg-boss retries it
    const again = await q.claim('w3', 60, 's1');
    assert.equal(again!.idx, 0);
    assert.equal(again!.attempts, 2);
    assert.equal(await q.complete(again!, 'w3'), true);
    assert.equal(await q.complete(again!, 'w3'), false, 'done once');
    assert.deepEqual(await q.counts('s1'), { queued: 2, running: 0, done: 1, failed: 0 });
    // A worker that stops renewing its lease loses the job to the next claim.
    const held = await q.claim('dead', 0.2, 's1');
    await new Promise((r) => setTimeout(r, 400));
    const taken = await q.claim('alive', 60, 's1');
    assert.equal(taken!.idx, held!.idx, 'the expired job comes back first');
    assert.equal(await q.heartbeat(held!, 'dead', 60), false);
    await assert.rejects(q.removeSweep('s1'), /running job/);
    assert.equal((await q.removeSweep('s1', { force: true })).jobs.length, 3);
    assert.equal(await q.findSweep('s1'), undefined);
  });

  it('keeps run files in the database, verified on the way out', async () => {
    const run = await store.createRun(newRun('files'));
    const dir = tmp('files');
    const file = path.join(dir, 'model.safetensors');
    const bytes = Buffer.alloc(9 << 20, 7); // more than two chunks
    bytes[12345] = 1;
    fs.writeFileSync(file, bytes);
    const info = await store.artifacts.put(run.id, 'model.safetensors', file);
    assert.deepEqual((await store.artifacts.list(run.id)).map((a) => [a.name, a.size]), [['model.safetensors', bytes.length]]);
    const out = path.join(dir, 'elsewhere', 'model.safetensors');
    assert.equal(await store.artifacts.get(run.id, 'model.safetensors', out), true);
    assert.ok(fs.readFileSync(out).equals(bytes));
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query("UPDATE artifact_chunks SET data = set_byte(data, 0, 0) WHERE run_id = $1 AND idx = 1", [run.id]);
    await c.end();
    fs.rmSync(out);
    await assert.rejects(store.artifacts.get(run.id, 'model.safetensors', out), new RegExp(`failed verification.*expected ${info.sha256}`));
    assert.ok(!fs.existsSync(out), 'nothing left behind');
  });

  it('store copy moves a home in, checked; a machine with only the URL generates from its weights', async () => {
    const home = tmp('copy');
    const a = await train({ ...tiny(12, 1), name: 'copied', threads: 1 }, { home });
    const local = RunStore.open(home);
    await new SweepQueue(local).createSweep('old', {}, [{ options: tiny(12, 2), runName: 'old-0', estimatedSeconds: null }]);
    await local.evals.saveResults({ subject: a.run.id, runId: a.run.id, step: -1, task: 'copy', taskVersion: 'v1', shots: 0, seed: 0 },
      [{ metric: 'exact_match', value: 0.5, stderr: 0.1, n: 10 }]);
    await local.close();
    const r = scalelab(['store', 'copy', '--from', home, '--to', db.url]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^copied 1 runs \(0 already there\), 12 metric rows, \d+ events, 1 sweeps \(1 jobs\), 1 evaluation results, [2-9] files/);
    const again = scalelab(['store', 'copy', '--from', home, '--to', db.url]);
    assert.match(again.stdout, /^copied 0 runs \(1 already there\)/, 'a second copy checks and adds nothing');
    const copied = await store.getRun('copied');
    assert.deepEqual({ ...copied, updatedAt: '' }, { ...a.run, updatedAt: '' });
    assert.deepEqual((await store.sweeps.jobs('old')).map((j) => j.status), ['queued']);
    // Another machine: an empty home and the URL. generate fetches the weights from the database.
    const g = scalelab(['generate', 'copied', '--tokens', '20', '--seed', '1', '--home', tmp('elsewhere'), '--store', db.url]);
    const h = scalelab(['generate', 'copied', '--tokens', '20', '--seed', '1', '--home', home]);
    assert.equal(g.status, 0, g.stderr);
    assert.equal(g.stdout, h.stdout, 'the same text from the copied weights');
    const bad = scalelab(['store', 'copy', '--from', tmp('empty'), '--to', db.url]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^scalelab: no scalelab store in .*; pass the --from DIR your runs are in\n$/);
  });

  it('the dashboard hears another machine\'s writes at once (LISTEN/NOTIFY), however long its poll', async () => {
    const saved = process.env.SCALELAB_STORE;
    process.env.SCALELAB_STORE = db.url;
    const dash = await startDashboard({ home: tmp('dash'), port: 0, intervalMs: 3_600_000 });
    const writer = PgRunStore.open(db.url); // "another machine": a connection of its own
    const abort = new AbortController();
    try {
      const r = await fetch(`${dash.url}/api/events`, { signal: abort.signal });
      const reader = r.body!.getReader();
      let buf = '';
      const next = async (event: string): Promise<any> => {
        for (;;) {
          const m = new RegExp(`event: ${event}\\ndata: (.*)\\n\\n`).exec(buf);
          if (m) {
            buf = buf.slice(m.index + m[0].length);
            return JSON.parse(m[1]);
          }
          const { value } = await reader.read();
          buf += new TextDecoder().decode(value);
        }
      };
      await next('hello');
      const run = await writer.createRun(newRun('live'));
      await writer.logMetrics(run.id, [{ step: 5, tokens: 50, trainLoss: Math.LN2 }]);
      let m = await next('metrics');
      while (!(run.id in m.runs)) m = await next('metrics');
      assert.deepEqual(m.runs[run.id].step, [5]);
      assert.equal(m.runs[run.id].trainBpb[0], 1);
    } finally {
      abort.abort();
      await writer.close();
      await dash.close();
      if (saved === undefined) delete process.env.SCALELAB_STORE;
      else process.env.SCALELAB_STORE = saved;
    }
  });

  it('a bad URL, a wrong password or a server that is down: one line and exit code 2', async () => {
    const server = await privateServer();
    try {
      const wrongPassword = server.url.replace(':secret@', ':wrong@');
      server.stop();
      const down = server.url;
      for (const [url, message] of [
        ['not a url', /is not a URL/],
        ['mysql://x@localhost/db', /is not a PostgreSQL URL/],
        [down, /cannot reach the PostgreSQL store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres \(connection refused/],
      ] as const) {
        const r = scalelab(['runs', '--store', url, '--home', tmp('bad')]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      server.start();
      const r = scalelab(['sweep', 'list'], { SCALELAB_STORE: wrongPassword, SCALELAB_HOME: tmp('bad') });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^scalelab: PostgreSQL at 127\.0\.0\.1:\d+ refused user 'postgres' \(password authentication failed.*\); check the user and password/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      const ok = scalelab(['runs', '--store', server.url, '--home', tmp('ok')]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /no runs yet/);
    } finally {
      server.remove();
    }
  });
});

describe('workers on PostgreSQL, in homes of their own', () => {
  it('three workers, one killed with SIGKILL mid-run: every run once, the killed job resumed from its checkpoint in the database, the same weights', async () => {
    const db = await testDatabase('sweep');
    const store = PgRunStore.open(db.url);
    const workers: ReturnType<typeof worker>[] = [];
    try {
      // Job 0 is long enough to be killed in the middle; the other 29 are short.
      const jobs = Array.from({ length: 30 }, (_, i) => ({ options: tiny(i === 0 ? 150 : 12, i), runName: `pgk-${String(i).padStart(3, '0')}`, estimatedSeconds: null }));
      await new SweepQueue(store).createSweep('pgk', {}, jobs);
      for (let i = 0; i < 3; i++) workers.push(worker(db.url, 'pgk', tmp(`w${i}`)));
      let victim: ReturnType<typeof worker> | undefined;
      await until('job 0 checkpointed past step 40', async () => {
        const r = await store.findRun('pgk-000');
        victim = workers.find((w) => w.pid === r?.pid);
        return Boolean(r && r.tokensSeen >= 40 * 64 && r.status === 'running' && victim);
      });
      victim!.kill('SIGKILL');
      await exited(victim!);
      const survivors = workers.filter((w) => w !== victim);
      for (const w of survivors) assert.equal(await exited(w), 0, w.out());
      assert.match(survivors.map((w) => w.out()).join(''), /pgk#0 \(pgk-000\): resuming/);

      await assertSweepDone(store, 'pgk', 30);
      const resumed = (await new SweepQueue(store).jobs('pgk')).filter((j) => j.attempts > 1).map((j) => j.runName);
      assert.deepEqual(resumed, ['pgk-000'], 'exactly the killed job ran twice');
      const killed = await store.getRun('pgk-000');
      const events = await store.events(killed.id);
      const fetched = events.find((e) => e.kind === 'fetch');
      assert.ok(fetched, 'the checkpoints came from the database');
      assert.match(events.filter((e) => e.kind === 'resume').pop()!.message, /^resumed from step [1-9]\d*/);
      assert.ok(events.some((e) => e.kind === 'takeover'));

      // The same run, uninterrupted, in a home of its own on SQLite: the same bits.
      const home = tmp('reference');
      const ref = await train({ ...tiny(150, 0), name: 'reference', threads: 1 }, { home });
      assert.equal(killed.weightsSha256, ref.weightsSha256, 'final weights identical to an uninterrupted run');
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await store.close();
      await db.drop();
    }
  });

  it('PostgreSQL restarted mid-sweep: the workers reconnect and finish, nothing lost or done twice', async () => {
    let server: PrivateServer | undefined;
    const workers: ReturnType<typeof worker>[] = [];
    let store: PgRunStore | undefined;
    try {
      server = await privateServer();
      const url = withDatabase(server.url, 'postgres');
      store = PgRunStore.open(url);
      const jobs = Array.from({ length: 8 }, (_, i) => ({ options: tiny(40, i), runName: `pgr-${i}`, estimatedSeconds: null }));
      await new SweepQueue(store).createSweep('pgr', {}, jobs);
      for (let i = 0; i < 2; i++) workers.push(worker(url, 'pgr', tmp(`r${i}`)));
      await until('two runs done', async () => (await new SweepQueue(store!).counts('pgr')).done >= 2);
      server.restart();
      for (const w of workers) assert.equal(await exited(w), 0, w.out());
      await assertSweepDone(store, 'pgr', 8);
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await store?.close();
      server?.remove();
    }
  });
});
