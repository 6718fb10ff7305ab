// The dashboard's emergence API: which tasks a sweep or a run has results for, and the view of
// one task (the JSON `scalelab emergence --json` prints), with strict parameters and 4xx in the
// API's shape. Results are saved through the store as `scalelab eval` saves them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../src/runs/index.js';
import { SweepQueue } from '../src/sweep/queue.js';
import { addSyntheticEvaluatedRun, addSyntheticEvaluatedSweep } from '../src/dashboard/synthetic.js';
import { emergenceView, type EmergenceView } from '../src/eval/emergence.js';
import { describeShape } from '../src/common/emergence-text.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import type { EvalTasks } from '../src/dashboard/emergence.js';

type ApiErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

describe('dashboard emergence API', () => {
  let home: string;
  let store: RunStore;
  let dash: RunningDashboard;

  const get = async <T>(url: string) => {
    const r = await dash.app.inject({ method: 'GET', url, headers: { host: new URL(dash.url).host } });
    return { status: r.statusCode, body: r.json() as T };
  };

  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-dashboard-emergence-'));
    store = RunStore.open(home);
    await addSyntheticEvaluatedSweep(store, 'emg');
    await addSyntheticEvaluatedRun(store, 'induction');
    await new SweepQueue(store).createSweep('bare', {}, [{ options: {}, runName: 'bare-0', estimatedSeconds: 10 }]);
    dash = await startDashboard({ home, port: 0 });
  });

  after(async () => {
    await dash?.close();
    await store?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it("lists a sweep's evaluated tasks and a run's, for the page's task picker", async () => {
    const sweep = await get<EvalTasks>('/api/evals?sweep=emg');
    assert.equal(sweep.status, 200);
    assert.deepEqual(sweep.body, {
      sweep: 'emg', run: null, tasks: [
        { task: 'add3', shots: 0, taskVersion: 'v1', metrics: ['edit_distance', 'exact_match', 'logprob_per_byte'], points: 4 },
        { task: 'brown-cloze', shots: 2, taskVersion: 'v1', metrics: ['acc', 'p_gold'], points: 4 },
      ],
    });
    const run = await get<EvalTasks>(`/api/evals?run=${(await store.getRun('induction')).id}`);
    assert.deepEqual(run.body, { sweep: null, run: 'induction', tasks: [{ task: 'copy', shots: 0, taskVersion: 'v2', metrics: ['exact_match', 'logprob_per_byte'], points: 3 }] });
    assert.deepEqual((await get<EvalTasks>('/api/evals?sweep=bare')).body, { sweep: 'bare', run: null, tasks: [] });
  });

  it('a sweep: each metric against training FLOPs, one point per run, exact match abrupt where log-prob is smooth', async () => {
    const { status, body } = await get<EmergenceView>('/api/emergence?sweep=emg&task=add3&shots=0');
    assert.equal(status, 200);
    assert.deepEqual(body, JSON.parse(JSON.stringify(await emergenceView(store, { sweep: 'emg', task: 'add3', shots: 0 }))), 'the view `scalelab emergence --json` prints');
    assert.equal(body.axis, 'flops');
    const em = body.series.find((s) => s.metric === 'exact_match')!;
    assert.deepEqual(em.points.map((p) => [p.label, p.x, p.value, p.stderr, p.n]), [
      ['emg-0', 1e12, 0, 0.015, 200], ['emg-1', 3e12, 0.02, 0.015, 200], ['emg-2', 1e13, 0.85, 0.015, 200], ['emg-3', 3e13, 0.95, 0.015, 200],
    ]);
    assert.equal(describeShape(em.shape, 'flops'), 'abrupt: 87% of the rise between 3.0e+12 and 1.0e+13 FLOPs');
    assert.equal(body.series.find((s) => s.metric === 'logprob_per_byte')!.shape.verdict, 'smooth');
    const ed = body.series.find((s) => s.metric === 'edit_distance')!;
    assert.equal(ed.higherIsBetter, false);
    // Shots default to 0; another count has no results here.
    assert.deepEqual((await get<EmergenceView>('/api/emergence?sweep=emg&task=add3')).body, body);
    assert.deepEqual((await get<EmergenceView>('/api/emergence?sweep=emg&task=add3&shots=5')).body.series, []);
    assert.deepEqual((await get<EmergenceView>('/api/emergence?sweep=emg&task=nothing')).body.series, []);
  });

  it("a run: each metric against training step across its checkpoints, final weights at the last step", async () => {
    const { status, body } = await get<EmergenceView>('/api/emergence?run=induction&task=copy');
    assert.equal(status, 200);
    assert.equal(body.axis, 'step');
    assert.equal(body.taskVersion, 'v2');
    assert.deepEqual(body.series.map((s) => s.metric), ['exact_match', 'logprob_per_byte']);
    assert.deepEqual(body.series[0].points.map((p) => [p.label, p.x, p.value]), [['induction@100', 100, 0], ['induction@200', 200, 0.1], ['induction', 300, 0.9]]);
    assert.equal(describeShape(body.series[0].shape, 'step'), 'abrupt: 89% of the rise between steps 200 and 300');
  });

  it('bad parameters are 400s and unknown names 404s, in the API error shape', async () => {
    const cases: [string, number, string, string][] = [
      ['/api/emergence?sweep=emg', 400, 'task', 'missing_task'],
      ['/api/emergence?task=add3', 400, 'sweep', 'missing_source'],
      ['/api/evals', 400, 'sweep', 'missing_source'],
      ['/api/emergence?sweep=emg&run=induction&task=add3', 400, 'run', 'invalid_value'],
      ['/api/emergence?sweep=emg&task=add3&shots=-1', 400, 'shots', 'invalid_value'],
      ['/api/emergence?sweep=emg&task=add3&shots=1.5', 400, 'shots', 'invalid_value'],
      ['/api/emergence?sweep=emg&task=add3&task=copy', 400, 'task', 'invalid_value'],
      ['/api/emergence?sweep=emg&task=a%0Ab', 400, 'task', 'invalid_value'],
      ['/api/emergence?sweep=..%2Fx&task=add3', 400, 'sweep', 'invalid_sweep'],
      ['/api/evals?run=%20bad', 400, 'run', 'invalid_run'],
      ['/api/emergence?sweep=nope&task=add3', 404, 'sweep', 'sweep_not_found'],
      ['/api/evals?run=nope', 404, 'run', 'run_not_found'],
    ];
    for (const [url, status, param, code] of cases) {
      const r = await get<ApiErrorBody>(url);
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.param, param, url);
      assert.equal(r.body.error.code, code, url);
      assert.ok(r.body.error.message.length > 0 && !r.body.error.message.includes('\n'), url);
    }
  });
});
