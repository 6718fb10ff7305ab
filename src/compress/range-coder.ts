// A range coder (the 32-bit carry-propagating design of LZMA's rc, Subbotin / Schindler lineage)
// over integer frequency tables: a symbol with frequency f out of a total T narrows the range to
// f/T of itself, so its code costs log2(T/f) bits plus a constant of at most 4 bytes per stream.
//
// State: low (up to 33 bits: the 33rd is a pending carry), range (32 bits, at least 2^24 after
// normalising), and one cached output byte plus a count of 0xFF bytes behind it that a carry may
// still turn into 0x00. Totals up to 2^16 keep range/total at 2^8 or more, so every frequency
// of at least 1 keeps a non-empty range. All arithmetic is on integers below 2^53, exact in
// JavaScript doubles.
const TOP = 2 ** 24;
const RANGE_MAX = 2 ** 32 - 1;
/** The largest total a frequency table may have. */
export const MAX_TOTAL = 2 ** 16;

export class RangeEncoder {
  private low = 0;
  private range = RANGE_MAX;
  private cache = 0;
  private cacheSize = 1;
  private out: Uint8Array = new Uint8Array(1 << 16);
  private n = 0;
  /** LZMA's first output byte is always the initial cache (0): dropped, and assumed by the decoder. */
  private first = true;

  private put(b: number): void {
    if (this.first) {
      this.first = false;
      return;
    }
    if (this.n === this.out.length) {
      const bigger = new Uint8Array(this.out.length * 2);
      bigger.set(this.out);
      this.out = bigger;
    }
    this.out[this.n++] = b;
  }

  private shiftLow(): void {
    const low = this.low;
    if (low < 0xff000000 || low >= 2 ** 32) {
      const carry = low >= 2 ** 32 ? 1 : 0;
      let temp = this.cache;
      do {
        this.put((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (low % TOP) * 256;
  }

  /** Code the symbol whose cumulative frequency is [cum, cum + freq) out of total. */
  encode(cum: number, freq: number, total: number): void {
    const r = Math.floor(this.range / total);
    this.low += r * cum;
    this.range = r * freq;
    while (this.range < TOP) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  /** Flush and return the stream. */
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.out.slice(0, this.n);
  }
}

/** Thrown when a stream cannot have come from RangeEncoder (the caller says which file). */
export class CorruptStreamError extends Error {}

export class RangeDecoder {
  private range = RANGE_MAX;
  private code = 0;
  private pos = 0;
  /** Bytes read past the end (as zeros): a few are normal at the very end of a stream. */
  private over = 0;

  constructor(private readonly data: Uint8Array) {
    // The encoder's dropped first byte was 0; four more bytes fill the 32-bit code.
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.next();
  }

  private next(): number {
    if (this.pos < this.data.length) return this.data[this.pos++];
    if (++this.over > 4) throw new CorruptStreamError('the coded stream ends early');
    return 0;
  }

  /** The stream position within [0, total): find the symbol whose range holds it, then call `consume`. */
  target(total: number): number {
    const r = Math.floor(this.range / total);
    const v = Math.floor(this.code / r);
    if (v >= total) throw new CorruptStreamError('the coded stream holds an impossible symbol');
    return v;
  }

  /** Remove the symbol [cum, cum + freq) of total from the stream (after `target`). */
  consume(cum: number, freq: number, total: number): void {
    const r = Math.floor(this.range / total);
    this.code -= r * cum;
    this.range = r * freq;
    while (this.range < TOP) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
  }

  /** Bytes of the stream not read (a whole stream decoded leaves none). */
  get unread(): number {
    return this.data.length - this.pos;
  }
}
