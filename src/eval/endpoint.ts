// A model behind any OpenAI-compatible API, as evaluation's Scorer: `scalelab eval --endpoint`.
//
// Log-likelihood goes through /v1/completions with `prompt = context + continuation`, `echo`,
// `logprobs: 1` and `max_tokens: 0` (1 where 0 is refused): the sum of the echoed log-probs of the
// tokens after the context (endpoint-answers.ts), the same recipe as lm-evaluation-harness. Against
// `scalelab serve` that sum is bit for bit the one a local Decoder gives: the server computes each
// log-prob in float64 from the same logits, JSON carries a float64 exactly, and the sum runs in
// the same order. Generation is greedy (temperature 0) through completions, or chat where
// completions is missing. Several prompts go in one request (the prompt array) where the server
// takes it, and `concurrency` requests are in flight at once; retries and timeouts are the
// client's (endpoint-client.ts). What the endpoint can do is probed once, in `connect`.
import { UsageError } from '../errors.js';
import { codePoints } from '../data/utf8.js';
import { choicesOf, chatText, completionText, continuationScore, cutGeneration, ProtocolError } from './endpoint-answers.js';
import { EndpointClient, EndpointError, normalizeBaseURL } from './endpoint-client.js';
import { probeEndpoint, type Capabilities } from './endpoint-probe.js';
import { mapLimit } from './map-limit.js';
import { EMPTY_CONTEXT } from './runner.js';
import type { Subject } from './subjects.js';
import type { GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult, Scorer } from './types.js';

export interface EndpointOptions {
  /** The server's URL: its origin (`/v1` is added) or its API root. */
  url: string;
  model: string;
  apiKey?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Prompts per /v1/completions request where the server takes several (default 16). */
  batchSize?: number;
  /** Milliseconds for one attempt of one request (default 120 s). */
  timeoutMs?: number;
  /** Retries on 429, 5xx, timeouts and connection failures (default 5). */
  maxRetries?: number;
  /** The model's context in bytes when its card does not say (`max_model_len`); default unlimited. */
  contextBytes?: number;
}

