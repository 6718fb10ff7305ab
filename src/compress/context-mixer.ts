// The language model mixed with context models of the bytes coded so far, bit by bit, in the
// manner of Mahoney's PAQ and lpaq: the model knows English from its training corpus but not
// this file, its names and repeated phrases, nor anything beyond its context window; context
// models learn exactly those while coding, from nothing, identically on both sides.
//
// Each byte is coded as 8 binary decisions, most significant bit first. For each, every input
// gives a probability that the bit is 1, in the logistic domain (logistic.ts):
//   - the language model: the share of its byte distribution in the upper half of the bytes
//     still possible (exact: the 8 bit probabilities multiply back to the byte's);
//   - order-k context models, k = 0 and 2 … 8 (order 1 adds nothing the language model lacks):
//     an adaptive probability for each (last k bytes, bits of this byte so far), hashed in
//     buckets of 16 (one per context and high nibble, so a byte touches two cache lines per
//     order), moving toward each coded bit at a rate 1/(n + 1.5) that slows as the context is
//     seen n times (up to a limit, to keep adapting);
//   - two word models: the letters of the current word, alone and with the word before.
// Two gated linear mixers (one layer each; weights chosen by the bit's position and how sure the
// language model is, and by the bits so far) combine them, trained online on each bit's coding
// loss, and two secondary-estimation tables (Apm) refine their average. Both mixers start from
// the language model alone, so a file with nothing to learn loses almost nothing. The mixers'
// learning rate is what mattered most: lpaq's, 6, left the mixture barely better than the model;
// about 0.35 took an early checkpoint from 2.67 to 2.38 bits per byte on Brown's held-out text.
//
// Segments are coded interleaved (compressor.ts), so each keeps its own last bytes and words;
// the tables and the mixer are shared, learning from every segment.
//
// Determinism: after the tables built from exp64 (logistic.ts) and the language model's float64
// probabilities (frequencies.ts), everything is integer arithmetic in doubles, in a fixed order.
import type { RangeDecoder, RangeEncoder } from './range-coder.js';
import { squash, stretch } from './logistic.js';

const SYMBOLS = 256;
/** Orders of the hashed context models (order 0 is a direct table). */
const ORDERS = [2, 3, 4, 5, 6, 7, 8];
/** Hashed inputs: the orders and two word models. */
const HASHED = ORDERS.length + 2;
/** Inputs: bias, language model, order 0, the hashed ones. */
const INPUTS = 3 + HASHED;
const BIAS = 256;
/** Counter: probability in the top 22 bits, times seen in the low 10; the rate stops slowing at this count. */
const COUNT_LIMIT = 255;
const RATE = (() => {
  const t = new Float64Array(1024);
  for (let n = 0; n < 1024; n++) t[n] = Math.floor(65536 / (n + 1.5));
  return t;
})();
const HALF = (2 ** 21) * 1024;
/** Mixer learning rate, per 4096 of a bit's error: small, the inputs are many and correlated. */
const LEARNING = 0.35;
/** Weight sets of the two mixers: by bit position × how sure the language model is, and by the bits so far. */
const SETS_A = 8 * 8;
const SETS_B = 256;

/** Counters per hashed input: about 16 per input byte (two nibbles' buckets), within [2^12, 2^22]. */
function tableBits(length: number): number {
  let b = 12;
  while (b < 22 && 2 ** b < 16 * length) b++;
  return b;
}

/** One segment's context: its last 8 bytes (newest lowest) and its current and previous word. */
export class SegmentContext {
  lo: number;
  hi: number;
  word = 0;
  lastWord = 0;
  constructor(prefix: number) {
    this.lo = this.hi = (prefix * 0x01010101) >>> 0;
  }
  push(b: number): void {
    this.hi = ((this.hi << 8) | (this.lo >>> 24)) >>> 0;
    this.lo = ((this.lo << 8) | b) >>> 0;
    const lower = b >= 65 && b <= 90 ? b + 32 : b;
    if ((lower >= 97 && lower <= 122) || b >= 128) this.word = Math.imul(this.word ^ lower, 0x01000193) >>> 0 || 1;
    else if (this.word !== 0) {
      this.lastWord = this.word;
      this.word = 0;
    }
  }
}

/**
 * Secondary estimation (an adaptive probability map, lpaq's APM): the mixer's probability is
 * refined by a table, per small context, of what a bit with that stretched probability turned
 * out to be, interpolated between 33 bins and learned at a fixed rate.
 */
