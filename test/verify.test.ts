// `sweep verify` end to end on a synthetic sweep: the fitted law picks a ladder shape, the run
// really trains, and the prediction is kept with the run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { withSql } from './sql.js';
import { verifySweep } from '../src/sweep/verify.js';
import { lrForWidth, MIN_ISOFLOP_STEPS } from '../src/sweep/plan.js';
import { silentReporter } from '../src/train/progress.js';

describe('sweep verify', () => {
  it('trains the best ladder shape the law predicts at the budget, with the sweep\'s learning-rate rule, and records the prediction', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-verify-'));
    const ctx = 16, batch = 4;
    const law = { E: 1.5, A: 40, B: 60, alpha: 0.35, beta: 0.3 };
    const store = RunStore.open(home);
    const q = new SweepQueue(store);
    const base = { corpus: 'brown', ctx, batch, evalTokens: 512, evalEvery: 1000, checkpointEvery: 1000, lr: 4e-3 };
    const sizes = [3e3, 7e3, 1.3e4, 2.5e4, 5.6e4];
    const budgets = [1e8, 3e8, 1e9];
    const jobs = budgets.flatMap((C, b) => sizes.map((N, i) => ({ N, D: C / (6 * N), runName: `syn-${b}${i}` })));
    await q.createSweep('syn', { lr: 4e-3, lrScaling: 'width', ctx, batch }, jobs.map((j) => ({ options: base, runName: j.runName, estimatedSeconds: null })));
    for (const j of jobs) {
      const run = await store.createRun({ name: j.runName, config: {}, params: j.N, nonEmbeddingParams: j.N, flopsPerToken: 6 * j.N, tokensTarget: j.D });
      await store.updateRun(run.id, { status: 'done', tokensSeen: Math.round(j.D), finalValBpb: law.E + law.A / j.N ** law.alpha + law.B / j.D ** law.beta });
    }
    withSql(store, (db) => db.prepare("UPDATE jobs SET status = 'done' WHERE sweep = 'syn'").run());
    await store.close();

    const flops = 4e9;
    const order: string[] = [];
    let plan: { run: string; tokens: number; predicted: number } | undefined;
    const reporter = { ...silentReporter, progress: () => void (order.at(-1) !== 'progress' && order.push('progress')) };
    const r = await verifySweep('syn', flops, { home, resamples: 50, hooks: { reporter }, onPlan: (p) => { plan = p; order.push('plan'); } });
    assert.deepEqual(order, ['plan', 'progress'], 'what it will train is said before training');
    assert.deepEqual([plan!.run, plan!.tokens, plan!.predicted], [r.run, r.tokens, r.predicted]);
    assert.ok(Math.abs(r.extrapolation - 4) < 1e-3, `extrapolation ${r.extrapolation}`);
    assert.ok(r.tokens >= MIN_ISOFLOP_STEPS * batch * ctx, `${r.tokens} tokens`);
    assert.ok(Math.abs(6 * r.params * r.tokens / flops - 1) < 0.05, 'the run spends the budget');
    assert.ok(Math.abs(r.predicted / (law.E + law.A / r.params ** law.alpha + law.B / r.tokens ** law.beta) - 1) < 0.01, 'the fit recovers the law');
    assert.ok(Number.isFinite(r.measured) && r.measured > 0);
    assert.ok(r.interval[0] <= r.predicted && r.predicted <= r.interval[1]);

    const after = RunStore.open(home);
    const run = await after.getRun(r.run);
    assert.equal(run.status, 'done');
    assert.equal((run.config as { train: { lr: number } }).train.lr, lrForWidth(4e-3, r.shape.dModel, 'width'));
    assert.equal((run.config as { train: { sweep: string } }).train.sweep, 'syn', 'the verify run records its sweep');
    assert.deepEqual(await after.runsNamingSweep('syn'), [r.run]);
    const ev = (await after.events(run.id)).find((e) => e.kind === 'verify');
    assert.ok(ev, 'a verify event');
    assert.equal((ev.data as { predicted: number }).predicted, r.predicted);
    await after.close();
  });
});
