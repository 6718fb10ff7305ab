// Running a task against a scorer: examples → requests → outcomes → metrics.
//
// The runner owns everything that must be the same for every scorer, so that a local run and an
// endpoint serving it give the same numbers: the few-shot prompt, the document boundary given to
// an empty context, how contexts are cut to the model's window, and how long texts are split for
// bits per byte. Outcomes are handed to a sink chunk by chunk as they are scored, so an
// evaluation that is interrupted (a dead endpoint, ^C) resumes where it stopped.
import { encode } from '../data/tokenizer.js';
import { UsageError } from '../errors.js';
import { taskMetrics, type MetricValue, type Outcome } from './metrics.js';
import { byteLength, truncateLeft } from './truncate.js';
import type { Example, GenerateRequest, LoglikelihoodRequest, Scorer, Task } from './types.js';

/** What an empty context becomes: a document boundary, the context text starts from in training. */
export const EMPTY_CONTEXT = '\n';
/** The context before the first byte of a rolling text. */
export const ROLLING_START = '\n\n';
/** Window budget for rolling texts when the scorer does not say its context. */
const DEFAULT_ROLLING_BYTES = 2048;

/** Where outcomes and metrics go (the run store); absent, nothing is kept. */
export interface OutcomeSink {
  /** Outcomes already scored, by example index (to resume). */
  done(): Map<number, Outcome> | Promise<Map<number, Outcome>>;
  save(items: [number, Outcome][]): void | Promise<void>;
  finish(metrics: MetricValue[]): void | Promise<void>;
}

export interface EvaluateOptions {
  /** Only the first `limit` examples. */
  limit?: number;
  /** Examples scored per scorer call (and per save). */
  chunk?: number;
  /** The example as the model sees it (few-shot demonstrations prepended); identity by default. */
  prompt?: (example: Example, index: number) => Example;
  sink?: OutcomeSink;
  onProgress?: (done: number, total: number) => void;
}

export interface TaskReport {
  task: string;
  version: string;
  metrics: MetricValue[];
  n: number;
  /** Examples found already scored and not run again. */
  resumed: number;
}

/** The scorer cannot serve the task's requests (an endpoint without echoed log-probs, say). */
export class UnsupportedTaskError extends UsageError {}

export async function evaluateTask(scorer: Scorer, task: Task, opts: EvaluateOptions = {}): Promise<TaskReport> {
  const all = task.examples();
  const examples = opts.limit === undefined ? all : all.slice(0, opts.limit);
  const needs = task.kind === 'generate' ? ['generate', 'loglikelihood'] as const : ['loglikelihood'] as const;
  for (const kind of needs) {
    const s = scorer.supports(kind);
    if (!s.ok && !(task.kind === 'generate' && kind === 'loglikelihood')) {
      throw new UnsupportedTaskError(`task '${task.name}' cannot run on ${scorer.subject}: ${s.reason}`);
    }
  }
  const scoreTargets = scorer.supports('loglikelihood').ok;
  const outcomes = new Map(opts.sink ? await opts.sink.done() : []);
  const resumed = [...outcomes.keys()].filter((i) => i < examples.length).length;
  const todo = examples.map((_, i) => i).filter((i) => !outcomes.has(i));
  const chunk = opts.chunk ?? scorer.preferredChunk ?? 64;
  const prompt = opts.prompt ?? ((ex: Example) => ex);
  opts.onProgress?.(examples.length - todo.length, examples.length);
  for (let s = 0; s < todo.length; s += chunk) {
    const idx = todo.slice(s, s + chunk);
    const scored = await scoreChunk(scorer, idx.map((i) => prompt(examples[i], i)), scoreTargets);
    const items = idx.map((i, k) => [i, scored[k]] as [number, Outcome]);
    for (const [i, o] of items) outcomes.set(i, o);
    await opts.sink?.save(items);
    opts.onProgress?.(examples.length - todo.length + s + idx.length, examples.length);
  }
  const metrics = taskMetrics(examples, examples.map((_, i) => outcomes.get(i)!));
  await opts.sink?.finish(metrics);
  return { task: task.name, version: task.version, metrics, n: examples.length, resumed };
}

