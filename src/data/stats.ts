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
