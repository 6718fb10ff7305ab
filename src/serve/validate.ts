// Request validation with OpenAI-style messages: every problem is a 400 naming the parameter.
import { ApiError, badParam } from './errors.js';

export type Body = Record<string, unknown>;

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function wrongType(param: string, want: string, v: unknown): ApiError {
  return badParam(param, `Invalid type for '${param}': expected ${want}, but got ${kind(v)}.`, 'invalid_type');
}

export function asBody(body: unknown): Body {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
  }
  return body as Body;
}

export function requiredString(b: Body, key: string): string {
  const v = b[key];
  if (v === undefined || v === null) throw badParam(key, `Missing required parameter: '${key}'.`, 'missing_required_parameter');
  if (typeof v !== 'string') throw wrongType(key, 'a string', v);
  return v;
}

export function optBool(b: Body, key: string, def: boolean): boolean {
  const v = b[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw wrongType(key, 'a boolean', v);
  return v;
}

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
  /** min itself is not allowed. */
  minExclusive?: boolean;
}

export function optNumber(b: Body, key: string, rule: NumberRule): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(key, rule.integer ? 'an integer' : 'a number', v);
  if (rule.integer && !Number.isInteger(v)) throw wrongType(key, 'an integer', v);
  const low = rule.minExclusive ? v <= rule.min : v < rule.min;
  if (low || v > rule.max) {
    const range = `${rule.minExclusive ? 'greater than' : 'at least'} ${rule.min} and at most ${rule.max}`;
    throw badParam(key, `Invalid '${key}': ${v}. It must be ${range}.`, key === 'max_tokens' ? 'invalid_max_tokens' : 'invalid_value');
  }
  return v;
}

/** `stop`: a string, up to 4 strings, or null. */
export function optStops(b: Body): string[] {
  const v = b.stop;
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw wrongType('stop', 'a string or an array of strings', v);
  if (list.length > 4) throw badParam('stop', `Invalid 'stop': at most 4 stop sequences, got ${list.length}.`);
  if (list.some((s) => s === '')) throw badParam('stop', "Invalid 'stop': stop sequences must not be empty.");
  return list as string[];
}

/** `seed`: an integer; absent means a fresh random one. */
export function optSeed(b: Body): number | undefined {
  const v = b.seed;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw wrongType('seed', 'an integer', v);
  return v;
}

export function streamOptions(b: Body): { includeUsage: boolean } {
  const v = b.stream_options;
  if (v === undefined || v === null) return { includeUsage: false };
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType('stream_options', 'an object', v);
  const iu = (v as Body).include_usage;
  if (iu !== undefined && iu !== null && typeof iu !== 'boolean') throw wrongType('stream_options.include_usage', 'a boolean', iu);
  return { includeUsage: iu === true };
}

/**
 * `prompt`: a string, an array of strings, an array of token ids (0 … 255) or an array of such
 * arrays. Returns each prompt as text-or-tokens.
 */
export function prompts(b: Body, vocab: number): ({ text: string } | { tokens: number[] })[] {
  const v = b.prompt;
  if (v === undefined || v === null) throw badParam('prompt', "Missing required parameter: 'prompt'.", 'missing_required_parameter');
  const isTokens = (a: unknown): a is number[] => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'number');
  const checkTokens = (a: number[]) => {
    if (a.some((x) => !Number.isInteger(x) || x < 0 || x >= vocab)) {
      throw badParam('prompt', `Invalid 'prompt': token ids must be integers from 0 to ${vocab - 1} (tokens are bytes).`);
    }
    return { tokens: a };
  };
  if (typeof v === 'string') return [{ text: v }];
  if (!Array.isArray(v) || v.length === 0) throw wrongType('prompt', 'a string, an array of strings or an array of token ids', v);
  if (isTokens(v)) return [checkTokens(v)];
  if (v.every((x) => typeof x === 'string')) return (v as string[]).map((text) => ({ text }));
  if (v.every(isTokens)) return (v as number[][]).map(checkTokens);
  throw wrongType('prompt', 'a string, an array of strings or an array of token ids', v);
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string;
}

export function chatMessages(b: Body): ChatMessage[] {
  const v = b.messages;
  if (v === undefined || v === null) throw badParam('messages', "Missing required parameter: 'messages'.", 'missing_required_parameter');
  if (!Array.isArray(v)) throw wrongType('messages', 'an array', v);
  if (v.length === 0) throw badParam('messages', "Invalid 'messages': empty array. Expected an array with minimum length 1.", 'empty_array');
  return v.map((m, i): ChatMessage => {
    const p = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw wrongType(p, 'an object', m);
    const role = (m as Body).role;
    if (typeof role !== 'string') throw wrongType(`${p}.role`, 'a string', role);
    if (!['system', 'developer', 'user', 'assistant'].includes(role)) {
      throw badParam(`${p}.role`, `Invalid value for '${p}.role': '${role}'. Supported values are: 'system', 'developer', 'user' and 'assistant'.`);
    }
    const c = (m as Body).content;
    let content: string;
    if (typeof c === 'string') content = c;
    else if (c === null || c === undefined) {
      if (role !== 'assistant') throw badParam(`${p}.content`, `Missing required parameter: '${p}.content'.`, 'missing_required_parameter');
      content = '';
    } else if (Array.isArray(c)) {
      content = c.map((part, j) => {
        const pp = `${p}.content[${j}]`;
        if (typeof part !== 'object' || part === null || (part as Body).type !== 'text' || typeof (part as Body).text !== 'string') {
          throw badParam(pp, `Invalid '${pp}': only text parts ({"type": "text", "text": "..."}) are supported.`);
        }
        return (part as Body).text as string;
      }).join('');
    } else throw wrongType(`${p}.content`, 'a string or an array of text parts', c);
    return { role: role as ChatMessage['role'], content };
  });
}
