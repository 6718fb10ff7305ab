// scalelab bench serve: the real server on loopback with a tiny random model, two concurrency
// rounds and a small load. Figures are checked for sense, never against wall-clock limits. Also
// the command's errors and the kernel threads' wait policy it picks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchServe, percentile } from '../src/bench/serve.js';
import { SERVING_SPIN_COUNT, applyDefaultWaitPolicy, waitPolicyForCommand } from '../src/engine/wait-policy.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'scalelab.js');

describe('scalelab bench serve', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('reports tokens/s and TTFT per concurrency, and a load with no 5xx', async () => {
    const tmpBefore = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('scalelab-bench-serve-')));
    const res = await benchServe({
      config: { layers: 1, dModel: 32, heads: 2, ctx: 64 }, concurrency: [1, 4], tokens: 8,
      load: 40, loadConcurrency: 8, loadTokens: 8, threads: 2,
    });
    assert.equal(res.random_weights, true);
    assert.deepEqual(res.config, { layers: 1, dModel: 32, heads: 2, ctx: 64, vocab: 256 });
    assert.deepEqual(res.rounds.map((r) => r.concurrency), [1, 4]);
    for (const r of res.rounds) {
      assert.equal(r.errors, 0);
      assert.equal(r.completion_tokens, r.requests * 8, 'random weights never stop early: every request gives max_tokens');
      assert.ok(r.tokens_per_s > 0);
      assert.ok(r.ttft_p50_ms > 0 && r.ttft_p50_ms <= r.ttft_p99_ms, `p50 ${r.ttft_p50_ms} <= p99 ${r.ttft_p99_ms}`);
      assert.ok(r.mean_batch >= 1 && r.mean_batch <= r.concurrency);
    }
    // The decoder alone, at the rounds' batch sizes.
    assert.deepEqual(res.decoder.map((d) => d.batch), [1, 4]);
    for (const d of res.decoder) assert.ok(d.step_ms > 0 && Math.abs(d.tokens_per_s - (d.batch * 1000) / d.step_ms) < 1e-6 * d.tokens_per_s);
    const l = res.load!;
    assert.equal(l.requests, 40);
    assert.equal(l.server_errors_5xx, 0);
    assert.equal(l.failed_without_status, 0);
    assert.deepEqual(l.statuses, { 200: 40 });
    assert.equal(l.ok, 40);
    assert.equal(l.completion_tokens, 40 * 8);
    assert.equal(l.rss_samples_mb.length, 10);
    assert.ok(res.peak_rss_mb > 0 && l.peak_rss_mb > 0);
    // The temporary home is gone.
    const left = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('scalelab-bench-serve-') && !tmpBefore.has(f));
    assert.deepEqual(left, []);
  });

  it('rejects a bad random-model shape, a shape beside --model, and an unknown --model, with exit code 2', () => {
    const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-serve-home-'));
    for (const [args, message] of [
      [['--heads', '5'], /heads \(5\) must divide d_model \(256\)/],
      [['--model', 'x', '--layers', '2'], /--layers, --d-model and --heads shape the random model; not with --model/],
      [['--d-model', '0'], /--d-model must be a positive integer/],
      // --model alone is not mistaken for a shape (the parent bench command's --layers has a default).
      [['--model', 'nosuch', '--home', emptyHome], /no model 'nosuch' in .*`scalelab runs` lists the finished runs/],
    ] as const) {
      const r = spawnSync(process.execPath, [bin, 'bench', 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    fs.rmSync(emptyHome, { recursive: true, force: true });
  });

  it('serving and (de)compressing let kernel threads spin briefly; others sleep; the user\'s setting wins', () => {
    const env = (e: Record<string, string | undefined>, args: string[]) => {
      waitPolicyForCommand(args, e);
      applyDefaultWaitPolicy(e);
      return e;
    };
    assert.deepEqual(env({}, ['serve', '--port', '0']), { GOMP_SPINCOUNT: String(SERVING_SPIN_COUNT) });
    assert.deepEqual(env({}, ['bench', '--json', 'serve']), { GOMP_SPINCOUNT: String(SERVING_SPIN_COUNT) });
    for (const args of [['compress', '--model', 'm', 'a', 'b'], ['decompress', 'a', 'b'], ['bench', 'compress']]) {
      assert.deepEqual(env({}, args), { GOMP_SPINCOUNT: String(SERVING_SPIN_COUNT) }, args.join(' '));
    }
    assert.deepEqual(env({}, ['train', '--tokens', '1e5']), { OMP_WAIT_POLICY: 'passive' });
    assert.deepEqual(env({}, ['bench']), { OMP_WAIT_POLICY: 'passive' });
    assert.deepEqual(env({ OMP_WAIT_POLICY: 'active' }, ['serve']), { OMP_WAIT_POLICY: 'active' });
    assert.deepEqual(env({ GOMP_SPINCOUNT: '5' }, ['train']), { GOMP_SPINCOUNT: '5' });
  });
});
