// Cutting a prompt to a model's context, the same way for every scorer.
import { encode } from '../data/tokenizer.js';

/**
 * The longest tail of `text` that is at most `maxBytes` UTF-8 bytes, cut on a character boundary
 * (a cut inside a character would send invalid UTF-8 to an endpoint). Contexts are cut on the
 * left because the end of a prompt is what the next bytes depend on most.
 */
export function truncateLeft(text: string, maxBytes: number): string {
  if (!Number.isFinite(maxBytes)) return text;
  const bytes = encode(text);
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - Math.max(0, maxBytes);
  while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
  return Buffer.from(bytes.subarray(start)).toString('utf8');
}

/** UTF-8 length of a string. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
