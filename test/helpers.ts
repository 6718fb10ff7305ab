// Small helpers shared by the tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../src/engine/graph.js';
import { Rng } from '../src/engine/random.js';
import type { Buf } from '../src/engine/kernels.js';
import { reference } from '../src/engine/reference.js';
import { Tensor } from '../src/engine/tensor.js';
import { UsageError } from '../src/errors.js';

export function randn(rng: Rng, n: number, scale = 1, Type: typeof Float32Array | typeof Float64Array = Float32Array): Buf {
  const a = new Type(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

export function randInts(rng: Rng, n: number, limit: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(limit);
  return a;
}

export function copy64(a: Buf): Float64Array {
  return Float64Array.from(a);
}

export function copy32(a: Buf): Float32Array {
  return Float32Array.from(a);
}

/** |a − b| ≤ atol + rtol·|b| elementwise, reporting the worst element. */
export function assertClose(actual: Buf | number[], expected: Buf | number[], rtol: number, atol: number, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** (L(x+h) − L(x−h)) / 2h at element i of `data`, which it leaves as it found it. */
export function centralDifference(data: Buf, i: number, h: number, loss: () => number): number {
  const keep = data[i];
  data[i] = keep + h;
  const up = loss();
  data[i] = keep - h;
  const down = loss();
  data[i] = keep;
  return (up - down) / (2 * h);
}

/**
 * Gradient checks in float64 on the reference kernels, drawing from `rng`: `param` makes a random
 * input that wants a gradient; `gradCheck` checks d(Σ f(inputs)·R)/d(input) from backward against
 * central differences (h = 1e-6) for up to `samples` elements of each input.
 */
export function gradChecks(rng: Rng) {
  const param = (shape: number[], scale = 1): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    return new Tensor(randn(rng, n, scale, Float64Array), shape, true);
  };
  const gradCheck = (name: string, inputs: Tensor[], f: (g: Graph, xs: Tensor[]) => Tensor, samples = 24): void => {
    const g = new Graph(reference, { dtype: 'f64' });
    const out = f(g, inputs);
    const R = out.size === 1 ? Float64Array.of(1) : randn(rng, out.size, 1, Float64Array);
    g.backward(out, R);
    const lossAt = (): number => {
      const g2 = new Graph(reference, { dtype: 'f64', training: false });
      const o = f(g2, inputs);
      let s = 0;
      for (let i = 0; i < o.size; i++) s += o.data[i] * R[i];
      return s;
    };
    inputs.forEach((x, xi) => {
      assert.ok(x.grad, `${name}: input ${xi} got no gradient`);
      const idx = x.size <= samples ? [...Array(x.size).keys()] : Array.from({ length: samples }, () => rng.int(x.size));
      for (const i of idx) {
        const numeric = centralDifference(x.data, i, 1e-6, lossAt);
        const analytic = x.grad![i];
        const err = Math.abs(numeric - analytic) / Math.max(1, Math.abs(numeric));
        assert.ok(err < 1e-6, `${name}: d/d input${xi}[${i}] analytic ${analytic} vs numeric ${numeric}`);
      }
    });
  };
  return { param, gradCheck };
}

/** fn throws a UsageError whose one-line message matches. */
export function assertUsageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), 'a UsageError message is one line');
    return true;
  });
}

/** The dashboard's page runs dist/ui/, compiled from src/ui/ by `npm test`'s tsc; compile it when a test file runs alone after an edit. */
export function ensureUiBuilt(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const src = path.join(root, 'src', 'ui'), dist = path.join(root, 'dist', 'ui');
  const stale = fs.readdirSync(src).filter((f) => f.endsWith('.ts')).some((f) => {
    const built = path.join(dist, f.replace(/\.ts$/, '.js'));
    return !fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(src, f)).mtimeMs;
  });
  if (stale) {
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
}
