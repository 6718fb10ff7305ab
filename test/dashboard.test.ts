// The dashboard without a browser: the series arithmetic the page and the server share (debiased
// EMA, min/max decimation), the read-only API on a real server (downsampling that keeps spikes,
// zoomed ranges at full resolution, strict run and sweep names, 4xx in the API's shape), the
// live stream delivering a newly logged row, the scaling-law view of a synthetic sweep, an
// empty home, and the command line.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emaDebiased, m4Indices } from '../src/common/series.js';
import { mergeRows } from '../src/ui/state.js';
import { logTicks } from '../src/ui/axes.js';
import { nextWindow, utf8Length, utf8Tail } from '../src/ui/prompt-window.js';
import { groupModels } from '../src/ui/model-groups.js';
import { compare, firstClickDesc } from '../src/ui/runs-table.js';
import { smoothingFor } from '../src/ui/curves.js';
import { RunStore } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { addSyntheticRun, addSyntheticSweep, SYNTHETIC_LAW } from '../src/dashboard/synthetic.js';
import type { MetricsResponse } from '../src/dashboard/metrics.js';
import type { RunSummary } from '../src/dashboard/runs.js';
import type { SweepDetail } from '../src/dashboard/sweeps.js';
import type { LawView } from '../src/dashboard/law-view.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');

type ApiErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

async function get<T>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

