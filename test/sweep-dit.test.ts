// Sweeps of the video DiT: plans that buy whole clips, a tiny sweep planned, run by a worker and
// fitted (val MSE against compute), the law against compute on its own, and the refusals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { planSweep, parseShape, PlanRefused, DIT_LADDER, ditFamily, type DitPlanOptions } from '../src/sweep/plan.js';
import { measureCosts } from '../src/sweep/measure.js';
import { estimateRun } from '../src/sweep/estimate.js';
import { fitComputeLaw, computeLawLoss } from '../src/laws/compute-law.js';
import { countParams, tokensPerClip } from '../src/models/dit.js';
import { DIT_DEFAULTS, ditConfig } from '../src/train/dit-train.js';
import { Rng } from '../src/engine/random.js';
import { UsageError } from '../src/errors.js';
import { program } from '../src/cli/main.js';
import { assertUsageError } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-sweep-dit-'));

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--home', home], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The command in this process (a process start costs more than most of these commands): what it printed, and its error. */
async function scalelab(home: string, ...args: string[]): Promise<{ out: string; err: Error | null }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    await program().parseAsync(['node', 'scalelab', ...args, '--home', home]);
    return { out: lines.join('\n'), err: null };
  } catch (err) {
    return { out: lines.join('\n'), err: err as Error };
  } finally {
    console.log = log;
  }
}

/** A user's mistake: a UsageError whose message is one line. */
function assertRefused(r: { err: Error | null }, message: RegExp, what: string): void {
  assert.ok(r.err instanceof UsageError, `${what}: expected a UsageError, got ${r.err}`);
  assert.match(r.err.message, message, what);
  assert.ok(!r.err.message.includes('\n'), `${what}: one line`);
}

// The smallest clips the generator draws: 4 frames of 16×16, 32 tubes of 2×4×4; no caption blocks.
const CLIPS = { frames: 4, size: 16, patch: 4, tpatch: 2, textLayers: 0, evalClips: 2, lr: 1e-2 };
const CLIP_FLAGS = ['--frames', '4', '--size', '16', '--text-layers', '0', '--eval-clips', '2', '--batch', '2', '--lr', '1e-2'];
const plan = (o: Partial<DitPlanOptions>) => planSweep({ model: 'dit', batch: 2, base: { ...CLIPS, batch: 2 }, ...o });

