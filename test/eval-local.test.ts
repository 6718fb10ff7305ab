// The local scorer against the decoder fed one request at a time, the runner's request building,
// and the metrics' arithmetic.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GPT } from '../src/models/gpt.js';
import { Decoder, logSoftmax } from '../src/models/decode.js';
import { encode, decode } from '../src/data/tokenizer.js';
import { LocalScorer } from '../src/eval/local-scorer.js';
import { evaluateTask, rollingRequests, type OutcomeSink } from '../src/eval/runner.js';
import { editDistance, normalisedEditDistance, taskMetrics, type Outcome } from '../src/eval/metrics.js';
import { truncateLeft } from '../src/eval/truncate.js';
import type { Example, Task } from '../src/eval/types.js';

const model = new GPT({ layers: 2, dModel: 32, heads: 2, ctx: 64, vocab: 256 }, { seed: 3 });

/** log P(continuation | context) with the whole text prefilled as one chunk, as `serve` scores an echoed prompt. */
function oneChunk(context: string, continuation: string): { logprob: number; greedy: boolean } {
  const d = new Decoder(model);
  const c = encode(context), all = encode(context + continuation);
  const { logits } = d.step([{ cache: d.newCache(), tokens: all, logits: 'all' }]);
  let logprob = 0, greedy = true;
  for (let j = c.length; j < all.length; j++) {
    const lp = logSoftmax(logits.subarray((j - 1) * 256, j * 256));
    logprob += lp[all[j]];
    let best = 0;
    for (let v = 1; v < 256; v++) if (lp[v] > lp[best]) best = v;
    greedy &&= best === all[j];
  }
  return { logprob, greedy };
}

/** Greedy decoding of one sequence alone, a token per step. */
function greedyAlone(prompt: string, maxBytes: number, stop: string[]): string {
  const d = new Decoder(model);
  const cache = d.newCache();
  let next: number[] = [...encode(prompt)];
  const out: number[] = [];
  while (out.length < maxBytes) {
    const { logits } = d.step([{ cache, tokens: next, logits: 'last' }]);
    const lp = logSoftmax(logits.subarray(0, 256));
    let best = 0;
    for (let v = 1; v < 256; v++) if (lp[v] > lp[best]) best = v;
    out.push(best);
    const text = decode(out);
    const cut = Math.min(...stop.map((s) => text.indexOf(s)).filter((i) => i >= 0));
    if (Number.isFinite(cut)) return text.slice(0, cut);
    next = [best];
  }
  return decode(out);
}

describe('local scorer', () => {
  const requests = [
    { context: 'The cat sat on the', continuation: ' mat' },
    { context: 'The cat sat on the', continuation: ' hat' },
    { context: 'The cat sat on the', continuation: 'x' },
    { context: '12+34=', continuation: '46' },
    { context: 'café ', continuation: 'naïve — ok' },
  ];

  it('gives each request the bits of its text prefilled alone, in a batch with shared contexts', async () => {
    for (const rowsPerStep of [4096, 7]) {
      const scorer = new LocalScorer(model, { subject: 't', rowsPerStep, sequencesPerStep: 3 });
      const got = await scorer.loglikelihood(requests);
      requests.forEach((r, i) => assert.deepEqual(got[i], oneChunk(r.context, r.continuation), `${rowsPerStep}: ${r.context}|${r.continuation}`));
    }
  });

  it('decodes greedily as a sequence alone does, whatever else is in the batch', async () => {
    const scorer = new LocalScorer(model, { subject: 't', sequencesPerStep: 2 });
    const reqs = [
      { prompt: 'abc', stop: ['\n'], maxBytes: 12 },
      { prompt: 'Hello there, ', stop: ['e', 'a'], maxBytes: 20 },
      { prompt: 'x', stop: [], maxBytes: 5 },
    ];
    const got = await scorer.generate(reqs);
    reqs.forEach((r, i) => assert.equal(got[i], greedyAlone(r.prompt, r.maxBytes, r.stop)));
  });
});

