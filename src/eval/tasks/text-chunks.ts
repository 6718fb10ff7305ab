// Cutting text into passages of at most a number of UTF-8 bytes, at paragraph boundaries where
// they fit and at spaces where a paragraph is too long, never inside a character.
import { byteLength } from '../truncate.js';

/** Paragraphs (lines) packed greedily into chunks of at most maxBytes bytes; blank chunks dropped. */
export function chunkText(text: string, maxBytes: number): string[] {
  const out: string[] = [];
  let current = '';
  const flush = () => {
    // Blank lines at a chunk's edges are where it was cut, not text of its own.
    if (current.trim() !== '') out.push(current.replace(/^\n+|\n+$/g, ''));
    current = '';
  };
  for (const para of text.split('\n')) {
    for (const piece of byteLength(para) <= maxBytes ? [para] : splitLong(para, maxBytes)) {
      const joined = current === '' ? piece : `${current}\n${piece}`;
      if (byteLength(joined) <= maxBytes) current = joined;
      else {
        flush();
        current = piece;
      }
    }
  }
  flush();
  return out;
}

/** A long paragraph in pieces of at most maxBytes, cut before a space (or anywhere, for one huge word). */
function splitLong(para: string, maxBytes: number): string[] {
  const out: string[] = [];
  let rest = para;
  while (byteLength(rest) > maxBytes) {
    let cut = longestPrefix(rest, maxBytes);
    const space = rest.lastIndexOf(' ', cut);
    if (space > 0) cut = space;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  if (rest !== '') out.push(rest);
  return out;
}

/** The length (in UTF-16 units) of the longest prefix of s that is at most maxBytes bytes, at least one character. */
function longestPrefix(s: string, maxBytes: number): number {
  let bytes = 0, i = 0;
  for (const ch of s) {
    const b = byteLength(ch);
    if (bytes + b > maxBytes && i > 0) break;
    bytes += b;
    i += ch.length;
  }
  return i;
}
