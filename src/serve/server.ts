// `scalelab serve`: an OpenAI-compatible HTTP API (fastify) over the run store's models.
//
//   GET  /v1/models             finished runs (id = run name) and checkpoints (NAME@STEP)
//   POST /v1/completions        legacy completions: logprobs, echo, stop, n, seed, stream
//   POST /v1/chat/completions   chat through the template in text.ts; stream as server-sent events
//
// Every request becomes one sequence per choice in the model's Scheduler (continuous batching);
// a request whose client goes away has its sequences cancelled, freeing their slots.
import crypto from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { encode, decode } from '../data/tokenizer.js';
import { ApiError, badParam } from './errors.js';
import { allowedHostNames, hostAllowed, hostName } from './guard.js';
import { clientErrorHandler, DEFAULT_TIMEOUTS, frameworkErrors, serverFactory, type Timeouts } from './http.js';
import { ModelRegistry, type LoadedModel } from './models.js';
import { QueueFullError, type FinishReason, type SequenceHandle, type TokenLogprob } from './scheduler.js';
import { CHAT_STOPS, ChoiceText, chatLogprobs, codePoints, legacyLogprobs, promptOffsets, renderChat, type TrackedToken } from './text.js';
import * as v from './validate.js';

export interface ServeOptions {
  home: string;
  host?: string;
  port?: number;
  /** Accepted bearer keys; none means no authentication. */
  apiKeys?: string[];
  /** Sequences decoded together per model. */
  maxBatch?: number;
  /** Sequences waiting per model before requests get 429. */
  maxQueue?: number;
  /** Largest request body in bytes (413 beyond). */
  bodyLimit?: number;
  /** Bytes loaded models may hold together; least recently used idle ones are dropped beyond (default 1 GiB). */
  modelCacheBytes?: number;
  /** Host names answered besides the bound addresses (a proxy's name); '*' answers any. */
  allowedHosts?: string[];
  /** Milliseconds for a whole request, headers and body, to arrive (408 beyond; default 30 s). */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open (default 5 s). */
  keepAliveTimeout?: number;
  logger?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  registry: ModelRegistry;
  url: string;
  close(): Promise<void>;
}

/** Choices per request at most (prompts × n). */
const MAX_CHOICES = 128;
/** The hidden context of an empty prompt: a newline, the usual boundary between documents. */
const EMPTY_PROMPT_CONTEXT = [10];

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest();

/** True when `given` equals one of the keys; compares fixed-length digests in constant time, against every key. */
export function keyMatches(given: string, keyDigests: Buffer[]): boolean {
  const d = sha256(given);
  let ok = false;
  for (const k of keyDigests) ok = crypto.timingSafeEqual(d, k) || ok;
  return ok;
}

function seedFor(base: number, choice: number): number {
  if (choice === 0) return base >>> 0;
  // Distinct, reproducible streams for the other choices of one prompt.
  return (Math.imul((base >>> 0) ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(choice, 0xc2b2ae35)) >>> 0;
}

interface ChoiceSpec {
  index: number;
  /** What the model is fed (at least one token). */
  fed: number[];
  /** Prompt tokens shown for echo/logprobs (fed minus a hidden context). */
  shownPrompt: number[];
  seed: number;
}

interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  stops: string[];
  /** Alternatives per generated token; -1 when log-probs were not asked for. */
  logprobs: number;
  /** Score the prompt (echo with logprobs). */
  promptLogprobs: boolean;
}

interface ChoiceState {
  spec: ChoiceSpec;
  text: ChoiceText;
  promptEntries: (TokenLogprob & { offset: number })[];
  generated: number;
  finish: FinishReason | null;
}

/**
 * Run every choice through the scheduler. `onUpdate` is called after each token of a choice (and
 * once when it finishes); resolves when all are done, rejects on the first error (the others are
 * cancelled). `cancel` stops them all.
 */