describe('runner', () => {
  it('splits a text into requests that cover every byte once, on character boundaries', () => {
    const text = 'Ünïcödé text — with some multi-byte characters, repeated. '.repeat(5);
    for (const window of [8, 16, 33, 64]) {
      const reqs = rollingRequests(text, window);
      assert.equal(reqs.map((r) => r.continuation).join(''), text);
      for (const r of reqs) assert.ok(encode(r.context).length + encode(r.continuation).length <= window);
      assert.equal(reqs[0].context, '\n\n');
    }
  });

  it('cuts contexts on a character boundary', () => {
    assert.equal(truncateLeft('aéb', 2), 'b');
    assert.equal(truncateLeft('aéb', 3), 'éb');
    assert.equal(truncateLeft('abc', 10), 'abc');
  });

  it('resumes from the outcomes a sink already holds and scores only the rest', async () => {
    const examples: Example[] = Array.from({ length: 10 }, (_, i) => ({ kind: 'loglikelihood', context: `${i}+1=`, choices: [`${i + 1}`, `${i + 2}`], gold: 0 }));
    const task: Task = { name: 't', version: 'v1', kind: 'loglikelihood', description: '', examples: () => examples, fewshot: () => [] };
    const scorer = new LocalScorer(model, { subject: 't' });
    const full = await evaluateTask(scorer, task);
    const saved = new Map<number, Outcome>();
    let calls = 0;
    const counting = { ...scorer, subject: scorer.subject, maxContextBytes: scorer.maxContextBytes, supports: () => ({ ok: true as const }),
      loglikelihood: (r: Parameters<typeof scorer.loglikelihood>[0]) => { calls += r.length; return scorer.loglikelihood(r); },
      generate: (r: Parameters<typeof scorer.generate>[0]) => scorer.generate(r) };
    const sink = (fail: number): OutcomeSink => ({
      done: () => new Map(saved),
      save: (items) => { for (const [i, o] of items) saved.set(i, o); if (saved.size >= fail) throw new Error('interrupted'); },
      finish: () => {},
    });
    await assert.rejects(evaluateTask(counting, task, { chunk: 4, sink: sink(4) }), /interrupted/);
    assert.equal(saved.size, 4);
    const again = await evaluateTask(counting, task, { chunk: 4, sink: sink(Infinity) });
    assert.equal(again.resumed, 4);
    assert.equal(calls, 20);
    assert.deepEqual(again.metrics, full.metrics);
  });
});

describe('metrics', () => {
  it('computes edit distances over code points', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('é', 'e'), 1);
    assert.equal(normalisedEditDistance('', ''), 0);
    assert.equal(normalisedEditDistance('abcd', 'abce'), 0.25);
  });

  it('reports acc, acc_norm and the probability of the gold choice', () => {
    const ex: Example[] = [
      { kind: 'loglikelihood', context: 'c', choices: ['a', 'bbbb'], gold: 1 },
      { kind: 'loglikelihood', context: 'c', choices: ['a', 'b'], gold: 0 },
    ];
    const out: Outcome[] = [{ kind: 'loglikelihood', logprobs: [-1, -2] }, { kind: 'loglikelihood', logprobs: [-1, -1] }];
    const m = Object.fromEntries(taskMetrics(ex, out).map((v) => [v.metric, v.value]));
    assert.equal(m.acc, 0.5); // the second is a tie: the first choice wins
    assert.equal(m.acc_norm, 1); // −2/4 beats −1/1
    assert.ok(Math.abs(m.p_gold - (Math.exp(-2) / (Math.exp(-1) + Math.exp(-2)) + 0.5) / 2) < 1e-15);
  });

  it('reports bits per byte as total bits over total bytes, per group too', () => {
    const ex: Example[] = [{ kind: 'rolling', text: 'ab', group: 'x' }, { kind: 'rolling', text: 'cdef', group: 'y' }];
    const out: Outcome[] = [{ kind: 'rolling', logprob: -2 * Math.LN2, bytes: 2, group: 'x' }, { kind: 'rolling', logprob: -2 * Math.LN2, bytes: 4, group: 'y' }];
    const m = Object.fromEntries(taskMetrics(ex, out).map((v) => [v.metric, v.value]));
    assert.ok(Math.abs(m.bpb - 4 / 6) < 1e-15);
    assert.ok(Math.abs(m['bpb:x'] - 1) < 1e-15 && Math.abs(m['bpb:y'] - 0.5) < 1e-15);
  });
});
