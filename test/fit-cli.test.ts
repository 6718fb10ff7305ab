// scalelab fit on points that are not isoFLOP profiles, with --exclude, and on files that are not
// CSV text: warnings in the text and the JSON, dropped rows reported, one-line errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/engine/random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
const law = (N: number, D: number) => 1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28;

describe('fit on scattered points, with --exclude', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-fit-cli-'));
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--home', dir], { encoding: 'utf8' });
  // 50 runs of many sizes at scattered budgets, and one wild run at row 4.
  const rng = new Rng(5);
  const rows: string[] = [];
  while (rows.length < 50) {
    const N = 10 ** (7 + 3 * rng.uniform()), C = 10 ** (18 + 4 * rng.uniform()), D = C / (6 * N);
    if (D >= 1e8) rows.push(`${N},${D},${rows.length === 3 ? 9.5 : law(N, D) * Math.exp(0.005 * rng.normal())}`);
  }
  const csv = path.join(dir, 'scattered.csv');
  fs.writeFileSync(csv, `params,tokens,loss\n${rows.join('\n')}\n`);

  it('says the groups are not isoFLOP profiles, in the text and the JSON', () => {
    const text = run('fit', '--points', csv, '--resamples', '20');
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^warning: these points do not look like isoFLOP profiles/m);
    assert.match(text.stdout, /^warning: \d+ of 50 points fall in .* belong to no isoFLOP profile/m);
    assert.match(text.stdout, /^ {2}C [\d.e+]+ \(\d+ runs, \d+ sizes, spread \d+\.\d%\)/m);
    const json = JSON.parse(run('fit', '--points', csv, '--resamples', '20', '--json').stdout);
    assert.match(json.isoflop.warnings[0], /do not look like isoFLOP profiles/);
    assert.ok(json.isoflop.budgets.every((b: { sizes: number; spread: number }) => b.sizes >= 1 && b.spread >= 0));
    assert.deepEqual(json.excluded, []);
  });

  it('--exclude drops the rows it names from both approaches and lists them', () => {
    const r = run('fit', '--points', csv, '--resamples', '20', '--exclude', 'top-loss:1', '--exclude', 'rows:10', '--json');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.points, 48);
    assert.deepEqual(o.excluded.map((e: { row: number; rule: string }) => [e.row, e.rule]), [[4, 'top-loss:1'], [10, 'rows:10']]);
    assert.equal(o.excluded[0].loss, 9.5);
    const used = o.isoflop.budgets.reduce((s: number, b: { runs: number }) => s + b.runs, 0);
    assert.equal(used, 48, 'approach 2 sees the same 48 points');
    const predict = JSON.parse(run('predict', '--points', csv, '--resamples', '20', '--flops', '1e21', '--exclude', 'rows:4', '--json').stdout);
    assert.deepEqual(predict.excluded.map((e: { row: number }) => e.row), [4]);
    const text = run('fit', '--points', csv, '--resamples', '20', '--exclude', 'loss>9');
    assert.match(text.stdout, /^excluded 1 point\(s\) from both approaches:\n {2}row 4: N .*, loss 9\.500 {2}\(loss>9\)$/m);
  });

  it('bad rules, binary and control bytes: one line, exit code 2, no raw bytes echoed', () => {
    const binary = path.join(dir, 'binary.csv');
    fs.writeFileSync(binary, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.from('\x1b]0;pwned\x07\x1b[2J'), Buffer.from([0xff])]));
    const esc = path.join(dir, 'esc.csv');
    fs.writeFileSync(esc, 'params,tokens,loss\n1e6,1e8,3\x1b[2J\n');
    for (const [args, msg] of [
      [['fit', '--points', csv, '--exclude', 'rows:99'], /--exclude 'rows:99': row 99 does not exist: there are 50 rows/],
      [['fit', '--points', csv, '--exclude', 'loss=3'], /--exclude 'loss=3': not a rule; use rows:3,7/],
      [['predict', '--points', csv, '--flops', '1e21', '--exclude', 'top-size:2'], /unknown field 'size'/],
      [['fit', '--points', binary], /points file .*binary\.csv is not a text CSV \(it is not UTF-8\)/],
      [['fit', '--points', esc], /points file .*esc\.csv is not a text CSV \(control byte 0x1b at character 28\)/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stderr), 'no control bytes reach the terminal');
    }
  });
});
