// HTTP to an OpenAI-compatible server, for evaluation: the official `openai` client does the
// plumbing (retries with exponential backoff and jitter on 408, 409, 429, 5xx, connection resets
// and timeouts; Retry-After honoured; no retry on other 4xx), and this file closes its gaps:
//
// - its timeout stops at the response headers, so a server that sends headers and then stalls
//   would hang a run: the fetch it is given reads the whole body before returning, inside the timer;
// - a non-JSON or non-OpenAI error body (vLLM's `{"object": "error", "message": ...}`, a proxy's
//   HTML page) would reach us as "400 status code (no body)": the raw body is kept for the message;
// - it falls back to OPENAI_API_KEY from the environment, which must never be sent to someone
//   else's server unasked: the key is always passed explicitly, and none means no Authorization.
//
// Every failure becomes one EndpointError naming the URL and the status or the cause.
import OpenAI from 'openai';
import { UsageError } from '../errors.js';

/**
 * A request to the endpoint failed for good (after the retries, or at once for a 4xx). It is a
 * UsageError so the CLI prints its one-line message and exits 2.
 */
export class EndpointError extends UsageError {
  override name = 'EndpointError';
  constructor(message: string, readonly url: string, readonly status: number | null = null) {
    super(message);
  }
}

export interface EndpointClientOptions {
  /** The server's base URL; a bare origin (http://host:port) gets `/v1`. */
  baseURL: string;
  apiKey?: string;
  /** Milliseconds for one attempt, headers and body (default 120 s). */
  timeoutMs?: number;
  /** Attempts after the first on 429, 5xx, timeouts and connection failures (default 5). */
  maxRetries?: number;
}

/** A bare origin gets `/v1`; a URL with a path is taken as the API's root (proxies use their own). */
export function normalizeBaseURL(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--endpoint must be an http(s) URL such as http://127.0.0.1:8000/v1, got '${url}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--endpoint must be an http(s) URL, got '${url}'`);
  let p = u.pathname.replace(/\/+$/, '');
  // A URL copied from a harness's config often names the route itself.
  p = p.replace(/\/(chat\/)?completions$/, '');
  if (p === '') p = '/v1';
  return `${u.origin}${p}`;
}

const SNIPPET = 200;

/** What an error body says: its message in OpenAI's, vLLM's or FastAPI's shape, else the text itself. */
function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const inner = j.error as Record<string, unknown> | undefined;
    for (const m of [inner?.message, j.message, j.detail]) if (typeof m === 'string' && m !== '') return m;
  } catch {
    // Not JSON: the text is the message.
  }
  return body;
}

/** One line of at most SNIPPET characters. */
function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > SNIPPET ? `${t.slice(0, SNIPPET)}…` : t;
}

/** Statuses whose responses have no body (a Response refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export class EndpointClient {
  readonly baseURL: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  private readonly client: OpenAI;
  /** Raw bodies of error responses, by the headers object the client's error keeps. */
  private readonly errorBodies = new WeakMap<Headers, string>();

  constructor(o: EndpointClientOptions) {
    this.baseURL = normalizeBaseURL(o.baseURL);
    this.timeoutMs = o.timeoutMs ?? 120_000;
    this.maxRetries = o.maxRetries ?? 5;
    const noKey = o.apiKey === undefined || o.apiKey === '';
    this.client = new OpenAI({
      baseURL: this.baseURL,
      // The client insists on a key; without one the header is dropped before sending.
      apiKey: noKey ? 'none' : o.apiKey,
      adminAPIKey: null,
      organization: null,
      project: null,
      timeout: this.timeoutMs,
      maxRetries: this.maxRetries,
      logLevel: 'off',
      fetch: this.bufferingFetch(noKey),
    });
  }

  /** fetch, with the body read before returning (inside the client's timer) and error bodies kept. */
  private bufferingFetch(noKey: boolean) {
    return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      let req = init;
      if (noKey) {
        const headers = new Headers(init?.headers);
        headers.delete('authorization');
        req = { ...init, headers };
      }
      const res = await fetch(input, req);
      const body = await res.arrayBuffer();
      const out = new Response(NULL_BODY.has(res.status) ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
      if (!res.ok) this.errorBodies.set(out.headers, Buffer.from(body).toString('utf8'));
      return out;
    };
  }

  async get(path: string): Promise<unknown> {
    return this.call(path, () => this.client.get(path));
  }

  async post(path: string, body: Record<string, unknown>): Promise<unknown> {
    return this.call(path, () => this.client.post(path, { body }));
  }

  private async call(path: string, send: () => Promise<unknown>): Promise<unknown> {
    const url = `${this.baseURL}${path}`;
    const attempts = `${this.maxRetries + 1} attempt${this.maxRetries === 0 ? '' : 's'}`;
    let res: unknown;
    try {
      res = await send();
    } catch (err) {
      if (err instanceof OpenAI.APIConnectionTimeoutError) {
        throw new EndpointError(`${url}: no answer within ${this.timeoutMs / 1000} s (${attempts})`, url);
      }
      if (err instanceof OpenAI.APIConnectionError) {
        const cause = (err as { cause?: { cause?: { code?: string; message?: string }; message?: string } }).cause;
        const why = cause?.cause?.code ?? cause?.cause?.message ?? cause?.message ?? err.message;
        throw new EndpointError(`${url}: cannot connect (${why}; ${attempts})`, url);
      }
      if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
        const raw = err.headers ? this.errorBodies.get(err.headers) : undefined;
        const body = raw !== undefined && raw.trim() !== '' ? errorMessage(raw) : err.message.replace(/^\d+ /, '');
        const retried = err.status === 429 || err.status >= 500 ? ` (${attempts})` : '';
        throw new EndpointError(`${url} answered ${err.status}${retried}: ${oneLine(body)}`, url, err.status);
      }
      if (err instanceof SyntaxError) throw new EndpointError(`${url} answered malformed JSON: ${oneLine(err.message)}`, url);
      throw err;
    }
    if (typeof res !== 'object' || res === null) {
      throw new EndpointError(`${url} answered ${typeof res === 'string' ? `non-JSON text: ${oneLine(res)}` : 'an empty body'}`, url);
    }
    return res;
  }
}
