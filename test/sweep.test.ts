// Sweeps: planning, and a durable queue that survives a worker killed with SIGKILL mid-run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { planSweep, parseShape, LADDER } from '../src/sweep/plan.js';
import { sweepStatus } from '../src/sweep/status.js';
import { countParams, flopsPerToken } from '../src/models/gpt.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-sweep-'));

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--home', home], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sweep plan', () => {
  it('an isoFLOP plan spends each budget as D = C / 6N on sizes around the optimum', () => {
    const runs = planSweep({ flops: [1e12, 1e13], sizes: 3, ctx: 64, batch: 8, base: {} });
    assert.equal(runs.length, 6);
    for (const r of runs) {
      assert.ok(Math.abs(r.flops / r.budget! - 1) < 0.02, `run ${r.shape.dModel} spends ${r.flops} of ${r.budget}`);
      assert.equal(r.tokens % (8 * 64), 0, 'whole steps');
    }
    const sizes = (C: number) => runs.filter((r) => r.budget === C).map((r) => r.nonEmbeddingParams);
    assert.ok(Math.max(...sizes(1e13)) > Math.max(...sizes(1e12)), 'a bigger budget gets bigger models');
  });

  it('more tokens per parameter centres a budget on smaller models, and no size runs under 200 steps', () => {
    const at = (ratio: number) => planSweep({ flops: [1e12], sizes: 3, tokensPerParam: ratio, ctx: 64, batch: 8, base: {} });
    const median = (runs: ReturnType<typeof at>) => runs.map((r) => r.nonEmbeddingParams).sort((a, b) => a - b)[1];
    assert.ok(median(at(500)) < median(at(20)), 'D = 500·N wants smaller models than D = 20·N');
    for (const r of [...at(20), ...at(500), ...at(1e6)]) assert.ok(r.tokens >= 200 * 8 * 64, `${r.shape.dModel} trains ${r.tokens} tokens`);
    assert.throws(() => planSweep({ flops: [1e9], sizes: 2, ctx: 64, batch: 8, base: {} }), /leaves 0 model size\(s\) with at least 200 steps/);
    assert.throws(() => planSweep({ flops: [1e12], tokensPerParam: 0, ctx: 64, batch: 8, base: {} }), /--tokens-per-param must be a positive number/);
  });

  it('learning rates are one for all sizes, or follow 1/width anchored at d_model 128', () => {
    const grid = (lrScaling?: 'width' | 'constant') => planSweep({ models: [parseShape('2x32'), parseShape('4x128'), parseShape('4x256')], tokens: [1e6],
      ctx: 64, batch: 8, base: { lr: 2e-3 }, lrScaling });
    assert.deepEqual(grid('width').map((r) => r.options.lr), [8e-3, 2e-3, 1e-3]);
    assert.deepEqual(grid().map((r) => r.options.lr), [2e-3, 2e-3, 2e-3]);
  });

  it('sweep status prices jobs planned without estimates at the finished runs\' FLOP rate', () => {
    const store = RunStore.open(tmpHome());
    const q = new SweepQueue(store);
    const opts = { layers: 1, dModel: 16, heads: 1, ctx: 32, tokens: 1e6 };
    q.createSweep('eta', {}, [0, 1].map((i) => ({ options: opts, runName: `eta-${i}`, estimatedSeconds: null })));
    assert.equal(sweepStatus(store, 'eta').etaKnown, false, 'no basis before a run finishes');
    const fpt = flopsPerToken({ ...opts, vocab: 256 });
    const run = store.createRun({ name: 'eta-0', config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: fpt, tokensTarget: 1e6 });
    store.updateRun(run.id, { status: 'done', tokensSeen: 1e6, trainSeconds: 50 });
    store.db.prepare("UPDATE jobs SET status = 'done' WHERE run_name = 'eta-0'").run();
    const st = sweepStatus(store, 'eta');
    assert.equal(st.etaKnown, true);
    assert.ok(Math.abs(st.etaSeconds - 50) < 1e-6, `eta ${st.etaSeconds}`);
    store.close();
  });

  it('the ladder grows monotonically and shapes parse', () => {
    const n = LADDER.map((s) => countParams({ ...s, ctx: 256, vocab: 256 }).nonEmbedding);
    assert.deepEqual(n, [...n].sort((a, b) => a - b));
    assert.deepEqual(parseShape('4x128'), { layers: 4, dModel: 128, heads: 2 });
    assert.deepEqual(parseShape('2x48h3'), { layers: 2, dModel: 48, heads: 3 });
    assert.throws(() => parseShape('4by128'), /bad model shape '4by128'/);
  });

  it('bad plans fail with one line and exit code 2, and store nothing', () => {
    const home = tmpHome();
    for (const [args, msg] of [
      [['sweep', 'plan', 'a'], /give compute budgets/],
      [['sweep', 'plan', 'a', '--flops', '1e12,abc'], /--flops must be a positive number, got 'abc'/],
      [['sweep', 'plan', 'a', '--flops', '1e6'], /leaves 0 model size\(s\) with at least 200 steps/],
      [['sweep', 'plan', 'a', '--flops', '1e12', '--tokens-per-param', '-3'], /--tokens-per-param must be a positive number/],
      [['sweep', 'plan', '../x', '--flops', '1e12', '--no-estimate'], /bad sweep name/],
      [['sweep', 'status', 'nope'], /unknown sweep 'nope'/],
    ] as const) {
      const r = cli(home, ...args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, msg);
      assert.equal(r.err.trim().split('\n').length, 1);
    }
    const store = RunStore.open(home);
    assert.equal(new SweepQueue(store).listSweeps().length, 0);
    store.close();
  });
});

