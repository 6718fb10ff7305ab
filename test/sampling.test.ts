// The server's sampler: greedy, temperature, nucleus; each draw a function of the log-probs and
// the rng alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/engine/random.js';
import { logSoftmax } from '../src/models/decode.js';
import { sampleFromLogprobs } from '../src/serve/scheduler.js';

const lp = logSoftmax(Float64Array.from([0, 3, 1, 2.5, -1, 3]));

function histogram(temperature: number, topP: number, draws: number): number[] {
  const rng = new Rng(1), counts = new Array(lp.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleFromLogprobs(lp, temperature, topP, rng)]++;
  return counts.map((c) => c / draws);
}

describe('sampleFromLogprobs', () => {
  it('temperature 0 takes the most likely token, the lower id on ties', () => {
    assert.equal(sampleFromLogprobs(lp, 0, 1, new Rng(0)), 1);
  });

  it('temperature 1 draws in proportion to the probabilities', () => {
    const freq = histogram(1, 1, 20000);
    for (let i = 0; i < lp.length; i++) assert.ok(Math.abs(freq[i] - Math.exp(lp[i])) < 0.015, `token ${i}: ${freq[i]} vs ${Math.exp(lp[i])}`);
  });

  it('top-p keeps the smallest most-likely set reaching p, renormalised', () => {
    // Tokens 1 and 5 (a tie) hold 0.71 of the mass, with token 3 0.93: p = 0.8 keeps those three.
    const freq = histogram(1, 0.8, 20000);
    for (const i of [0, 2, 4]) assert.equal(freq[i], 0, `token ${i} is outside the nucleus`);
    const p = [1, 3, 5].map((i) => Math.exp(lp[i])), z = p[0] + p[1] + p[2];
    [1, 3, 5].forEach((t, k) => assert.ok(Math.abs(freq[t] - p[k] / z) < 0.015, `token ${t}: ${freq[t]} vs ${p[k] / z}`));
  });

  it('the same rng state gives the same draws', () => {
    const a = new Rng(42), b = new Rng(42);
    for (let i = 0; i < 200; i++) assert.equal(sampleFromLogprobs(lp, 0.8, i % 2 ? 0.9 : 1, a), sampleFromLogprobs(lp, 0.8, i % 2 ? 0.9 : 1, b));
  });
});
