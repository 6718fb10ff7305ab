// One trainer per run: a resume of a run whose trainer lives is refused, a dead trainer's run
// is taken over (a reused pid does not pass for the dead trainer), racing claims have exactly
// one winner, a trainer that lost its run stops without writing, and a checkpoint writer
// removes only temporary files whose writer is dead.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { train, type TrainOptions } from '../src/train/train.js';
import { Checkpoints, removeStaleTemps } from '../src/train/checkpoint.js';
import { GPT } from '../src/models/gpt.js';
import { AdamW, ADAMW_DEFAULTS } from '../src/train/optimizer.js';
import { native } from '../src/engine/native.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { withSql } from './sql.js';
import {
  RunStore, RunClaim, RunBusyError, RunTakenOverError, processStartToken, isProcessAlive, type TrainerRecord,
} from '../src/runs/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-trainer-'));

// 20 steps of a tiny model, checkpoints every 5.
const tiny: Partial<TrainOptions> = {
  layers: 1, dModel: 32, heads: 2, ctx: 32, batch: 4, tokens: 4 * 32 * 20,
  checkpointEvery: 5, evalEvery: 10, evalTokens: 1024, warmupSteps: 5, threads: 1, seed: 3,
};

/** A pid that has just exited (reaped), so nothing runs under it. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(!isProcessAlive(r.pid!));
  return r.pid!;
}

/** A run stopped after a few steps, as a killed or interrupted trainer leaves it. */
async function stoppedRun(home: string, name: string): Promise<string> {
  let steps = 0;
  const res = await train({ ...tiny, name }, { home, shouldStop: () => ++steps > 6 });
  assert.equal(res.status, 'stopped');
  return res.run.id;
}

/** Write `trainer` as the run's holder, whoever holds it now. */
async function setHolder(home: string, runId: string, trainer: Partial<TrainerRecord>): Promise<void> {
  const store = RunStore.open(home);
  try {
    const current = await store.trainerOf(runId);
    const record: TrainerRecord = { pid: process.pid, host: os.hostname(), token: `test-${Math.random()}`, start: processStartToken(process.pid),
      heartbeat: Date.now() / 1000, ...trainer };
    assert.ok(await store.claimTrainer(runId, record, current?.token ?? null));
  } finally {
    await store.close();
  }
}

async function events(home: string, runId: string) {
  const store = RunStore.open(home);
  try {
    return await store.events(runId);
  } finally {
    await store.close();
  }
}