describe('sweep run with a worker killed by SIGKILL', () => {
  it('still finishes: every run exactly once, metrics without duplicates', async () => {
    const home = tmpHome();
    const plan = cli(home, 'sweep', 'plan', 'kill', '--models', '2x32h2,2x48h2', '--tokens', '51200,76800', '--ctx', '32', '--batch', '8',
      '--eval-tokens', '1024', '--checkpoint-every', '20', '--no-estimate');
    assert.equal(plan.code, 0, plan.err);

    const worker = (): ChildProcess => spawn(process.execPath, [bin, 'worker', '--sweep', 'kill', '--lease', '2', '--threads', '1', '--home', home],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const victim = worker();
    // Kill the first worker once its first job has checkpointed past step 0 (tokensSeen moves at checkpoints).
    const store0 = RunStore.open(home);
    try {
      // Bounded, so a worker that never gets going fails the test instead of hanging it.
      for (let waited = 0; ; waited += 50) {
        const run = store0.findRun('kill-000');
        if (run && run.tokensSeen > 0) break;
        assert.ok(waited < 120_000, 'the first worker never checkpointed its first job');
        assert.equal(victim.exitCode, null, 'the first worker exited before it could be killed');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      store0.close();
    }
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('close', r));
    const survivor = worker();
    let out = '', err = '';
    survivor.stdout!.on('data', (d) => (out += d));
    survivor.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => survivor.once('close', r));
    assert.equal(code, 0, err);
    assert.match(out, /resuming/, 'the survivor resumed the killed job');

    const store = RunStore.open(home);
    try {
      const q = new SweepQueue(store);
      assert.deepEqual(q.counts('kill'), { queued: 0, running: 0, done: 4, failed: 0 });
      const runs = store.listRuns();
      assert.equal(runs.length, 4, 'one run per job, none twice');
      assert.deepEqual(runs.map((r) => r.name).sort(), ['kill-000', 'kill-001', 'kill-002', 'kill-003']);
      for (const r of runs) {
        assert.equal(r.status, 'done');
        const steps = store.metrics(r.id).map((m) => m.step);
        const n = r.tokensTarget! / (8 * 32);
        assert.deepEqual(steps, Array.from({ length: n }, (_, i) => i + 1), `${r.name}: every step exactly once`);
      }
      const resumed = q.jobs('kill').filter((j) => j.attempts > 1);
      assert.equal(resumed.length, 1, 'exactly the killed job was claimed twice');
    } finally {
      store.close();
    }
  });
});
