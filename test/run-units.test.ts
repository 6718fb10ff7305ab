// A run's losses in its own unit wherever it is shown: a GPT's in bits per byte, a video run's
// (config family 'dit') as the velocity MSE it stores in the same columns, never divided by ln 2
// nor labelled bpb. `runs`, `show`, their JSON, the dashboard's summaries and its curves; its
// throughput in patches/s, not tok/s; and its sweep's law view, fitted as `scalelab fit` fits
// video runs (val MSE against compute) rather than as bits per byte.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { runSummaries } from '../src/dashboard/runs.js';
import { runMetrics } from '../src/dashboard/metrics.js';
import { LawCache } from '../src/dashboard/law.js';
import { addSyntheticSweep } from '../src/dashboard/synthetic.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { COMPUTE_LAW } from '../src/laws/compute-law.js';
import { metricLabel } from '../src/ui/curves.js';
import { rateHeading } from '../src/ui/runs-table.js';
import { lossAxis } from '../src/ui/law.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'scalelab.js');
function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A finished run of either family, with two metric rows (train loss 0.5 then 0.25, val 0.3 at the last). */
async function addRun(store: RunStore, name: string, family: 'gpt' | 'dit') {
  const config = family === 'dit' ? { family: 'dit', model: { frames: 4, layers: 1, dModel: 32 }, train: {} } : { model: { layers: 1, dModel: 32, heads: 2, ctx: 64 } };
  const run = await store.createRun({ name, config, params: 1000, nonEmbeddingParams: 800, flopsPerToken: 4800, tokensTarget: 200 });
  await store.logMetrics(run.id, [{ step: 1, tokens: 100, flops: 4.8e5, trainLoss: 0.5 }, { step: 2, tokens: 200, flops: 9.6e5, trainLoss: 0.25, valBpb: 0.3 }]);
  return store.updateRun(run.id, { status: 'done', tokensSeen: 200, bestValBpb: 0.3, finalValBpb: 0.3, finalTrainLoss: 0.25, trainSeconds: 1 });
}

