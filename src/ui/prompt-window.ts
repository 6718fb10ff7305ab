// Long completions in the playground. The API holds a request to the model's context (prompt
// plus max_tokens), as OpenAI's does; `scalelab generate` instead shifts its window and keeps
// going. The page does the same over the API: it asks for what fits, then continues from the
// tail of the text so far, keeping at least half the context free for new tokens, as generate
// re-reads the newest half of its window when the window is full. Tokens are UTF-8 bytes.

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** The longest tail of `s` of at most `maxBytes` UTF-8 bytes, cut between code points. */
export function utf8Tail(s: string, maxBytes: number): string {
  const cps = Array.from(s);
  let bytes = 0, i = cps.length;
  while (i > 0) {
    const cp = cps[i - 1].codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) break;
    bytes += n;
    i--;
  }
  return cps.slice(i).join('');
}

export interface WindowRequest {
  prompt: string;
  maxTokens: number;
}

/**
 * The next request for `left` more tokens after `text`, on a model with context `ctx`: the whole
 * text while it and the tokens fit, or while it leaves at least half the context; else its tail
 * of half the context. An empty prompt still takes one token (the server's hidden newline).
 */
export function nextWindow(text: string, left: number, ctx: number): WindowRequest {
  if (!(ctx >= 2)) throw new RangeError(`a context of ${ctx} token(s) leaves no room to continue`);
  const cost = (s: string) => Math.max(1, utf8Length(s));
  const whole = cost(text);
  if (whole + left <= ctx || ctx - whole >= Math.ceil(ctx / 2)) return { prompt: text, maxTokens: Math.min(left, ctx - whole) };
  const tail = utf8Tail(text, Math.floor(ctx / 2));
  return { prompt: tail, maxTokens: Math.min(left, ctx - cost(tail)) };
}
