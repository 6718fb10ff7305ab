// Scoring a model in this process, through the same KV-cache decoder that `serve` runs.
//
// Why the decoder and not the training forward: the decoder is batch- and prefill-invariant (a
// sequence's logits are the same bits whatever else shares its step, and whether its prompt came
// at once or in pieces), so a request scored here gives exactly what `scalelab serve` answers for
// it through /v1/completions (echo, logprobs). That makes local and endpoint evaluation of one
// model agree to the bit, and lets this scorer share work freely:
// - every distinct context is prefilled once, and its choices continue from copies of its cache;
// - many requests run in one decoder step (their rows stacked through every weight matrix).
import { Decoder, logSoftmax, type Chunk, type KVCache } from '../models/decode.js';
import type { GPT } from '../models/gpt.js';
import type { Kernels } from '../engine/kernels.js';
import { native } from '../engine/native.js';
import { encode, decode } from '../data/tokenizer.js';
import type { GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult, Scorer } from './types.js';

export interface LocalScorerOptions {
  /** What results are recorded under (a run id, `RUN@STEP`). */
  subject: string;
  kernels?: Kernels;
  /** Rows (tokens) per decoder step; bounds the activations' memory. */
  rowsPerStep?: number;
  /** Sequences decoded together; bounds the KV caches' memory. */
  sequencesPerStep?: number;
}

/** Index of the largest entry, the lower index on ties (the server's greedy rule). */
function argmax(lp: Float64Array): number {
  let best = 0;
  for (let i = 1; i < lp.length; i++) if (lp[i] > lp[best]) best = i;
  return best;
}

export class LocalScorer implements Scorer {
  readonly subject: string;
  readonly maxContextBytes: number;
  private readonly decoder: Decoder;
  private readonly rowsPerStep: number;
  private readonly sequencesPerStep: number;
  private readonly lp: Float64Array;

  constructor(model: GPT, opts: LocalScorerOptions) {
    this.subject = opts.subject;
    this.decoder = new Decoder(model, opts.kernels ?? native);
    this.maxContextBytes = model.config.ctx;
    this.rowsPerStep = opts.rowsPerStep ?? 1024;
    this.sequencesPerStep = opts.sequencesPerStep ?? 64;
    this.lp = new Float64Array(model.config.vocab);
  }

  supports(): { ok: true } {
    return { ok: true };
  }

