// The run store: records round-trip, metrics are idempotent per step, migrations are versioned,
// and several processes can write to one store at once without losing rows or hitting
// "database is locked".
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { UsageError } from '../src/errors.js';
import { RunStore, resolveHome, existingHome, runDir, SCHEMA_VERSION, DB_FILE, defaultRunName, newRunId } from '../src/runs/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-runs-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const newRun = { config: { model: { layers: 2, dModel: 64 }, train: { lr: 1e-3 } }, params: 1234, nonEmbeddingParams: 1000, flopsPerToken: 6000, tokensTarget: 1e6 };

async function withStore<T>(fn: (store: RunStore) => T | Promise<T>): Promise<T> {
  const store = RunStore.open(tmp);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('home', () => {
  it('uses --home, then $SCALELAB_HOME, then ./.scalelab, made absolute and created', () => {
    const saved = process.env.SCALELAB_HOME;
    try {
      assert.equal(resolveHome(path.join(tmp, 'a', 'b')), path.join(tmp, 'a', 'b'));
      assert.ok(fs.statSync(path.join(tmp, 'a', 'b')).isDirectory());
      process.env.SCALELAB_HOME = path.join(tmp, 'env');
      assert.equal(resolveHome(), path.join(tmp, 'env'));
      delete process.env.SCALELAB_HOME;
      const cwd = process.cwd();
      process.chdir(tmp);
      try {
        assert.equal(resolveHome(), path.join(fs.realpathSync(tmp), '.scalelab'));
      } finally {
        process.chdir(cwd);
      }
    } finally {
      if (saved === undefined) delete process.env.SCALELAB_HOME;
      else process.env.SCALELAB_HOME = saved;
    }
  });

  it('a home for reading must exist already, and a home without a database reads as empty without one', async () => {
    const missing = path.join(tmp, 'no', 'such');
    assert.throws(() => existingHome(missing), (e: Error) => e instanceof UsageError && e.message.startsWith(`no scalelab home at ${missing};`));
    assert.ok(!fs.existsSync(path.join(tmp, 'no')));
    assert.equal(existingHome(tmp), tmp);
    const store = RunStore.openForReading(tmp);
    try {
      assert.deepEqual(await store.listRuns(), []);
    } finally {
      await store.close();
    }
    assert.ok(!fs.existsSync(path.join(tmp, DB_FILE)), 'no database created');
  });

  it('refuses a home that is a file', () => {
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, 'x');
    assert.throws(() => resolveHome(file), (e: Error) => e instanceof UsageError && /--home/.test(e.message));
  });

  it('runDir builds <home>/runs/<id> and rejects ids that could escape it', () => {
    const dir = runDir(tmp, 'r0abc.def_1-2');
    assert.equal(dir, path.join(tmp, 'runs', 'r0abc.def_1-2'));
    assert.ok(fs.statSync(dir).isDirectory());
    for (const bad of ['..', '../x', 'a/b', 'a\\b', '.hidden', '', 'x'.repeat(129), 'a b', '/abs']) {
      assert.throws(() => runDir(tmp, bad), (e: Error) => e instanceof UsageError && /bad run id/.test(e.message), bad);
    }
    assert.ok(!fs.existsSync(path.join(tmp, 'x')));
  });
});

