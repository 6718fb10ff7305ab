// The byte tokenizer: a token is one byte of UTF-8, so the vocabulary is exactly 256 and needs
// no training, no merges file and no unknown token. Models see text as it is stored.

/** Vocabulary size of the byte tokenizer. */
export const VOCAB = 256;

const encoder = new TextEncoder();
// Not fatal: a sampled byte sequence can stop in the middle of a character or contain byte
// combinations that are not UTF-8 at all. Decoding shows those as U+FFFD instead of throwing.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Text to tokens: its UTF-8 bytes. */
export function encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Tokens to text. Accepts any array of token ids (Int32Array from a model, plain arrays); ids
 *  are taken modulo 256. Invalid or incomplete sequences become U+FFFD; it never throws. */
export function decode(bytes: ArrayLike<number>): string {
  const u8 = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes as ArrayLike<number>, (x) => x & 0xff);
  return decoder.decode(u8);
}

/** Incremental decoding for token-by-token generation: a character split over several tokens
 *  is printed once it is complete, rather than as U+FFFD pieces. */
export class StreamDecoder {
  private d = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** Text completed by these tokens (possibly ''). */
  push(tokens: ArrayLike<number> | number): string {
    const arr = typeof tokens === 'number' ? [tokens] : tokens;
    const u8 = arr instanceof Uint8Array ? arr : Uint8Array.from(arr as ArrayLike<number>, (x) => x & 0xff);
    return this.d.decode(u8, { stream: true });
  }

  /** Whatever is left, an incomplete trailing character as U+FFFD; the decoder can be reused. */
  end(): string {
    return this.d.decode();
  }
}