describe('losses in the run\'s unit: bits per byte for a GPT, velocity MSE for a video run', () => {
  let videoHome: string, mixedHome: string;
  before(async () => {
    videoHome = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-units-video-'));
    mixedHome = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-units-mixed-'));
    for (const [home, runs] of [[videoHome, [['clipper', 'dit']]], [mixedHome, [['clipper', 'dit'], ['texter', 'gpt']]]] as const) {
      const store = RunStore.open(home);
      try {
        for (const [name, family] of runs) await addRun(store, name, family);
      } finally {
        await store.close();
      }
    }
  });
  after(() => {
    for (const h of [videoHome, mixedHome]) fs.rmSync(h, { recursive: true, force: true });
  });

  it('summaries and curves give a video run\'s train loss as stored and say its unit; a GPT\'s in bits per byte', async () => {
    const store = RunStore.open(mixedHome);
    try {
      const byName = new Map((await runSummaries(store)).map((s) => [s.name, s]));
      const video = byName.get('clipper')!, text = byName.get('texter')!;
      assert.deepEqual([video.family, video.unit, video.lastTrainBpb, video.bestValBpb], ['dit', 'mse', 0.25, 0.3]);
      assert.deepEqual([text.family, text.unit, text.lastTrainBpb], ['gpt', 'bpb', 0.25 / Math.LN2]);
      const curves = await runMetrics(store, video.id, { x: 'step', buckets: 100, log: false });
      assert.equal(curves.unit, 'mse');
      assert.deepEqual(curves.columns.trainBpb, [0.5, 0.25]);
      const textCurves = await runMetrics(store, text.id, { x: 'step', buckets: 100, log: false });
      assert.equal(textCurves.unit, 'bpb');
      assert.deepEqual(textCurves.columns.trainBpb, [0.5 / Math.LN2, 0.25 / Math.LN2]);
    } finally {
      await store.close();
    }
  });

  it('`runs` heads a video home\'s loss columns "val mse" and "train mse"', () => {
    const r = scalelab('runs', '--home', videoHome);
    assert.equal(r.code, 0, r.err);
    const [header, row] = r.out.trim().split('\n');
    assert.match(header, /best val mse +train mse/);
    assert.match(header, / patches +FLOPs .* patches\/s \(avg\)/);
    assert.doesNotMatch(header, /bpb|tok/);
    assert.match(row, / 0\.3000 +0\.2500 /);
  });

  it('`runs` with both kinds names the unit in each loss cell', () => {
    const r = scalelab('runs', '--home', mixedHome);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0], /best val +train /);
    assert.match(lines[0], / data +FLOPs .* data\/s \(avg\)/);
    assert.doesNotMatch(lines[0], /bpb|mse|tok/);
    assert.match(lines.find((l) => l.startsWith('clipper'))!, / 0\.3000 mse +0\.2500 mse /);
    assert.match(lines.find((l) => l.startsWith('texter'))!, / 0\.300 bpb +0\.361 bpb /);
  });

  it('`runs --json` and `show --json` name a video run\'s losses _mse, a GPT\'s _bpb', () => {
    const r = scalelab('runs', '--json', '--home', mixedHome);
    assert.equal(r.code, 0, r.err);
    const runs = JSON.parse(r.out) as Record<string, unknown>[];
    const video = runs.find((o) => o.name === 'clipper')!, text = runs.find((o) => o.name === 'texter')!;
    assert.equal(video.family, 'dit');
    assert.deepEqual([video.best_val_mse, video.final_val_mse, video.final_train_mse, video.last_train_mse], [0.3, 0.3, 0.25, 0.25]);
    assert.ok(!Object.keys(video).some((k) => k.endsWith('_bpb')), Object.keys(video).join(' '));
    assert.equal(text.family, 'gpt');
    assert.equal(text.final_train_bpb, 0.25 / Math.LN2);
    assert.ok(!Object.keys(text).some((k) => k.endsWith('_mse')));
    const show = scalelab('show', 'clipper', '--json', '--home', mixedHome);
    assert.equal(show.code, 0, show.err);
    assert.equal(JSON.parse(show.out).final_train_mse, 0.25);
  });

  it('`show` prints a video run\'s losses under mse, a GPT\'s under bpb', () => {
    const video = scalelab('show', 'clipper', '--home', mixedHome);
    assert.equal(video.code, 0, video.err);
    assert.match(video.out, /^mse {7}val best 0\.3000, final 0\.3000; train final 0\.2500$/m);
    assert.doesNotMatch(video.out, /bpb/);
    const text = scalelab('show', 'texter', '--home', mixedHome);
    assert.match(text.out, /^bpb {7}val best 0\.300, final 0\.300; train final 0\.361$/m);
  });
});

/** Val MSE of a video sweep's runs: L(C) = E + A/C^α exactly. */
const VIDEO_LAW = { E: 0.3, A: 250, alpha: 0.3 };

/** A finished video sweep, one run per budget, planned as `sweep plan --model dit` records it; `done` of them finished. */
async function addVideoSweep(store: RunStore, name: string, budgets: number[], done = budgets.length) {
  const q = new SweepQueue(store);
  await q.createSweep(name, { model: 'dit', flops: budgets }, budgets.map((_, i) => ({ options: { clips: 100 }, runName: `${name}-${i}`, estimatedSeconds: 10 })));
  for (const [i, C] of budgets.slice(0, done).entries()) {
    const job = (await q.claim('w', 60, name))!;
    const N = 1e4 * (i + 1), tokens = C / (6 * N), loss = VIDEO_LAW.E + VIDEO_LAW.A / C ** VIDEO_LAW.alpha;
    const run = await store.createRun({ name: job.runName, config: { family: 'dit', model: { frames: 4, layers: 1, dModel: 32 }, train: {} }, params: N + 100, nonEmbeddingParams: N, flopsPerToken: 6 * N, tokensTarget: tokens });
    await store.updateRun(run.id, { status: 'done', tokensSeen: tokens, flops: C, finalValBpb: loss, bestValBpb: loss, trainSeconds: 1 });
    await q.complete(job, 'w');
  }
}

