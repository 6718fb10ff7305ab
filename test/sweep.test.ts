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
import { withSql } from './sql.js';
import { planSweep, parseShape, LADDER, PlanRefused, MAX_FRESH_EPOCHS } from '../src/sweep/plan.js';
import { estimateRun, shapeKey, type MachineCosts } from '../src/sweep/estimate.js';
import { calibrate, ESTIMATE_MODEL } from '../src/sweep/calibration.js';
import { removeSweep } from '../src/sweep/remove.js';
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

  it('sweep status prices jobs planned without estimates at the finished runs\' FLOP rate', async () => {
    const store = RunStore.open(tmpHome());
    const q = new SweepQueue(store);
    const opts = { layers: 1, dModel: 16, heads: 1, ctx: 32, tokens: 1e6 };
    await q.createSweep('eta', {}, [0, 1].map((i) => ({ options: opts, runName: `eta-${i}`, estimatedSeconds: null })));
    assert.equal((await sweepStatus(store, 'eta')).etaKnown, false, 'no basis before a run finishes');
    const fpt = flopsPerToken({ ...opts, vocab: 256 });
    const run = await store.createRun({ name: 'eta-0', config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: fpt, tokensTarget: 1e6 });
    await store.updateRun(run.id, { status: 'done', tokensSeen: 1e6, trainSeconds: 50 });
    withSql(store, (db) => db.prepare("UPDATE jobs SET status = 'done' WHERE run_name = 'eta-0'").run());
    const st = await sweepStatus(store, 'eta');
    assert.equal(st.etaKnown, true);
    assert.ok(Math.abs(st.etaSeconds - 50) < 1e-6, `eta ${st.etaSeconds}`);
    await store.close();
  });

  it('the ladder grows monotonically and shapes parse', () => {
    const n = LADDER.map((s) => countParams({ ...s, ctx: 256, vocab: 256 }).nonEmbedding);
    assert.deepEqual(n, [...n].sort((a, b) => a - b));
    assert.deepEqual(parseShape('4x128'), { layers: 4, dModel: 128, heads: 2 });
    assert.deepEqual(parseShape('2x48h3'), { layers: 2, dModel: 48, heads: 3 });
    assert.throws(() => parseShape('4by128'), /bad model shape '4by128'/);
  });

  it('bad plans fail with one line and exit code 2, and store nothing', async () => {
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
    assert.equal((await new SweepQueue(store).listSweeps()).length, 0);
    await store.close();
  });
});