  async loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    const results: LoglikelihoodResult[] = new Array(requests.length);
    // Requests grouped by context, in first-seen order, so each context is prefilled once.
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      if (r.context.length === 0) throw new Error('LocalScorer: a context must not be empty (the runner gives it a document boundary)');
      const g = groups.get(r.context);
      if (g) g.push(i);
      else groups.set(r.context, [i]);
    });
    let batch: [string, number[]][] = [];
    let seqs = 0;
    for (const entry of groups) {
      const size = entry[1].length + 1;
      if (batch.length > 0 && seqs + size > this.sequencesPerStep) {
        this.scoreGroups(batch, requests, results);
        batch = [];
        seqs = 0;
      }
      batch.push(entry);
      seqs += size;
    }
    if (batch.length > 0) this.scoreGroups(batch, requests, results);
    return results;
  }

  /** Prefill each group's context, then run every continuation (but its last byte) from a copy of it. */
  private scoreGroups(groups: [string, number[]][], requests: LoglikelihoodRequest[], results: LoglikelihoodResult[]): void {
    const { ctx, vocab: V } = this.decoder.config;
    const contexts = groups.map(([context]) => this.decoder.newCache());
    const ctxTokens = groups.map(([context]) => encode(context));
    const firstLp: Float64Array[] = [];
    this.stepInPieces(ctxTokens.map((tokens, i) => ({ cache: contexts[i], tokens, logits: 'last' as const })), (gi, logits) => {
      firstLp[gi] = logSoftmax(logits.subarray(0, V), new Float64Array(V));
    });
    const chunks: Chunk[] = [], owners: number[] = [], conts: Uint8Array[] = [];
    groups.forEach(([, members], gi) => {
      for (const ri of members) {
        const cont = encode(requests[ri].continuation);
        if (cont.length === 0) throw new Error('LocalScorer: a continuation must not be empty');
        if (ctxTokens[gi].length + cont.length > ctx) {
          throw new Error(`LocalScorer: ${ctxTokens[gi].length} + ${cont.length} bytes exceed the context (${ctx}); the runner cuts contexts first`);
        }
        const lp0 = firstLp[gi];
        let logprob = lp0[cont[0]], greedy = argmax(lp0) === cont[0];
        results[ri] = { logprob, greedy };
        if (cont.length === 1) continue;
        const cache = this.decoder.newCache();
        this.decoder.copyCache(contexts[gi], cache);
        chunks.push({ cache, tokens: cont.subarray(0, cont.length - 1), logits: 'all' });
        owners.push(ri);
        conts.push(cont);
      }
    });
    this.stepInPieces(chunks, (ci, logits) => {
      const cont = conts[ci], r = results[owners[ci]];
      // Row j of this chunk predicts continuation byte j + 1; the sum runs in byte order, as the
      // endpoint path adds the echoed token log-probs.
      let { logprob, greedy } = r;
      for (let j = 0; j + 1 < cont.length; j++) {
        const lp = logSoftmax(logits.subarray(j * V, (j + 1) * V), this.lp);
        logprob += lp[cont[j + 1]];
        greedy &&= argmax(lp) === cont[j + 1];
      }
      results[owners[ci]] = { logprob, greedy };
    });
    for (const ch of chunks) this.decoder.release(ch.cache);
    for (const c of contexts) this.decoder.release(c);
  }

  /**
   * Run chunks through the decoder a few at a time (bounded rows per step); `take(i, logits)`
   * receives chunk i's requested logit rows, valid only during the call.
   */
  private stepInPieces(chunks: Chunk[], take: (i: number, logits: Float32Array) => void): void {
    const V = this.decoder.config.vocab;
    let start = 0;
    while (start < chunks.length) {
      let end = start, rows = 0;
      while (end < chunks.length && (end === start || rows + chunks[end].tokens.length <= this.rowsPerStep)) rows += chunks[end++].tokens.length;
      const piece = chunks.slice(start, end);
      const out = this.decoder.step(piece);
      piece.forEach((ch, k) => {
        const n = ch.logits === 'all' ? ch.tokens.length : 1;
        take(start + k, out.logits.subarray(out.rowOf[k] * V, (out.rowOf[k] + n) * V));
      });
      start = end;
    }
  }

  async generate(requests: GenerateRequest[]): Promise<string[]> {
    const out: string[] = new Array(requests.length);
    for (let s = 0; s < requests.length; s += this.sequencesPerStep) {
      const batch = requests.slice(s, s + this.sequencesPerStep);
      this.generateBatch(batch).forEach((text, i) => (out[s + i] = text));
    }
    return out;
  }

  /** Greedy decoding of a batch, all sequences stepping together until each stops. */
  private generateBatch(requests: GenerateRequest[]): string[] {
    const { ctx, vocab: V } = this.decoder.config;
    interface Seq { cache: KVCache; bytes: number[]; text: string; done: boolean; req: GenerateRequest; next: Uint8Array }
    const seqs: Seq[] = requests.map((req) => {
      const prompt = encode(req.prompt);
      if (prompt.length === 0) throw new Error('LocalScorer: a prompt must not be empty (the runner gives it a document boundary)');
      if (prompt.length >= ctx) throw new Error(`LocalScorer: a ${prompt.length}-byte prompt leaves no room in the context (${ctx})`);
      return { cache: this.decoder.newCache(), bytes: [], text: '', done: req.maxBytes <= 0, req, next: prompt };
    });
    for (;;) {
      const live = seqs.filter((q) => !q.done);
      if (live.length === 0) break;
      const out = this.decoder.step(live.map((q) => ({ cache: q.cache, tokens: q.next, logits: 'last' as const })));
      live.forEach((q, k) => {
        const lp = logSoftmax(out.logits.subarray(out.rowOf[k] * V, (out.rowOf[k] + 1) * V), this.lp);
        const token = argmax(lp);
        q.bytes.push(token);
        q.text = decode(q.bytes);
        const cut = firstStop(q.text, q.req.stop);
        if (cut >= 0) {
          q.text = q.text.slice(0, cut);
          q.done = true;
        } else if (q.bytes.length >= q.req.maxBytes || q.cache.length >= ctx) {
          q.done = true;
        }
        q.next = Uint8Array.of(token);
      });
    }
    for (const q of seqs) this.decoder.release(q.cache);
    return seqs.map((q) => q.text);
  }
}

/** Where the earliest stop string starts in `text`, or -1. */
export function firstStop(text: string, stops: readonly string[]): number {
  let cut = -1;
  for (const s of stops) {
    if (s.length === 0) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut;
}
