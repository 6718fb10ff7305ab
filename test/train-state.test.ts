// The training loop's pieces: the state a checkpoint stores (its record is the checkpoint
// format, so older checkpoints keep resuming), the spike guard, and a step taken in two halves
// being the same step as trainStep.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/engine/graph.js';
import { native } from '../src/engine/native.js';
import { Rng } from '../src/engine/random.js';
import { GPT, type GPTConfig } from '../src/models/gpt.js';
import { BatchSampler } from '../src/data/index.js';
import { UsageError } from '../src/errors.js';
import { AdamW, ADAMW_DEFAULTS } from '../src/train/optimizer.js';
import { isSpike, newSpikeGuard, observeLoss } from '../src/train/spike-guard.js';
import { checkpointState, initialState, restoreState } from '../src/train/state.js';
import { backwardAndUpdate, forwardLoss, trainStep } from '../src/train/step.js';

const tokens = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => rng.int(256));
};

describe('TrainingState', () => {
  const data = tokens(4096, 1);
  const opts = { batch: 2, ctx: 8, seed: 5 };

  it('is stored under the checkpoint format\'s keys, in their order', () => {
    const s = initialState(new BatchSampler(data, opts), 1.5);
    s.step = 7;
    const saved = checkpointState(s, 16);
    assert.deepEqual(Object.keys(saved), ['step', 'tokensSeen', 'sampler', 'guard', 'bestVal', 'lastVal', 'trainSeconds']);
    assert.equal(saved.tokensSeen, 7 * 16);
    assert.deepEqual(Object.keys(saved.guard as object), ['ema', 'count', 'rollbacks']);
  });

  it('restored from its checkpoint record, goes on as the original does', () => {
    const s = initialState(new BatchSampler(data, opts), 0);
    for (let i = 0; i < 3; i++) s.sampler.next();
    Object.assign(s, { step: 3, bestVal: 2.5, lastVal: 2.75, trainSeconds: 4.25 });
    observeLoss(s.guard, 3.1);
    const saved = JSON.parse(JSON.stringify(checkpointState(s, 16)));

    const r = initialState(new BatchSampler(data, opts), 0);
    restoreState(r, saved, data, opts);
    assert.deepEqual({ ...r, sampler: null }, { ...s, sampler: null });
    assert.deepEqual(r.sampler.next(), s.sampler.next());
  });

  it('refuses a record drawn from other data, in one line', () => {
    const s = initialState(new BatchSampler(data, opts), 0);
    const saved = JSON.parse(JSON.stringify(checkpointState(s, 16)));
    const r = initialState(new BatchSampler(data, opts), 0);
    assert.throws(() => restoreState(r, saved, tokens(2048, 2), opts), UsageError);
    assert.throws(() => restoreState(r, { ...saved, sampler: { rng: 'x' } }, data, opts), UsageError);
  });
});

describe('spike guard', () => {
  it('a loss that is not finite is always a spike', () => {
    const g = newSpikeGuard();
    for (const loss of [NaN, Infinity, -Infinity]) assert.equal(isSpike(g, loss, 2.5), true);
    assert.equal(isSpike(g, 100, 2.5), false, 'before its warm-up the mean is not trusted');
  });

  it('after ten steps, a loss above factor × the running mean is a spike', () => {
    const g = newSpikeGuard();
    for (let i = 0; i < 9; i++) observeLoss(g, 2);
    assert.equal(isSpike(g, 100, 2.5), false, 'nine steps are still the warm-up');
    observeLoss(g, 2);
    assert.equal(g.count, 10);
    assert.equal(g.ema, 2);
    assert.equal(isSpike(g, 5, 2.5), false);
    assert.equal(isSpike(g, 5.01, 2.5), true);
    observeLoss(g, 4);
    assert.equal(g.ema, 0.9 * 2 + 0.1 * 4);
  });
});

describe('a step in two halves', () => {
  it('is trainStep, to the bit', () => {
    const cfg: GPTConfig = { layers: 1, dModel: 16, heads: 2, ctx: 8, vocab: 256 };
    const make = () => {
      const model = new GPT(cfg, { seed: 4 });
      return { model, opt: new AdamW(native, model.params, model.grads, model.decayed, { ...ADAMW_DEFAULTS, lr: 1e-2 }), g: new Graph(native) };
    };
    const a = make(), b = make();
    const sampler = new BatchSampler(tokens(4096, 3), { batch: 2, ctx: 8, seed: 0 });
    for (let i = 0; i < 3; i++) {
      const { ids, targets } = sampler.next();
      const whole = trainStep(a.model, a.opt, a.g, ids, targets, 2, 8, 5e-3);
      const loss = forwardLoss(b.model, b.g, ids, targets, 2, 8);
      assert.equal(loss.item(), whole.loss);
      assert.equal(backwardAndUpdate(b.g, b.opt, loss, 5e-3), whole.gradNorm);
    }
    assert.deepEqual(b.model.params, a.model.params);
  });
});
