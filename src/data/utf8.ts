// UTF-8 validation with a position. TextDecoder's fatal mode is the authority (it is native and
// fast) but only says "invalid"; a user with a bad file needs to know where, so on failure the
// first invalid byte is located by a plain decoder that follows the same WHATWG rules
// (no overlong forms, no surrogates, nothing above U+10FFFF).

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The offset of the first byte that makes `bytes` invalid UTF-8, or -1 if it is valid. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  try {
    strict.decode(bytes);
    return -1;
  } catch {
    return locate(bytes);
  }
}

function locate(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let need: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i; // 0x80–0xc1 cannot start a character, 0xf5–0xff never occur
    // The sequence starts at i; report the lead byte when what follows cannot complete it.
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return b.length; // TextDecoder disagreed with us; point at the end rather than nowhere
}

/** Code points in a string, surrogate pairs counted once: Python's str length, which OpenAI-style `text_offset`s count. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}
