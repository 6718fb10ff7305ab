// Training mixtures: --mix is checked in one line, the mixed stream is deterministic and keeps
// the corpus intact, no evaluation problem ever occurs in it, and a mixed run resumes to the bit.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCorpus, splitCorpus } from '../src/data/index.js';
import { formatMix, mixTraining, parseMix } from '../src/data/mixture.js';
import { TEXT_TASKS, TEXT_TASK_NAMES, isEvalProblem } from '../src/data/tasks-text.js';
import { syntheticTask } from '../src/eval/tasks/index.js';
import { UsageError } from '../src/errors.js';
import { TRAIN_DEFAULTS, TRAIN_OPTIONS, checkOptions, type TrainOptions } from '../src/train/options.js';
import { train } from '../src/train/train.js';
import { RunStore } from '../src/runs/index.js';
import { flag } from '../src/cli/flags.js';
import { assertUsageError } from './helpers.js';

let brownTrain: Uint8Array;
before(() => {
  brownTrain = splitCorpus(loadCorpus('brown'), { seed: 0 }).train;
});

describe('--mix', () => {
  it('reads TASK:FRACTION pairs, in a canonical order', () => {
    assert.deepEqual(parseMix('copy:0.02, add3:0.05'), [{ task: 'add3', fraction: 0.05 }, { task: 'copy', fraction: 0.02 }]);
    assert.equal(formatMix(parseMix('copy:0.02,add3:5e-2')), 'add3:0.05,copy:0.02');
  });

  const bad: [string, RegExp][] = [
    ['nosuch:0.1', /unknown task 'nosuch'; tasks that can be mixed into training: add2, add3, copy, rev/],
    ['add3:0', /the fraction of add3 must be a number between 0 and 1/],
    ['add3:-0.1', /the fraction of add3 must be a number between 0 and 1/],
    ['add3:abc', /the fraction of add3 must be a number between 0 and 1/],
    ['add3:0.6,copy:0.4', /the fractions add up to 1; they must sum to less than 1/],
    ['add3', /'add3' is not TASK:FRACTION/],
    ['add3:0.1,', /an empty item/],
    ['', /an empty item/],
    ['add3:0.1,add3:0.2', /add3 is named twice/],
  ];
  for (const [spec, why] of bad) {
    it(`refuses '${spec}' in one line, the flag and train() in the same words`, () => {
      assertUsageError(() => parseMix(spec), why);
      const cli = (() => {
        try {
          flag('mix', TRAIN_OPTIONS.mix).parseArg!(spec, undefined);
        } catch (err) {
          return err as Error;
        }
        assert.fail('the flag accepted it');
      })();
      assert.ok(cli instanceof UsageError);
      assert.ok(!cli.message.includes('\n'));
      const what = cli.message.match(/^--mix (must be .*), got '.*'$/)?.[1];
      assert.ok(what && why.test(what), cli.message);
      assert.throws(() => checkOptions({ ...TRAIN_DEFAULTS, mix: spec } as TrainOptions), (err: Error) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.message, `mix ${what}, got ${spec}`);
        return true;
      });
    });
  }
});