describe('one trainer per run', () => {
  it('refuses to resume a run whose trainer is alive, naming its pid and host, in the library and the CLI', async () => {
    const home = tmpHome();
    const id = await stoppedRun(home, 'live');
    await setHolder(home, id, {}); // this test process holds it, and is alive
    await assert.rejects(train({ resume: 'live' }, { home }), (e: Error) => {
      assert.ok(e instanceof RunBusyError, String(e));
      assert.match(e.message, new RegExp(`run 'live' is being trained by pid ${process.pid} on ${os.hostname()}`));
      return true;
    });
    const r = spawnSync(process.execPath, [bin, 'train', '--resume', 'live', '--home', home], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`pid ${process.pid} on ${os.hostname()}`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const store = RunStore.open(home);
    try {
      assert.equal((await store.getRun(id)).status, 'stopped', 'the refused resume changed nothing');
      assert.equal((await store.trainerOf(id))?.pid, process.pid, 'the live trainer still holds the run');
    } finally {
      await store.close();
    }
  });

  it('takes over a run whose trainer died, and one whose pid now belongs to another process', async () => {
    const home = tmpHome();
    const dead = await stoppedRun(home, 'dead');
    const pid = deadPid();
    await setHolder(home, dead, { pid, start: null });
    const res = await train({ resume: 'dead' }, { home });
    assert.equal(res.status, 'done');
    assert.ok((await events(home, dead)).some((e) => e.kind === 'takeover' && e.message.includes(`pid ${pid}`)));

    // The recorded pid is alive (it is this process) but its start identity is another's.
    const reused = await stoppedRun(home, 'reused');
    await setHolder(home, reused, { start: 'another-boot:12345' });
    assert.equal((await train({ resume: 'reused' }, { home })).status, 'done');

    const store = RunStore.open(home);
    try {
      assert.equal(await store.trainerOf(dead), null, 'a finished trainer lets its run go');
      assert.equal((await store.getRun(dead)).pid, process.pid, 'and stays on record as the last trainer');
    } finally {
      await store.close();
    }
  });

  it('a trainer on another host holds its run while its heartbeat is fresh', async () => {
    const home = tmpHome();
    const id = await stoppedRun(home, 'remote');
    await setHolder(home, id, { host: 'elsewhere.example', pid: 4242, heartbeat: Date.now() / 1000 });
    await assert.rejects(train({ resume: 'remote' }, { home }), /being trained by pid 4242 on elsewhere\.example/);
    await setHolder(home, id, { host: 'elsewhere.example', pid: 4242, heartbeat: Date.now() / 1000 - 3600 });
    assert.equal((await train({ resume: 'remote' }, { home })).status, 'done');
  });

  it('a trainer whose run was taken over stops without writing and leaves the record alone', async () => {
    const home = tmpHome();
    let steps = 0, runId = '';
    const store = RunStore.open(home);
    try {
      await assert.rejects(train({ ...tiny, name: 'hijacked' }, {
        home,
        // shouldStop is asked synchronously between steps, so the takeover is written in SQL.
        shouldStop: () => {
          if (++steps === 3) {
            runId = withSql(store, (db) => {
              const { id } = db.prepare("SELECT id FROM runs WHERE name = 'hijacked'").get() as { id: string };
              db.prepare("UPDATE runs SET pid = 4242, host = 'elsewhere.example', trainer_token = 'thief', trainer_heartbeat = ? WHERE id = ?")
                .run(Date.now() / 1000, id);
              return id;
            });
          }
          return false;
        },
      }), (e: Error) => e instanceof RunTakenOverError && /taken over by pid 4242 on elsewhere\.example/.test(e.message));
      assert.equal((await store.getRun(runId)).status, 'running', 'not marked failed under the new trainer');
      assert.equal((await store.trainerOf(runId))?.host, 'elsewhere.example');
      const ckpts = new Checkpoints(path.join(home, 'runs', runId, 'checkpoints'));
      assert.deepEqual(ckpts.list().map((c) => c.step), [0], 'no checkpoint written after the takeover');
    } finally {
      await store.close();
    }
  });

  it('of claims racing for a dead trainer\'s run, exactly one wins', async () => {
    const home = tmpHome();
    const store = RunStore.open(home);
    const run = await store.createRun({ name: 'raced', config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: 6, tokensTarget: 1 });
    await store.close();
    await setHolder(home, run.id, { pid: deadPid(), start: null });
    // Each claimant waits for 'go' so all claim at once, prints what happened, and stays alive
    // (holding its claim, if it won) until its stdin closes.
    const script = path.join(home, 'claimant.mjs');
    fs.writeFileSync(script, `
import { RunStore, RunClaim } from ${JSON.stringify(pathToFileURL(path.join(root, 'src/runs/index.ts')).href)};
import readline from 'node:readline';
const [home, id] = process.argv.slice(2);
const store = RunStore.open(home);
const lines = readline.createInterface({ input: process.stdin });
process.stdout.write('ready\\n');
await new Promise((resolve) => lines.once('line', resolve));
try {
  await new RunClaim(store).take({ id, name: 'raced' });
  process.stdout.write('won\\n');
} catch (err) {
  process.stdout.write((err.constructor.name) + ': ' + err.message + '\\n');
}
await new Promise((resolve) => lines.once('close', resolve));
await store.close();
`);
    const N = 4;
    const children = Array.from({ length: N }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, home, run.id], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = readline.createInterface({ input: child.stdout! });
      const said: string[] = [];
      const waiters: (() => void)[] = [];
      lines.on('line', (l) => { said.push(l); waiters.splice(0).forEach((w) => w()); });
      const nth = (n: number) => new Promise<string>((resolve, reject) => {
        const check = () => (said.length >= n ? resolve(said[n - 1]) : waiters.push(check));
        child.once('exit', () => reject(new Error(`claimant exited early, said ${JSON.stringify(said)}`)));
        check();
      });
      return { child, nth };
    });
    await Promise.all(children.map((c) => c.nth(1)));
    for (const c of children) c.child.stdin!.write('go\n');
    const outcomes = await Promise.all(children.map((c) => c.nth(2)));
    for (const c of children) c.child.stdin!.end();
    await Promise.all(children.map((c) => new Promise((r) => c.child.once('close', r))));
    assert.equal(outcomes.filter((o) => o === 'won').length, 1, JSON.stringify(outcomes));
    for (const o of outcomes.filter((x) => x !== 'won')) assert.match(o, /^RunBusyError: run 'raced' is being (trained|claimed)/);
  });

  it('a claim is its own to renew and release, not another\'s', async () => {
    const home = tmpHome();
    const store = RunStore.open(home);
    try {
      const run = await store.createRun({ name: 'mine', config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: 6, tokensTarget: 1 });
      const a = new RunClaim(store);
      await a.take(run);
      await assert.rejects(async () => await new RunClaim(store).take(run), RunBusyError);
      assert.equal(await store.releaseTrainer(run.id, 'not-the-token'), false);
      assert.equal(await store.beatTrainer(run.id, 'not-the-token'), false);
      await a.keep(true);
      await a.release();
      assert.equal(await store.trainerOf(run.id), null);
      await new RunClaim(store).take(run);
    } finally {
      await store.close();
    }
  });
});