function runChoices(model: LoadedModel, specs: ChoiceSpec[], p: SamplingParams, base: (s: ChoiceSpec) => number,
  onUpdate: (c: ChoiceState, finished: boolean) => void): { states: ChoiceState[]; done: Promise<void>; cancel: () => void } {
  const states: ChoiceState[] = specs.map((spec) => ({ spec, text: new ChoiceText(p.stops, base(spec)), promptEntries: [], generated: 0, finish: null }));
  const handles: SequenceHandle[] = [];
  let cancel = () => {};
  const done = new Promise<void>((resolve, reject) => {
    let left = states.length;
    let failed = false;
    cancel = () => {
      for (const h of handles) h.cancel();
    };
    if (left === 0) resolve();
    for (const st of states) {
      const hidden = st.spec.fed.length - st.spec.shownPrompt.length;
      try {
        handles.push(model.scheduler.submit({
          prompt: st.spec.fed,
          maxTokens: p.maxTokens,
          temperature: p.temperature,
          topP: p.topP,
          seed: st.spec.seed,
          topLogprobs: Math.max(0, p.logprobs),
          promptLogprobs: p.promptLogprobs ? Math.max(0, p.logprobs) : undefined,
          onPrompt: (entries) => {
            const offsets = promptOffsets(st.spec.shownPrompt);
            st.promptEntries = entries.slice(hidden).map((e, i) => ({ ...e, offset: offsets[i] }));
            if (st.promptEntries.length > 0) st.promptEntries[0] = { ...st.promptEntries[0], logprob: null, top: [] };
          },
          onToken: (t) => {
            st.generated++;
            const stop = st.text.push(t);
            if (!stop) onUpdate(st, false);
            return stop ? 'stop' : 'continue';
          },
          onDone: (reason) => {
            st.finish = reason;
            st.text.end();
            onUpdate(st, true);
            if (--left === 0 && !failed) resolve();
          },
          onError: (err) => {
            if (failed) return;
            failed = true;
            cancel();
            reject(err);
          },
        }));
      } catch (err) {
        failed = true;
        cancel();
        reject(err instanceof QueueFullError
          ? new ApiError(429, `The server is busy (${err.message}); retry later.`, 'rate_limit_error', null, 'queue_full')
          : err);
        break;
      }
    }
  });
  return { states, done, cancel };
}

/** Tokenise prompts and check them and max_tokens against the context. */
function planChoices(model: LoadedModel, prompts: number[][], n: number, maxTokens: number | undefined, defaultMax: (room: number) => number,
  seed: number): { specs: ChoiceSpec[]; maxTokens: number } {
  const ctx = model.ctx;
  let longest = 0;
  for (const pr of prompts) longest = Math.max(longest, Math.max(pr.length, 1));
  if (longest > ctx) {
    throw new ApiError(400, `This model's maximum context length is ${ctx} tokens, however your prompt is ${longest} tokens ` +
      `(tokens are UTF-8 bytes). Please shorten your prompt.`, 'invalid_request_error', 'prompt', 'context_length_exceeded');
  }
  const room = ctx - longest;
  const max = maxTokens ?? defaultMax(room);
  if (longest + max > ctx) {
    throw new ApiError(400, `This model's maximum context length is ${ctx} tokens, however you requested ${longest + max} tokens ` +
      `(${longest} in your prompt; ${max} for the completion). Please reduce your prompt or max_tokens.`,
      'invalid_request_error', 'max_tokens', 'context_length_exceeded');
  }
  const specs: ChoiceSpec[] = [];
  prompts.forEach((pr, pi) => {
    for (let j = 0; j < n; j++) {
      specs.push({ index: pi * n + j, fed: pr.length > 0 ? pr : EMPTY_PROMPT_CONTEXT, shownPrompt: pr, seed: seedFor(seed, j) });
    }
  });
  return { specs, maxTokens: max };
}

function randomSeed(): number {
  return crypto.randomBytes(4).readUInt32LE(0);
}

/** Commonly shared sampling parameters. */
function sampling(b: v.Body) {
  const temperature = v.optNumber(b, 'temperature', { min: 0, max: 2 }) ?? 1;
  const topP = v.optNumber(b, 'top_p', { min: 0, max: 1, minExclusive: true }) ?? 1;
  const n = v.optNumber(b, 'n', { min: 1, max: MAX_CHOICES, integer: true }) ?? 1;
  const stream = v.optBool(b, 'stream', false);
  const streamOpts = v.streamOptions(b);
  return { temperature, topP, n, stream, includeUsage: stream && streamOpts.includeUsage, stops: v.optStops(b), seed: v.optSeed(b) ?? randomSeed() };
}

class SSE {
  private open = true;
  constructor(private readonly reply: FastifyReply) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.on('close', () => {
      this.open = false;
    });
  }
  send(obj: unknown): void {
    if (this.open && !this.reply.raw.destroyed) this.reply.raw.write(`data: ${JSON.stringify(obj)}\n\n`);
  }
  end(): void {
    if (this.open && !this.reply.raw.destroyed) this.reply.raw.end('data: [DONE]\n\n');
    this.open = false;
  }
}

/** Cancel the work when the client goes away before the response is complete. */
function onClientGone(reply: FastifyReply, cancel: () => void): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) cancel();
  });
}

