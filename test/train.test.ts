// scalelab train: exact resume after SIGKILL, corrupt and half-written checkpoints, loss-spike
// rollback, concurrent runs on one store, and bad input that fails cleanly.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { train, type TrainOptions } from '../src/train/train.js';
import { RunStore } from '../src/runs/index.js';
import { writeSafetensors, readSafetensors } from '../src/train/safetensors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');

// 30 steps of a tiny model, checkpoints every 5.
const tiny: Partial<TrainOptions> = {
  layers: 1, dModel: 32, heads: 2, ctx: 32, batch: 4, tokens: 4 * 32 * 30,
  checkpointEvery: 5, evalEvery: 10, evalTokens: 1024, warmupSteps: 5, threads: 2, seed: 3,
};
const tinyArgs = ['--layers', '1', '--d-model', '32', '--heads', '2', '--ctx', '32', '--batch', '4', '--tokens', String(4 * 32 * 30),
  '--checkpoint-every', '5', '--eval-every', '10', '--eval-tokens', '1024', '--warmup', '5', '--threads', '2', '--seed', '3'];

const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-train-'));

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--home', home], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function metricSteps(home: string, run: string): Promise<number[]> {
  const store = RunStore.open(home);
  try {
    return (await store.metrics((await store.getRun(run)).id)).map((m) => m.step);
  } finally {
    await store.close();
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('scalelab train', () => {
  let home: string;
  let reference: string;
  before(async () => {
    home = tmpHome();
    const res = await train({ ...tiny, name: 'uninterrupted' }, { home });
    assert.equal(res.status, 'done');
    assert.equal(res.steps, 30);
    reference = res.weightsSha256!;
  });

  it('a run killed with SIGKILL and resumed ends bit-identical to an uninterrupted one', async () => {
    const child = spawn(process.execPath, [bin, 'train', ...tinyArgs, '--name', 'killed', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killedAt = await new Promise<number>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const m = JSON.parse(line);
        if (m.type === 'metrics' && m.step >= 13) {
          child.kill('SIGKILL');
          resolve(m.step);
        }
      });
      child.on('exit', () => reject(new Error('the child finished before it could be killed')));
    });
    await new Promise((r) => child.once('close', r));
    assert.ok(killedAt >= 13 && killedAt < 30);
    const res = await train({ resume: 'killed' }, { home });
    assert.equal(res.status, 'done');
    assert.equal(res.weightsSha256, reference);
    assert.deepEqual(await metricSteps(home, 'killed'), range(1, 30), 'every step logged exactly once');
    const store = RunStore.open(home);
    const takeover = (await store.events(res.run.id)).find((e) => e.kind === 'takeover');
    await store.close();
    assert.match(takeover?.message ?? '', new RegExp(`took the run over from pid ${child.pid} on ${os.hostname()}`), 'the killed trainer\'s claim was taken over');
  });

  it('a flipped byte in the newest checkpoint is detected and the previous one used', async () => {
    let steps = 0;
    const stopped = await train({ ...tiny, name: 'flipped' }, { home, shouldStop: () => ++steps > 12 });
    assert.equal(stopped.status, 'stopped');
    const dir = path.join(stopped.dir, 'checkpoints');
    const newest = fs.readdirSync(dir).sort().pop()!;
    assert.equal(newest, 'ckpt-000000012.safetensors');
    const file = path.join(dir, newest);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1000] ^= 0x10;
    fs.writeFileSync(file, bytes);
    const res = await train({ resume: 'flipped' }, { home });
    assert.equal(res.weightsSha256, reference, 'resumed from step 10, the result is still exact');
    const store = RunStore.open(home);
    const events = await store.events(res.run.id);
    await store.close();
    const corrupt = events.find((e) => e.kind === 'checkpoint_corrupt');
    assert.ok(corrupt, 'an event says the checkpoint was corrupt');
    assert.match(corrupt!.message, /ckpt-000000012.*sha256 mismatch/);
    assert.ok(events.some((e) => e.kind === 'resume' && /step 10/.test(e.message)));
  });

  it('when every checkpoint is damaged, --resume refuses to start over unless --restart says so', async () => {
    let steps = 0;
    const stopped = await train({ ...tiny, name: 'wrecked' }, { home, shouldStop: () => ++steps > 12 });
    const dir = path.join(stopped.dir, 'checkpoints');
    const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
    assert.equal(files.length, 3);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 1000] ^= 0x10;
      fs.writeFileSync(file, bytes);
    }
    await assert.rejects(train({ resume: 'wrecked' }, { home }),
      /every checkpoint of run 'wrecked' is damaged \(3 failed verification, the newest: sha256 mismatch.*\); `scalelab train --resume wrecked --restart` starts it over from step 0/);
    const r = cli(home, 'train', '--resume', 'wrecked');
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    const store = RunStore.open(home);
    assert.equal((await store.getRun('wrecked')).status, 'stopped', 'the refusal changed nothing');
    assert.equal(await store.trainerOf(stopped.run.id), null, 'and holds no claim on the run');
    await store.close();
    assert.equal(fs.readdirSync(dir).length, 3);

    const res = await train({ resume: 'wrecked', restart: true }, { home });
    assert.equal(res.status, 'done');
    assert.equal(res.weightsSha256, reference, 'started over from step 0 with the same seed: the same weights');
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors.damaged')).length, 3, 'the damaged files are kept aside');
  });

  it('--restart is only for a run that cannot resume', async () => {
    let steps = 0;
    await train({ ...tiny, name: 'healthy' }, { home, shouldStop: () => ++steps > 7 });
    await assert.rejects(train({ resume: 'healthy', restart: true }, { home }), /run 'healthy' has a good checkpoint at step 7; resume it without --restart/);
    await assert.rejects(train({ ...tiny, restart: true }, { home }), /--restart starts an existing run over; give the run with --resume RUN/);
  });

  it('a NaN loss rolls back to the last checkpoint, skips that data and goes on', async () => {
    const res = await train({ ...tiny, name: 'spiky' }, { home, injectNanAtSteps: [17] });
    assert.equal(res.status, 'done');
    assert.equal(res.steps, 30);
    const store = RunStore.open(home);
    const rollback = (await store.events(res.run.id)).find((e) => e.kind === 'rollback');
    await store.close();
    assert.ok(rollback);
    assert.match(rollback!.message, /loss NaN at step 17.*rolled back to step 15 and skipped 3 batches/);
    assert.notEqual(res.weightsSha256, reference, 'the skipped batches change the result');
    assert.deepEqual(await metricSteps(home, 'spiky'), range(1, 30));
  });

  it('a crash while writing a checkpoint leaves the previous one intact', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-st-'));
    const file = path.join(dir, 'ckpt.safetensors');
    const before = { name: 'w', shape: [4], data: Float32Array.of(1, 2, 3, 4) };
    writeSafetensors(file, [before], { step: '1' });
    const real = fs.writeSync;
    let calls = 0;
    (fs as { writeSync: unknown }).writeSync = (...args: unknown[]) => {
      if (++calls === 3) throw new Error('disk full');
      return (real as (...a: unknown[]) => number)(...args);
    };
    try {
      assert.throws(() => writeSafetensors(file, [{ name: 'w', shape: [4], data: Float32Array.of(9, 9, 9, 9) }], { step: '2' }), /disk full/);
    } finally {
      fs.writeSync = real;
    }
    const back = readSafetensors(file);
    assert.equal(back.metadata.step, '1');
    assert.deepEqual([...back.tensors.get('w')!.data], [1, 2, 3, 4]);
    assert.deepEqual(fs.readdirSync(dir), ['ckpt.safetensors'], 'no temporary file left behind');
  });

  it('two trainings at once on the same store lose no rows and never see "database is locked"', async () => {
    const shared = tmpHome();
    const run = (name: string) => new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [bin, 'train', ...tinyArgs, '--threads', '1', '--checkpoint-every', '2', '--name', name, '--home', shared], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr!.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, err }));
    });
    const results = await Promise.all([run('left'), run('right')]);
    for (const r of results) {
      assert.equal(r.code, 0, r.err);
      assert.doesNotMatch(r.err, /database is locked|SQLITE_BUSY/);
    }
    assert.deepEqual(await metricSteps(shared, 'left'), range(1, 30));
    assert.deepEqual(await metricSteps(shared, 'right'), range(1, 30));
  });
});

