// scalelab bench serve: the real server on loopback with a tiny random model, two concurrency
// rounds and a small load. Figures are checked for sense, never against wall-clock limits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { benchServe, percentile } from '../src/bench/serve.js';

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
});
