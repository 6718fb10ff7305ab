// Damaged weights on the command line: `generate` says so in one line with exit code 2, and
// `show --verify` checks every weights file of a run against its SHA-256, exit code 1 on damage.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { train, type TrainResult } from '../src/train/train.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
let home: string;
let res: TrainResult;

function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--home', home], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Run fn with `rel` (in the run folder) damaged by one flipped byte, or replaced by `other`; restore after. */
function damaged(rel: string, fn: () => void, other?: string): void {
  const file = path.join(res.dir, rel);
  const good = fs.readFileSync(file);
  const bad = other ? fs.readFileSync(path.join(res.dir, other)) : Buffer.from(good);
  if (!other) bad[bad.length - 3] ^= 0x40;
  fs.writeFileSync(file, bad);
  try {
    fn();
  } finally {
    fs.writeFileSync(file, good);
  }
}

const CKPTS = ['checkpoints/ckpt-000000000.safetensors', 'checkpoints/ckpt-000000005.safetensors', 'checkpoints/ckpt-000000010.safetensors'];

describe('damaged weights on the command line', () => {
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-cli-weights-'));
    res = await train({ layers: 1, dModel: 16, heads: 2, ctx: 16, batch: 2, tokens: 2 * 16 * 10, evalTokens: 128, checkpointEvery: 5, threads: 1, name: 'tiny' }, { home });
    assert.equal(res.status, 'done');
  });

  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it('generate samples from good weights', () => {
    const r = scalelab('generate', 'tiny', '--tokens', '5', '--prompt', 'ab');
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.startsWith('ab'));
  });

  it('generate on corrupt final weights: one line naming the file and what to do, exit code 2', () => {
    damaged('model.safetensors', () => {
      const r = scalelab('generate', 'tiny', '--tokens', '5');
      assert.equal(r.code, 2, r.err);
      assert.equal(r.err.trim().split('\n').length, 1, `expected one line, got: ${r.err}`);
      assert.match(r.err, /^scalelab: the weights of run 'tiny' failed their integrity check \(.*model\.safetensors: sha256 mismatch/);
      assert.match(r.err, /`scalelab show tiny --verify`/);
      assert.equal(r.out, '');
    });
  });

  it('show --verify reports every file ok, exit code 0', () => {
    const r = scalelab('show', 'tiny', '--verify');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n').filter((l) => l.startsWith('verify'));
    assert.deepEqual(lines.map((l) => l.split(/\s+/).slice(1, 3)), [['ok', 'model.safetensors'], ...CKPTS.map((c) => ['ok', c])]);
    assert.equal(r.err, '');
  });

  it('show --verify names the corrupt file, exit code 1', () => {
    damaged(CKPTS[1], () => {
      const r = scalelab('show', 'tiny', '--verify');
      assert.equal(r.code, 1);
      assert.match(r.out, /verify +ok +model\.safetensors\n/);
      assert.match(r.out, /verify +ok +checkpoints\/ckpt-000000000\.safetensors\n/);
      assert.match(r.out, /verify +CORRUPT +checkpoints\/ckpt-000000005\.safetensors: sha256 mismatch: the file is corrupt\n/);
      assert.match(r.out, /verify +ok +checkpoints\/ckpt-000000010\.safetensors\n/);
      assert.match(r.err, /^scalelab: 1 of 4 weights files of run 'tiny' are corrupt;/);
      assert.equal(r.err.trim().split('\n').length, 1);
    });
  });

  it('show --verify catches final weights that verify on their own but are not the ones the store recorded', () => {
    damaged('model.safetensors', () => {
      const r = scalelab('show', 'tiny', '--verify');
      assert.equal(r.code, 1);
      assert.match(r.out, new RegExp(`CORRUPT +model\\.safetensors: its sha256 [0-9a-f]{64} is not the ${res.weightsSha256} the run store recorded`));
    }, CKPTS[2]);
  });

  it('show --verify --json gives a status per file', () => {
    damaged('model.safetensors', () => {
      const r = scalelab('show', 'tiny', '--verify', '--json');
      assert.equal(r.code, 1);
      const o = JSON.parse(r.out) as { verify: { file: string; status: string; problem: string | null }[] };
      assert.deepEqual(o.verify.map((v) => [v.file, v.status]), [['model.safetensors', 'corrupt'], ...CKPTS.map((c) => [c, 'ok'])]);
      assert.match(o.verify[0].problem!, /sha256 mismatch/);
    });
    const ok = scalelab('show', 'tiny', '--json');
    assert.equal(ok.code, 0);
    assert.ok(!('verify' in JSON.parse(ok.out)), 'without --verify no files are read');
  });

  it('show --verify on a run without weights says so', () => {
    const dir = res.dir;
    const moved = `${dir}.away`;
    fs.renameSync(dir, moved);
    try {
      const r = scalelab('show', 'tiny', '--verify');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /verify +no weights files yet/);
    } finally {
      fs.renameSync(moved, dir);
    }
  });
});