function errorBody(err: ApiError | Error): ReturnType<ApiError['toJSON']> {
  return err instanceof ApiError ? err.toJSON() : new ApiError(500, 'The server had an error while processing your request.', 'server_error', null, 'internal_error').toJSON();
}

/** The key guards the models under /v1; /health, the dashboard's page and its read-only /api are open, and unknown URLs get their 404. */
const needsKey = (route: string | undefined) => route !== undefined && route.startsWith('/v1');

export function buildApp(o: ServeOptions): { app: FastifyInstance; registry: ModelRegistry } {
  const bodyLimit = o.bodyLimit ?? 1 << 20;
  const timeouts: Timeouts = {
    requestTimeout: o.requestTimeout ?? DEFAULT_TIMEOUTS.requestTimeout,
    keepAliveTimeout: o.keepAliveTimeout ?? DEFAULT_TIMEOUTS.keepAliveTimeout,
  };
  const app = Fastify({
    logger: o.logger ?? false, bodyLimit, forceCloseConnections: true,
    // Run ids and names may be 128 characters; fastify matches only 100 in a path parameter by default.
    routerOptions: { maxParamLength: 160 },
    serverFactory: serverFactory(timeouts), clientErrorHandler: clientErrorHandler(timeouts), frameworkErrors,
  });
  const registry = new ModelRegistry(o.home, { maxBatch: o.maxBatch ?? 32, maxQueue: o.maxQueue }, { maxBytes: o.modelCacheBytes });
  const keyDigests = (o.apiKeys ?? []).map(sha256);
  const hosts = { bound: () => boundAddress(app), allowed: allowedHostNames(o.allowedHosts ?? []) };

  // Only JSON bodies: a web page can post a form or text/plain without asking (no CORS preflight),
  // but not application/json. Without a parser for it, fastify answers any other content type with 415.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req) => {
    if (!hostAllowed(req.headers.host, hosts)) {
      const name = hostName(req.headers.host ?? '');
      throw new ApiError(403, `This server does not answer to the host name '${name}' (a web page may be trying to reach it under its own name); ` +
        `start it with --allowed-host ${name || 'NAME'} if that name is yours.`, 'invalid_request_error', null, 'host_not_allowed');
    }
    if (keyDigests.length === 0 || !needsKey(req.routeOptions.url)) return;
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
    if (!m) {
      throw new ApiError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.", 'authentication_error', null, 'missing_api_key');
    }
    if (!keyMatches(m[1], keyDigests)) throw new ApiError(401, 'Incorrect API key provided.', 'authentication_error', null, 'invalid_api_key');
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send(err.toJSON());
    const status = err.statusCode ?? 500;
    if (status === 413) {
      return reply.code(413).send(new ApiError(413, `The request body is larger than the limit of ${bodyLimit} bytes.`, 'invalid_request_error', null, 'request_too_large').toJSON());
    }
    if (status === 415) {
      return reply.code(415).send(new ApiError(415, `Unsupported content type '${req.headers['content-type'] ?? '(none)'}': send the body as JSON ` +
        "with 'Content-Type: application/json'.", 'invalid_request_error', null, 'unsupported_media_type').toJSON());
    }
    if (status === 400 && (err instanceof SyntaxError || (err.code ?? '').startsWith('FST_ERR_CTP'))) {
      return reply.code(400).send(new ApiError(400, 'We could not parse the JSON body of your request: it must be valid JSON (an object of parameters).', 'invalid_request_error', null, 'invalid_json').toJSON());
    }
    if (status >= 400 && status < 500) return reply.code(status).send(new ApiError(status, err.message, 'invalid_request_error', null, err.code ?? null).toJSON());
    req.log.error(err);
    return reply.code(500).send(errorBody(err));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(new ApiError(404, `Unknown request URL: ${req.method} ${req.url}.`, 'invalid_request_error', null, 'unknown_url').toJSON());
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/v1/models', async () => ({ object: 'list', data: registry.list() }));

  app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => {
    const m = registry.list().find((x) => x.id === req.params.id);
    if (!m) throw new ApiError(404, `The model '${req.params.id}' does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
    return m;
  });

  app.post('/v1/completions', async (req: FastifyRequest, reply: FastifyReply) => {
    const b = v.asBody(req.body);
    const modelId = v.requiredString(b, 'model');
    const s = sampling(b);
    const maxTokens = v.optNumber(b, 'max_tokens', { min: 0, max: 1 << 20, integer: true });
    const logprobs = v.optNumber(b, 'logprobs', { min: 0, max: 5, integer: true });
    const echo = v.optBool(b, 'echo', false);
    const model = await registry.get(modelId);
    const raw = v.prompts(b, model.decoder.config.vocab);
    if (raw.length * s.n > MAX_CHOICES) throw badParam('n', `Too many choices: ${raw.length} prompts × n ${s.n} exceeds ${MAX_CHOICES}.`);
    const toks = raw.map((p) => ('text' in p ? Array.from(encode(p.text)) : p.tokens));
    const promptTexts = raw.map((p, i) => ('text' in p ? p.text : decode(toks[i])));
    const plan = planChoices(model, toks, s.n, maxTokens, (room) => Math.min(16, room), s.seed);
    const wantLp = logprobs !== undefined;
    const params: SamplingParams = {
      maxTokens: plan.maxTokens, temperature: s.temperature, topP: s.topP, stops: s.stops,
      logprobs: wantLp ? logprobs : -1, promptLogprobs: echo && wantLp,
    };
    const id = `cmpl-${crypto.randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const promptOf = (spec: ChoiceSpec) => Math.floor(spec.index / s.n);
    const base = (spec: ChoiceSpec) => (echo ? codePoints(promptTexts[promptOf(spec)]) : 0);
    const promptTokens = toks.reduce((a, t) => a + t.length, 0);
    const usage = (states: ChoiceState[]) => {
      const completion = states.reduce((a, c) => a + c.generated, 0);
      return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
    };
    const lpOf = (entries: (TokenLogprob & { offset: number })[]) => legacyLogprobs(entries);

    // max_tokens 0 without prompt scoring needs no model work.
    const specs = params.maxTokens === 0 && !params.promptLogprobs ? [] : plan.specs;
    if (!s.stream) {
      const run = runChoices(model, specs, params, base, () => {});
      onClientGone(reply, run.cancel);
      await run.done;
      const byIndex = new Map(run.states.map((st) => [st.spec.index, st]));
      const choices = plan.specs.map((spec) => {
        const st = byIndex.get(spec.index);
        const text = (echo ? promptTexts[promptOf(spec)] : '') + (st?.text.text ?? '');
        let lp = null;
        if (wantLp) {
          const gen = (st?.text.tokens ?? []) as TrackedToken[];
          lp = lpOf([...(echo ? st?.promptEntries ?? [] : []), ...gen]);
          if (echo && !st) lp = lpOf(promptEntriesWithoutScores(toks[promptOf(spec)]));
        }
        return { text, index: spec.index, logprobs: lp, finish_reason: st?.finish ?? 'length' };
      });
      return { id, object: 'text_completion', created, model: model.id, system_fingerprint: null, choices, usage: usage(run.states) };
    }

    const sse = new SSE(reply);
    const chunk = (choices: unknown[]) => ({ id, object: 'text_completion', created, model: model.id, system_fingerprint: null, choices, ...(s.includeUsage ? { usage: null } : {}) });
    const echoed = new Set<number>();
    const sendEcho = (st: ChoiceState | null, spec: ChoiceSpec) => {
      if (!echo || echoed.has(spec.index)) return;
      echoed.add(spec.index);
      const lp = wantLp ? lpOf(st ? st.promptEntries : promptEntriesWithoutScores(toks[promptOf(spec)])) : null;
      sse.send(chunk([{ text: promptTexts[promptOf(spec)], index: spec.index, logprobs: lp, finish_reason: null }]));
    };
    const run = runChoices(model, specs, params, base, (st, finished) => {
      sendEcho(st, st.spec);
      const { text, tokens } = st.text.take(finished);
      if (text !== '' || (wantLp && tokens.length > 0)) {
        sse.send(chunk([{ text, index: st.spec.index, logprobs: wantLp ? lpOf(tokens) : null, finish_reason: null }]));
      }
      if (finished) sse.send(chunk([{ text: '', index: st.spec.index, logprobs: null, finish_reason: st.finish }]));
    });
    onClientGone(reply, run.cancel);
    try {
      await run.done;
      if (specs.length === 0) {
        for (const spec of plan.specs) {
          sendEcho(null, spec);
          sse.send(chunk([{ text: '', index: spec.index, logprobs: null, finish_reason: 'length' }]));
        }
      }
      if (s.includeUsage) sse.send({ id, object: 'text_completion', created, model: model.id, system_fingerprint: null, choices: [], usage: usage(run.states) });
    } catch (err) {
      req.log.error(err);
      sse.send(errorBody(err as Error));
    }
    sse.end();
  });

  app.post('/v1/chat/completions', async (req: FastifyRequest, reply: FastifyReply) => {
    const b = v.asBody(req.body);
    const modelId = v.requiredString(b, 'model');
    const messages = v.chatMessages(b);
    const s = sampling(b);
    const maxTokens = v.optNumber(b, 'max_completion_tokens', { min: 1, max: 1 << 20, integer: true })
      ?? v.optNumber(b, 'max_tokens', { min: 1, max: 1 << 20, integer: true });
    const wantLp = v.optBool(b, 'logprobs', false);
    const topLogprobs = v.optNumber(b, 'top_logprobs', { min: 0, max: 20, integer: true });
    if (topLogprobs !== undefined && !wantLp) throw badParam('top_logprobs', "'top_logprobs' requires 'logprobs' to be true.");
    const model = await registry.get(modelId);
    const prompt = Array.from(encode(renderChat(messages)));
    const plan = planChoices(model, [prompt], s.n, maxTokens, (room) => room, s.seed);
    if (plan.maxTokens < 1) {
      throw new ApiError(400, `This model's maximum context length is ${model.ctx} tokens and the messages take ${prompt.length}; ` +
        'no room is left for a reply. Please shorten the messages.', 'invalid_request_error', 'messages', 'context_length_exceeded');
    }
    const params: SamplingParams = {
      maxTokens: plan.maxTokens, temperature: s.temperature, topP: s.topP, stops: [...s.stops, ...CHAT_STOPS],
      logprobs: wantLp ? topLogprobs ?? 0 : -1, promptLogprobs: false,
    };
    const id = `chatcmpl-${crypto.randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = (states: ChoiceState[]) => {
      const completion = states.reduce((a, c) => a + c.generated, 0);
      return { prompt_tokens: prompt.length, completion_tokens: completion, total_tokens: prompt.length + completion };
    };

    if (!s.stream) {
      const run = runChoices(model, plan.specs, params, () => 0, () => {});
      onClientGone(reply, run.cancel);
      await run.done;
      const choices = run.states.map((st) => ({
        index: st.spec.index,
        message: { role: 'assistant', content: st.text.text, refusal: null },
        logprobs: wantLp ? { content: chatLogprobs(st.text.tokens), refusal: null } : null,
        finish_reason: st.finish,
      }));
      return { id, object: 'chat.completion', created, model: model.id, system_fingerprint: null, choices, usage: usage(run.states) };
    }

    const sse = new SSE(reply);
    const chunk = (choices: unknown[]) => ({ id, object: 'chat.completion.chunk', created, model: model.id, system_fingerprint: null, choices, ...(s.includeUsage ? { usage: null } : {}) });
    for (const spec of plan.specs) sse.send(chunk([{ index: spec.index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
    const run = runChoices(model, plan.specs, params, () => 0, (st, finished) => {
      const { text, tokens } = st.text.take(finished);
      if (text !== '' || (wantLp && tokens.length > 0)) {
        sse.send(chunk([{ index: st.spec.index, delta: { content: text }, logprobs: wantLp ? { content: chatLogprobs(tokens), refusal: null } : null, finish_reason: null }]));
      }
      if (finished) sse.send(chunk([{ index: st.spec.index, delta: {}, logprobs: null, finish_reason: st.finish }]));
    });
    onClientGone(reply, run.cancel);
    try {
      await run.done;
      if (s.includeUsage) sse.send({ id, object: 'chat.completion.chunk', created, model: model.id, system_fingerprint: null, choices: [], usage: usage(run.states) });
    } catch (err) {
      req.log.error(err);
      sse.send(errorBody(err as Error));
    }
    sse.end();
  });

  app.addHook('onClose', async () => registry.close());
  return { app, registry };
}

/** Echoed prompt tokens when nothing was scored (max_tokens 0 without a model pass): no log-probs. */
function promptEntriesWithoutScores(tokens: number[]): (TokenLogprob & { offset: number })[] {
  const offsets = promptOffsets(tokens);
  return tokens.map((token, i) => ({ token, logprob: null, top: [], offset: offsets[i] }));
}

/** The address the server listens on, once it does. */
function boundAddress(app: FastifyInstance): string | undefined {
  const a = app.server.listening ? app.server.address() : null;
  return typeof a === 'object' && a ? a.address : undefined;
}

/** Build the app and listen; 127.0.0.1 by default, port 0 for any free one. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const { app, registry } = buildApp(o);
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 8080 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 8080;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { app, registry, url: `http://${shown}:${port}`, close: () => app.close() };
}