describe('sweep planning, refused and priced', () => {
  it('a budget with too few sizes is refused with its candidates and ways out that each work', () => {
    const o = { flops: [2e10], sizes: 5, tokensPerParam: 200, ctx: 256, batch: 8, base: {} };
    const err = (() => { try { planSweep(o); } catch (e) { return e; } })();
    assert.ok(err instanceof PlanRefused, String(err));
    const { candidates } = err.budgets[0];
    assert.equal(candidates.length, LADDER.length, 'every ladder shape is shown');
    assert.ok(candidates.some((c) => c.verdict === 'too few steps') && candidates.every((c) => c.steps > 0));
    const m = /at least ([\d.e+]+), or --batch (\d+)/.exec(err.message);
    assert.ok(m, err.message);
    assert.equal(planSweep({ ...o, flops: [Number(m[1])] }).length, 5, 'the budget it names is enough');
    assert.equal(planSweep({ ...o, batch: Number(m[2]) }).length, 5, 'the batch it names is enough');
  });

  it('prefers sizes that stay within 4 epochs of the data when it knows the corpus size', () => {
    const o = { flops: [1e13], sizes: 4, ctx: 128, batch: 16, base: {} };
    const trainTokens = 5_362_425;
    assert.ok(planSweep(o).some((r) => r.tokens / trainTokens > MAX_FRESH_EPOCHS), 'without the corpus size, the nearest sizes');
    const runs = planSweep({ ...o, trainTokens });
    assert.equal(runs.length, 4);
    assert.ok(runs.every((r) => r.tokens / trainTokens <= MAX_FRESH_EPOCHS));
  });

  const costs = (shapes: string[]): MachineCosts => ({
    shapes: Object.fromEntries(shapes.map((s) => [shapeKey(parseShape(s)), { stepSeconds: 0.01, forwardSeconds: 0.004 }])),
    checkpoint: { fixed: 0.02, perParam: 1e-8 }, startupSeconds: 1.5, valTokens: 1e6,
  });

  it('the estimate includes validation, checkpoints and start-up: validating or checkpointing more often costs more', () => {
    const plan = (base: object) => planSweep({ models: [parseShape('2x32')], tokens: [1e6], ctx: 64, batch: 8, base })[0];
    const c = costs(['2x32']);
    const rare = estimateRun(plan({ evalEvery: 1000, checkpointEvery: 1000 }), c);
    const steps = Math.round(1e6 / 512);
    assert.equal(rare.steps, steps);
    assert.ok(Math.abs(rare.parts.train - steps * 0.01) < 1e-9);
    assert.ok(rare.parts.eval > 0 && rare.parts.checkpoint > 0 && rare.parts.startup === 1.5);
    assert.ok(rare.seconds > rare.parts.train + 1.5, 'more than the steps and the start-up');
    const evalOften = estimateRun(plan({ evalEvery: 50, checkpointEvery: 1000 }), c);
    assert.ok(evalOften.evals > rare.evals && evalOften.seconds > rare.seconds, `${evalOften.seconds} vs ${rare.seconds}`);
    const ckptOften = estimateRun(plan({ evalEvery: 1000, checkpointEvery: 50 }), c);
    assert.ok(ckptOften.checkpoints > rare.checkpoints && ckptOften.seconds > rare.seconds);
    assert.ok(Math.abs(estimateRun(plan({}), c, 2).seconds - 2 * estimateRun(plan({}), c).seconds) < 1e-9, 'calibration scales it');
  });

  it('calibrates from earlier estimated jobs run in one attempt, and sweep status puts estimated beside actual', async () => {
    const store = RunStore.open(tmpHome());
    const q = new SweepQueue(store);
    assert.deepEqual(await calibrate(store), { factor: 1, jobs: 0 });
    const opts = { layers: 1, dModel: 16, heads: 1, ctx: 32, tokens: 1e5 };
    await q.createSweep('old', {}, [{ options: opts, runName: 'old-0', estimatedSeconds: 5 }]); // no estimate model: ignored
    await q.createSweep('cal', { estimate: { model: ESTIMATE_MODEL, calibration: 2 } },
      [0, 1, 2].map((i) => ({ options: opts, runName: `cal-${i}`, estimatedSeconds: 20 })));
    const finish = (name: string, seconds: number, attempts = 1) => withSql(store, (db) => db.prepare(
      "UPDATE jobs SET status = 'done', attempts = ?, started_at = ?, finished_at = ? WHERE run_name = ?",
    ).run(attempts, new Date(0).toISOString(), new Date(seconds * 1000).toISOString(), name));
    finish('old-0', 50);
    finish('cal-0', 30); // raw estimate 10 s: 3x
    finish('cal-1', 99, 2); // resumed: its wall time includes a wait, ignored
    assert.deepEqual(await calibrate(store), { factor: 3, jobs: 1 });
    const st = await sweepStatus(store, 'cal');
    assert.deepEqual(st.estimate, { jobs: 1, estimatedSeconds: 20, actualSeconds: 30 });
    assert.equal(st.jobs[0].wallSeconds, 30);
    assert.ok(Math.abs(st.etaSeconds - 20 * 1.5) < 1e-6, `the queued job's estimate scaled by 30/20: ${st.etaSeconds}`);
    await store.close();
  });

  it('the refusal prints the candidate table on stdout and one line on stderr', () => {
    const r = cli(tmpHome(), 'sweep', 'plan', 'small', '--flops', '2e10,4e10', '--sizes', '5', '--tokens-per-param', '200', '--batch', '8', '--no-estimate');
    assert.equal(r.code, 2, r.err);
    assert.match(r.out, /budget 2\.0e\+10: candidate sizes/);
    assert.match(r.out, /shape +non-emb +tokens +steps +epochs +verdict/);
    assert.match(r.out, /1x16h1 .* chosen/);
    assert.match(r.out, /too few steps/);
    assert.match(r.err, /budgets 2\.0e\+10, 4\.0e\+10 leave \d model size\(s\) with at least 200 steps of the 5 asked for \(candidates above\); raise every budget to at least/);
    assert.equal(r.err.trim().split('\n').length, 1);
  });
});

