// Few-shot prompts: k demonstrations from the task's few-shot split, drawn with a seed that is
// different for every example (a hash of the example's text), put before the example. The same
// example, shots and seed always give the same prompt, for a local run and an endpoint alike.
import { Rng, hashString } from '../engine/random.js';
import { UsageError } from '../errors.js';
import type { Example, Task } from './types.js';

/** The text of an example that demonstrations are keyed on and compared by. */
function key(e: Example): string {
  if (e.kind === 'loglikelihood') return `${e.context}\u0000${e.choices.join('\u0000')}`;
  if (e.kind === 'generate') return `${e.prompt}\u0000${e.target}`;
  return e.text;
}

/** A demonstration as text: the context with its gold choice, or the prompt with its target. */
export function demonstration(e: Example): string {
  if (e.kind === 'loglikelihood') return e.context + e.choices[e.gold];
  if (e.kind === 'generate') return e.prompt + e.target;
  return e.text;
}

/**
 * The example with `shots` demonstrations before its context (or prompt), separated by
 * task.fewshotSeparator (default "\n\n"). Rolling examples (bits per byte) take no
 * demonstrations and come back as they are. Asking for more demonstrations than the few-shot
 * split holds is a UsageError.
 */
export function buildPrompt<E extends Example>(task: Task, example: E, shots: number, seed: number): E {
  if (!(Number.isInteger(shots) && shots >= 0)) throw new UsageError(`--shots must be a non-negative integer, got ${shots}`);
  if (shots === 0 || example.kind === 'rolling') return example;
  const own = key(example);
  // Never the example itself, should a file put one line in both splits.
  const pool = task.fewshot().filter((d) => d.kind === example.kind && key(d) !== own);
  if (pool.length < shots) {
    throw new UsageError(`task ${task.name} has ${pool.length} few-shot example${pool.length === 1 ? '' : 's'}, fewer than --shots ${shots}` +
      (pool.length === 0 ? ' (a task file marks them with "split": "fewshot")' : ''));
  }
  const rng = new Rng(hashString(own, seed));
  // A partial Fisher-Yates shuffle of the indices: `shots` distinct demonstrations.
  const idx = pool.map((_, i) => i);
  for (let i = 0; i < shots; i++) {
    const j = i + rng.int(idx.length - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const sep = task.fewshotSeparator ?? '\n\n';
  const prefix = idx.slice(0, shots).map((i) => demonstration(pool[i]) + sep).join('');
  if (example.kind === 'loglikelihood') return { ...example, context: prefix + example.context };
  return { ...example, prompt: prefix + (example as Extract<Example, { kind: 'generate' }>).prompt } as E;
}
