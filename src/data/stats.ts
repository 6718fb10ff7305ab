// Reference numbers for losses. A byte model's loss is reported in bits per byte so it can be
// compared with the entropy of the byte unigram distribution: a model that predicts only byte
// frequencies, ignoring context, scores exactly that, so a trained model must beat it.

/** Entropy of the bytes' frequency distribution, in bits per byte (0 for an empty stream). */
export function unigramEntropyBits(tokens: Uint8Array): number {
  const counts = new Float64Array(256);
  for (let i = 0; i < tokens.length; i++) counts[tokens[i]]++;
  const n = tokens.length;
  let h = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b];
    if (c > 0) h -= (c / n) * Math.log2(c / n);
  }
  return h === 0 ? 0 : h; // no "-0" for a constant stream
}

/** A cross-entropy in nats per token as bits per byte (tokens are bytes). */
export function bitsPerByte(nats: number): number {
  return nats / Math.LN2;
}

/**
 * How unlike `reference` the bytes of `sample` are: KL(sample ‖ reference) in bits per byte, the
 * extra bits a byte-frequency model fitted to the reference spends on the sample compared with one
 * fitted to the sample itself. It is in the unit every loss here is read in, so it can be set
 * beside a validation gap: a trained model pays at least this much of it for the mismatch alone
 * at the level of single bytes. The reference's counts get ½ added to each of the 256 bytes
 * (the Krichevsky–Trofimov estimator), so a byte the reference never shows costs a finite amount.
 * The estimate is biased up by about (distinct bytes − 1) / (2·n·ln 2) for a sample of n bytes
 * (Miller–Madow); that correction is subtracted, so equal distributions read near 0.
 */
export function unigramDivergenceBits(sample: Uint8Array, reference: Uint8Array): number {
  const p = new Float64Array(256), q = new Float64Array(256);
  for (let i = 0; i < sample.length; i++) p[sample[i]]++;
  for (let i = 0; i < reference.length; i++) q[reference[i]]++;
  const n = sample.length, m = reference.length + 128;
  if (n === 0) return 0;
  let kl = 0, distinct = 0;
  for (let b = 0; b < 256; b++) {
    if (p[b] === 0) continue;
    distinct++;
    kl += (p[b] / n) * Math.log2((p[b] / n) / ((q[b] + 0.5) / m));
  }
  return Math.max(0, kl - (distinct - 1) / (2 * n * Math.LN2));
}
