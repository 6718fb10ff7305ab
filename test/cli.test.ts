// The command line: bad input gets one line on stderr and exit code 2; bench prints its JSON.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');

function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scalelab bench', () => {
  it('prints one JSON object with the fields the comparison script reads', () => {
    const r = scalelab('bench', '--json', '--layers', '1', '--d-model', '32', '--heads', '2', '--ctx', '16', '--batch', '2', '--steps', '2', '--warmup', '1', '--threads', '1');
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out.trim().split('\n').pop()!);
    for (const key of ['tokens_per_s', 'step_ms', 'gflops', 'peak_rss_mb', 'params', 'kernel']) assert.ok(key in o, `missing ${key}`);
    assert.equal(o.threads, 1);
    assert.ok(o.tokens_per_s > 0 && Number.isFinite(o.final_loss));
  });

  it('--gemm lists GFLOP/s for square sizes', () => {
    const r = scalelab('bench', '--gemm', '--json', '--threads', '1');
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out);
    assert.deepEqual(o.rows.map((x: { size: number }) => x.size), [256, 512, 1024, 2048]);
    assert.ok(o.rows.every((x: { gflops: number }) => x.gflops > 0));
  });

  for (const [args, message] of [
    [['--layers', '-3'], /--layers must be a positive integer, got '-3'/],
    [['--d-model', 'abc'], /--d-model must be a positive integer, got 'abc'/],
    [['--batch', '0'], /--batch must be a positive integer, got '0'/],
    [['--threads', '1.5'], /--threads must be a positive integer, got '1.5'/],
    [['--heads', '3'], /--heads \(3\) must divide --d-model \(256\)/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ] as const) {
    it(`rejects ${args.join(' ')} with one line and exit code 2`, () => {
      const r = scalelab('bench', ...args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split('\n').length, 1, `expected one line, got: ${r.err}`);
      assert.equal(r.out, '');
    });
  }

  it('rejects an unknown command with exit code 2', () => {
    const r = scalelab('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command 'frobnicate'/);
  });
});

describe('user errors from the engine', () => {
  it('a shape error is reported as one line, like a usage error', async () => {
    const { userErrorLine } = await import('../src/cli/main.js');
    const { embedding } = await import('../src/engine/ops.js');
    const { Graph } = await import('../src/engine/graph.js');
    const { Tensor } = await import('../src/engine/tensor.js');
    const { reference } = await import('../src/engine/reference.js');
    let thrown: unknown;
    try {
      embedding(new Graph(reference), new Int32Array([0, 1, 2]), new Tensor(new Float32Array(8), [4, 2]), [2]);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof Error && thrown.name === 'ShapeError', `expected a ShapeError, got ${thrown}`);
    assert.equal(userErrorLine(thrown), 'scalelab: embedding: 3 ids do not fill shape [2]');
    assert.equal(userErrorLine(new Error('a bug')), undefined);
  });
});
