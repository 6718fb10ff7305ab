// `npm run bench:torch`: without PyTorch, or with a bad option, one line and exit code 2. (The
// comparison itself needs python3-torch and takes minutes; it is a benchmark, not a test.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compare = path.join(root, 'bench', 'torch', 'compare.mjs');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [compare, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function assertOneLine(r: { code: number | null; out: string; err: string }, message: RegExp) {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, message);
  assert.equal(r.err.trim().split('\n').length, 1, `one line, got: ${r.err}`);
  assert.equal(r.out, '');
}

describe('bench:torch', () => {
  it('says in one line how to install PyTorch when the python it finds has none', () => {
    assertOneLine(run([], { PYTHON: path.join(root, 'no-such-python3') }), /PyTorch is not installed .*apt-get install python3-torch/);
  });

  it('refuses a bad option in one line', () => {
    assertOneLine(run(['--layers', 'two']), /--layers must be a positive integer, got 'two'/);
    assertOneLine(run(['--layers', '0']), /--layers must be a positive integer/);
    assertOneLine(run(['--d-model', '30', '--heads', '4']), /--d-model 30 is not a multiple of --heads 4/);
    assertOneLine(run(['--depth', '4']), /Unknown option '--depth'/);
  });
});