class Apm {
  private readonly t: Uint16Array;
  private at = 0;
  private w = 0;
  constructor(contexts: number, private readonly rate: number) {
    this.t = new Uint16Array(contexts * 33);
    for (let c = 0; c < contexts; c++) for (let j = 0; j < 33; j++) this.t[c * 33 + j] = squash((j - 16) * 128) * 16;
  }
  refine(p: number, cx: number): number {
    const s = stretch(p) + 2048, lo = s >> 7;
    this.w = s & 127;
    this.at = cx * 33 + lo;
    return (this.t[this.at] * (128 - this.w) + this.t[this.at + 1] * this.w) >> 11;
  }
  update(bit: number): void {
    const g = (bit << 16) + (bit << this.rate) - bit - bit;
    const t = this.t, i = this.at + (this.w >> 6);
    t[i] += (g - t[i]) >> this.rate;
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

export class ContextMixer {
  private readonly buckets: number;
  private readonly order0 = new Uint32Array(SYMBOLS).fill(HALF);
  /** Per hashed input: counters in buckets of 16, one bucket per (context, high nibble so far). */
  private readonly tables: Uint32Array[] = [];
  /** A byte of each bucket's context hash: a bucket another context claims is reset, not shared. */
  private readonly checks: Uint8Array[] = [];
  private readonly weightsA = new Float64Array(SETS_A * INPUTS);
  private readonly weightsB = new Float64Array(SETS_B * INPUTS);
  private readonly apm0 = new Apm(256, 7);
  private readonly apm1 = new Apm(1 << 16, 7);
  /** Per byte: each hashed input's context hash; per nibble: its bucket; per bit: the counter. */
  private readonly base = new Uint32Array(HASHED);
  private readonly bucket = new Int32Array(HASHED);
  private readonly slot = new Int32Array(HASHED);
  /** The inputs of the bit being coded, in the stretched domain. */
  private readonly x = new Float64Array(INPUTS);
  /** The language model's cumulative probabilities for the byte being coded. */
  private readonly cum = new Float64Array(SYMBOLS + 1);
  private c1 = 0;
  private setA = 0;
  private setB = 0;
  private pA = 2048;
  private pB = 2048;

  constructor(length: number) {
    const bits = tableBits(length);
    this.buckets = 2 ** (bits - 4);
    for (let i = 0; i < HASHED; i++) {
      this.tables.push(new Uint32Array(2 ** bits).fill(HALF));
      this.checks.push(new Uint8Array(this.buckets));
    }
    // Both mixers start from the language model alone.
    for (let s = 0; s < SETS_A; s++) this.weightsA[s * INPUTS + 1] = 65536;
    for (let s = 0; s < SETS_B; s++) this.weightsB[s * INPUTS + 1] = 65536;
  }

  /** Hash every context of the byte to come. */
  private start(c: SegmentContext, p: Float64Array): void {
    const cum = this.cum;
    cum[0] = 0;
    for (let y = 0; y < SYMBOLS; y++) cum[y + 1] = cum[y] + p[y];
    for (let k = 0; k < ORDERS.length; k++) {
      const o = ORDERS[k];
      const a = o >= 4 ? c.lo : c.lo & (2 ** (8 * o) - 1);
      const b = o <= 4 ? 0 : c.hi & (2 ** (8 * (o - 4)) - 1);
      this.base[k] = mix32(mix32(a + o) ^ b);
    }
    this.base[ORDERS.length] = mix32(c.word + 0x5bd1e995);
    this.base[ORDERS.length + 1] = mix32(mix32(c.word + 0x1b873593) ^ c.lastWord);
    this.c1 = c.lo & 0xff;
  }

  /** At a nibble's start, find each input's bucket for (context, bits so far), resetting claimed ones. */
  private locate(c0: number): void {
    for (let i = 0; i < HASHED; i++) {
      const h = mix32(this.base[i] ^ Math.imul(c0, 0x9e3779b1)), b = h & (this.buckets - 1), check = (h >>> 24) | 1;
      if (this.checks[i][b] !== check) {
        this.checks[i][b] = check;
        this.tables[i].fill(HALF, b * 16, b * 16 + 16);
      }
      this.bucket[i] = b * 16;
    }
  }

  /** P(next bit = 1) in 12 bits, for the bits c0 (a leading 1, then the bits so far) at position k. */
  private predict(c0: number, k: number): number {
    const x = this.x;
    // The language model's share of the upper half of the bytes still possible.
    const size = 256 >> k, lo = (c0 - (1 << k)) * size, mid = lo + size / 2;
    const all = this.cum[lo + size] - this.cum[lo];
    const p1 = all > 0 ? (this.cum[lo + size] - this.cum[mid]) / all : 0.5;
    const lm = stretch(Math.min(4095, Math.max(1, Math.round(p1 * 4096))));
    x[0] = BIAS;
    x[1] = lm;
    x[2] = stretch(this.order0[c0] >>> 20);
    if (k === 0 || k === 4) this.locate(c0);
    // The bits of this nibble so far, after a leading 1: 1 … 15, the counter within the bucket.
    const j = k < 4 ? c0 : (c0 & ((1 << (k - 4)) - 1)) | (1 << (k - 4));
    for (let i = 0; i < HASHED; i++) {
      const s = this.bucket[i] + j;
      this.slot[i] = s;
      x[3 + i] = stretch(this.tables[i][s] >>> 20);
    }
    const sure = Math.min(7, Math.abs(lm) >> 8);
    const a = (this.setA = (k * 8 + sure) * INPUTS), b = (this.setB = c0 * INPUTS);
    let dotA = 0, dotB = 0;
    for (let i = 0; i < INPUTS; i++) {
      dotA += x[i] * this.weightsA[a + i];
      dotB += x[i] * this.weightsB[b + i];
    }
    this.pA = squash(Math.trunc(dotA / 65536));
    this.pB = squash(Math.trunc(dotB / 65536));
    const p = squash(Math.trunc((dotA + dotB) / 131072));
    const r0 = this.apm0.refine(p, c0), r1 = this.apm1.refine(p, c0 | (this.c1 << 8));
    return Math.min(4095, Math.max(1, (2 * p + r0 + r1 + 2) >> 2));
  }

  private learn(c0: number, bit: number): void {
    this.apm0.update(bit);
    this.apm1.update(bit);
    const x = this.x;
    const eA = ((bit << 12) - this.pA) * LEARNING, wA = this.weightsA, a = this.setA;
    const eB = ((bit << 12) - this.pB) * LEARNING, wB = this.weightsB, b = this.setB;
    for (let i = 0; i < INPUTS; i++) {
      wA[a + i] += Math.trunc((x[i] * eA) / 1024);
      wB[b + i] += Math.trunc((x[i] * eB) / 1024);
    }
    this.order0[c0] = adapt(this.order0[c0], bit);
    for (let i = 0; i < HASHED; i++) this.tables[i][this.slot[i]] = adapt(this.tables[i][this.slot[i]], bit);
  }

  /** Code byte b of the segment with context c, given the language model's probabilities p. */
  encode(enc: RangeEncoder, c: SegmentContext, p: Float64Array, b: number): void {
    this.start(c, p);
    let c0 = 1;
    for (let k = 0; k < 8; k++) {
      const bit = (b >> (7 - k)) & 1;
      const q = this.predict(c0, k);
      if (bit) enc.encode(0, q, 4096);
      else enc.encode(q, 4096 - q, 4096);
      this.learn(c0, bit);
      c0 = (c0 << 1) | bit;
    }
    c.push(b);
  }

  /** Decode the next byte of the segment with context c. */
  decode(dec: RangeDecoder, c: SegmentContext, p: Float64Array): number {
    this.start(c, p);
    let c0 = 1;
    for (let k = 0; k < 8; k++) {
      const q = this.predict(c0, k);
      const bit = dec.target(4096) < q ? 1 : 0;
      if (bit) dec.consume(0, q, 4096);
      else dec.consume(q, 4096 - q, 4096);
      this.learn(c0, bit);
      c0 = (c0 << 1) | bit;
    }
    const b = c0 & 0xff;
    c.push(b);
    return b;
  }
}

/** A counter moved toward the coded bit, faster while it has seen little. */
function adapt(v: number, bit: number): number {
  const n = v & 1023, p = v >>> 10;
  const np = p + Math.trunc((((bit ? 4194303 : 0) - p) * RATE[n]) / 65536);
  return np * 1024 + (n < COUNT_LIMIT ? n + 1 : n);
}