/** Server-sent events from `url`, parsed; `next(name)` resolves with the next event of that name. */
function events(url: string) {
  const abort = new AbortController();
  const queue: { event: string; data: unknown }[] = [];
  const waiters: { name: string; test: (d: unknown) => boolean; resolve: (d: unknown) => void }[] = [];
  const deliver = () => {
    for (let i = 0; i < queue.length; i++) {
      const w = waiters.findIndex((x) => x.name === queue[i].event && x.test(queue[i].data));
      if (w < 0) continue;
      waiters.splice(w, 1)[0].resolve(queue[i].data);
      queue.splice(i--, 1);
    }
  };
  const done = (async () => {
    const r = await fetch(url, { signal: abort.signal });
    assert.equal(r.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of r.body!) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) queue.push({ event, data: JSON.parse(data) });
        }
        deliver();
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  })();
  return {
    next<T>(name: string, test: (d: T) => boolean = () => true): Promise<T> {
      return new Promise((resolve) => {
        waiters.push({ name, test: test as (d: unknown) => boolean, resolve: resolve as (d: unknown) => void });
        deliver();
      });
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}

describe('series arithmetic', () => {
  it('the debiased EMA of a constant is that constant from the first point', () => {
    const ys = new Array(50).fill(3.25);
    for (const w of [0, 0.5, 0.9, 0.99]) {
      for (const v of emaDebiased(ys, w)) assert.ok(Math.abs((v as number) - 3.25) < 1e-12, `weight ${w}: ${v}`);
    }
  });

  it('matches the bias-corrected recurrence, and skips missing values without counting them', () => {
    const ys = [1, 5, null, 2, NaN, 8];
    const w = 0.8;
    const out = emaDebiased(ys, w);
    let m = 0, n = 0;
    const expected: (number | null)[] = ys.map((y) => {
      if (y === null || !Number.isFinite(y)) return null;
      m = w * m + (1 - w) * y;
      n++;
      return m / (1 - w ** n);
    });
    assert.equal(out[0], 1, 'the first value is the first point, not (1 − w) times it');
    assert.deepEqual(out.map((v) => (v === null ? null : Number(v.toFixed(12)))), expected.map((v) => (v === null ? null : Number(v.toFixed(12)))));
    assert.deepEqual(emaDebiased([4, 6], 0), [4, 6]);
    assert.throws(() => emaDebiased([1], 1), RangeError);
  });

  it('min/max decimation keeps a one-point spike and a one-point dip among a million points', () => {
    const n = 1_000_000, xs = new Float64Array(n), ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = i + 1;
      ys[i] = 2 + Math.sin(i / 5000) * 0.1;
    }
    ys[123_457] = 40;
    ys[876_543] = -5;
    const idx = m4Indices(xs, [ys], 500);
    assert.ok(idx.includes(123_457) && idx.includes(876_543), 'the extremes survive');
    assert.ok(idx.length <= 4 * 500, `${idx.length} points for 500 buckets`);
    assert.ok(idx.includes(0) && idx.includes(n - 1), 'the ends survive');
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1], 'ascending');
    // Sampling every k-th point, as many tools do, loses both.
    const every = Array.from({ length: idx.length }, (_, i) => Math.floor((i * n) / idx.length));
    assert.ok(!every.includes(123_457) && !every.includes(876_543));
  });

  it('decimates in log x, drops x ≤ 0 there, and keeps one neighbour outside a range', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const ys = xs.map((x) => 1 / (x + 1));
    const lin = m4Indices(xs, [ys], 20), log = m4Indices(xs, [ys], 20, { log: true });
    assert.ok(!log.includes(0), 'x = 0 has no place on a log axis');
    // Equal log buckets keep far more of the first decade than equal linear ones.
    assert.ok(log.filter((i) => i < 100).length > 3 * lin.filter((i) => i < 100).length);
    const zoomed = m4Indices(xs, [ys], 1000, { min: 5000, max: 5100 });
    assert.equal(zoomed[0], 4999);
    assert.equal(zoomed[zoomed.length - 1], 5101);
    assert.equal(zoomed.length, 103, 'a narrow range comes back in full');
  });

  it('log axes get round ticks however narrow or wide the range', () => {
    assert.deepEqual(logTicks(1.8, 2.6), [1.8, 2, 2.2, 2.4, 2.6]);
    assert.deepEqual(logTicks(0.5, 2e6), [1, 10, 100, 1000, 1e4, 1e5, 1e6]);
    assert.deepEqual(logTicks(3e11, 1.2e14), [3e11, 1e12, 3e12, 1e13, 3e13, 1e14]);
    assert.deepEqual(logTicks(1, 50), [1, 2, 5, 10, 20, 50]);
  });

  it('the page merges live rows: appends after the last step, replaces a step logged again', () => {
    const cols = { step: [1, 2, 3], tokens: [1, 2, 3], flops: [1, 2, 3], trainBpb: [3, 2, 1], valBpb: [null, null, 1.5], lr: [1, 1, 1], tokensPerS: [9, 9, 9], gradNorm: [1, 1, 1] };
    const rows = { step: [2, 4], tokens: [2, 4], flops: [2, 4], trainBpb: [2.5, 0.5], valBpb: [null, null], lr: [1, 1], tokensPerS: [9, 9], gradNorm: [1, 1] };
    mergeRows(cols, rows);
    assert.deepEqual(cols.step, [1, 2, 3, 4]);
    assert.deepEqual(cols.trainBpb, [3, 2.5, 1, 0.5]);
  });
});

describe('runs table and charts', () => {
  it('a first click on a loss sorts best (lowest) first, on a count largest first; missing values go last either way', () => {
    assert.equal(firstClickDesc('best'), false);
    assert.equal(firstClickDesc('train'), false);
    assert.equal(firstClickDesc('params'), true);
    assert.equal(firstClickDesc('started'), true);
    assert.equal(firstClickDesc('name'), false);
    const bpb = [2.5, null, 1.25, 3];
    assert.deepEqual([...bpb].sort((a, b) => compare(a, b, firstClickDesc('best'))), [1.25, 2.5, 3, null]);
    assert.deepEqual([...bpb].sort((a, b) => compare(a, b, true)), [3, 2.5, 1.25, null]);
  });

  it('the learning rate is never smoothed; the losses are', () => {
    assert.equal(smoothingFor('lr', 0.9), 0);
    assert.equal(smoothingFor('trainBpb', 0.9), 0.9);
    assert.equal(smoothingFor('gradNorm', 0.6), 0.6);
  });
});

