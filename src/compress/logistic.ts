// The logistic domain the context mixer works in, on integers as in Mahoney's lpaq: a bit's
// probability is 12 bits (1 … 4095 of 4096), its "stretch" ln(p / (1 − p)) is scaled by 256 and
// kept within ±2047, and "squash" maps back. Both are tables built once from exp64, so every
// machine has the same ones, and after that all arithmetic is on integers.
import { exp64 } from './frequencies.js';

/** 4096 / (1 + e^−x) at x = −8, −7.5, … 8, rounded: squash's knots. */
const KNOTS = (() => {
  const t = new Int32Array(33);
  for (let i = 0; i <= 32; i++) {
    const x = (i - 16) / 2;
    const p = x >= 0 ? 1 / (1 + exp64(-x)) : exp64(x) / (1 + exp64(x));
    t[i] = Math.min(4095, Math.max(1, Math.round(4096 * p)));
  }
  return t;
})();

/** 4096 / (1 + e^(−d/256)) for d in ±2047, by linear interpolation between the knots. */
export function squash(d: number): number {
  if (d > 2047) return 4095;
  if (d < -2047) return 1;
  const w = d & 127, i = (d >> 7) + 16;
  return (KNOTS[i] * (128 - w) + KNOTS[i + 1] * w + 64) >> 7;
}

/** stretch(p) = the d whose squash is nearest p from below: squash's inverse, for p in 0 … 4095. */
const STRETCH = (() => {
  const t = new Int16Array(4096);
  let pi = 0;
  for (let d = -2047; d <= 2047; d++) {
    const v = squash(d);
    for (let p = pi; p <= v; p++) t[p] = d;
    pi = v + 1;
  }
  for (let p = pi; p < 4096; p++) t[p] = 2047;
  return t;
})();

export function stretch(p: number): number {
  return STRETCH[p];
}
