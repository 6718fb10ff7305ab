// Reading an OpenAI-compatible server's answers for evaluation, trusting nothing: each field is
// checked before use, and a server that answers in another shape gets a ProtocolError naming what
// was missing, never a crash or a silently wrong number.
import type { LoglikelihoodResult } from './types.js';

/** The answer arrived but is not what the API promises (the caller adds the URL). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The `choices` of an answer to `expected` prompts, in prompt order. Servers give each choice its
 * prompt's `index`; one without indices is taken in order.
 */
export function choicesOf(answer: unknown, expected: number): Record<string, unknown>[] {
  const choices = isObject(answer) ? answer.choices : undefined;
  if (!Array.isArray(choices)) throw new ProtocolError('the answer has no choices array');
  if (choices.length !== expected) throw new ProtocolError(`${choices.length} choices for ${expected} prompt${expected === 1 ? '' : 's'}`);
  const out: Record<string, unknown>[] = new Array(expected);
  choices.forEach((c, i) => {
    if (!isObject(c)) throw new ProtocolError(`choice ${i} is not an object`);
    const at = c.index === undefined || c.index === null ? i : c.index;
    if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= expected || out[at]) {
      throw new ProtocolError(`choice ${i} has index ${JSON.stringify(c.index)}, not one of 0 to ${expected - 1} once each`);
    }
    out[at] = c;
  });
  return out;
}

interface EchoLogprobs {
  tokens?: unknown;
  token_logprobs: unknown[];
  top_logprobs: unknown[];
  text_offset: unknown[];
}

function echoLogprobs(choice: Record<string, unknown>): EchoLogprobs {
  const lp = choice.logprobs;
  if (!isObject(lp)) throw new ProtocolError('the choice has no logprobs object (echo with logprobs is not supported)');
  const { token_logprobs, top_logprobs, text_offset } = lp;
  for (const [name, v] of [['token_logprobs', token_logprobs], ['text_offset', text_offset], ['top_logprobs', top_logprobs]] as const) {
    if (!Array.isArray(v)) throw new ProtocolError(`logprobs.${name} is missing`);
  }
  const n = (token_logprobs as unknown[]).length;
  if ((text_offset as unknown[]).length !== n || (top_logprobs as unknown[]).length !== n) {
    throw new ProtocolError(`logprobs has ${n} token_logprobs, ${(text_offset as unknown[]).length} text_offset and ${(top_logprobs as unknown[]).length} top_logprobs`);
  }
  return lp as unknown as EchoLogprobs;
}

/**
 * log P(continuation | context) from a choice that echoed `context + continuation` with logprobs:
 * the sum, left to right, of the log-probs of the tokens that end after the context. A token that
 * straddles the boundary (a BPE token joining the context's end and the continuation's start)
 * counts with the continuation, as lm-evaluation-harness does when it tokenizes both together.
 * Tokens from `promptLength` on are generated ones (max_tokens 1 for servers that refuse 0) and
 * are left out. `greedy`: every continuation token was the one greedy decoding picks: no other
 * top alternative is more likely, nor as likely (greedy decoding breaks ties towards the lower
 * token id, and the top alternatives hold that one; without token strings to tell the token from
 * its rivals, a tie counts as greedy).
 */
export function continuationScore(choice: Record<string, unknown>, contextLength: number, promptLength: number): LoglikelihoodResult {
  const lp = echoLogprobs(choice);
  const offsets = lp.text_offset.map((o, i) => {
    if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) throw new ProtocolError(`text_offset[${i}] is ${JSON.stringify(o)}, not a position`);
    return o;
  });
  let logprob = 0, greedy = true, counted = 0;
  for (let i = 0; i < offsets.length && offsets[i] < promptLength; i++) {
    // Where the token's text ends: where the next one starts (bytes of one character share an offset).
    const end = i + 1 < offsets.length && offsets[i + 1] < promptLength ? offsets[i + 1] : promptLength;
    if (offsets[i] < contextLength && end <= contextLength) continue;
    const x = lp.token_logprobs[i];
    if (typeof x !== 'number' || Number.isNaN(x)) throw new ProtocolError(`token_logprobs[${i}] is ${JSON.stringify(x)}, not a log-prob`);
    logprob += x;
    counted++;
    const top = lp.top_logprobs[i];
    if (!isObject(top) || Object.keys(top).length === 0) throw new ProtocolError(`top_logprobs[${i}] is ${JSON.stringify(top)}, not the top alternatives`);
    const own = Array.isArray(lp.tokens) && typeof lp.tokens[i] === 'string' ? lp.tokens[i] as string : undefined;
    for (const [token, v] of Object.entries(top)) {
      if (typeof v !== 'number' || Number.isNaN(v)) throw new ProtocolError(`top_logprobs[${i}] holds ${JSON.stringify(v)}, not a log-prob`);
      if (v > x || (v === x && own !== undefined && token !== own)) greedy = false;
    }
  }
  if (counted === 0) throw new ProtocolError(`no echoed token lies after the context (offset ${contextLength} of ${promptLength})`);
  return { logprob, greedy };
}

/** The generated text of a completions choice. */
export function completionText(choice: Record<string, unknown>): string {
  if (typeof choice.text !== 'string') throw new ProtocolError('the choice has no text');
  return choice.text;
}

/** The generated text of a chat choice (a null content, as some servers send for an empty reply, is ''). */
export function chatText(choice: Record<string, unknown>): string {
  const m = choice.message;
  if (!isObject(m)) throw new ProtocolError('the choice has no message');
  if (m.content === null) return '';
  if (typeof m.content !== 'string') throw new ProtocolError('the message has no content');
  return m.content;
}

/**
 * What a generation request asks for, applied to a server's text whatever the server did with
 * stop and max_tokens: the characters that fit in `maxBytes` bytes, then cut before the first stop
 * string; the same as generating byte by byte until `maxBytes` or a stop string. A U+FFFD counts
 * as one byte: it stands for at least one byte that was not valid UTF-8 (a character cut by the
 * length limit, at the end), which a byte-level model's text keeps, as local decoding does.
 */
export function cutGeneration(text: string, stops: string[], maxBytes: number): string {
  let out = text, bytes = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const n = cp === 0xfffd ? 1 : cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) {
      out = text.slice(0, i);
      break;
    }
    bytes += n;
    i += cp >= 0x10000 ? 2 : 1;
  }
  let at = out.length;
  for (const s of stops) {
    if (s === '') continue;
    const i = out.indexOf(s);
    if (i >= 0 && i < at) at = i;
  }
  return out.slice(0, at);
}
