// From a model's logits to the integer frequencies the range coder codes with: the fixed rule
// both sides apply, so it must give the same integers on every machine.
//
// Rule (version 1), for the float32 logits ℓ of the 256 byte values:
//   m   = max ℓ (NaN entries ignored)
//   e_i = exp(ℓ_i − m), by `exp64` below (0 when ℓ_i is NaN or ℓ_i − m < −745)
//   S   = Σ e_i, summed in byte order
//   f_i = 1 + ⌊e_i / S · (2^16 − 256)⌋
// so every byte has a frequency of at least 1 (the floor: any byte stays codable, at ≤ 16 bits,
// however sure the model is), the total Σ f_i is at most 2^16, and the quantisation costs about
// nothing next to the model's own loss. Should S be 0 or not finite (a broken model), every
// byte gets frequency 1.
//
// Determinism: everything is IEEE double arithmetic on the logits' exact float32 values, which
// JavaScript evaluates without fusing or reordering; exp64 is written here from +, −, ×, ÷ and
// Math.round/Math.floor only, rather than Math.exp, whose last bit is the engine's business.
import { MAX_TOTAL } from './range-coder.js';

export const SYMBOLS = 256;
const SPREAD = MAX_TOTAL - SYMBOLS;
export const FREQUENCY_RULE = 'softmax-floor1-2^16-v1';

const LN2_HI = 6.93147180369123816490e-1; // ln 2, upper bits: k·LN2_HI is exact for |k| < 2^20
const LN2_LO = 1.90821492927058770002e-10;
const LOG2E = 1.4426950408889634;
/** 2^-k for k = 0 … 1100, each exact (halving is exact down to the subnormals). */
const POW2_NEG = (() => {
  const t = new Float64Array(1101);
  t[0] = 1;
  for (let k = 1; k < t.length; k++) t[k] = t[k - 1] / 2;
  return t;
})();
/** 1/n! for the Taylor series of e^r, |r| ≤ ln2/2: degree 13 is below a double's rounding. */
const INV_FACT = (() => {
  const t = new Float64Array(14);
  t[0] = 1;
  for (let n = 1; n <= 13; n++) t[n] = t[n - 1] / n;
  return t;
})();

/** e^x for x ≤ 0 (the only arguments the rule has), to about 1 ulp, the same bits everywhere. */
export function exp64(x: number): number {
  if (!(x > -745)) return 0;
  if (x > 0) x = 0;
  const k = Math.round(x * LOG2E); // −1075 … 0
  const r = (x - k * LN2_HI) - k * LN2_LO;
  const f = INV_FACT;
  const p = ((((((((((((f[13] * r + f[12]) * r + f[11]) * r + f[10]) * r + f[9]) * r + f[8]) * r + f[7]) * r + f[6]) * r
    + f[5]) * r + f[4]) * r + f[3]) * r + f[2]) * r + f[1]) * r + f[0];
  return p * POW2_NEG[-k];
}

/**
 * The model's probabilities of one row of logits (logits[off … off+256)) into p[0 … 256), by the
 * rule above (e_i / S); false, with p untouched, when S is 0 or not finite (a broken model).
 * With a `cutoff` c, e_i is 0 wherever ℓ_i − m < −c, without computing it: the context mixer
 * reads the probabilities at 12 bits, where e^−c for c = 24 (under 4·10^−11) is nothing, and most
 * of a confident model's 256 logits lie that far below its best.
 */
export function probabilities(logits: ArrayLike<number>, off: number, p: Float64Array, cutoff = Infinity): boolean {
  let m = -Infinity;
  for (let i = 0; i < SYMBOLS; i++) {
    const l = logits[off + i];
    if (l > m) m = l;
  }
  let s = 0;
  for (let i = 0; i < SYMBOLS; i++) {
    const x = logits[off + i] - m;
    const v = x < -cutoff ? 0 : exp64(x);
    p[i] = v;
    s += v;
  }
  if (!(s > 0) || !Number.isFinite(s)) return false;
  for (let i = 0; i < SYMBOLS; i++) p[i] = p[i] / s;
  return true;
}

/** Cumulative frequencies of probabilities p into cum[0 … 256]: f_i = 1 + ⌊p_i · (2^16 − 256)⌋. */
function frequenciesOf(p: Float64Array, cum: Uint32Array): void {
  cum[0] = 0;
  for (let i = 0; i < SYMBOLS; i++) cum[i + 1] = cum[i] + 1 + Math.floor(p[i] * SPREAD);
}

/** Every byte frequency 1: what a broken model's row codes with. */
function uniformFrequencies(cum: Uint32Array): void {
  for (let i = 0; i <= SYMBOLS; i++) cum[i] = i;
}

/**
 * Write the cumulative frequencies of one row of logits (logits[off … off+256)) into
 * cum[0 … 256]: byte b codes as [cum[b], cum[b+1]) out of cum[256]. `e` is scratch of 256.
 */
export function cumulativeFrequencies(logits: ArrayLike<number>, off: number, cum: Uint32Array, e: Float64Array): void {
  if (probabilities(logits, off, e)) frequenciesOf(e, cum);
  else uniformFrequencies(cum);
}

/** The byte whose range [cum[b], cum[b+1]) holds v (v < cum[256]). */
export function findSymbol(cum: Uint32Array, v: number): number {
  let lo = 0, hi = SYMBOLS - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cum[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
