// What an OpenAI-compatible endpoint can do for evaluation, found once with a few tiny requests:
//
// - the model card (GET /v1/models/{id}): `max_model_len`, vLLM's field for the context;
// - loglikelihood: /v1/completions with echo and logprobs and max_tokens 0, or 1 where 0 is
//   refused, answering the echoed prompt's log-probs with text offsets and top alternatives;
// - batching: the same with two prompts in one request;
// - generation: /v1/completions if it answers at all, else /v1/chat/completions.
//
// A request the server refuses (a 4xx) or answers in another shape says the capability is
// missing, and why; an endpoint that cannot be reached, keeps failing (5xx, 429 after the retries)
// or refuses the key is an error: then nothing could run there.
import { EndpointError, type EndpointClient } from './endpoint-client.js';
import { codePoints } from '../data/utf8.js';
import { choicesOf, completionText, chatText, continuationScore, ProtocolError } from './endpoint-answers.js';

export type Capability<T> = ({ ok: true } & T) | { ok: false; reason: string };

export interface Capabilities {
  /** The model's context from its card (tokens), when the server reports it. */
  maxModelLen: number | null;
  /** max_tokens for scoring: 0 (the prompt only) or 1 where the server refuses 0. */
  loglikelihood: Capability<{ maxTokens: 0 | 1 }>;
  generate: Capability<{ via: 'completions' | 'chat' }>;
  /** Several prompts per /v1/completions request (the prompt array). */
  batch: boolean;
}

const PROBE_CONTEXT = 'Hello,';
const PROBE = `${PROBE_CONTEXT} world`;

/** The server refused the request (a 4xx other than auth and rate limits): a missing capability. */
function refused(err: unknown): err is EndpointError {
  return err instanceof EndpointError && err.status !== null && err.status >= 400 && err.status < 500 &&
    ![401, 403, 408, 429].includes(err.status);
}

/** Run a probe; a refusal or a malformed answer becomes the reason, anything else is thrown. */
async function attempt<T>(client: EndpointClient, path: string, f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; reason: string; status: number | null }> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    if (refused(err)) return { ok: false, reason: err.message, status: err.status };
    if (err instanceof ProtocolError) return { ok: false, reason: `${client.baseURL}${path} answered without what is needed: ${err.message}`, status: null };
    throw err;
  }
}

async function modelCard(client: EndpointClient, model: string): Promise<number | null> {
  try {
    const card = await client.get(`/models/${encodeURIComponent(model)}`) as Record<string, unknown>;
    const n = card.max_model_len;
    return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch (err) {
    // Many servers have no per-model route; the context is then unknown, not an error.
    if (refused(err)) return null;
    throw err;
  }
}

function scoreRequest(model: string, prompt: string | string[], maxTokens: 0 | 1): Record<string, unknown> {
  return { model, prompt, echo: true, logprobs: 1, max_tokens: maxTokens, temperature: 0 };
}

export async function probeEndpoint(client: EndpointClient, model: string): Promise<Capabilities> {
  const maxModelLen = await modelCard(client, model);
  const path = '/completions';
  const cpPrompt = codePoints(PROBE), cpContext = codePoints(PROBE_CONTEXT);
  const tryScore = (maxTokens: 0 | 1) => attempt(client, path, async () => {
    const [choice] = choicesOf(await client.post(path, scoreRequest(model, PROBE, maxTokens)), 1);
    continuationScore(choice, cpContext, cpPrompt);
    return maxTokens;
  });
  let score = await tryScore(0);
  // A 4xx to max_tokens 0 may only be about the 0 (its reason then is the second refusal's); a
  // 404 or 405 means no completions route.
  if (!score.ok && score.status !== null && score.status !== 404 && score.status !== 405) score = await tryScore(1);
  const loglikelihood: Capabilities['loglikelihood'] = score.ok ? { ok: true, maxTokens: score.value } : { ok: false, reason: score.reason };

  let batch = false;
  if (score.ok) {
    const two = await attempt(client, path, async () => {
      const choices = choicesOf(await client.post(path, scoreRequest(model, [PROBE, PROBE_CONTEXT], score.value)), 2);
      continuationScore(choices[0], cpContext, cpPrompt);
      return true;
    });
    batch = two.ok;
  }

  // Generation: completions when it answers plain requests, else chat.
  const completions = score.ok ? score : await attempt(client, path, async () => {
    completionText(choicesOf(await client.post(path, { model, prompt: 'Hello', max_tokens: 1, temperature: 0 }), 1)[0]);
    return true;
  });
  let generate: Capabilities['generate'];
  if (completions.ok) generate = { ok: true, via: 'completions' };
  else {
    const chat = await attempt(client, '/chat/completions', async () => {
      chatText(choicesOf(await client.post('/chat/completions', { model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, temperature: 0 }), 1)[0]);
      return true;
    });
    generate = chat.ok ? { ok: true, via: 'chat' } : { ok: false, reason: `completions: ${completions.reason}; chat: ${chat.reason}` };
  }
  return { maxModelLen, loglikelihood, generate, batch };
}
