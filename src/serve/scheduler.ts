// Continuous batching: one scheduler per loaded model runs a loop of decode steps. Between two
// steps, finished and cancelled sequences leave the batch (their KV cache goes back to the pool)
// and waiting ones join it: a joining sequence contributes its whole prompt as one chunk (its
// prefill), a running one its last sampled token. So a step is one Decoder.step over every
// active sequence, each weight matrix applied once to all their rows. Sequences joining together
// with the same prompt (a request's n choices, or equal prompts of several requests) prefill it
// once and copy the cache.
//
// The loop yields to the event loop after every step (setImmediate), so HTTP requests are parsed,
// streamed chunks are flushed and disconnects are noticed between steps.
//
// Determinism: each sequence samples with its own Rng seeded from the request's seed, and a
// sequence's logits do not depend on what else is in the batch (the decoder is batch-invariant,
// see src/models/decode.ts; the tests check that the same seed gives the same text under load),
// so the same seed and parameters give the same text.
import { Rng } from '../engine/random.js';
import { logSoftmax, topK, type Chunk, type Decoder, type KVCache } from '../models/decode.js';

/** One position's log-probability and its top alternatives [token, logprob], most likely first. */
export interface TokenLogprob {
  token: number;
  /** null for the first prompt token, which has no context to be predicted from. */
  logprob: number | null;
  top: [number, number][];
}

export type FinishReason = 'stop' | 'length';

export interface SequenceSpec {
  /** Token ids, at least one. */
  prompt: number[];
  /** Tokens to generate at most (0: only the prompt's log-probs). */
  maxTokens: number;
  /** 0 is greedy. */
  temperature: number;
  topP: number;
  seed: number;
  /** Alternatives to report for each generated token (0: only the token's own log-prob). */
  topLogprobs: number;
  /** When set, the prompt's log-probs with this many alternatives go to onPrompt after prefill. */
  promptLogprobs?: number;
  onPrompt?(entries: TokenLogprob[]): void;
  /** A new token; return 'stop' to finish the sequence here (a stop sequence was seen). */
  onToken(t: TokenLogprob): 'continue' | 'stop';
  onDone(reason: FinishReason): void;
  onError(err: Error): void;
}

export interface SequenceHandle {
  cancel(): void;
}

interface Seq {
  spec: SequenceSpec;
  rng: Rng;
  cache: KVCache | null;
  generated: number;
  /** The token to feed at the next step (the last one sampled). */
  next: number;
  done: boolean;
}

export interface SchedulerOptions {
  /** Sequences decoded together at most. */
  maxBatch?: number;
  /** Sequences allowed to wait for a slot; submit throws QueueFullError beyond. */
  maxQueue?: number;
  /** Prompt tokens prefilled per step at most (a longer prompt still goes alone). */
  prefillBudget?: number;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export interface SchedulerStats {
  steps: number;
  /** Milliseconds spent in Decoder.step, all steps together. */
  stepMs: number;
  tokens: number;
  prefillTokens: number;
  maxBatchSeen: number;
}

export class Scheduler {
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly prefillBudget: number;
  private waiting: Seq[] = [];
  private running: Seq[] = [];
  private scheduled = false;
  private closed = false;
  readonly stats: SchedulerStats = { steps: 0, stepMs: 0, tokens: 0, prefillTokens: 0, maxBatchSeen: 0 };
  private readonly lp: Float64Array;

  constructor(readonly decoder: Decoder, opts: SchedulerOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 32;
    this.maxQueue = opts.maxQueue ?? 4096;
    this.prefillBudget = opts.prefillBudget ?? 2048;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new Error(`maxBatch must be a positive integer, got ${this.maxBatch}`);
    this.lp = new Float64Array(decoder.config.vocab);
  }

  /** Sequences running or waiting. */
  get active(): number {
    return this.running.length + this.waiting.length;
  }

  get runningCount(): number {
    return this.running.length;
  }