describe('sweep plan --model dit', () => {
  it('spends each budget on whole clips, D = C / 6N patches, around the optimum', () => {
    const runs = plan({ flops: [4.2e9, 8.4e9], sizes: 2 });
    assert.equal(runs.length, 4);
    for (const r of runs) {
      assert.ok(r.options.model === 'dit' && r.options.clips === r.samples, 'a DiT job with its clips');
      assert.equal(r.samples % 2, 0, 'whole steps of 2 clips');
      assert.equal(r.tokens, r.samples * 32, 'D counts the patches of its clips');
      assert.ok(r.samples / 2 >= 200, `${r.samples} clips: at least 200 steps`);
      assert.ok(Math.abs(r.flops / r.budget! - 1) < 0.01, `run ${r.shape.dModel} spends ${r.flops} of ${r.budget}`);
      const cfg = ditConfig({ ...DIT_DEFAULTS, ...CLIPS, ...r.shape });
      assert.equal(r.nonEmbeddingParams, countParams(cfg).nonEmbedding);
      assert.equal(tokensPerClip(cfg), 32);
    }
    assert.deepEqual(runs.map((r) => r.budget), [4.2e9, 4.2e9, 8.4e9, 8.4e9], 'cheapest budget first');
  });

  it('a grid trains shapes on clip counts, and the DiT ladder grows', () => {
    const runs = plan({ models: [parseShape('1x16'), parseShape('1x32')], tokens: [40 * 32, 200 * 32] });
    assert.deepEqual(runs.map((r) => [r.shape.dModel, r.samples]), [[16, 40], [32, 40], [16, 200], [32, 200]]);
    const n = DIT_LADDER.map((s) => ditFamily({ batch: 2, base: CLIPS }).counts(s).nonEmbedding);
    assert.deepEqual(n, [...n].sort((a, b) => a - b));
  });

  it('budgets too small for any DiT shape are refused with the candidates and a budget that is enough', () => {
    const err = (() => { try { plan({ flops: [1e8], sizes: 2 }); } catch (e) { return e; } })();
    assert.ok(err instanceof PlanRefused, String(err));
    assert.equal(err.budgets[0].candidates.length, DIT_LADDER.length);
    assert.ok(!/--ctx/.test(err.message), 'a clip has no context length to shorten');
    const enough = Number(/budget to at least ([\d.e+]+)/.exec(err.message)![1]);
    assert.equal(plan({ flops: [enough], sizes: 2 }).length, 2);
  });

  it('bad plans fail with one line and exit code 2, and store nothing', async () => {
    const home = tmpHome();
    // Through the real command line: the exit code and stderr.
    for (const [args, msg] of [
      [['--model', 'dit', '--flops', '1e12', '--ctx', '64'], /^scalelab: --ctx is an option of the GPT, not of --model dit$/],
      [['--model', 'dit', '--flops', '1e6,1e7', '--sizes', '2', ...CLIP_FLAGS], /budgets 1\.0e\+6, 1\.0e\+7 leave 0 model size\(s\) with at least 200 steps of the 2 asked for \(candidates above\); raise every budget to at least/],
    ] as const) {
      const r = cli(home, 'sweep', 'plan', 'bad', '--no-estimate', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err.trim(), msg);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
    for (const [args, msg] of [
      [['--model', 'dit', '--models', '1x16', '--tokens', '1e6'], /--tokens is an option of the GPT, not of --model dit \(a video grid takes --clips\)/],
      [['--model', 'dit', '--flops', '1e12', '--norm', 'rmsnorm'], /--norm is an option of the GPT/],
      [['--flops', '1e12', '--frames', '4'], /--frames is an option of the video model; add --model dit/],
      [['--models', '1x16', '--clips', '400'], /--clips is an option of the video model; add --model dit/],
      [['--model', 'vit', '--flops', '1e12'], /--model must be gpt or dit, got 'vit'/],
      [['--model', 'dit', '--flops', '1e12', '--patch', '3'], /the patch \(3\) must divide the frame size/],
      [['--model', 'dit', '--models', '1x16,1x17', '--clips', '400', ...CLIP_FLAGS], /model shape 1x17h1 does not make a DiT: d_model must be even/],
      [['--model', 'dit', '--models', '1x16', '--clips', '20', ...CLIP_FLAGS], /1x16 would train on only 20 clips \(under 20 steps\)/],
    ] as const) {
      assertRefused(await scalelab(home, 'sweep', 'plan', 'bad', '--no-estimate', ...args), msg, args.join(' '));
    }
    const store = RunStore.open(home);
    assert.equal((await new SweepQueue(store).listSweeps()).length, 0);
    await store.close();
  });

  it('prices a DiT run from a measured step that draws its clips', async () => {
    const runs = plan({ flops: [4.2e9], sizes: 2 });
    const costs = await measureCosts(runs, { dit: true });
    for (const r of runs) {
      const e = estimateRun(r, costs);
      assert.equal(e.steps, r.samples / 2);
      assert.equal(e.evals, Math.ceil(e.steps / DIT_DEFAULTS.evalEvery));
      assert.ok(e.parts.train > 0 && e.parts.eval > 0 && e.parts.checkpoint > 0 && e.seconds > e.parts.train);
    }
  });
});

describe('a tiny DiT sweep, planned, run and fitted', () => {
  const home = tmpHome();

  it('trains every job as a video run and fits val MSE against compute', async () => {
    const p = await scalelab(home, 'sweep', 'plan', 'film', '--model', 'dit', '--models', '1x16,1x32', '--clips', '40,200', ...CLIP_FLAGS, '--ema', '0.9', '--no-estimate');
    assert.equal(p.err, null);
    assert.match(p.out, /4 runs of the video model on 4×16×16 clips \(32 patches of 2×4×4\), batch 2/);
    assert.match(p.out, /clips +patches/);
    // Worker processes, each training its job in a thread: the trainer thread starts the DiT.
    const run = cli(home, 'sweep', 'run', 'film', '--threads', '1');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /film#0 \(film-000\): done, val \d\.\d{4} mse/);
    assert.match(run.out, /sweep film: 4 done, 0 running, 0 queued, 0 failed/);
    assert.match(run.out, /film-000 +done +100% +val \d\.\d{4} mse/);
    assert.doesNotMatch(run.out, /bpb/);
    // The plan's --ema reaches every run: each kept, validated and saved a moving average of its weights.
    const store = RunStore.open(home);
    try {
      for (const name of ['film-000', 'film-003']) assert.equal(((await store.getRun(name)).config as { train: { ema: number } }).train.ema, 0.9, name);
    } finally {
      await store.close();
    }

    const fit = await scalelab(home, 'fit', '--sweep', 'film', '--resamples', '50');
    assert.equal(fit.err, null);
    assert.match(fit.out, /^val mse against compute: L\(C\) = E \+ A\/C\^α fitted to the best run of each of 4 budgets/m);
    assert.match(fit.out, /^ {2}alpha +[\d.e+-]+ +90% \[/m);
    assert.match(fit.out, /^ {2}C [\d.e+]+: val mse [\d.]+ 90% \[[\d.e+-]+, [\d.e+-]+\]$/m);
    assert.match(fit.out, /L\(N, D\) = E \+ A\/N\^α \+ B\/D\^β not fitted: need at least 5 points/);
    assert.doesNotMatch(fit.out, /bpb/);
    const json = JSON.parse((await scalelab(home, 'fit', '--sweep', 'film', '--resamples', '50', '--json')).out);
    assert.equal(json.metric, 'mse');
    assert.equal(json.compute.budgets.length, 4);
    assert.ok(json.compute.fit.alpha > 0 && json.compute.fit.E > 0);
    for (const q of json.compute.predictions) assert.ok(q.interval[0] <= q.loss && q.loss <= q.interval[1], JSON.stringify(q));
    // The same runs named one by one give the same law.
    const byRuns = JSON.parse((await scalelab(home, 'fit', '--runs', 'film-000,film-001,film-002,film-003', '--resamples', '50', '--json')).out);
    assert.deepEqual(byRuns.compute, json.compute);

    const pred = JSON.parse((await scalelab(home, 'predict', '--sweep', 'film', '--flops', '1e10', '--resamples', '50', '--json')).out);
    assert.equal(pred.metric, 'mse');
    assert.ok(pred.compute.loss > 0 && pred.compute.interval[0] <= pred.compute.loss);
    assert.match(pred.optimal.error, /need at least 5 points/);
  });

  it('refuses what no law or no command here can answer, in one line', async () => {
    for (const [args, msg] of [
      [['fit', '--runs', 'film-000,film-001'], /no law fits these 2 video runs: L\(C\) = E \+ A\/C\^α: need runs at 4 or more compute budgets .* got 2 .*; L\(N, D\): need at least 5 points/],
      [['fit', '--runs', 'film-000', '--sweep', 'film'], /give one of --sweep, --runs or --points, not two/],
      [['sweep', 'verify', 'film', '--flops', '1e10'], /sweep 'film' trains the video model, and sweep verify knows GPT sweeps only/],
      [['predict', '--sweep', 'film', '--params', '1e5', '--tokens', '1e5'], /need at least 5 points/],
    ] as const) {
      assertRefused(await scalelab(home, ...args), msg, args.join(' '));
    }
  });
});

describe('the law against compute', () => {
  // A velocity MSE with a floor: 0.8 + 40·C^−0.15, over six budgets, 1% noise.
  const truth = { a: Math.log(40), e: Math.log(0.8), alpha: 0.15 };
  const rng = new Rng(3);
  const budgets = [1e9, 3e9, 1e10, 3e10, 1e11, 3e11];
  // Two sizes per budget, the worse one 5% above: the law follows the best of each budget.
  const points = budgets.flatMap((C) => {
    const L = computeLawLoss(truth, C) * Math.exp(0.01 * rng.normal());
    return [{ params: 1e5, tokens: C / 6e5, loss: L }, { params: 4e5, tokens: C / 2.4e6, loss: 1.05 * L }];
  });

  it('recovers the floor and the exponent, with intervals that hold them', () => {
    const r = fitComputeLaw(points, { resamples: 100 });
    assert.equal(r.budgets.length, 6);
    assert.ok(r.budgets.every((b) => b.runs === 2));
    assert.ok(Math.abs(r.fit.E - 0.8) < 0.15, `E ${r.fit.E}`);
    assert.ok(r.intervals.E[0] <= 0.8 && 0.8 <= r.intervals.E[1], `E interval ${r.intervals.E}`);
    assert.ok(r.intervals.alpha[0] <= 0.15 && 0.15 <= r.intervals.alpha[1], `alpha interval ${r.intervals.alpha}`);
    const at = 3e12;
    const [p] = fitComputeLaw(points, { resamples: 100, flops: [at] }).predictions;
    assert.ok(Math.abs(p.loss / computeLawLoss(truth, at) - 1) < 0.03, `predicted ${p.loss} against ${computeLawLoss(truth, at)}`);
    assert.deepEqual(fitComputeLaw(points, { resamples: 50, seed: 1 }), fitComputeLaw(points, { resamples: 50, seed: 1 }), 'the same seed, the same bits');
  });

  it('refuses too few budgets and a loss that rises with compute, in one line', () => {
    assertUsageError(() => fitComputeLaw(points.filter((p) => p.params * p.tokens * 6 <= 3.1e9), { resamples: 10 }), /need runs at 4 or more compute budgets .* got 2 \(4 runs\)/);
    const rising = budgets.map((C, i) => ({ params: 1e5, tokens: C / 6e5, loss: 1 + 0.1 * i }));
    assertUsageError(() => fitComputeLaw(rising, { resamples: 10 }), /degenerate fit of L\(C\) = E \+ A\/C\^α: .*loss does not fall with compute/);
  });
});
