// How each byte is coded from the language model's row of logits: by the model alone (one
// frequency table per byte, frequencies.ts), or, the default, by the model mixed with context
// models of the bytes coded so far (context-mixer.ts). Both sides call it in the coded order,
// byte after byte, so its state (the context models, the mixer, each segment's last bytes)
// evolves the same on both.
import { ContextMixer, SegmentContext } from './context-mixer.js';
import { cumulativeFrequencies, findSymbol, probabilities, SYMBOLS } from './frequencies.js';
import type { RangeDecoder, RangeEncoder } from './range-coder.js';

/** The context mixer this scalelab writes, as named in a file's coding parameters. */
export const CONTEXT_MIXER = 'lm-cut24+orders0,2-8+words-bitwise-v1';
/** Logits this far below a row's best count as probability 0 for the mixer (frequencies.ts). */
const CUTOFF = 24;

export interface Predictor {
  /** Code byte b, segment s's next, given the model's logits row at off. */
  encode(enc: RangeEncoder, logits: ArrayLike<number>, off: number, s: number, b: number): void;
  /** Decode segment s's next byte. */
  decode(dec: RangeDecoder, logits: ArrayLike<number>, off: number, s: number): number;
  /** Segment s is done. */
  forget(s: number): void;
}

/** The language model alone: each row's frequencies by the fixed rule. */
class ModelOnly implements Predictor {
  private readonly p = new Float64Array(SYMBOLS);
  private readonly cum = new Uint32Array(SYMBOLS + 1);

  private table(logits: ArrayLike<number>, off: number): Uint32Array {
    cumulativeFrequencies(logits, off, this.cum, this.p);
    return this.cum;
  }

  encode(enc: RangeEncoder, logits: ArrayLike<number>, off: number, _s: number, b: number): void {
    const cum = this.table(logits, off);
    enc.encode(cum[b], cum[b + 1] - cum[b], cum[SYMBOLS]);
  }

  decode(dec: RangeDecoder, logits: ArrayLike<number>, off: number): number {
    const cum = this.table(logits, off), total = cum[SYMBOLS];
    const b = findSymbol(cum, dec.target(total));
    dec.consume(cum[b], cum[b + 1] - cum[b], total);
    return b;
  }

  forget(): void {}
}

/** The language model mixed with context models. */
class Mixed implements Predictor {
  private readonly mixer: ContextMixer;
  private readonly segments = new Map<number, SegmentContext>();
  private readonly p = new Float64Array(SYMBOLS);

  constructor(length: number, private readonly prefix: number) {
    this.mixer = new ContextMixer(length);
  }

  private context(s: number): SegmentContext {
    let c = this.segments.get(s);
    if (!c) this.segments.set(s, (c = new SegmentContext(this.prefix)));
    return c;
  }

  /** The model's probabilities; a broken model's row (none finite) counts as uniform, as it does alone. */
  private probabilities(logits: ArrayLike<number>, off: number): Float64Array {
    if (!probabilities(logits, off, this.p, CUTOFF)) this.p.fill(1 / SYMBOLS);
    return this.p;
  }

  encode(enc: RangeEncoder, logits: ArrayLike<number>, off: number, s: number, b: number): void {
    this.mixer.encode(enc, this.context(s), this.probabilities(logits, off), b);
  }

  decode(dec: RangeDecoder, logits: ArrayLike<number>, off: number, s: number): number {
    return this.mixer.decode(dec, this.context(s), this.probabilities(logits, off));
  }

  forget(s: number): void {
    this.segments.delete(s);
  }
}

/** The predictor a file's coding parameters name (`mixer` absent: the language model alone). */
export function predictorFor(mixer: string | undefined, length: number, prefix: number): Predictor {
  if (mixer === undefined) return new ModelOnly();
  if (mixer === CONTEXT_MIXER) return new Mixed(length, prefix);
  throw new RangeError(`unknown context mixer '${mixer}' (this scalelab has ${CONTEXT_MIXER})`);
}