  submit(spec: SequenceSpec): SequenceHandle {
    if (this.closed) throw new Error('scheduler is closed');
    const { ctx } = this.decoder.config;
    if (spec.prompt.length < 1 || spec.prompt.length > ctx) throw new RangeError(`prompt of ${spec.prompt.length} tokens; need 1 to ${ctx}`);
    if (this.waiting.length >= this.maxQueue) throw new QueueFullError(`${this.waiting.length} sequences are already waiting`);
    const seq: Seq = { spec, rng: new Rng(spec.seed), cache: null, generated: 0, next: -1, done: false };
    this.waiting.push(seq);
    this.wake();
    return { cancel: () => this.remove(seq) };
  }

  /** Stop the loop; sequences still active get an error. */
  close(): void {
    this.closed = true;
    for (const s of [...this.running, ...this.waiting]) this.fail(s, new Error('the server is shutting down'));
  }

  private paused = false;

  /** Hold the loop between steps (tests, maintenance); requests keep queueing and can still be cancelled. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  private wake(): void {
    if (this.scheduled || this.paused || this.active === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.paused) return;
      this.tick();
      this.wake();
    });
  }

  private remove(seq: Seq): void {
    if (seq.done) return;
    seq.done = true;
    const w = this.waiting.indexOf(seq);
    if (w >= 0) this.waiting.splice(w, 1);
    const r = this.running.indexOf(seq);
    if (r >= 0) this.running.splice(r, 1);
    if (seq.cache) {
      this.decoder.release(seq.cache);
      seq.cache = null;
    }
  }

  private finish(seq: Seq, reason: FinishReason): void {
    this.remove(seq);
    try {
      seq.spec.onDone(reason);
    } catch {
      // A callback's failure (a closed socket) must not stop the loop.
    }
  }

  private fail(seq: Seq, err: Error): void {
    this.remove(seq);
    try {
      seq.spec.onError(err);
    } catch {
      // as above
    }
  }

  /** One decode step over every running sequence plus the newcomers that fit. */
  private tick(): void {
    const joining: Seq[] = [];
    let budget = this.prefillBudget;
    while (this.waiting.length > 0 && this.running.length + joining.length < this.maxBatch) {
      const next = this.waiting[0];
      // A prompt already joining (another choice of the same request) costs no more prefill.
      const cost = joining.some((o) => samePrompt(o.spec.prompt, next.spec.prompt)) ? 0 : next.spec.prompt.length;
      if (joining.length > 0 && cost > budget) break;
      this.waiting.shift();
      next.cache = this.decoder.newCache();
      budget -= cost;
      joining.push(next);
    }
    const batch = [...this.running, ...joining];
    if (batch.length === 0) return;
    this.running = [...batch]; // a copy: finishing sequences leave `running` while the loop below walks `batch`
    // Newcomers that share a prompt (the n choices of one request) prefill it once: the others
    // copy its cache and read its logits, which are the bits their own prefill would give (the
    // decoder is batch-invariant).
    const stepping = batch.slice(0, batch.length - joining.length);
    const source = new Map<Seq, Seq>();
    for (const s of joining) {
      const lead = joining.find((o) => o !== s && !source.has(o) && stepping.includes(o) &&
        samePrompt(o.spec.prompt, s.spec.prompt) && o.spec.promptLogprobs === s.spec.promptLogprobs);
      if (lead) source.set(s, lead);
      else stepping.push(s);
    }
    const chunks: Chunk[] = stepping.map((s) => s.generated === 0 && s.cache!.length === 0
      ? { cache: s.cache!, tokens: s.spec.prompt, logits: s.spec.promptLogprobs !== undefined ? 'all' : 'last' }
      : { cache: s.cache!, tokens: [s.next], logits: 'last' });
    let out: { logits: Float32Array; rowOf: number[] };
    const t0 = performance.now();
    try {
      out = this.decoder.step(chunks);
    } catch (err) {
      for (const s of batch) this.fail(s, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const V = this.decoder.config.vocab, ctx = this.decoder.config.ctx;
    this.stats.steps++;
    this.stats.stepMs += performance.now() - t0;
    this.stats.maxBatchSeen = Math.max(this.stats.maxBatchSeen, batch.length);
    const chunkOf = new Map<Seq, number>(stepping.map((s, i) => [s, i]));
    for (const [s, lead] of source) {
      this.decoder.copyCache(lead.cache!, s.cache!);
      chunkOf.set(s, chunkOf.get(lead)!);
    }
    for (const s of batch) {
      if (s.done) continue;
      const i = chunkOf.get(s)!, ch = chunks[i];
      const n = ch.tokens.length;
      const row0 = out.rowOf[i];
      try {
        if (ch.logits === 'all') {
          // Prompt log-probs: token j is scored by the logits at position j − 1.
          const k = s.spec.promptLogprobs ?? 0;
          const entries: TokenLogprob[] = [{ token: s.spec.prompt[0], logprob: null, top: [] }];
          for (let j = 1; j < n; j++) {
            const lp = logSoftmax(out.logits.subarray((row0 + j - 1) * V, (row0 + j) * V), this.lp);
            entries.push({ token: s.spec.prompt[j], logprob: lp[s.spec.prompt[j]], top: topK(lp, k) });
          }
          s.spec.onPrompt?.(entries);
        }
        if (s.generated === 0 && !source.has(s)) this.stats.prefillTokens += n;
        if (s.spec.maxTokens === 0) {
          this.finish(s, 'length');
          continue;
        }
        const lastRow = ch.logits === 'all' ? row0 + n - 1 : row0;
        const lp = logSoftmax(out.logits.subarray(lastRow * V, (lastRow + 1) * V), this.lp);
        const token = sampleFromLogprobs(lp, s.spec.temperature, s.spec.topP, s.rng);
        s.generated++;
        s.next = token;
        this.stats.tokens++;
        const verdict = s.spec.onToken({ token, logprob: lp[token], top: topK(lp, s.spec.topLogprobs) });
        if (s.done) continue; // cancelled from inside the callback
        if (verdict === 'stop') this.finish(s, 'stop');
        else if (s.generated >= s.spec.maxTokens || s.cache!.length >= ctx) this.finish(s, 'length');
      } catch (err) {
        this.fail(s, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}

function samePrompt(a: number[], b: number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Unnormalised probabilities of the last draw (grow-only: sampling allocates nothing per token). */
let weights = new Float64Array(0);

/**
 * Draw a token from log-probs under temperature and nucleus (top-p) sampling; temperature 0 is
 * greedy (ties: the lower id). The candidates are ordered by probability, ties by id, so the
 * draw depends only on the log-probs and the rng.
 */
export function sampleFromLogprobs(lp: Float64Array, temperature: number, topP: number, rng: Rng): number {
  const V = lp.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (lp[i] > lp[best]) best = i;
  if (temperature === 0) return best;
  if (weights.length < V) weights = new Float64Array(V);
  const w = weights;
  let total = 0;
  for (let i = 0; i < V; i++) total += w[i] = Math.exp((lp[i] - lp[best]) / temperature);
  if (topP >= 1) {
    // Every token is a candidate, in id order.
    let u = rng.uniform() * total;
    for (let i = 0; i < V; i++) {
      u -= w[i];
      if (u < 0) return i;
    }
    return V - 1;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => w[b] - w[a] || a - b);
  let mass = 0, keep = 0;
  while (keep < V) {
    mass += w[order[keep++]];
    if (mass >= topP * total) break;
  }
  let u = rng.uniform() * mass;
  for (let k = 0; k < keep; k++) {
    u -= w[order[k]];
    if (u < 0) return order[k];
  }
  return order[keep - 1];
}