describe('a sweep worker and a run held by a live trainer', () => {
  it('puts the job back without counting a failure, and trains it once the run is free', async () => {
    const home = tmpHome();
    const plan = spawnSync(process.execPath, [bin, 'sweep', 'plan', 'held', '--models', '2x32h2', '--tokens', '51200', '--ctx', '32', '--batch', '8',
      '--eval-tokens', '1024', '--checkpoint-every', '50', '--no-estimate', '--home', home], { encoding: 'utf8' });
    assert.equal(plan.status, 0, plan.stderr);
    const store = RunStore.open(home);
    try {
      const job = (await new SweepQueue(store).jobs('held'))[0];
      let steps = 0;
      const started = await train({ ...job.options, name: job.runName, threads: 1 }, { home, shouldStop: () => ++steps > 3 });
      await setHolder(home, started.run.id, {}); // this test process, alive, trains the run
      const worker = spawn(process.execPath, [bin, 'worker', '--sweep', 'held', '--lease', '2', '--threads', '1', '--home', home],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      worker.stderr!.on('data', (d) => (err += d));
      await new Promise<void>((resolve, reject) => {
        worker.stdout!.on('data', (d) => {
          out += d;
          if (/back in the queue/.test(out)) resolve();
        });
        worker.once('exit', () => reject(new Error(`the worker exited first: ${out}${err}`)));
      });
      assert.match(out, new RegExp(`is being trained by pid ${process.pid} on ${os.hostname()}`));
      assert.notEqual((await new SweepQueue(store).jobs('held'))[0].status, 'failed', 'a held run is not the job\'s failure');
      assert.ok(await store.releaseTrainer(started.run.id, (await store.trainerOf(started.run.id))!.token));
      const code = await new Promise((r) => worker.once('close', r));
      assert.equal(code, 0, err);
      const done = (await new SweepQueue(store).jobs('held'))[0];
      assert.equal(done.status, 'done');
      assert.equal(done.error, null);
      assert.equal(done.attempts, 1, 'the bounces off the held run spent no attempt');
      assert.equal((await store.getRun(job.runName)).status, 'done');
      assert.equal(await store.trainerOf(started.run.id), null, 'the worker let the run go');
    } finally {
      await store.close();
    }
  });
});

describe('checkpoint temporary files', () => {
  it('a writer deletes only its own temporary files; dead writers\' are removed by the run\'s trainer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-tmp-'));
    const live = `ckpt-000000005.safetensors.tmp-${process.pid}-0a1b2c3d`; // this process: alive
    const dead = `ckpt-000000005.safetensors.tmp-${deadPid()}-deadbeef`;
    const legacy = `model.safetensors.tmp-${deadPid()}`;
    for (const f of [live, dead, legacy]) fs.writeFileSync(path.join(dir, f), 'half a checkpoint');
    const model = new GPT({ layers: 1, dModel: 16, heads: 2, ctx: 8, vocab: 256 }, { seed: 0 });
    const opt = new AdamW(native, model.params, model.grads, model.decayed, ADAMW_DEFAULTS);
    const ckpts = new Checkpoints(dir, 2);
    for (const step of [1, 2, 3]) ckpts.save(model, opt, { step, tokensSeen: 0 });
    const names = () => fs.readdirSync(dir).sort();
    assert.deepEqual(names(), ['ckpt-000000002.safetensors', 'ckpt-000000003.safetensors', dead, live, legacy].sort(),
      'saving touched no other writer\'s temporary file');
    assert.deepEqual(removeStaleTemps(dir).sort(), [dead, legacy].sort());
    assert.deepEqual(names(), ['ckpt-000000002.safetensors', 'ckpt-000000003.safetensors', live].sort());
  });
});
