// The compute-equivalent gain: recovered on synthetic sweeps, and 1.0 inside the interval for
// two sweeps of the same configuration. Plus fit and predict through the CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareToBaseline, equivalentCompute, verdict } from '../src/laws/compare.js';
import { computeOptimal } from '../src/laws/chinchilla.js';
import { Rng } from '../src/engine/random.js';
import type { ScalingPoint } from '../src/laws/points.js';

const bin = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), 'bin', 'scalelab.js');
const law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

/** An isoFLOP sweep from the law; `gain` multiplies the compute the variant effectively gets. */
function sweep(seed: number, gain = 1, noise = 0.003): ScalingPoint[] {
  const rng = new Rng(seed);
  const pts: ScalingPoint[] = [];
  for (const C of [1e18, 3e18, 1e19, 3e19]) {
    const nOpt = Math.sqrt(C / 120);
    for (const f of [0.25, 0.5, 1, 2, 4]) {
      const N = nOpt * f, D = C / (6 * N);
      // A gain of g: the variant at (N, D) does what the baseline does with g times the tokens.
      const loss = (law.E + law.A / N ** law.alpha + law.B / (gain * D) ** law.beta) * (1 + noise * (rng.uniform() - 0.5));
      pts.push({ params: N, tokens: D, loss });
    }
  }
  return pts;
}

describe('compare', () => {
  it('equivalentCompute inverts the optimal frontier', () => {
    const l = { a: Math.log(law.A), b: Math.log(law.B), e: Math.log(law.E), alpha: law.alpha, beta: law.beta };
    const C = 1e20;
    assert.ok(Math.abs(equivalentCompute(l, computeOptimal(l, C).loss) / C - 1) < 1e-6);
    assert.equal(equivalentCompute(l, law.E * 0.99), Infinity);
  });

  it('two sweeps of the same configuration: a gain whose interval contains 1.0', () => {
    const r = compareToBaseline(sweep(1), sweep(2), { resamples: 100 });
    assert.ok(r.interval[0] <= 1 && r.interval[1] >= 1, `interval ${r.interval}`);
    assert.match(verdict('same', r), /not distinguishable from no gain/);
  });

  it('a variant that makes every token count double shows a gain well above 1', () => {
    const r = compareToBaseline(sweep(1), sweep(3, 2), { resamples: 100 });
    assert.ok(r.multiplier > 1.3, `multiplier ${r.multiplier}`);
    assert.ok(r.interval[0] > 1, `interval ${r.interval}`);
    assert.match(verdict('better', r), /^better is worth \d\.\d\dx compute, 90% interval/);
  });
});

describe('fit and predict on the command line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-fit-'));
  const csv = path.join(dir, 'points.csv');
  fs.writeFileSync(csv, 'params,tokens,loss\n' + sweep(4).map((p) => `${p.params},${p.tokens},${p.loss}`).join('\n'));
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--home', dir], { encoding: 'utf8' });

  it('fit --points --json gives the law, its intervals and the points used', () => {
    const r = run('fit', '--points', csv, '--resamples', '50', '--json');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.points, 20);
    assert.ok(Math.abs(o.law.alpha - law.alpha) < 0.05 && Math.abs(o.law.E - law.E) < 0.1, JSON.stringify(o.law));
    for (const k of ['E', 'A', 'B', 'alpha', 'beta']) assert.equal(o.intervals[k].length, 2);
    assert.ok(!('error' in o.isoflop), 'approach 2 fits isoFLOP data');
  });

  it('predict --flops gives the compute-optimal run with intervals', () => {
    const r = run('predict', '--points', csv, '--resamples', '50', '--flops', '1e21', '--json');
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.ok(o.params > 0 && o.tokens > 0 && Math.abs(6 * o.params * o.tokens / 1e21 - 1) < 1e-6);
    assert.ok(o.intervals.loss[0] <= o.loss && o.loss <= o.intervals.loss[1]);
  });

  it('bad input: one line and exit code 2', () => {
    for (const [args, msg] of [
      [['fit'], /give the runs to fit/],
      [['fit', '--points', path.join(dir, 'missing.csv')], /missing\.csv/],
      [['predict', '--points', csv, '--params', '1e9'], /give either --params N --tokens D, or --flops C/],
      [['fit', '--sweep', 'nope'], /unknown sweep 'nope'/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});
