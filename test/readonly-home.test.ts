// Commands that only read never create a home: a --home that does not exist is one line and
// exit code 2, and nothing appears on disk; a home without a database reads as empty and stays
// without one. A worker refuses a sweep that does not exist instead of finishing "0 jobs".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');

function scalelab(...args: string[]) {
  // The timeout only guards against a server that starts instead of refusing; no test waits for it.
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const READERS: string[][] = [
  ['runs'],
  ['show', 'some-run'],
  ['generate', 'some-run'],
  ['fit', '--sweep', 'base'],
  ['predict', '--sweep', 'base', '--flops', '1e13'],
  ['compare', '--baseline', 'base', '--variant', 'rms'],
  ['sweep', 'status', 'base'],
  ['sweep', 'list'],
  ['sweep', 'run', 'base'],
  ['sweep', 'rm', 'base'],
  ['sweep', 'verify', 'base', '--flops', '1e13'],
  ['bench', 'serve', '--model', 'some-run'],
  ['dashboard', '--port', '0'],
  ['serve', '--port', '0'],
  ['worker', '--sweep', 'base'],
  ['train', '--resume', 'some-run'], // a run to resume lives in an existing home
];

describe('read-only commands on a home that does not exist', () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-nohome-'));
  const missing = path.join(parent, 'typo', 'home');
  for (const args of READERS) {
    it(`${args.join(' ')}: one line, exit 2, nothing created`, () => {
      const r = scalelab(...args, '--home', missing);
      assert.equal(r.code, 2, r.err);
      assert.equal(r.err.trim(), `scalelab: no scalelab home at ${missing}; pass the --home DIR your runs are in (or set SCALELAB_HOME)`);
      assert.deepEqual(fs.readdirSync(parent), [], 'no folder and no database left behind');
    });
  }

  it('$SCALELAB_HOME is held to the same rule', () => {
    const r = spawnSync(process.execPath, [bin, 'runs'], { encoding: 'utf8', env: { ...process.env, SCALELAB_HOME: missing } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no scalelab home at/);
    assert.deepEqual(fs.readdirSync(parent), []);
  });
});

describe('read-only commands on a home without a database', () => {
  it('read it as empty and create no database', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-emptyhome-'));
    assert.match(scalelab('runs', '--home', home).out, /no runs yet/);
    const show = scalelab('show', 'x', '--home', home);
    assert.equal(show.code, 2);
    assert.match(show.err, /unknown run 'x'/);
    assert.match(scalelab('sweep', 'list', '--home', home).out, /no sweeps yet/);
    assert.match(scalelab('sweep', 'status', 'x', '--home', home).err, /unknown sweep 'x'/);
    assert.deepEqual(fs.readdirSync(home), []);
  });
});

describe('scalelab worker --sweep', () => {
  it('refuses a sweep that does not exist, naming it, instead of finishing 0 jobs', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-worker-'));
    const store = RunStore.open(home);
    await new SweepQueue(store).createSweep('real', {}, []);
    await store.close();
    const r = scalelab('worker', '--sweep', 'nosuch', '--home', home);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim(), "scalelab: unknown sweep 'nosuch'; `scalelab sweep list` lists them");
    assert.doesNotMatch(r.out, /finished/);
    const ok = scalelab('worker', '--sweep', 'real', '--home', home);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /finished 0 jobs/, 'a sweep with nothing left to do still finishes');
  });
});