describe('mixTraining', () => {
  it('is the same bytes from the same seed, other bytes from another', () => {
    const parts = parseMix('add3:0.05,copy:0.02');
    const a = mixTraining(brownTrain, parts, 7), b = mixTraining(brownTrain, parts, 7), c = mixTraining(brownTrain, parts, 8);
    assert.ok(Buffer.from(a.tokens).equals(Buffer.from(b.tokens)));
    assert.ok(!Buffer.from(a.tokens).equals(Buffer.from(c.tokens)));
  });

  it('gives each task its share of the bytes and keeps the corpus, in order, between them', () => {
    const m = mixTraining(brownTrain, parseMix('add3:0.05,copy:0.02'), 1);
    const n = m.tokens.length;
    assert.equal(m.corpusBytes, brownTrain.length);
    assert.ok(Math.abs(m.taskBytes.add3 / n - 0.05) < 0.001, `add3 ${m.taskBytes.add3 / n}`);
    assert.ok(Math.abs(m.taskBytes.copy / n - 0.02) < 0.001, `copy ${m.taskBytes.copy / n}`);
    assert.equal(n, brownTrain.length + m.taskBytes.add3 + m.taskBytes.copy);
    // Drop the blocks of task text: what remains is the corpus's training bytes exactly.
    const text = Buffer.from(m.tokens).toString('latin1');
    const taskLine = /^(\d+\+\d+=\d+|[a-z]+\|[a-z]+)$/;
    const pieces = text.split('\n\n');
    const blocks = pieces.filter((p) => p.split('\n').every((l) => taskLine.test(l)));
    assert.equal(blocks.length, m.blocks);
    const rest = pieces.filter((p) => !p.split('\n').every((l) => taskLine.test(l))).join('\n\n');
    assert.ok(Buffer.from(rest, 'latin1').equals(Buffer.from(brownTrain)));
    // Every line of a block is a correct problem of one task, never an evaluation-only one.
    for (const b of blocks) {
      const lines = b.split('\n');
      const task = lines[0].includes('+') ? TEXT_TASKS.add3 : TEXT_TASKS.copy;
      for (const l of lines) {
        const [prompt, target] = task === TEXT_TASKS.add3 ? [l.slice(0, l.indexOf('=') + 1), l.slice(l.indexOf('=') + 1)] : [l.slice(0, l.indexOf('|') + 1), l.slice(l.indexOf('|') + 1)];
        if (task === TEXT_TASKS.add3) {
          const [a, c] = prompt.slice(0, -1).split('+').map(Number);
          assert.equal(Number(target), a + c, l);
        } else assert.equal(prompt.slice(0, -1), target, l);
        assert.ok(!isEvalProblem(task, { prompt, target }), `${l} is an evaluation problem`);
      }
    }
  });

  it('never contains an evaluation example: no prompt+target of any evaluation set occurs anywhere in a realistic stream', () => {
    // Every task at 5 %: 1.4 MB of task text in the 5.4 MB Brown training split.
    const m = mixTraining(brownTrain, parseMix(TEXT_TASK_NAMES.map((t) => `${t}:0.05`).join(',')), 0);
    const hay = Buffer.from(m.tokens).toString('latin1');
    // An occurrence of a string puts its first separator (+, | or >) at a separator of the stream:
    // index the evaluation strings by (separator, its offset, length) and look only there.
    const groups = new Map<string, Set<string>>();
    let evalStrings = 0;
    for (const name of TEXT_TASK_NAMES) {
      for (const e of syntheticTask(name).examples()) {
        if (e.kind !== 'generate') throw new Error('synthetic tasks generate');
        const s = e.prompt + e.target;
        const at = s.search(/[+|>]/);
        const key = `${s[at]}:${at}:${s.length}`;
        if (!groups.has(key)) groups.set(key, new Set());
        groups.get(key)!.add(s);
        evalStrings++;
      }
    }
    assert.equal(evalStrings, 4 * 500);
    const bySep = new Map<string, { offset: number; length: number; set: Set<string> }[]>();
    for (const [key, set] of groups) {
      const [sep, offset, length] = [key[0], ...key.slice(2).split(':').map(Number)] as [string, number, number];
      if (!bySep.has(sep)) bySep.set(sep, []);
      bySep.get(sep)!.push({ offset, length, set });
    }
    let anchors = 0;
    for (let i = 0; i < hay.length; i++) {
      const g = bySep.get(hay[i]);
      if (!g) continue;
      anchors++;
      for (const { offset, length, set } of g) {
        const start = i - offset;
        if (start < 0 || start + length > hay.length) continue;
        const s = hay.slice(start, start + length);
        assert.ok(!set.has(s), `evaluation example ${JSON.stringify(s)} occurs in the training stream at byte ${start}`);
      }
    }
    assert.ok(anchors > 50_000, `the stream holds the tasks' text (${anchors} separators)`);
  });
});

describe('a mixed run', () => {
  const tiny: Partial<TrainOptions> = {
    layers: 1, dModel: 32, heads: 2, ctx: 32, batch: 4, tokens: 4 * 32 * 20,
    checkpointEvery: 5, evalEvery: 10, evalTokens: 1024, warmupSteps: 5, threads: 2, seed: 3, mix: 'add3:0.3,copy:0.2',
  };

  it('records its mixture, trains on it, and resumes bit-exact', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-mix-'));
    const whole = await train({ ...tiny, name: 'whole' }, { home });
    let steps = 0;
    const stopped = await train({ ...tiny, name: 'halves' }, { home, shouldStop: () => ++steps > 12 });
    assert.equal(stopped.status, 'stopped');
    const resumed = await train({ resume: 'halves' }, { home });
    assert.equal(resumed.weightsSha256, whole.weightsSha256, 'stopped at step 12, resumed from 10: the same weights');
    const plain = await train({ ...tiny, mix: undefined, name: 'plain' }, { home });
    assert.notEqual(plain.weightsSha256, whole.weightsSha256, 'the mixture changes what is trained on');
    const store = RunStore.open(home);
    try {
      const run = await store.getRun('whole');
      assert.equal((run.config as { train: TrainOptions }).train.mix, 'add3:0.3,copy:0.2');
      const ev = (await store.events(run.id)).find((e) => e.kind === 'mixture');
      assert.match(ev?.message ?? '', /corpus 50\.0%, add3 30\.0%, copy 20\.0% .*validation is corpus only/);
      // Validation is pure corpus: the same held-out batches as a run without a mixture.
      assert.equal(whole.finalValBpb !== null, true);
    } finally {
      await store.close();
    }
  });
});