describe('playground', () => {
  it('a completion longer than the context continues from the tail, each request within the context', () => {
    const ctx = 64;
    let text = 'The jury said', left = 200, requests = 0;
    while (left > 0) {
      const w = nextWindow(text, left, ctx);
      assert.ok(w.maxTokens >= 1 && Math.max(1, utf8Length(w.prompt)) + w.maxTokens <= ctx, `request ${requests}: ${utf8Length(w.prompt)} + ${w.maxTokens}`);
      assert.ok(text.endsWith(w.prompt));
      if (requests > 0) assert.ok(w.maxTokens >= ctx / 2 || w.maxTokens === left, 'at least half the context is new tokens');
      text += 'x'.repeat(w.maxTokens);
      left -= w.maxTokens;
      requests++;
    }
    assert.equal(text.length, 'The jury said'.length + 200);
    assert.ok(requests >= 5 && requests <= 7, `${requests} requests`);
    // What fits goes in one request, as asked; a prompt longer than the context is cut to its tail.
    assert.deepEqual(nextWindow('abc', 20, 64), { prompt: 'abc', maxTokens: 20 });
    assert.deepEqual(nextWindow('', 63, 64), { prompt: '', maxTokens: 63 });
    assert.deepEqual(nextWindow('a'.repeat(100), 10, 64), { prompt: 'a'.repeat(32), maxTokens: 10 });
    assert.throws(() => nextWindow('a', 5, 1), RangeError);
  });

  it('cuts text between code points, never inside one', () => {
    assert.equal(utf8Tail('añb€😀', 4), '😀');
    assert.equal(utf8Tail('añb€😀', 7), '€😀');
    assert.equal(utf8Tail('añb€😀', 6), '😀');
    assert.equal(utf8Tail('abc', 0), '');
    assert.equal(utf8Tail('abc', 10), 'abc');
    assert.equal(utf8Length('añ€😀'), 1 + 2 + 3 + 4);
  });

  it('groups checkpoints under their run, runs newest first, final weights then latest steps', () => {
    const run = (name: string, createdAt: string, ctx: number) => ({ name, createdAt, ctx, shape: `1×32 h2 ctx${ctx}` }) as unknown as RunSummary;
    const groups = groupModels(['old', 'new@10', 'old@5', 'new@200', 'new', 'old@50', 'gone@3'],
      [run('old', '2024-01-01T00:00:00Z', 128), run('new', '2024-02-01T00:00:00Z', 64)]);
    assert.deepEqual(groups.map((g) => [g.run, g.ctx, g.models.map((m) => m.id)]), [
      ['new', 64, ['new', 'new@200', 'new@10']],
      ['old', 128, ['old', 'old@50', 'old@5']],
      ['gone', null, ['gone@3']],
    ]);
  });
});

