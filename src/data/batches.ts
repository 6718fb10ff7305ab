// Training batches: windows of the token stream at random offsets. Random offsets (rather than
// a sequential pass) decorrelate consecutive steps and make "epoch" meaningless for the small
// corpora and short runs this tool trains, so the only state is an RNG and a counter.
//
// The sampler owns its Rng, separate from model initialisation and dropout, so its state can
// be checkpointed and restored alone, and changing the model never changes the data order.
import { UsageError } from '../errors.js';
import { Rng, type RngState } from '../engine/random.js';

export interface SamplerOptions {
  /** Rows per batch. */
  batch: number;
  /** Tokens per row (the model's context length). */
  ctx: number;
  /** Seed of the sampler's Rng (ignored by restore, which takes the state's Rng). */
  seed?: number;
}

/** Everything needed to continue the batch sequence; plain JSON for checkpoint metadata. */
export interface SamplerState {
  /** The Rng's four state words. */
  rng: RngState;
  /** Batches drawn so far (including skipped ones). */
  batches: number;
  /** The shape and stream length it was drawing from, checked on restore: a resumed run over a
   *  different split or shape would not draw the same batches. */
  batch: number;
  ctx: number;
  tokens: number;
}

export interface Batch {
  /** batch × ctx token ids, row-major. */
  ids: Int32Array;
  /** The ids shifted by one: targets[r·ctx + t] is the token after ids[r·ctx + t]. */
  targets: Int32Array;
}

export class BatchSampler {
  readonly batch: number;
  readonly ctx: number;
  private rng: Rng;
  private drawn = 0;
  private readonly ids: Int32Array;
  private readonly targets: Int32Array;
  /** Number of valid offsets: a row starts anywhere in [0, tokens.length − ctx − 1]. */
  private readonly offsets: number;

  constructor(readonly tokens: Uint8Array, opts: SamplerOptions) {
    checkShape(tokens, opts.batch, opts.ctx);
    this.batch = opts.batch;
    this.ctx = opts.ctx;
    this.offsets = tokens.length - opts.ctx;
    this.rng = new Rng(opts.seed ?? 0);
    this.ids = new Int32Array(opts.batch * opts.ctx);
    this.targets = new Int32Array(opts.batch * opts.ctx);
  }

  /** A sampler that continues exactly where the one that produced `state` was. */
  static restore(tokens: Uint8Array, opts: SamplerOptions, state: SamplerState): BatchSampler {
    if (!isState(state)) throw new UsageError('the checkpoint\'s data sampler state is malformed; start the run afresh or use another checkpoint');
    if (state.batch !== opts.batch || state.ctx !== opts.ctx || state.tokens !== tokens.length) {
      throw new UsageError(`cannot resume: the checkpoint drew batches of ${state.batch}×${state.ctx} from ${state.tokens} training bytes, `
        + `this run asks for ${opts.batch}×${opts.ctx} from ${tokens.length}; resume with the same --batch, --ctx, corpus and split`);
    }
    const s = new BatchSampler(tokens, opts);
    s.rng = new Rng([...state.rng] as RngState);
    s.drawn = state.batches;
    return s;
  }

  /** The next batch. The arrays are this sampler's own and are overwritten by the next call:
   *  use them (or copy them) before calling next() again. Reusing them keeps a training loop
   *  free of per-step allocation. */
  next(): Batch {
    const { tokens, ctx, ids, targets } = this;
    for (let r = 0; r < this.batch; r++) {
      const o = this.rng.int(this.offsets);
      ids.set(tokens.subarray(o, o + ctx), r * ctx);
      targets.set(tokens.subarray(o + 1, o + ctx + 1), r * ctx);
    }
    this.drawn++;
    return { ids, targets };
  }

  /** Draw and discard n batches (the loss-spike guard skips the data that caused a spike).
   *  Advances the Rng exactly as n calls to next() would, without copying tokens. */
  skip(n: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`BatchSampler.skip: n must be a non-negative integer, got ${n}`);
    for (let k = 0; k < n * this.batch; k++) this.rng.int(this.offsets);
    this.drawn += n;
  }

  /** Batches drawn (or skipped) so far. */
  get batchesDrawn(): number {
    return this.drawn;
  }

  state(): SamplerState {
    return { rng: this.rng.state(), batches: this.drawn, batch: this.batch, ctx: this.ctx, tokens: this.tokens.length };
  }
}

export interface EvalBatch extends Batch {
  /** Rows in this batch: `batch` except possibly in the last one. ids.length = rows × ctx. */
  rows: number;
}

/**
 * Validation batches: non-overlapping windows of the stream, window k covering ids
 * [k·ctx, (k+1)·ctx) and so every target once. The same stream always gives the same batches,
 * so validation losses are comparable across steps and runs; compute them once and reuse them.
 * The stream's last (length − 1) mod ctx targets, less than one window, are not evaluated.
 * With maxTokens, at most floor(maxTokens / ctx) windows (at least one) are taken, spread evenly
 * over the stream rather than from its start, so a capped evaluation still sees every part of
 * the validation documents. The last batch may have fewer rows: weight each batch's mean loss by
 * its rows. Memory: 8 bytes per evaluated token.
 */
export function evalBatches(tokens: Uint8Array, batch: number, ctx: number, maxTokens?: number): EvalBatch[] {
  checkShape(tokens, batch, ctx);
  const available = Math.floor((tokens.length - 1) / ctx);
  let count = available;
  if (maxTokens !== undefined) {
    if (!(maxTokens > 0)) throw new UsageError(`the evaluation token budget must be positive, got ${maxTokens}`);
    count = Math.min(available, Math.max(1, Math.floor(maxTokens / ctx)));
  }
  const out: EvalBatch[] = [];
  for (let first = 0; first < count; first += batch) {
    const rows = Math.min(batch, count - first);
    const ids = new Int32Array(rows * ctx);
    const targets = new Int32Array(rows * ctx);
    for (let r = 0; r < rows; r++) {
      // Window index spread over [0, available); equal to first + r when not capped.
      const w = Math.floor(((first + r) * available) / count);
      const o = w * ctx;
      ids.set(tokens.subarray(o, o + ctx), r * ctx);
      targets.set(tokens.subarray(o + 1, o + ctx + 1), r * ctx);
    }
    out.push({ ids, targets, rows });
  }
  return out;
}

function checkShape(tokens: Uint8Array, batch: number, ctx: number): void {
  if (!(Number.isInteger(batch) && batch >= 1)) throw new UsageError(`batch size must be a positive integer, got ${batch}`);
  if (!(Number.isInteger(ctx) && ctx >= 1)) throw new UsageError(`context length must be a positive integer, got ${ctx}`);
  if (tokens.length < ctx + 1) {
    throw new UsageError(`context length ${ctx} is longer than the corpus split (${tokens.length} bytes); use a smaller --ctx or a bigger corpus`);
  }
}

function isState(s: unknown): s is SamplerState {
  const x = s as SamplerState;
  return typeof x === 'object' && x !== null && Array.isArray(x.rng) && x.rng.length === 4
    && x.rng.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
    && [x.batches, x.batch, x.ctx, x.tokens].every((v) => Number.isInteger(v) && v >= 0);
}
