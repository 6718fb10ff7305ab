// From byte tokens to the text and log-prob fields of the API.
//
// Token strings: a token is one byte. Bytes below 0x80 are their ASCII character; bytes from 0x80
// are shown as `bytes:\xNN`, OpenAI's own spelling for a token that is not valid UTF-8 by itself.
// So all 256 tokens have distinct strings, and a top_logprobs dictionary never merges two tokens.
//
// Text offsets: `text_offset` counts Unicode code points (Python's str indices, which is what
// evaluation harnesses slice with) into the choice's text (the prompt's when echoed, then the
// completion's). Every byte of a multi-byte character has the offset where that character starts;
// the character appears in the text once its last byte is generated (bytes that are not valid UTF-8
// become U+FFFD, one per maximal invalid subsequence, as TextDecoder does).
import { StreamDecoder } from '../data/tokenizer.js';
import { codePoints } from '../data/utf8.js';
import type { TokenLogprob } from './scheduler.js';

export function tokenString(token: number): string {
  return token < 0x80 ? String.fromCharCode(token) : `bytes:\\x${token.toString(16).padStart(2, '0')}`;
}

export interface TrackedToken extends TokenLogprob {
  /** Code-point offset into the choice's text. */
  offset: number;
  /** UTF-16 span of the text this token completed, within the generated text. */
  start16: number;
  end16: number;
}

/**
 * One choice's generated text, built token by token: decodes bytes incrementally, records each
 * token's offset, watches for stop sequences, and hands out text that is safe to stream (text
 * that could still become the start of a stop sequence is held back).
 */
export class ChoiceText {
  text = '';
  tokens: TrackedToken[] = [];
  stopped = false;
  private dec = new StreamDecoder();
  private cp = 0;
  private sent16 = 0;
  private sentTokens = 0;
  private readonly maxStop: number;

  /** `base`: code points before the generated text in the choice's text (the echoed prompt). */
  constructor(private readonly stops: string[], private readonly base = 0) {
    this.maxStop = stops.reduce((a, s) => Math.max(a, s.length), 0);
  }

  /** Add a generated token; true when it completed a stop sequence (the text is then cut before it). */
  push(t: TokenLogprob): boolean {
    const start16 = this.text.length, startCp = this.cp;
    const piece = this.dec.push(t.token);
    this.text += piece;
    this.cp += codePoints(piece);
    this.tokens.push({ ...t, offset: this.base + startCp, start16, end16: this.text.length });
    if (this.maxStop === 0 || piece === '') return false;
    let at = -1;
    for (const s of this.stops) {
      const i = this.text.indexOf(s, Math.max(0, start16 - s.length + 1));
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at < 0) return false;
    this.text = this.text.slice(0, at);
    this.tokens = this.tokens.filter((x) => x.start16 < at && x.end16 <= at);
    this.stopped = true;
    return true;
  }

  /** The generation ended: flush an incomplete trailing character (as U+FFFD). */
  end(): void {
    if (this.stopped) return;
    const rest = this.dec.end();
    if (rest && this.tokens.length > 0) {
      this.text += rest;
      this.cp += codePoints(rest);
      this.tokens[this.tokens.length - 1].end16 = this.text.length;
    }
  }

  /** Text and tokens not handed out yet that can no longer be cut by a stop sequence (all of it when final). */
  take(final: boolean): { text: string; tokens: TrackedToken[] } {
    let safe = this.text.length;
    if (!final && !this.stopped) {
      // Hold back a suffix that is a proper prefix of some stop sequence.
      for (const s of this.stops) {
        for (let k = Math.min(s.length - 1, this.text.length); k > 0; k--) {
          if (this.text.endsWith(s.slice(0, k))) {
            safe = Math.min(safe, this.text.length - k);
            break;
          }
        }
      }
    }
    const text = safe > this.sent16 ? this.text.slice(this.sent16, safe) : '';
    this.sent16 = Math.max(this.sent16, safe);
    let end = this.sentTokens;
    while (end < this.tokens.length) {
      const t = this.tokens[end];
      // A token is handed out with the text it completed; bytes of a character still incomplete wait for it.
      if (t.end16 > safe || (!final && !this.stopped && t.end16 === t.start16 && t.start16 === this.text.length)) break;
      end++;
    }
    const tokens = this.tokens.slice(this.sentTokens, end);
    this.sentTokens = end;
    return { text, tokens };
  }
}

/** Offsets of prompt tokens in the prompt's text (same rules as generated tokens). */
export function promptOffsets(tokens: number[]): number[] {
  const dec = new StreamDecoder();
  let cp = 0;
  return tokens.map((t) => {
    const o = cp;
    cp += codePoints(dec.push(t));
    return o;
  });
}

/** The legacy completions `logprobs` object for some tokens. */
export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

export function legacyLogprobs(entries: { token: number; logprob: number | null; top: [number, number][]; offset: number }[]): LegacyLogprobs {
  const out: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const e of entries) {
    out.tokens.push(tokenString(e.token));
    out.token_logprobs.push(e.logprob);
    if (e.logprob === null) out.top_logprobs.push(null);
    else {
      // The top alternatives, and the chosen token too (as vLLM does), so the dict has at most k + 1 entries.
      const d: Record<string, number> = {};
      for (const [tok, lp] of e.top) d[tokenString(tok)] = lp;
      d[tokenString(e.token)] = e.logprob;
      out.top_logprobs.push(d);
    }
    out.text_offset.push(e.offset);
  }
  return out;
}

/** The chat completions `logprobs.content` entries. */
export function chatLogprobs(entries: TokenLogprob[]): { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number; bytes: number[] }[] }[] {
  return entries.map((e) => ({
    token: tokenString(e.token),
    logprob: e.logprob ?? 0,
    bytes: [e.token],
    top_logprobs: e.top.map(([tok, lp]) => ({ token: tokenString(tok), logprob: lp, bytes: [tok] })),
  }));
}

/**
 * The chat template. Each message becomes `Role: content` and a newline, with Role one of System,
 * User, Assistant (developer messages count as System); the prompt ends with `Assistant:` and the
 * model continues from there. Generation also stops at `\nUser:` and `\nSystem:`, the start of the
 * next turn. A byte-level model trained on plain text has never seen this format; it is the
 * simplest one that reads naturally.
 */
export const CHAT_STOPS = ['\nUser:', '\nSystem:'];

export function renderChat(messages: { role: string; content: string }[]): string {
  const name: Record<string, string> = { system: 'System', developer: 'System', user: 'User', assistant: 'Assistant' };
  return messages.map((m) => `${name[m.role]}: ${m.content}\n`).join('') + 'Assistant:';
}