describe('dashboard API', () => {
  let home: string;
  let dash: RunningDashboard;
  let store: RunStore;
  let spiky: string;

  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-'));
    store = RunStore.open(home);
    spiky = (await addSyntheticRun(store, { name: 'spiky', steps: 60_000, spikes: [31_337], evalEvery: 1000 })).id;
    await addSyntheticRun(store, { name: 'small', steps: 300, params: 2e5, seed: 2 });
    await addSyntheticSweep(store, 'iso', { verifyFlops: 4e13, queued: 2 });
    await new SweepQueue(store).createSweep('few', {}, [0, 1].map((i) => ({ options: {}, runName: `few-${i}`, estimatedSeconds: 10 })));
    dash = await startDashboard({ home, port: 0, resamples: 40, intervalMs: 50 });
  });

  after(async () => {
    await dash?.close();
    await store?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('binds to loopback and lists runs with their table columns', async () => {
    assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await get<{ runs: RunSummary[] }>(`${dash.url}/api/runs`);
    assert.equal(status, 200);
    const small = body.runs.find((r) => r.name === 'small')!;
    assert.equal(small.status, 'done');
    assert.equal(small.nonEmbeddingParams, 2e5);
    assert.equal(small.lastStep, 300);
    assert.ok(small.tokensPerS! > 0 && small.bestValBpb! > 0 && small.lastTrainBpb! > 0);
    assert.equal(body.runs.find((r) => r.name === 'iso-003')?.sweep, 'iso');
  });

  it('runs carry one meaning per column: both parameter counts, tokens/s averaged over training, bits per byte, shape and context', async () => {
    const { body } = await get<{ runs: RunSummary[] }>(`${dash.url}/api/runs`);
    const small = body.runs.find((r) => r.name === 'small')!;
    const rec = (await store.findRun('small'))!;
    assert.equal(small.params, rec.params);
    assert.equal(small.nonEmbeddingParams, rec.nonEmbeddingParams);
    assert.ok(small.params! > small.nonEmbeddingParams!);
    // The average `scalelab runs` prints, not the last step's (which has its own field).
    assert.equal(small.tokensPerS, rec.tokensSeen / rec.trainSeconds);
    const last = (await store.metrics(rec.id)).at(-1)!;
    assert.equal(small.lastTokensPerS, last.tokensPerS);
    assert.notEqual(small.tokensPerS, small.lastTokensPerS);
    assert.equal(small.lastTrainBpb, last.trainLoss! / Math.LN2);
    assert.equal(small.shape, '4×128 h4 ctx128');
    assert.equal(small.ctx, 128);
    // A verify run is no job of its sweep, but belongs to it.
    assert.equal(body.runs.find((r) => r.name === 'iso-verify-4.0e13')?.sweep, 'iso');
    assert.equal(small.sweep, null);
  });

  it('downsamples a long run server-side without losing its spike', async () => {
    const { status, body } = await get<MetricsResponse>(`${dash.url}/api/runs/spiky/metrics?buckets=200`);
    assert.equal(status, 200);
    assert.equal(body.total, 60_000);
    assert.ok(body.downsampled);
    const n = body.columns.step.length;
    assert.ok(n <= 200 * 10 && n >= 200, `${n} points`);
    const at = body.columns.step.indexOf(31_337);
    assert.ok(at >= 0, 'the spike step is kept');
    assert.ok(body.columns.trainBpb[at]! > Math.max(...body.columns.trainBpb.filter((_, i) => i !== at).map(Number)), 'as the highest value');
    assert.equal(body.columns.step[n - 1], 60_000);
    // Train loss is sent in bits per byte; validation rows are kept too.
    assert.ok(body.columns.valBpb.filter((v) => v !== null).length >= 50);
    for (const k of ['tokens', 'flops', 'lr', 'tokensPerS', 'gradNorm'] as const) assert.equal(body.columns[k].length, n);
  });

  it('a zoomed range comes back at full resolution, by step or by tokens', async () => {
    const { body } = await get<MetricsResponse>(`${dash.url}/api/runs/spiky/metrics?from=31000&to=31500`);
    assert.equal(body.downsampled, false);
    assert.deepEqual([body.columns.step[0], body.columns.step.at(-1)], [30_999, 31_501], 'one row beyond each edge');
    assert.equal(body.columns.step.length, 503);
    const t = body.columns.tokens[10]!, t2 = body.columns.tokens[20]!;
    const byTokens = await get<MetricsResponse>(`${dash.url}/api/runs/${spiky}/metrics?x=tokens&from=${t}&to=${t2}`);
    assert.equal(byTokens.body.columns.step.length, 13);
    const log = await get<MetricsResponse>(`${dash.url}/api/runs/spiky/metrics?buckets=100&log=1`);
    assert.ok(log.body.columns.step.filter((s) => s! < 100).length > 50, 'log buckets keep the early steps');
  });

  it('rejects malformed run ids and path tricks with 400, unknown ones with 404, in the API error shape', async () => {
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', '..%2Fscalelab.db', '..%2E', '.hidden', 'a%20b', 'x%00y', '%2Fetc%2Fpasswd', 'r%5C..%5C..']) {
      for (const suffix of ['', '/metrics']) {
        const { status, body } = await get<ApiErrorBody>(`${dash.url}/api/runs/${bad}${suffix}`);
        assert.equal(status, 400, `${bad}${suffix}`);
        assert.equal(body.error.type, 'invalid_request_error');
        assert.equal(body.error.code, 'invalid_run');
      }
    }
    for (const bad of ['..%2F', 'a%2Fb', '-x']) {
      assert.equal((await get<ApiErrorBody>(`${dash.url}/api/sweeps/${bad}/law`)).status, 400, bad);
    }
    const unknown = await get<ApiErrorBody>(`${dash.url}/api/runs/no-such-run/metrics`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'run_not_found');
    assert.equal((await get<ApiErrorBody>(`${dash.url}/api/sweeps/nope`)).status, 404);
    // The longest name a run may have still reaches the handler (fastify's default stops at 100 characters).
    const long = await get<ApiErrorBody>(`${dash.url}/api/runs/${'r'.repeat(128)}/metrics`);
    assert.equal(long.body.error.code, 'run_not_found');
    // Paths that escape the route table never reach a file.
    for (const p of ['/api/runs/%2E%2E/metrics', '/ui/../package.json', '/ui/%2e%2e/package.json', '/vendor/..%2F..%2Fpackage.json', '/src/ui/app.ts', '/ui/app.ts']) {
      const r = await fetch(`${dash.url}${p}`);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(await r.text(), /"name": "scalelab"/);
    }
  });

  it('rejects bad query parameters with 400 and keeps serving', async () => {
    for (const q of ['x=time', 'buckets=0', 'buckets=1e3', 'buckets=100000', 'log=maybe', 'from=abc', 'from=10&to=5', 'x=step&x=tokens']) {
      const { status, body } = await get<ApiErrorBody>(`${dash.url}/api/runs/small/metrics?${q}`);
      assert.equal(status, 400, q);
      assert.match(body.error.message, /Invalid|once/);
    }
    assert.equal((await get(`${dash.url}/api/runs/small/metrics`)).status, 200);
  });

  it('a run and its events', async () => {
    const { body } = await get<{ run: RunSummary; config: Record<string, unknown>; events: unknown[] }>(`${dash.url}/api/runs/iso-verify-4.0e13`);
    assert.equal(body.run.name, 'iso-verify-4.0e13');
    assert.equal(body.config.synthetic, true);
    assert.equal(body.events.length, 1);
  });

  it('sweeps with job counts and an ETA', async () => {
    const { body } = await get<{ sweeps: { name: string; counts: Record<string, number>; jobs: number; etaSeconds: number }[] }>(`${dash.url}/api/sweeps`);
    const iso = body.sweeps.find((s) => s.name === 'iso')!;
    assert.deepEqual(iso.counts, { queued: 2, running: 0, done: 15, failed: 0 });
    assert.equal(iso.jobs, 17);
    assert.ok(iso.etaSeconds > 0);
    const detail = await get<SweepDetail>(`${dash.url}/api/sweeps/iso`);
    assert.equal(detail.body.jobs.length, 17);
    // Each job with its shape and the budget it belongs to; queued ones not yet started have no run to say.
    assert.deepEqual(detail.body.jobs.slice(0, 15).map((j) => j.budget), [1e12, 3e12, 1e13].flatMap((c) => [c, c, c, c, c]));
    assert.ok(detail.body.jobs.slice(0, 15).every((j) => j.shape === '4×128 h4 ctx128'));
    assert.deepEqual(detail.body.verify.map((v) => [v.run, v.status]), [['iso-verify-4.0e13', 'done']]);
    assert.ok(Math.abs(Math.log(detail.body.verify[0].budget! / 4e13)) < 0.05, `verify budget ${detail.body.verify[0].budget}`);
  });

  it('the scaling-law view: points, the fitted law, a frontier inside its band, isoFLOP groups and the verify run', async () => {
    const { status, body: v } = await get<LawView>(`${dash.url}/api/sweeps/iso/law`);
    assert.equal(status, 200);
    assert.equal(v.points.length, 15);
    assert.ok(v.fit && v.error === null);
    assert.ok(Math.abs(v.fit.law.alpha - SYNTHETIC_LAW.alpha) < 0.05, `alpha ${v.fit.law.alpha}`);
    assert.equal(v.fit.resamples, 40);
    const f = v.frontier!;
    assert.ok(f.flops.length >= 20);
    f.flops.forEach((_, i) => assert.ok(f.lo[i] <= f.loss[i] + 1e-9 && f.loss[i] <= f.hi[i] + 1e-9, `band at ${i}`));
    assert.ok(f.flops[0] < 1e12 && f.flops.at(-1)! > 4e13, 'the frontier spans the points and the verify budget');
    // Sampled densely in log space, so the lines drawn between samples show no kinks.
    const maxStep = (xs: number[]) => Math.max(...xs.slice(1).map((x, i) => x / xs[i]));
    assert.ok(maxStep(f.flops) <= 1.0201, `frontier steps of ${maxStep(f.flops)}x`);
    for (const b of v.budgets) assert.ok(maxStep(b.law!.params) <= 1.0201, `isoFLOP curve steps of ${maxStep(b.law!.params)}x`);
    assert.equal(v.budgets.length, 3);
    for (const b of v.budgets) {
      assert.equal(b.runs.length, 5);
      assert.ok(b.law && b.law.params.length > 10);
      assert.equal(b.accepted, true);
    }
    assert.equal(v.verify.length, 1);
    assert.equal(v.verify[0].run, 'iso-verify-4.0e13');
    assert.ok(v.verify[0].interval[0] < v.verify[0].predicted && v.verify[0].predicted < v.verify[0].interval[1]);
    // Fitted once per state of the sweep: the same answer until a run finishes.
    assert.equal(await dash.laws.view('iso'), await dash.laws.view('iso'));
  });

  it('a sweep without enough finished runs says why there is no fit', async () => {
    const { body: v } = await get<LawView>(`${dash.url}/api/sweeps/few/law`);
    assert.equal(v.points.length, 0);
    assert.equal(v.fit, null);
    assert.match(v.error!, /point|run/i);
  });

  it('pushes a newly logged metric row and the run it belongs to over server-sent events', async () => {
    const sse = events(`${dash.url}/api/events`);
    await sse.next('hello');
    const writer = RunStore.open(home);
    try {
      const run = await writer.createRun({ name: 'live', config: { layers: 1 }, params: 100, nonEmbeddingParams: 10, flopsPerToken: 60, tokensTarget: 1000 });
      await writer.updateRun(run.id, { status: 'running' });
      const created = await sse.next<{ runs: RunSummary[] }>('runs', (d) => d.runs.some((r) => r.id === run.id));
      assert.equal(created.runs.find((r) => r.id === run.id)!.status, 'running');
      await writer.logMetrics(run.id, [{ step: 7, tokens: 70, flops: 4200, trainLoss: Math.LN2 * 2.5, valBpb: 2.75 }]);
      const m = await sse.next<{ runs: Record<string, MetricsResponse['columns']> }>('metrics', (d) => run.id in d.runs);
      assert.deepEqual(m.runs[run.id].step, [7]);
      assert.equal(m.runs[run.id].trainBpb[0], 2.5);
      assert.equal(m.runs[run.id].valBpb[0], 2.75);
      await writer.logMetrics(run.id, [{ step: 8, trainLoss: 1 }, { step: 9, trainLoss: 1 }]);
      const m2 = await sse.next<{ runs: Record<string, MetricsResponse['columns']> }>('metrics', (d) => run.id in d.runs);
      assert.deepEqual(m2.runs[run.id].step, [8, 9], 'each row once, in order');
      // A job changing state pushes the sweeps.
      const q = new SweepQueue(writer);
      const job = (await q.claim('tester', 60, 'iso'))!;
      const sw = await sse.next<{ sweeps: { name: string; counts: Record<string, number> }[] }>('sweeps', (d) => d.sweeps.some((s) => s.name === 'iso' && s.counts.running === 1));
      assert.equal(sw.sweeps.find((s) => s.name === 'iso')!.counts.queued, 1);
      await q.release(job, 'tester');
    } finally {
      await writer.close();
      await sse.close();
    }
    // A closed page stops its subscription (and the ticker with the last one), once the server sees the socket close.
    while (dash.live.subscribers > 0) await new Promise((r) => setTimeout(r, 10));
  });

  it('serves the page with a content security policy, its modules and uPlot from the package', async () => {
    const page = await fetch(`${dash.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/ui\/app.js">/);
    assert.match(html, /rel="modulepreload" href="\/common\/series.js"/);
    for (const p of ['/ui/app.js', '/common/series.js', '/ui/style.css', '/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css']) {
      const r = await fetch(`${dash.url}${p}`);
      assert.equal(r.status, 200, p);
      const again = await fetch(`${dash.url}${p}`, { headers: { 'if-none-match': r.headers.get('etag')! } });
      assert.equal(again.status, 304, `${p} revalidates`);
    }
    // The API of the same server is there for the playground, with the key the page carries.
    const key = /<meta name="scalelab-key" content="([A-Za-z0-9_-]{32})">/.exec(html)?.[1];
    assert.ok(key, 'the page carries a key for /v1');
    const models = await fetch(`${dash.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(((await models.json()) as { object: string }).object, 'list');
    assert.equal((await get<ApiErrorBody>(`${dash.url}/v1/models`)).body.error.code, 'missing_api_key');
  });
});

describe('dashboard on an empty home', () => {
  it('answers with empty lists and serves the page', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-empty-'));
    const dash = await startDashboard({ home, port: 0 });
    try {
      assert.deepEqual((await get(`${dash.url}/api/runs`)).body, { runs: [] });
      assert.deepEqual((await get(`${dash.url}/api/sweeps`)).body, { sweeps: [] });
      assert.equal((await fetch(`${dash.url}/`)).status, 200);
    } finally {
      await dash.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('scalelab dashboard', () => {
  for (const [args, message] of [
    [['--port', 'abc'], /--port must be an integer from 0 to 65535, got 'abc'/],
    [['--port', '70000'], /--port must be an integer from 0 to 65535, got '70000'/],
    [['--resamples', '0'], /--resamples must be a positive integer, got '0'/],
    [['--host', 'no-such-host.invalid'], /cannot bind --host no-such-host.invalid/],
    [['--request-timeout', '0'], /--request-timeout must be a positive number, got '0'/],
    [['--idle-timeout', '1e9'], /--idle-timeout must be from 0.001 to 86400 seconds, got '1e9'/],
    [['--allowed-host', 'http://lab.example.com/'], /--allowed-host must be a host name such as lab.example.com/],
    [['--api-key', ' '], /--api-key must not be empty/],
  ] as const) {
    it(`bad input: ${args.join(' ')} → one line, exit 2`, () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-cli-'));
      const port = args[0] === '--port' ? [] : ['--port', '0'];
      const r = spawnSync(process.execPath, [bin, 'dashboard', ...args, ...port, '--home', home], { encoding: 'utf8' });
      fs.rmSync(home, { recursive: true, force: true });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  it('starts, says where, serves, and stops on SIGTERM', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-cli-'));
    const child = spawn(process.execPath, [bin, 'dashboard', '--port', '0', '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
      });
      assert.deepEqual((await get(`${url}/api/runs`)).body, { runs: [] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
