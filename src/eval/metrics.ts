// From what a model did on each example (its outcome) to a task's metrics with standard errors.
//
// Each kind of task reports a discrete metric beside a continuous one computed from the same
// outputs, because an ability that seems to appear suddenly under exact match often rises
// smoothly under a continuous metric (Schaeffer et al. 2023):
// - loglikelihood: acc, acc_norm (log-likelihood per byte of each choice) and p_gold, the
//   probability the model puts on the correct choice among the choices;
// - generate: exact_match, logprob_per_byte (the target's log-probability per byte, in nats,
//   given the prompt) and edit_distance (Levenshtein distance over code points, divided by the
//   longer string's length);
// - rolling: bpb, bits per byte, overall and per group (`bpb:<group>`).
import { byteLength } from './truncate.js';
import type { Example } from './types.js';

/** What the scorer returned for one example, as stored for resuming. */
export type Outcome =
  | { kind: 'loglikelihood'; logprobs: number[] }
  | { kind: 'generate'; output: string; logprob: number | null }
  | { kind: 'rolling'; logprob: number; bytes: number; group?: string };

export interface MetricValue {
  metric: string;
  value: number;
  /** Standard error of the mean over examples (null when n < 2). */
  stderr: number | null;
  n: number;
}

/** Index of the largest value, the first on ties. */
function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function mean(values: readonly number[], metric: string): MetricValue {
  const n = values.length;
  const m = values.reduce((a, v) => a + v, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1) : NaN;
  return { metric, value: m, stderr: n > 1 ? Math.sqrt(variance / n) : null, n };
}

/** Levenshtein distance between two strings, over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a], y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

/** Edit distance divided by the longer string's length in code points (0: equal, 1: nothing in common). */
export function normalisedEditDistance(a: string, b: string): number {
  const n = Math.max([...a].length, [...b].length);
  return n === 0 ? 0 : editDistance(a, b) / n;
}

/** Probability of choice `gold` under a softmax of the choices' log-likelihoods. */
function choiceProbability(logprobs: readonly number[], gold: number): number {
  const m = Math.max(...logprobs);
  const z = logprobs.reduce((a, l) => a + Math.exp(l - m), 0);
  return Math.exp(logprobs[gold] - m) / z;
}

/**
 * Bits per byte of a set of texts: total bits over total bytes. The standard error treats it as
 * a ratio estimator over documents (delta method), so long documents weigh by their length.
 */
function bitsPerByte(items: { logprob: number; bytes: number }[], metric: string): MetricValue {
  const n = items.length;
  const bits = items.map((o) => -o.logprob / Math.LN2);
  const totalBits = bits.reduce((a, b) => a + b, 0), totalBytes = items.reduce((a, o) => a + o.bytes, 0);
  const r = totalBits / totalBytes;
  let stderr: number | null = null;
  if (n > 1) {
    const meanBytes = totalBytes / n;
    const s = items.reduce((a, o, i) => a + (bits[i] - r * o.bytes) ** 2, 0) / (n - 1);
    stderr = Math.sqrt(s / n) / meanBytes;
  }
  return { metric, value: r, stderr, n };
}

/** A task's metrics over its examples' outcomes (examples[i] produced outcomes[i]). */
export function taskMetrics(examples: readonly Example[], outcomes: readonly Outcome[]): MetricValue[] {
  if (examples.length === 0) return [];
  const kind = examples[0].kind;
  if (kind === 'loglikelihood') {
    const acc: number[] = [], accNorm: number[] = [], pGold: number[] = [];
    examples.forEach((ex, i) => {
      const o = outcomes[i];
      if (ex.kind !== 'loglikelihood' || o.kind !== 'loglikelihood') throw new Error('taskMetrics: mixed kinds');
      acc.push(argmax(o.logprobs) === ex.gold ? 1 : 0);
      accNorm.push(argmax(o.logprobs.map((l, c) => l / Math.max(1, byteLength(ex.choices[c])))) === ex.gold ? 1 : 0);
      pGold.push(choiceProbability(o.logprobs, ex.gold));
    });
    return [mean(acc, 'acc'), mean(accNorm, 'acc_norm'), mean(pGold, 'p_gold')];
  }
  if (kind === 'generate') {
    const em: number[] = [], lp: number[] = [], ed: number[] = [];
    examples.forEach((ex, i) => {
      const o = outcomes[i];
      if (ex.kind !== 'generate' || o.kind !== 'generate') throw new Error('taskMetrics: mixed kinds');
      em.push(o.output.trim() === ex.target.trim() ? 1 : 0);
      if (o.logprob !== null) lp.push(o.logprob / byteLength(ex.target));
      ed.push(normalisedEditDistance(o.output.trim(), ex.target.trim()));
    });
    const out = [mean(em, 'exact_match')];
    if (lp.length > 0) out.push(mean(lp, 'logprob_per_byte'));
    out.push(mean(ed, 'edit_distance'));
    return out;
  }
  const rolled = outcomes.map((o) => {
    if (o.kind !== 'rolling') throw new Error('taskMetrics: mixed kinds');
    return o;
  });
  const out = [bitsPerByte(rolled, 'bpb')];
  const groups = [...new Set(rolled.map((o) => o.group).filter((g): g is string => g !== undefined))].sort();
  for (const g of groups) out.push(bitsPerByte(rolled.filter((o) => o.group === g), `bpb:${g}`));
  return out;
}