/** OpenAI's limit on stop sequences per request; any further ones are applied to the text here. */
const MAX_STOPS = 4;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class EndpointScorer implements Scorer {
  readonly subject: string;
  readonly maxContextBytes: number;
  private readonly concurrency: number;
  private readonly batchSize: number;
  readonly preferredChunk: number;

  private constructor(private readonly client: EndpointClient, readonly model: string, readonly capabilities: Capabilities, o: EndpointOptions) {
    this.subject = `endpoint:${client.baseURL}#${model}`;
    // A card's max_model_len counts tokens; a token is at least one byte, so as bytes it is safe.
    this.maxContextBytes = capabilities.maxModelLen ?? o.contextBytes ?? Infinity;
    this.concurrency = o.concurrency ?? 4;
    this.batchSize = capabilities.batch ? o.batchSize ?? 16 : 1;
    // About one request in flight per slot per call (a multiple-choice example is a few prompts),
    // so a failure loses little and the in-flight bound still fills.
    this.preferredChunk = Math.max(1, Math.ceil((this.concurrency * this.batchSize) / 4));
  }

  /** Probe the endpoint and return a scorer for it; an unreachable endpoint is an EndpointError. */
  static async connect(o: EndpointOptions): Promise<EndpointScorer> {
    for (const [name, v] of [['concurrency', o.concurrency], ['batchSize', o.batchSize]] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new UsageError(`${name} must be a positive integer, got ${v}`);
    }
    if (o.model === '') throw new UsageError('--model must name the model to evaluate at the endpoint');
    const client = new EndpointClient({ baseURL: o.url, apiKey: o.apiKey, timeoutMs: o.timeoutMs, maxRetries: o.maxRetries });
    const caps = await probeEndpoint(client, o.model);
    // Nothing at all can run (a wrong model id, a server of another API): one error, not one per task.
    if (!caps.loglikelihood.ok && !caps.generate.ok) {
      throw new EndpointError(`nothing can be evaluated at ${client.baseURL} for model '${o.model}': ` +
        `log-likelihoods: ${caps.loglikelihood.reason}; generation: ${caps.generate.reason}`, client.baseURL);
    }
    return new EndpointScorer(client, o.model, caps, o);
  }

  supports(kind: 'loglikelihood' | 'generate'): { ok: true } | { ok: false; reason: string } {
    const c = this.capabilities[kind];
    return c.ok ? { ok: true } : { ok: false, reason: c.reason };
  }

  /** POST, with an answer in the wrong shape turned into an EndpointError naming the URL. */
  private async post<T>(path: string, body: Record<string, unknown>, read: (answer: unknown) => T): Promise<T> {
    const answer = await this.client.post(path, body);
    try {
      return read(answer);
    } catch (err) {
      if (err instanceof ProtocolError) throw new EndpointError(`${this.client.baseURL}${path} answered without what is needed: ${err.message}`, `${this.client.baseURL}${path}`);
      throw err;
    }
  }

  async loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    const cap = this.capabilities.loglikelihood;
    if (!cap.ok) throw new UsageError(`${this.subject} cannot score log-likelihoods: ${cap.reason}`);
    const out: LoglikelihoodResult[] = new Array(requests.length);
    const work: { i: number; prompt: string; context: number; length: number }[] = [];
    requests.forEach((r, i) => {
      if (r.continuation === '') out[i] = { logprob: 0, greedy: true };
      else {
        // The runner gives an empty context a document boundary; an API has no log-prob for a
        // prompt's first token, so a caller that did not is given the same one.
        const context = r.context === '' ? EMPTY_CONTEXT : r.context;
        const prompt = context + r.continuation;
        work.push({ i, prompt, context: codePoints(context), length: codePoints(prompt) });
      }
    });
    await mapLimit(chunks(work, this.batchSize), this.concurrency, async (batch) => {
      const body = { model: this.model, prompt: batch.length === 1 ? batch[0].prompt : batch.map((w) => w.prompt), echo: true, logprobs: 1, max_tokens: cap.maxTokens, temperature: 0 };
      const results = await this.post('/completions', body, (answer) => choicesOf(answer, batch.length).map((c, j) => continuationScore(c, batch[j].context, batch[j].length)));
      batch.forEach((w, j) => (out[w.i] = results[j]));
    });
    return out;
  }

  async generate(requests: GenerateRequest[]): Promise<string[]> {
    const cap = this.capabilities.generate;
    if (!cap.ok) throw new UsageError(`${this.subject} cannot generate: ${cap.reason}`);
    const out: string[] = new Array(requests.length).fill('');
    // One request carries prompts that share stop strings and length.
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      if (r.maxBytes <= 0) return;
      const key = JSON.stringify([r.stop, r.maxBytes]);
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const size = cap.via === 'chat' ? 1 : this.batchSize;
    const batches = [...groups.values()].flatMap((idx) => chunks(idx, size));
    await mapLimit(batches, this.concurrency, async (batch) => {
      const { stop, maxBytes } = requests[batch[0]];
      const stops = stop.filter((s) => s !== '');
      // A token is at least one byte, so maxBytes tokens hold maxBytes bytes; the text is cut after.
      const common = { model: this.model, max_tokens: maxBytes, temperature: 0, ...(stops.length > 0 ? { stop: stops.slice(0, MAX_STOPS) } : {}) };
      const texts = cap.via === 'chat'
        ? await this.post('/chat/completions', { ...common, messages: [{ role: 'user', content: requests[batch[0]].prompt }] },
          (answer) => [chatText(choicesOf(answer, 1)[0])])
        : await this.post('/completions', { ...common, prompt: batch.length === 1 ? requests[batch[0]].prompt : batch.map((i) => requests[i].prompt) },
          (answer) => choicesOf(answer, batch.length).map(completionText));
      batch.forEach((i, j) => (out[i] = cutGeneration(texts[j], stops, maxBytes)));
    });
    return out;
  }
}

/** An endpoint as a subject of `evaluateSubjects`: probed only when its turn comes, results under `endpoint:URL#MODEL`. */
export function endpointSubject(o: EndpointOptions): Subject {
  return { label: o.model, subject: `endpoint:${normalizeBaseURL(o.url)}#${o.model}`, runId: null, step: -1, open: () => EndpointScorer.connect(o) };
}