describe('run ids', () => {
  it('strictly increase within a process, even many in one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newRunId());
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`);
    assert.ok(ids.every((id) => /^r[0-9a-z]{15}$/.test(id)));
  });
});

describe('RunStore', () => {
  it('creates, gets, lists and updates runs', () => withStore(async (store) => {
    const a = await store.createRun({ ...newRun, name: 'alpha' });
    assert.match(a.id, /^r[0-9a-z]{15}$/);
    assert.equal(a.name, 'alpha');
    assert.equal(a.status, 'created');
    assert.deepEqual(a.config, newRun.config);
    assert.equal(a.params, 1234);
    assert.equal(a.nonEmbeddingParams, 1000);
    assert.equal(a.flopsPerToken, 6000);
    assert.equal(a.tokensTarget, 1e6);
    assert.equal(a.tokensSeen, 0);
    assert.equal(a.flops, 0);
    assert.equal(a.trainSeconds, 0);
    assert.equal(a.startedAt, null);
    assert.equal(a.bestValBpb, null);
    assert.ok(!Number.isNaN(Date.parse(a.createdAt)));
    assert.deepEqual(await store.getRun(a.id), a);
    assert.deepEqual(await store.getRun('alpha'), a);

    const b = await store.createRun({ ...newRun, name: 'beta' });
    assert.ok(b.id > a.id, 'ids sort by creation');
    assert.deepEqual((await store.listRuns()).map((r) => r.name), ['beta', 'alpha']);
    assert.deepEqual((await store.listRuns({ limit: 1 })).map((r) => r.name), ['beta']);

    const started = new Date().toISOString();
    const u = await store.updateRun(a.id, { status: 'running', startedAt: started, pid: 42, host: 'box', tokensSeen: 500, flops: 3e6, bestValBpb: 2.5 });
    assert.equal(u.status, 'running');
    assert.equal(u.startedAt, started);
    assert.equal(u.pid, 42);
    assert.equal(u.host, 'box');
    assert.equal(u.tokensSeen, 500);
    assert.equal(u.bestValBpb, 2.5);
    assert.ok(u.updatedAt >= a.updatedAt);
    assert.equal(u.createdAt, a.createdAt);
    assert.deepEqual((await store.listRuns({ status: 'running' })).map((r) => r.name), ['alpha']);
    assert.deepEqual(await store.listRuns({ status: 'done' }), []);

    const d = await store.updateRun(a.id, { status: 'done', pid: null, finalTrainLoss: 1.25, finalValBpb: 2.25, weightsSha256: 'ab'.repeat(32), trainSeconds: 12.5 });
    assert.equal(d.pid, null, 'null clears a field');
    assert.equal(d.host, 'box', 'absent fields are left alone');
    assert.equal(d.finalTrainLoss, 1.25);
    assert.equal(d.trainSeconds, 12.5);
    await assert.rejects(async () => await store.updateRun('r-nope', { status: 'done' }), /unknown run 'r-nope'/);
  }));

  it('names runs readably by default and refuses duplicate names', () => withStore(async (store) => {
    const a = await store.createRun(newRun);
    assert.match(a.name, /^[a-z]+-[a-z]+-\d{3}$/);
    assert.equal(a.name, defaultRunName(a.id), 'the default name is a function of the id');
    assert.equal(defaultRunName(a.id), defaultRunName(a.id));
    const names = new Set(Array.from({ length: 20 }, async () => (await store.createRun(newRun)).name));
    assert.ok(names.size >= 19, 'generated names rarely collide');

    await store.createRun({ ...newRun, name: 'baseline' });
    await assert.rejects(async () => await store.createRun({ ...newRun, name: 'baseline' }), (e: Error) =>
      e instanceof UsageError && e.message === "a run named 'baseline' already exists; pick another --name or --resume it");
    await assert.rejects(async () => await store.createRun({ ...newRun, name: a.name }), UsageError);
    await assert.rejects(async () => await store.createRun({ ...newRun, name: a.id }), UsageError, 'a name may not shadow an id');
    await assert.rejects(async () => await store.createRun({ ...newRun, name: '../evil' }), /bad run name/);
    assert.equal((await store.listRuns()).length, 22);
  }));

  it('says how to find runs when one is unknown', () => withStore(async (store) => {
    await assert.rejects(async () => await store.getRun('ghost'), (e: Error) =>
      e instanceof UsageError && e.message === "unknown run 'ghost'; `scalelab runs` lists them");
    assert.equal(await store.findRun('ghost'), undefined);
    await assert.rejects(async () => await store.metrics('ghost'), UsageError);
    await assert.rejects(async () => await store.events('ghost'), UsageError);
    await assert.rejects(async () => await store.logMetrics('ghost', [{ step: 1, trainLoss: 1 }]), /unknown run 'ghost'/);
    await assert.rejects(async () => await store.logEvent('ghost', { kind: 'x', message: 'y' }), /unknown run 'ghost'/);
  }));

  it('keeps one metrics row per step: re-logging a step replaces it', () => withStore(async (store) => {
    const run = await store.createRun(newRun);
    assert.deepEqual(await store.metrics(run.id), []);
    await store.logMetrics(run.id, [{ step: 5, trainLoss: 3 }, { step: 10, trainLoss: 2.5, lr: 1e-3, valBpb: 3.1 }]);
    await store.logMetrics(run.id, [{ step: 10, trainLoss: 2.4, lr: 9e-4, tokens: 640 }, { step: 15, trainLoss: NaN, gradNorm: Infinity }]);
    const rows = await store.metrics(run.id);
    assert.deepEqual(rows.map((r) => r.step), [5, 10, 15]);
    assert.deepEqual(rows[1], { step: 10, tokens: 640, flops: null, trainLoss: 2.4, valBpb: null, lr: 9e-4, tokensPerS: null, gradNorm: null, time: null });
    assert.equal(rows[2].trainLoss, null, 'SQLite stores NaN as NULL');
    assert.equal(rows[2].gradNorm, Infinity);
    assert.deepEqual((await store.metrics(run.id, { sinceStep: 5 })).map((r) => r.step), [10, 15]);
    assert.deepEqual(await store.metrics(run.id, { sinceStep: 15 }), []);
  }));

  it('rolls back a whole metrics batch when one row is bad', () => withStore(async (store) => {
    const run = await store.createRun(newRun);
    await assert.rejects(async () => await store.logMetrics(run.id, [{ step: 1 }, { step: 1.5 }]));
    assert.deepEqual(await store.metrics(run.id), []);
  }));

  it('logs events in order with JSON data', () => withStore(async (store) => {
    const run = await store.createRun(newRun);
    const id1 = await store.logEvent(run.id, { kind: 'start', message: 'started' });
    const id2 = await store.logEvent(run.id, { step: 100, kind: 'checkpoint', message: 'saved', data: { file: 'c.bin', bytes: 12 } });
    assert.ok(id2 > id1);
    const events = await store.events(run.id);
    assert.deepEqual(events.map((e) => [e.kind, e.step, e.data]), [['start', null, null], ['checkpoint', 100, { file: 'c.bin', bytes: 12 }]]);
    assert.equal(events[1].runId, run.id);
    assert.ok(!Number.isNaN(Date.parse(events[0].time)));
  }));

  it('refuses a file that is not a database', () => {
    fs.writeFileSync(path.join(tmp, DB_FILE), 'not sqlite at all, just some text that is long enough to be read as a header'.repeat(20));
    assert.throws(() => RunStore.open(tmp), (e: Error) => e instanceof UsageError && /not a scalelab database/.test(e.message));
  });
});

describe('migrations', () => {
  const file = () => path.join(tmp, DB_FILE);
  const userVersion = () => {
    const db = new Database(file(), { readonly: true });
    try {
      return db.pragma('user_version', { simple: true });
    } finally {
      db.close();
    }
  };

  it('brings a fresh database to the latest version and does not re-run on reopen', async () => {
    await withStore(async (store) => await store.createRun({ ...newRun, name: 'kept' }));
    assert.equal(userVersion(), SCHEMA_VERSION);
    // A re-run of migration 1 would fail on CREATE TABLE, and the run must survive reopening.
    await withStore(async (store) => assert.equal((await store.getRun('kept')).name, 'kept'));
    assert.equal(userVersion(), SCHEMA_VERSION);
    const db = new Database(file(), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer scalelab', async () => {
    await withStore(() => {});
    const db = new Database(file());
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => RunStore.open(tmp), (e: Error) =>
      e instanceof UsageError && e.message.includes(`schema version ${SCHEMA_VERSION + 1}`) && /upgrade scalelab/.test(e.message));
    assert.equal(userVersion(), SCHEMA_VERSION + 1, 'left untouched');
  });
});

// Each writer waits for 'go' on stdin so all of them open the fresh database (and race to
// migrate it) and write at the same moment, rather than one after another as they start up.
const WRITER = `
import { RunStore } from ${JSON.stringify(pathToFileURL(path.join(root, 'src/runs/index.ts')).href)};
import readline from 'node:readline';
const [home, name, rowsArg, batchArg] = process.argv.slice(2);
const rows = Number(rowsArg), batch = Number(batchArg);
process.stdout.write('ready\\n');
await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve));
const start = Date.now();
const store = RunStore.open(home);
const run = await store.createRun({ name, config: { writer: name }, params: 1, nonEmbeddingParams: 1, flopsPerToken: 6, tokensTarget: rows });
await store.updateRun(run.id, { status: 'running', pid: process.pid });
await store.logEvent(run.id, { step: 0, kind: 'start', message: 'started' });
for (let s = 0; s < rows; s += batch) {
  const chunk = [];
  for (let k = s; k < Math.min(s + batch, rows); k++) chunk.push({ step: k, trainLoss: 1 / (k + 1), tokens: k * 10, time: Date.now() / 1000 });
  await store.logMetrics(run.id, chunk);
  await store.updateRun(run.id, { tokensSeen: (s + batch) * 10 });
  if (s % 200 === 0) await store.logEvent(run.id, { step: s, kind: 'progress', message: 'at ' + s, data: { s } });
  // Read while others write, as a dashboard would.
  if (s % 500 === 0) await store.listRuns();
}
await store.updateRun(run.id, { status: 'done' });
await store.close();
process.stdout.write(JSON.stringify({ start, end: Date.now() }) + '\\n');
`;

describe('concurrent writers', () => {
  it('lose no rows and never see "database is locked"', async () => {
    const script = path.join(tmp, 'writer.mjs');
    fs.writeFileSync(script, WRITER);
    const home = path.join(tmp, 'home');
    const WRITERS = 3, ROWS = 2000, BATCH = 5;
    const children = Array.from({ length: WRITERS }, (_, i) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, home, `writer-${i}`, String(ROWS), String(BATCH)],
        { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '', err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
      const ready = new Promise<void>((resolve, reject) => {
        const check = () => { if (out.includes('ready\n')) resolve(); };
        child.stdout.on('data', check);
        child.on('exit', () => reject(new Error(`writer ${i} exited before ready: ${err}`)));
      });
      const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
        child.on('close', (code) => resolve({ code, out, err })));
      return { child, ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.end('go\n');
    const results = await Promise.all(children.map((c) => c.done));

    for (const [i, r] of results.entries()) {
      assert.doesNotMatch(r.err, /database is locked|SQLITE_BUSY/i, `writer ${i}`);
      assert.equal(r.code, 0, `writer ${i} failed: ${r.err}`);
    }
    const spans = results.map((r) => JSON.parse(r.out.trim().split('\n').pop()!) as { start: number; end: number });
    assert.ok(Math.max(...spans.map((s) => s.start)) < Math.min(...spans.map((s) => s.end)), `writers overlapped: ${JSON.stringify(spans)}`);

    const store = RunStore.open(home);
    try {
      const runs = await store.listRuns();
      assert.deepEqual(runs.map((r) => r.name).sort(), Array.from({ length: WRITERS }, (_, i) => `writer-${i}`));
      for (const run of runs) {
        assert.equal(run.status, 'done');
        assert.equal(run.tokensSeen, ROWS * 10);
        const rows = await store.metrics(run.id);
        assert.equal(rows.length, ROWS, `${run.name} lost metric rows`);
        assert.ok(rows.every((r, k) => r.step === k && r.tokens === k * 10));
        assert.equal((await store.events(run.id)).length, 1 + ROWS / 200);
      }
    } finally {
      await store.close();
    }
  });
});