describe('scalelab train rejects bad input with one line, exit code 2 and nothing written', () => {
  const home = tmpHome();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-bad-'));
  const empty = path.join(dir, 'empty.txt');
  fs.writeFileSync(empty, '');
  const latin1 = path.join(dir, 'latin1.txt');
  fs.writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  const short = path.join(dir, 'short.txt');
  fs.writeFileSync(short, 'only a few words here');

  const cases: [string, string[], RegExp][] = [
    ['an unknown corpus', ['train', '--corpus', path.join(dir, 'nope')], /unknown corpus/],
    ['an empty file', ['train', '--corpus', empty], /empty/],
    ['a file that is not UTF-8', ['train', '--corpus', latin1], /UTF-8/],
    ['a negative size', ['train', '--layers', '-2'], /--layers must be a positive integer, got '-2'/],
    ['a non-numeric size', ['train', '--tokens', 'lots'], /--tokens must be a positive number, got 'lots'/],
    ['a context longer than the corpus', ['train', '--corpus', short, '--ctx', '64'], /context length 64 is longer than the corpus/],
    ['heads that do not divide the width', ['train', '--d-model', '30', '--heads', '4'], /heads \(4\) must divide d_model \(30\)/],
    ['an unknown run to resume', ['train', '--resume', 'no-such-run'], /unknown run 'no-such-run'/],
    ['an unknown run to show', ['show', 'no-such-run'], /unknown run 'no-such-run'/],
    ['an unknown run to sample', ['generate', 'no-such-run'], /unknown run 'no-such-run'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = cli(home, ...args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split('\n').length, 1, `one line, got: ${r.err}`);
    });
  }
  it('left no run and no run folder behind', async () => {
    const store = RunStore.open(home);
    assert.equal((await store.listRuns()).length, 0);
    await store.close();
    assert.ok(!fs.existsSync(path.join(home, 'runs')) || fs.readdirSync(path.join(home, 'runs')).length === 0);
  });
  it('refused options do not create a home that did not exist', () => {
    const fresh = path.join(dir, 'never-made');
    const r = cli(fresh, 'train', '--d-model', '30', '--heads', '4');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /heads \(4\) must divide d_model \(30\)/);
    assert.ok(!fs.existsSync(fresh));
  });
});

describe('scalelab runs, show and generate', () => {
  it('list, detail and sample a finished run', async () => {
    const home = tmpHome();
    const res = await train({ ...tiny, name: 'listed' }, { home });
    const list = cli(home, 'runs', '--json');
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(JSON.parse(list.out).map((r: { name: string }) => r.name), ['listed']);
    const show = cli(home, 'show', 'listed', '--json');
    const o = JSON.parse(show.out);
    assert.equal(o.weights_sha256, res.weightsSha256);
    assert.equal(o.config.model.layers, 1);
    assert.equal(o.status, 'done');
    const a = cli(home, 'generate', 'listed', '--prompt', 'The ', '--tokens', '20', '--seed', '5');
    const b = cli(home, 'generate', 'listed', '--prompt', 'The ', '--tokens', '20', '--seed', '5');
    assert.equal(a.code, 0, a.err);
    assert.ok(a.out.startsWith('The '));
    assert.equal(a.out, b.out, 'same seed, same text');
    const empty = cli(tmpHome(), 'runs');
    assert.match(empty.out, /no runs yet: start one with `scalelab train`/);
  });
});