/** Score a chunk of (prompted) examples of one kind: one loglikelihood and one generate call at most. */
async function scoreChunk(scorer: Scorer, examples: Example[], scoreTargets: boolean): Promise<Outcome[]> {
  const max = scorer.maxContextBytes;
  const ll: LoglikelihoodRequest[] = [];
  const gen: GenerateRequest[] = [];
  /** For each example, how to read its outcome from the two calls' results. */
  const readers: ((lls: number[], gens: string[]) => Outcome)[] = [];
  const fit = (context: string, continuation: string): LoglikelihoodRequest => {
    const room = max - byteLength(continuation);
    if (room < 1) throw new UsageError(`a ${byteLength(continuation)}-byte continuation does not fit the model's ${max}-byte context`);
    return { context: truncateLeft(context.length > 0 ? context : EMPTY_CONTEXT, room), continuation };
  };
  for (const ex of examples) {
    if (ex.kind === 'loglikelihood') {
      const first = ll.length;
      for (const c of ex.choices) ll.push(fit(ex.context, c));
      readers.push((lls) => ({ kind: 'loglikelihood', logprobs: lls.slice(first, first + ex.choices.length) }));
    } else if (ex.kind === 'generate') {
      const maxBytes = ex.maxBytes ?? byteLength(ex.target) + 8;
      const room = max - maxBytes;
      if (room < 1) throw new UsageError(`generating ${maxBytes} bytes does not fit the model's ${max}-byte context`);
      const g = gen.length;
      gen.push({ prompt: truncateLeft(ex.prompt.length > 0 ? ex.prompt : EMPTY_CONTEXT, room), stop: ex.stop, maxBytes });
      const l = scoreTargets && ex.target.length > 0 ? ll.push(fit(ex.prompt, ex.target)) - 1 : -1;
      readers.push((lls, gens) => ({ kind: 'generate', output: gens[g], logprob: l >= 0 ? lls[l] : null }));
    } else {
      const pieces = rollingRequests(ex.text, Number.isFinite(max) ? max : DEFAULT_ROLLING_BYTES);
      const first = ll.length;
      ll.push(...pieces);
      readers.push((lls) => ({
        kind: 'rolling', logprob: lls.slice(first, first + pieces.length).reduce((a, b) => a + b, 0),
        bytes: byteLength(ex.text), ...(ex.group !== undefined ? { group: ex.group } : {}),
      }));
    }
  }
  const lls = ll.length > 0 ? (await scorer.loglikelihood(ll)).map((r) => r.logprob) : [];
  const gens = gen.length > 0 ? await scorer.generate(gen) : [];
  return readers.map((read) => read(lls, gens));
}

/**
 * A text as loglikelihood requests covering every byte once: pieces of at most half the window,
 * each after as much preceding text as fits (the first after a document boundary). Pieces end on
 * character boundaries.
 */
export function rollingRequests(text: string, windowBytes: number): LoglikelihoodRequest[] {
  const bytes = encode(text);
  const pieceBytes = Math.max(1, Math.floor(windowBytes / 2));
  const out: LoglikelihoodRequest[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + pieceBytes);
    while (end < bytes.length && end > start + 1 && (bytes[end] & 0xc0) === 0x80) end--;
    if (end < bytes.length && (bytes[end] & 0xc0) === 0x80) while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end++;
    const piece = Buffer.from(bytes.subarray(start, end)).toString('utf8');
    const before = start === 0 ? ROLLING_START : Buffer.from(bytes.subarray(0, start)).toString('utf8');
    out.push({ context: truncateLeft(before, windowBytes - (end - start)), continuation: piece });
    start = end;
  }
  return out;
}

