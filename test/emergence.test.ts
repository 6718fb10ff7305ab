// How emergence is judged from a metric's points, and the view read back from stored results.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shapeOf, emergenceView, type EmergencePoint } from '../src/eval/emergence.js';
import { formatEmergence } from '../src/cli/emergence.js';
import { RunStore } from '../src/runs/index.js';

const pts = (values: number[], se = 0.01): EmergencePoint[] => values.map((v, i) => ({ label: `r${i}`, x: 10 ** (i + 10), value: v, stderr: se, n: 100 }));

describe('emergence', () => {
  it('calls a rise abrupt when one interval holds most of it, smooth otherwise', () => {
    assert.equal(shapeOf(pts([0, 0, 0.02, 0.9, 0.95]), true).verdict, 'abrupt');
    assert.deepEqual(shapeOf(pts([0, 0, 0.02, 0.9, 0.95]), true).between, [1e12, 1e13]);
    assert.equal(shapeOf(pts([-3, -2.4, -1.9, -1.2, -0.6]), true).verdict, 'smooth');
    assert.equal(shapeOf(pts([3, 2.4, 1.9, 1.2, 0.6]), false).verdict, 'smooth', 'lower is better: a falling bpb rises');
    assert.equal(shapeOf(pts([0.5, 0.51, 0.5, 0.49]), true).verdict, 'flat', 'within the noise');
    assert.equal(shapeOf(pts([0, 1]), true).verdict, 'too few points');
    assert.equal(shapeOf(pts([0, 0, 0.002, 0.002, 0], 0).map((p, i) => ({ ...p, stderr: i === 2 || i === 3 ? 0.002 : 0 })), true).verdict, 'flat',
      'one right answer in 500 is within its own standard error');
    // Evenly rising per decade but unevenly spaced: the widest interval holds most of the rise, yet it is smooth.
    const uneven: EmergencePoint[] = [10, 13, 14, 15].map((d, i) => ({ label: `r${i}`, x: 10 ** d, value: d, stderr: 0.01, n: 100 }));
    assert.equal(shapeOf(uneven, true).verdict, 'smooth');
    assert.equal(shapeOf(uneven, true, false).verdict, 'abrupt', 'on a linear axis the last decade is most of the span');
  });

  it("reads a run's checkpoints against step from the store, final weights at the last step", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-emergence-'));
    const store = RunStore.open(home);
    try {
      const run = await store.createRun({ name: 'r', config: {} });
      await store.logMetrics(run.id, [{ step: 300, tokens: 1, trainLoss: 1 }]);
      const key = (step: number) => ({ subject: run.id, runId: run.id, step, task: 'copy', taskVersion: 'v1', shots: 0, seed: 0 });
      for (const [step, em] of [[100, 0], [200, 0.1], [-1, 0.9]] as const) {
        await store.evals.saveResults(key(step), [{ metric: 'exact_match', value: em, stderr: 0.01, n: 50 }, { metric: 'logprob_per_byte', value: -2 + em, stderr: 0.01, n: 50 }]);
      }
      const v = await emergenceView(store, { task: 'copy', shots: 0, run: 'r' });
      assert.equal(v.axis, 'step');
      assert.deepEqual(v.series.map((s) => s.metric), ['exact_match', 'logprob_per_byte']);
      assert.deepEqual(v.series[0].points.map((p) => [p.x, p.value]), [[100, 0], [200, 0.1], [300, 0.9]]);
      assert.equal(v.series[0].shape.verdict, 'abrupt');
      assert.match(formatEmergence(v), /exact_match \(higher is better\): abrupt: 89% of the rise between steps 200 and 300/);
      await assert.rejects(async () => await emergenceView(store, { task: 'copy', shots: 0 }), /either --sweep NAME or --run NAME/);
    } finally {
      await store.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