describe('the dashboard in a video run\'s units: patches/s, and a video sweep\'s law in val MSE against compute', () => {
  let home: string, store: RunStore, laws: LawCache;
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-units-law-'));
    store = RunStore.open(home);
    await addVideoSweep(store, 'vid', [1e9, 4e9, 1.6e10, 6.4e10, 2.56e11]);
    await addVideoSweep(store, 'vid-new', [1e9, 4e9], 0);
    await addSyntheticSweep(store, 'iso');
    laws = new LawCache(store, 40);
  });
  after(async () => {
    await laws.close();
    await store.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('fits a video sweep with the law `scalelab fit` uses for video runs, L(C) = E + A/C^α, and says its loss is val MSE', async () => {
    const v = await laws.view('vid');
    assert.equal(v.metric, 'mse');
    assert.equal(v.computeError, null);
    const c = v.compute!;
    assert.equal(c.law, COMPUTE_LAW);
    assert.deepEqual(c.budgets.map((b) => Number(b.flops.toPrecision(6))), [1e9, 4e9, 1.6e10, 6.4e10, 2.56e11]);
    assert.ok(Math.abs(c.fit.alpha - VIDEO_LAW.alpha) < 0.01 && Math.abs(c.fit.E - VIDEO_LAW.E) < 0.01, `E ${c.fit.E}, alpha ${c.fit.alpha}`);
    assert.equal(c.resamples, 40);
    // Its curve, drawn with its band, spans the runs and predicts 10× beyond the largest.
    const xs = c.predictions.map((p) => p.flops);
    assert.ok(xs[0] < 1e9 && Math.abs(xs.at(-1)! / 2.56e12 - 1) < 1e-6, `${xs[0]} to ${xs.at(-1)}`);
    for (const p of c.predictions) assert.ok(p.interval[0] <= p.loss + 1e-9 && p.loss <= p.interval[1] + 1e-9);
    // One size per budget: no isoFLOP profile for L(N, D)'s approach 2, and the view says why.
    assert.ok(v.fit && 'error' in v.fit.isoflop && /only 1 model size/.test(v.fit.isoflop.error), JSON.stringify(v.fit?.isoflop));
    assert.equal(lossAxis(v), 'final val MSE (velocity)');
  });

  it('a video sweep with no finished run is still in val MSE, and says why no law is fitted yet', async () => {
    const v = await laws.view('vid-new');
    assert.equal(v.metric, 'mse');
    assert.equal(v.compute, null);
    assert.match(v.computeError!, /need runs at 4 or more compute budgets/);
  });

  it('keeps a GPT sweep in bits per byte, fitted by L(N, D) alone', async () => {
    const v = await laws.view('iso');
    assert.equal(v.metric, 'bpb');
    assert.deepEqual([v.compute, v.computeError], [null, null]);
    assert.ok(v.fit && v.frontier);
    assert.equal(lossAxis(v), 'final val loss (bits/byte)');
  });

  it('heads throughput in tok/s for language models, patches/s for video runs, each cell\'s own when both are listed', () => {
    assert.equal(rateHeading('bpb'), 'tok/s (avg)');
    assert.equal(rateHeading('mse'), 'patches/s (avg)');
    assert.equal(rateHeading(null), 'throughput (avg)');
    assert.equal(metricLabel('tokensPerS', new Set(['bpb'])), 'tokens/s (each step)');
    assert.equal(metricLabel('tokensPerS', new Set(['mse'])), 'patches/s (each step)');
    assert.equal(metricLabel('tokensPerS', new Set(['bpb', 'mse'])), 'tokens/s (each step; patches/s for video runs)');
    assert.equal(metricLabel('valBpb', new Set(['mse'])), 'validation loss (velocity MSE)');
  });
});
