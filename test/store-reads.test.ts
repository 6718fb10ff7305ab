// The store's reads for the dashboard and the queue, held to what they answer rather than how:
// the contract any implementation of the Store interface keeps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunStore } from '../src/runs/index.js';

/** A curve's chunks, read to the end and joined. */
async function all<T>(chunks: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const c of chunks) out.push(...c);
  return out;
}

const open = () => RunStore.open(fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-reads-')));
const newRun = async (store: RunStore, name: string) =>
  await store.createRun({ name, config: {}, params: 1, nonEmbeddingParams: 1, flopsPerToken: 1, tokensTarget: 1 });

describe('store reads', () => {
  it('a run\'s series: last row, span, steps around an x value, the curve of a step range, rows at chosen steps', async () => {
    const store = open();
    const run = await newRun(store, 'a');
    assert.equal(await store.series.last(run.id), undefined);
    assert.equal(await store.series.span(run.id), undefined);
    await store.logMetrics(run.id, [10, 20, 30, 40].map((step) => ({ step, tokens: step * 100, flops: step * 1e6, trainLoss: 1 / step, tokensPerS: step })));
    assert.deepEqual(await store.series.last(run.id), { step: 40, tokens: 4000, flops: 4e7, trainLoss: 1 / 40, tokensPerS: 40 });
    assert.deepEqual(await store.series.span(run.id), { first: 10, last: 40 });
    assert.equal(await store.series.stepBefore(run.id, 'tokens', 2500), 20);
    assert.equal(await store.series.stepAfter(run.id, 'tokens', 2500), 30);
    assert.equal(await store.series.stepBefore(run.id, 'step', 10), undefined, 'nothing before the first step');
    assert.equal(await store.series.stepAfter(run.id, 'flops', 4e7), undefined, 'nothing after the last');
    assert.deepEqual(await all(store.series.curve(run.id, 'flops', 20, 30)), [[20, 2e7, 1 / 20, null, null], [30, 3e7, 1 / 30, null, null]]);
    assert.deepEqual((await store.series.atSteps(run.id, [40, 10, 25])).map((r) => [r.step, r.tokens, r.valBpb]), [[10, 1000, null], [40, 4000, null]]);
    await store.close();
  });

  it('rows since a position come in the order logged, across runs, a page at a time; a re-logged step comes again', async () => {
    const store = open();
    const [a, b] = [await newRun(store, 'a'), await newRun(store, 'b')];
    const start = await store.series.position();
    assert.deepEqual(await store.series.after(start, 10), { position: start, rows: [] });
    await store.logMetrics(a.id, [{ step: 1, trainLoss: 2 }]);
    await store.logMetrics(b.id, [{ step: 1 }, { step: 2 }]);
    const page = await store.series.after(start, 2);
    assert.deepEqual(page.rows.map((r) => [r.runId, r.step, r.trainLoss]), [[a.id, 1, 2], [b.id, 1, null]]);
    const rest = await store.series.after(page.position, 10);
    assert.deepEqual(rest.rows.map((r) => [r.runId, r.step]), [[b.id, 2]]);
    assert.equal(await store.series.position(), rest.position);
    await store.logMetrics(a.id, [{ step: 1, trainLoss: 3 }]);
    assert.deepEqual((await store.series.after(rest.position, 10)).rows.map((r) => [r.runId, r.step, r.trainLoss]), [[a.id, 1, 3]]);
    await store.close();
  });

  it('runs updated since a time, oldest change first; events of a kind with their run\'s name', async () => {
    const store = open();
    assert.equal(await store.lastRunUpdate(), '');
    const a = await newRun(store, 'a');
    const b = await newRun(store, 'b');
    await store.updateRun(a.id, { status: 'running' });
    const last = await store.lastRunUpdate();
    assert.equal(last, (await store.getRun('a')).updatedAt);
    // Times have millisecond resolution, so b may share a's last millisecond; nothing older comes back.
    const since = await store.runsUpdatedSince(last);
    assert.ok(since.some((r) => r.id === a.id) && since.every((r) => r.updatedAt === last), JSON.stringify(since));
    const all = await store.runsUpdatedSince('');
    assert.deepEqual(all.map((r) => r.id).sort(), [a.id, b.id].sort());
    assert.ok(all[0].updatedAt <= all[1].updatedAt, 'oldest change first');
    await store.logEvent(b.id, { kind: 'verify', message: 'checked', data: { sweep: 's' } });
    await store.logEvent(a.id, { kind: 'start', message: 'started' });
    await store.logEvent(a.id, { kind: 'verify', message: 'checked' });
    assert.deepEqual(await store.eventsOfKind('verify'), [{ runName: 'b', data: { sweep: 's' } }, { runName: 'a', data: null }]);
    assert.deepEqual(await store.eventsOfKind('nothing'), []);
    await store.close();
  });

  it('sweeps: counts by sweep and status, names, and the sweep each job\'s run belongs to', async () => {
    const store = open();
    assert.deepEqual([await store.sweeps.count(), await store.sweeps.allCounts(), [...await store.sweeps.names()]], [0, [], []]);
    const jobs = (s: string) => [0, 1].map((i) => ({ options: {}, runName: `${s}-${i}`, estimatedSeconds: null }));
    await store.sweeps.create('s', {}, jobs('s'), () => false);
    await store.sweeps.create('t', {}, jobs('t'), () => false);
    assert.ok(await store.sweeps.claim('w', 60, 't'));
    assert.deepEqual(await store.sweeps.allCounts(), [
      { sweep: 's', status: 'queued', jobs: 2 }, { sweep: 't', status: 'queued', jobs: 1 }, { sweep: 't', status: 'running', jobs: 1 }]);
    assert.deepEqual([await store.sweeps.count(), [...await store.sweeps.names()].sort()], [2, ['s', 't']]);
    assert.equal(await store.sweeps.sweepOfRun('t-1'), 't');
    assert.equal(await store.sweeps.sweepOfRun('nope'), undefined);
    assert.deepEqual([...await store.sweeps.sweepsOfRuns()].sort(), [['s-0', 's'], ['s-1', 's'], ['t-0', 't'], ['t-1', 't']]);
    await assert.rejects(async () => await store.sweeps.create('s', {}, jobs('x'), () => {
      throw new Error('refused');
    }), /refused/);
    await assert.rejects(async () => await store.sweeps.remove('s', { refuse: () => {
      throw new Error('refused');
    }, deleteRuns: true }), /refused/);
    assert.deepEqual((await store.sweeps.jobs('s')).map((j) => j.runName), ['s-0', 's-1'], 'a refusal changes nothing');
    await store.close();
  });
});