describe('sweep rm and plan --replace', () => {
  const grid = ['--models', '1x16', '--tokens', '20480', '--ctx', '32', '--batch', '8', '--no-estimate'];

  it('plan --replace swaps a plan that has not started, and refuses one that has', async () => {
    const home = tmpHome();
    assert.equal(cli(home, 'sweep', 'plan', 's', ...grid).code, 0);
    const again = cli(home, 'sweep', 'plan', 's', ...grid);
    assert.equal(again.code, 2);
    assert.match(again.err, /a sweep named 's' already exists; pick another name, or --replace it/);
    const r = cli(home, 'sweep', 'plan', 's', ...grid.map((a) => (a === '20480' ? '20480,40960' : a)), '--replace');
    assert.equal(r.code, 0, r.err);
    let store = RunStore.open(home);
    assert.equal((await new SweepQueue(store).jobs('s')).length, 2, 'the new plan replaced the old');
    await new SweepQueue(store).claim('w', 60, 's');
    await store.close();
    const refused = cli(home, 'sweep', 'plan', 's', ...grid, '--replace');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /sweep 's' has started \(1 of its jobs has run\); remove it with `scalelab sweep rm s` first/);
    assert.equal(refused.err.trim().split('\n').length, 1);
    store = RunStore.open(home);
    assert.equal((await new SweepQueue(store).jobs('s')).length, 2, 'the started plan is untouched');
    await store.close();
  });

  async function sweepWithRuns(home: string) {
    const store = RunStore.open(home);
    const q = new SweepQueue(store);
    await q.createSweep('gone', {}, [0, 1].map((i) => ({ options: {}, runName: `gone-${i}`, estimatedSeconds: null })));
    const runs = await Promise.all([0, 1].map(async (i) => await store.createRun({ name: `gone-${i}`, config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: 1, tokensTarget: 1 })));
    const verify = await store.createRun({ name: 'gone-verify', config: { train: { sweep: 'gone' } }, params: 1, nonEmbeddingParams: 1, flopsPerToken: 1, tokensTarget: 1 });
    const other = await store.createRun({ name: 'other', config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: 1, tokensTarget: 1 });
    for (const r of [...runs, verify, other]) {
      fs.mkdirSync(path.join(home, 'runs', r.id), { recursive: true });
      await store.logMetrics(r.id, [{ step: 1, trainLoss: 1 }]);
    }
    return { store, q, runs: [...runs, verify], other };
  }

  it('rm refuses a sweep with a job under a live lease, deletes it with --force, with its runs, their metrics and folders', async () => {
    const home = tmpHome();
    const { store, q, runs, other } = await sweepWithRuns(home);
    await q.claim('w', 600, 'gone');
    await assert.rejects(async () => await removeSweep(store, home, 'gone'), /sweep 'gone' has 1 running job \(gone-0\); stop its workers first, or pass --force/);
    assert.ok(await q.findSweep('gone') && await store.findRun('gone-0'), 'a refused rm deletes nothing');
    const r = await removeSweep(store, home, 'gone', { force: true });
    assert.deepEqual(r.deletedRuns.sort(), ['gone-0', 'gone-1', 'gone-verify']);
    assert.equal(await q.findSweep('gone'), undefined);
    assert.equal((await q.jobs('gone')).length, 0);
    for (const run of runs) {
      assert.equal(await store.findRun(run.name), undefined);
      assert.equal(fs.existsSync(path.join(home, 'runs', run.id)), false);
      assert.equal(withSql(store, (db) => (db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?').get(run.id) as { n: number }).n), 0);
    }
    assert.ok(await store.findRun('other') && fs.existsSync(path.join(home, 'runs', other.id)), 'other runs are left alone');
    await assert.rejects(async () => await removeSweep(store, home, 'gone'), /unknown sweep 'gone'/);
    await store.close();
  });

  it('rm --keep-runs keeps the runs, and a failure mid-delete leaves the sweep whole', async () => {
    const home = tmpHome();
    const { store, q } = await sweepWithRuns(home);
    // The last run's delete fails, after the others' went through inside the transaction.
    withSql(store, (db) => db.exec("CREATE TRIGGER boom BEFORE DELETE ON runs WHEN old.name = 'gone-verify' BEGIN SELECT RAISE(ABORT, 'disk gone'); END"));
    await assert.rejects(async () => await removeSweep(store, home, 'gone'), /disk gone/);
    assert.ok(await q.findSweep('gone') && (await q.jobs('gone')).length === 2 && await store.findRun('gone-1') && await store.findRun('gone-verify'), 'rolled back whole');
    withSql(store, (db) => db.exec('DROP TRIGGER boom'));
    const r = await removeSweep(store, home, 'gone', { keepRuns: true });
    assert.deepEqual(r.keptRuns.sort(), ['gone-0', 'gone-1', 'gone-verify']);
    assert.equal(await q.findSweep('gone'), undefined);
    assert.ok(await store.findRun('gone-0'));
    // Its kept runs hold their names: a new plan that would reuse them is refused.
    await assert.rejects(async () => await q.createSweep('gone', {}, [{ options: {}, runName: 'gone-0', estimatedSeconds: null }]), /a run named 'gone-0' is already in the store/);
    assert.equal(await q.findSweep('gone'), undefined);
    await store.close();
  });

  it('the rm command: one line for a mistake, exit code 2', () => {
    const home = tmpHome();
    assert.equal(cli(home, 'sweep', 'plan', 's', ...grid).code, 0);
    const unknown = cli(home, 'sweep', 'rm', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown sweep 'nope'/);
    const ok = cli(home, 'sweep', 'rm', 's');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /deleted sweep s \(1 job\); it had no runs yet/);
    assert.equal(cli(home, 'sweep', 'plan', 's', ...grid).code, 0, 'the name is free again');
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
        const run = await store0.findRun('kill-000');
        if (run && run.tokensSeen > 0) break;
        assert.ok(waited < 120_000, 'the first worker never checkpointed its first job');
        assert.equal(victim.exitCode, null, 'the first worker exited before it could be killed');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await store0.close();
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
      assert.deepEqual(await q.counts('kill'), { queued: 0, running: 0, done: 4, failed: 0 });
      const runs = await store.listRuns();
      assert.equal(runs.length, 4, 'one run per job, none twice');
      assert.deepEqual(runs.map((r) => r.name).sort(), ['kill-000', 'kill-001', 'kill-002', 'kill-003']);
      for (const r of runs) {
        assert.equal(r.status, 'done');
        const steps = (await store.metrics(r.id)).map((m) => m.step);
        const n = r.tokensTarget! / (8 * 32);
        assert.deepEqual(steps, Array.from({ length: n }, (_, i) => i + 1), `${r.name}: every step exactly once`);
      }
      const resumed = (await q.jobs('kill')).filter((j) => j.attempts > 1);
      assert.equal(resumed.length, 1, 'exactly the killed job was claimed twice');
    } finally {
      await store.close();
    }
  });
});
