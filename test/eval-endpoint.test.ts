// The endpoint scorer: against `scalelab serve` on loopback its log-likelihoods are bit for bit the
// local Decoder's float64 log-softmax sums (multi-byte UTF-8 included) and its greedy generations
// are local greedy decoding; against a fake server that misbehaves it retries 429, 5xx, resets and
// timeouts, gives up with one clear line naming the URL, never retries other 4xx, rejects
// malformed answers, and says which capabilities an endpoint lacks and why.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { train } from '../src/train/train.js';
import { loadWeights } from '../src/train/checkpoint.js';
import { GPT } from '../src/models/gpt.js';
import { Decoder, logSoftmax } from '../src/models/decode.js';
import { decode, encode } from '../src/data/tokenizer.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { EndpointScorer, endpointSubject } from '../src/eval/endpoint.js';
import { EMPTY_CONTEXT } from '../src/eval/runner.js';
import { LocalScorer } from '../src/eval/local-scorer.js';
import { EndpointError, normalizeBaseURL } from '../src/eval/endpoint-client.js';
import { continuationScore, cutGeneration, ProtocolError } from '../src/eval/endpoint-answers.js';
import { mapLimit } from '../src/eval/map-limit.js';
import type { GenerateRequest, LoglikelihoodRequest } from '../src/eval/types.js';

const CTX = 64;

/** Greedy choice as the server makes it: the largest float64 log-prob, ties to the lower id. */
function argmax(lp: Float64Array): number {
  let best = 0;
  for (let i = 1; i < lp.length; i++) if (lp[i] > lp[best]) best = i;
  return best;
}

/** log P(continuation | context) from one chunk through the Decoder, summed left to right in float64. */
function localLoglikelihood(d: Decoder, r: LoglikelihoodRequest): { logprob: number; greedy: boolean } {
  const context = r.context === '' ? EMPTY_CONTEXT : r.context;
  const ctx = encode(context).length, ids = Array.from(encode(context + r.continuation));
  const cache = d.newCache();
  const { logits } = d.step([{ cache, tokens: ids, logits: 'all' }]);
  let logprob = 0, greedy = true;
  for (let j = ctx; j < ids.length; j++) {
    const lp = logSoftmax(logits.subarray((j - 1) * 256, j * 256));
    logprob += lp[ids[j]];
    if (argmax(lp) !== ids[j]) greedy = false;
  }
  d.release(cache);
  return { logprob, greedy };
}

/** Greedy decoding byte by byte until maxBytes or a stop string, the text cut before the stop. */
function localGenerate(d: Decoder, r: GenerateRequest): string {
  const cache = d.newCache();
  let { logits } = d.step([{ cache, tokens: Array.from(encode(r.prompt)), logits: 'last' }]);
  const out: number[] = [];
  let text = '';
  while (out.length < r.maxBytes) {
    const t = argmax(logSoftmax(logits.subarray(0, 256)));
    out.push(t);
    text = decode(out);
    const at = Math.min(...r.stop.map((s) => (text.indexOf(s) < 0 ? Infinity : text.indexOf(s))));
    if (at < Infinity) {
      text = text.slice(0, at);
      break;
    }
    if (out.length < r.maxBytes) logits = d.step([{ cache, tokens: [t], logits: 'last' }]).logits;
  }
  d.release(cache);
  return text;
}

describe('endpoint scorer against scalelab serve', () => {
  let home: string;
  let server: RunningServer;
  let decoder: Decoder;
  let local: LocalScorer;
  let scorer: EndpointScorer;

  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-eval-endpoint-'));
    const res = await train({ layers: 1, dModel: 32, heads: 2, ctx: CTX, batch: 4, tokens: 4 * CTX * 20, evalTokens: 1024, threads: 2, name: 'tiny' }, { home });
    assert.equal(res.status, 'done');
    const model = loadWeights(path.join(res.dir, 'model.safetensors'), (cfg) => new GPT(cfg)).model;
    decoder = new Decoder(model);
    local = new LocalScorer(model, { subject: res.run.id });
    server = await startServer({ home, port: 0, maxBatch: 8 });
    scorer = await EndpointScorer.connect({ url: server.url, model: 'tiny', batchSize: 4, concurrency: 3, maxRetries: 0 });
  });

  after(async () => {
    await server?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('reads the context from the model card and finds echo, log-probs and batching', async () => {
    const card = await (await fetch(`${server.url}/v1/models/tiny`)).json() as { max_model_len: number };
    assert.equal(card.max_model_len, CTX);
    const list = await (await fetch(`${server.url}/v1/models`)).json() as { data: { id: string; max_model_len: number }[] };
    assert.equal(list.data.find((m) => m.id === 'tiny')?.max_model_len, CTX);
    assert.equal(scorer.subject, `endpoint:${server.url}/v1#tiny`);
    assert.equal(endpointSubject({ url: server.url, model: 'tiny' }).subject, scorer.subject);
    assert.equal(scorer.maxContextBytes, CTX);
    assert.deepEqual(scorer.supports('loglikelihood'), { ok: true });
    assert.deepEqual(scorer.supports('generate'), { ok: true });
    assert.deepEqual(scorer.capabilities, { maxModelLen: CTX, loglikelihood: { ok: true, maxTokens: 0 }, generate: { ok: true, via: 'completions' }, batch: true });
  });

  it('log-likelihoods equal the local float64 log-softmax sums exactly, multi-byte text included', async () => {
    const requests: LoglikelihoodRequest[] = [
      { context: 'The jury said', continuation: ' that' },
      { context: 'The jury said', continuation: ' the' },
      { context: 'It was the best of times, it was the', continuation: ' worst of times' },
      { context: 'naïve café', continuation: ' — déjà vu' },
      { context: 'Tōkyō と', continuation: '東京' },
      { context: '€', continuation: '😀 ok' },
      { context: '', continuation: 'The' },
      { context: 'of the', continuation: ' ' },
      { context: 'a', continuation: '' },
      { context: 'The county', continuation: ' of the' },
      { context: 'He said, "', continuation: 'No."' },
    ];
    const got = await scorer.loglikelihood(requests);
    const want = requests.map((r) => (r.continuation === '' ? { logprob: 0, greedy: true } : localLoglikelihood(decoder, r)));
    for (let i = 0; i < requests.length; i++) {
      assert.ok(Object.is(got[i].logprob, want[i].logprob), `${JSON.stringify(requests[i])}: ${got[i].logprob} !== ${want[i].logprob}`);
      assert.equal(got[i].greedy, want[i].greedy, JSON.stringify(requests[i]));
    }
    // And the evaluation's own local scorer (contexts prefilled once, continued from cache copies).
    const scored = requests.filter((r) => r.context !== '' && r.continuation !== '');
    const viaLocal = await local.loglikelihood(scored);
    const viaEndpoint = await scorer.loglikelihood(scored);
    viaLocal.forEach((l, i) => {
      assert.ok(Object.is(viaEndpoint[i].logprob, l.logprob), `${JSON.stringify(scored[i])}: ${viaEndpoint[i].logprob} !== ${l.logprob}`);
      assert.equal(viaEndpoint[i].greedy, l.greedy);
    });
    assert.ok(got.every((g, i) => requests[i].continuation === '' || g.logprob < 0));
  });

  it('greedy log-likelihood: a continuation the model would generate is greedy', async () => {
    const prompt = 'The Fulton County';
    const cont = localGenerate(decoder, { prompt, stop: [], maxBytes: 6 });
    const [r] = await scorer.loglikelihood([{ context: prompt, continuation: cont }]);
    assert.equal(r.greedy, true);
  });

  it('generations equal local greedy decoding, with stop strings and more than four of them', async () => {
    const requests: GenerateRequest[] = [
      { prompt: 'The jury', stop: [], maxBytes: 12 },
      { prompt: 'It was the', stop: ['\n'], maxBytes: 20 },
      { prompt: 'It was the', stop: ['e', 'z'], maxBytes: 20 },
      { prompt: 'café ', stop: [' ', ',', '.', ';', 'e'], maxBytes: 16 },
      { prompt: 'The jury', stop: [], maxBytes: 12 },
      { prompt: 'Tōkyō', stop: [], maxBytes: 5 },
      { prompt: 'x', stop: [], maxBytes: 0 },
    ];
    const got = await scorer.generate(requests);
    assert.deepEqual(got, requests.map((r) => localGenerate(decoder, r)));
    assert.deepEqual(got, await local.generate(requests));
  });
});

// ---------------------------------------------------------------------------------------------

type Handler = (req: http.IncomingMessage, body: Record<string, unknown>, res: http.ServerResponse) => void;

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Echoed characters as tokens: log-prob -1 each ('e': -0.5, always in the top), the first null. */
function echo(p: string) {
  const chars = [...p];
  const lp = (c: string) => (c === 'e' ? -0.5 : -1);
  return {
    tokens: chars,
    token_logprobs: chars.map((c, i) => (i === 0 ? null : lp(c))),
    top_logprobs: chars.map((c, i) => (i === 0 ? null : { [c]: lp(c), e: -0.5 })),
    text_offset: chars.map((_, i) => i),
  };
}

/** A well-behaved OpenAI-compatible server: characters as tokens, every completion 'xyz.'. */
const wellBehaved: Handler = (req, body, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET' && url.endsWith('/models/m')) return json(res, 200, { id: 'm', object: 'model', max_model_len: 100 });
  if (url.endsWith('/chat/completions')) return json(res, 200, { choices: [{ index: 0, message: { role: 'assistant', content: 'chat xyz.' } }] });
  if (url.endsWith('/completions')) {
    const prompts = Array.isArray(body.prompt) ? body.prompt as string[] : [body.prompt as string];
    return json(res, 200, {
      object: 'text_completion',
      choices: prompts.map((p, index) => (body.echo ? { index, text: p, logprobs: echo(p), finish_reason: 'length' } : { index, text: 'xyz.', logprobs: null, finish_reason: 'length' })),
    });
  }
  json(res, 404, { error: { message: `no route ${url}` } });
};

describe('endpoint scorer against a misbehaving server', () => {
  let server: http.Server;
  let base: string;
  let handle: Handler = wellBehaved;
  /** Requests per path since the last reset. */
  let seen: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        seen.push(`${req.method} ${(req.url ?? '').replace(/^\/\w+\/v1/, '')}`);
        handle(req, data ? JSON.parse(data) : {}, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A scorer against the fake with the handler in place for the probe; then `seen` restarts. */
  async function connect(o: { timeoutMs?: number; maxRetries?: number; contextBytes?: number } = {}, scenario = 'x'): Promise<EndpointScorer> {
    const s = await EndpointScorer.connect({ url: `${base}/${scenario}/v1`, model: 'm', maxRetries: 2, ...o });
    seen = [];
    return s;
  }

  async function endpointError(p: Promise<unknown>): Promise<EndpointError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof EndpointError, `expected an EndpointError, got ${err}`);
      assert.ok(!err.message.includes('\n'), 'one line');
      return err;
    }
    assert.fail('expected an EndpointError');
  }

  it('scores through a well-behaved fake: sums after the context, greedy from the top alternatives', async () => {
    handle = wellBehaved;
    const s = await connect();
    assert.equal(s.maxContextBytes, 100);
    assert.equal(s.subject, `endpoint:${base}/x/v1#m`);
    const r = await s.loglikelihood([{ context: 'ab', continuation: 'cd' }, { context: 'x', continuation: 'ee' }, { context: '', continuation: 'e' }]);
    assert.deepEqual(r, [{ logprob: -2, greedy: false }, { logprob: -1, greedy: true }, { logprob: -0.5, greedy: true }]);
    assert.deepEqual(seen, ['POST /completions'], 'one batched request');
    assert.deepEqual(await s.generate([{ prompt: 'a', stop: ['.'], maxBytes: 10 }, { prompt: 'b', stop: [], maxBytes: 2 }]), ['xyz', 'xy']);
  });

  it('retries a reset connection, 429 (honouring Retry-After) and 503, then answers', async () => {
    handle = wellBehaved;
    const s = await connect({ maxRetries: 3 });
    const failures: ((res: http.ServerResponse) => void)[] = [
      (res) => res.socket?.destroy(),
      (res) => json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' }),
      (res) => json(res, 503, { error: { message: 'overloaded' } }, { 'retry-after': '0' }),
    ];
    handle = (req, body, res) => (failures.length > 0 ? failures.shift()!(res) : wellBehaved(req, body, res));
    const t0 = Date.now();
    const r = await s.loglikelihood([{ context: 'ab', continuation: 'cd' }]);
    assert.ok(Date.now() - t0 >= 990, 'waited the Retry-After second');
    assert.deepEqual(r, [{ logprob: -2, greedy: false }]);
    assert.equal(seen.length, 4);
  });

  it('gives up after the last retry on 5xx with the URL, status and body in one line', async () => {
    handle = wellBehaved;
    const s = await connect({ maxRetries: 1 });
    handle = (_req, _body, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html>\n<body>Internal\nServer Error</body></html>');
    };
    const err = await endpointError(s.loglikelihood([{ context: 'ab', continuation: 'cd' }]));
    assert.equal(err.status, 500);
    assert.equal(err.message, `${base}/x/v1/completions answered 500 (2 attempts): <html> <body>Internal Server Error</body></html>`);
    assert.equal(seen.length, 2);
  });

  it('does not retry other 4xx, and shows the body of a non-OpenAI error shape', async () => {
    handle = wellBehaved;
    const s = await connect();
    handle = (_req, _body, res) => json(res, 400, { object: 'error', message: 'This model\'s maximum context length is 100 tokens.', code: 400 });
    const err = await endpointError(s.generate([{ prompt: 'a', stop: [], maxBytes: 3 }]));
    assert.equal(err.status, 400);
    assert.match(err.message, /\/x\/v1\/completions answered 400: .*maximum context length is 100 tokens/);
    assert.equal(seen.length, 1);
  });

  it('times out a request that hangs, before or after its headers, and retries it', async () => {
    handle = wellBehaved;
    const s = await connect({ timeoutMs: 300, maxRetries: 1 });
    const hung: http.ServerResponse[] = [];
    handle = (_req, _body, res) => void hung.push(res);
    let err = await endpointError(s.loglikelihood([{ context: 'ab', continuation: 'cd' }]));
    assert.equal(err.message, `${base}/x/v1/completions: no answer within 0.3 s (2 attempts)`);
    assert.equal(seen.length, 2);
    seen = [];
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"choices": [');
      hung.push(res);
    };
    err = await endpointError(s.generate([{ prompt: 'a', stop: [], maxBytes: 3 }]));
    assert.match(err.message, /no answer within 0\.3 s \(2 attempts\)$/);
    assert.equal(seen.length, 2);
    for (const res of hung) res.destroy();
  });

  it('rejects malformed answers with a clear error, never a number', async () => {
    handle = wellBehaved;
    const s = await connect();
    const cases: [Handler, RegExp][] = [
      [(_q, _b, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"choices": [');
      }, /completions answered malformed JSON/],
      [(_q, _b, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello');
      }, /completions answered non-JSON text: hello$/],
      [(_q, _b, res) => json(res, 200, { choices: [] }), /answered without what is needed: 0 choices for 2 prompts/],
      [(_q, _b, res) => json(res, 200, { choices: [{ index: 0, text: 'abcd' }, { index: 1, text: 'ab' }] }), /no logprobs object/],
      [(q, b, res) => {
        const p = b.prompt as string[];
        json(res, 200, { choices: p.map((x, index) => ({ index, text: x, logprobs: { ...echo(x), token_logprobs: echo(x).token_logprobs.map(() => null) } })) });
      }, /token_logprobs\[\d\] is null, not a log-prob/],
      [(q, b, res) => {
        const p = b.prompt as string[];
        json(res, 200, { choices: p.map((x, index) => ({ index, text: x, logprobs: { ...echo(x), text_offset: [0] } })) });
      }, /logprobs has 4 token_logprobs, 1 text_offset/],
      [(q, b, res) => {
        const p = b.prompt as string[];
        json(res, 200, { choices: p.map((x) => ({ index: 0, text: x, logprobs: echo(x) })) });
      }, /choice 1 has index 0/],
    ];
    for (const [h, message] of cases) {
      handle = h;
      const err = await endpointError(s.loglikelihood([{ context: 'ab', continuation: 'cd' }, { context: 'a', continuation: 'b' }]));
      assert.match(err.message, message);
    }
  });

  it('a server without echo log-probs cannot score log-likelihoods, and says why; it still generates', async () => {
    handle = (req, body, res) => {
      if (body.echo) return json(res, 400, { error: { message: 'echo is not supported', type: 'invalid_request_error' } });
      wellBehaved(req, body, res);
    };
    const s = await connect({ contextBytes: 50 });
    const ll = s.supports('loglikelihood');
    assert.equal(ll.ok, false);
    assert.match((ll as { reason: string }).reason, /\/x\/v1\/completions answered 400: echo is not supported/);
    assert.deepEqual(s.supports('generate'), { ok: true });
    assert.equal(s.maxContextBytes, 100, 'the card wins over the option');
    assert.deepEqual(await s.generate([{ prompt: 'a', stop: ['z'], maxBytes: 10 }]), ['xy']);
    await assert.rejects(s.loglikelihood([{ context: 'a', continuation: 'b' }]), /cannot score log-likelihoods: .*echo is not supported/);
  });

  it('a server that refuses max_tokens 0 is scored with max_tokens 1, the generated token left out', async () => {
    handle = (req, body, res) => {
      if (body.max_tokens === 0) return json(res, 400, { error: { message: 'max_tokens must be at least 1' } });
      if (!body.echo) return wellBehaved(req, body, res);
      const prompts = Array.isArray(body.prompt) ? body.prompt as string[] : [body.prompt as string];
      json(res, 200, { choices: prompts.map((p, index) => ({ index, text: `${p}e`, logprobs: echo(`${p}e`) })) });
    };
    const s = await connect();
    assert.deepEqual(s.capabilities.loglikelihood, { ok: true, maxTokens: 1 });
    assert.deepEqual(await s.loglikelihood([{ context: 'ab', continuation: 'cd' }]), [{ logprob: -2, greedy: false }]);
  });

  it('a chat-only server generates through chat and has no log-likelihoods; no batches where arrays are refused', async () => {
    handle = (req, body, res) => {
      const url = req.url ?? '';
      if (url.endsWith('/completions') && !url.endsWith('/chat/completions')) return json(res, 404, { detail: 'Not Found' });
      wellBehaved(req, body, res);
    };
    const s = await connect({}, 'chatonly');
    assert.match((s.supports('loglikelihood') as { reason: string }).reason, /chatonly\/v1\/completions answered 404: Not Found$/);
    assert.equal(s.capabilities.generate.ok && s.capabilities.generate.via, 'chat');
    assert.equal(s.capabilities.batch, false);
    assert.deepEqual(await s.generate([{ prompt: 'a', stop: ['z'], maxBytes: 10 }, { prompt: 'b', stop: [], maxBytes: 3 }]), ['chat xy', 'cha']);
    assert.deepEqual(seen, ['POST /chat/completions', 'POST /chat/completions']);

    handle = (req, body, res) => (Array.isArray(body.prompt) ? json(res, 400, { error: { message: 'one prompt please' } }) : wellBehaved(req, body, res));
    const single = await connect();
    assert.equal(single.capabilities.batch, false);
    assert.deepEqual(await single.loglikelihood([{ context: 'ab', continuation: 'cd' }, { context: 'x', continuation: 'ee' }]), [{ logprob: -2, greedy: false }, { logprob: -1, greedy: true }]);
    assert.equal(seen.length, 2);
  });

  it('an unreachable endpoint, a refused key or an unknown model is an error at connect', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await endpointError(EndpointScorer.connect({ url: `http://127.0.0.1:${port}`, model: 'm', maxRetries: 0 }));
    assert.match(err.message, new RegExp(`^http://127\\.0\\.0\\.1:${port}/v1/models/m: cannot connect \\(ECONNREFUSED; 1 attempt\\)$`));

    handle = (_req, _body, res) => json(res, 404, { error: { message: "The model 'm' does not exist." } });
    assert.match((await endpointError(connect())).message,
      /^nothing can be evaluated at http:\S+\/x\/v1 for model 'm': log-likelihoods: \S+\/x\/v1\/completions answered 404: The model 'm' does not exist\.; generation: completions: .*; chat: \S+\/x\/v1\/chat\/completions answered 404: The model 'm' does not exist\.$/);

    handle = (req, _body, res) => json(res, 401, { error: { message: req.headers.authorization ? 'bad key' : 'no key' } });
    assert.match((await endpointError(connect())).message, /answered 401: no key$/);
    assert.match((await endpointError(EndpointScorer.connect({ url: `${base}/k/v1`, model: 'm', apiKey: 'sk-x' }))).message, /answered 401: bad key$/);
  });
});

describe('endpoint answers', () => {
  it('counts a token straddling the context boundary with the continuation (BPE)', () => {
    // "Hello, world" as BPE tokens: "Hello" ", w" "orld"; context "Hello," (6 code points).
    const choice = { text: 'Hello, world', logprobs: { token_logprobs: [null, -1.5, -0.25], top_logprobs: [null, { ', w': -1.5 }, { orld: -0.25, x: -0.1 }], text_offset: [0, 5, 8] } };
    assert.deepEqual(continuationScore(choice, 6, 12), { logprob: -1.75, greedy: false });
    // Byte tokens of a multi-byte character share its offset: "aé" + "东" (both characters 2 and 3 bytes).
    const bytes = { logprobs: { token_logprobs: [null, -1, -2, -4, -8, -16], top_logprobs: [null, { a: -1 }, { b: -2 }, { c: -4 }, { d: -8 }, { e: -16 }], text_offset: [0, 1, 1, 2, 2, 2] } };
    assert.deepEqual(continuationScore(bytes, 2, 3), { logprob: -28, greedy: true });
    assert.deepEqual(continuationScore(bytes, 1, 3), { logprob: -31, greedy: true });
    assert.throws(() => continuationScore(bytes, 3, 3), ProtocolError);
    // A tie with another token: greedy decoding picked the other one (the lower id, listed in the top).
    const tie = (tokens?: string[]) => ({ logprobs: { tokens, token_logprobs: [null, -1], top_logprobs: [null, { x: -1, y: -1 }], text_offset: [0, 1] } });
    assert.equal(continuationScore(tie(['a', 'y']), 1, 2).greedy, false);
    assert.equal(continuationScore({ logprobs: { ...tie(['a', 'y']).logprobs, top_logprobs: [null, { y: -1 }] } }, 1, 2).greedy, true);
    assert.equal(continuationScore(tie(), 1, 2).greedy, true, 'without token strings a tie is greedy');
  });

  it('cuts a generation at maxBytes on a character boundary, then before the first stop', () => {
    assert.equal(cutGeneration('abc\n\ndef', ['\n\n'], 4), 'abc\n');
    assert.equal(cutGeneration('abc\n\ndef', ['\n\n'], 5), 'abc');
    assert.equal(cutGeneration('aé', [], 2), 'a');
    assert.equal(cutGeneration('ab\ufffd', [], 3), 'ab\ufffd', 'U+FFFD stands for a cut character\'s bytes');
    assert.equal(cutGeneration('😀x', [], 4), '😀');
    assert.equal(cutGeneration('a.b,c', ['x', ',', '.'], 10), 'a');
  });

  it('takes a bare origin as its /v1 and a route URL as its API root', () => {
    assert.equal(normalizeBaseURL('http://127.0.0.1:8000'), 'http://127.0.0.1:8000/v1');
    assert.equal(normalizeBaseURL('http://127.0.0.1:8000/v1/'), 'http://127.0.0.1:8000/v1');
    assert.equal(normalizeBaseURL('https://x.org/v1/completions'), 'https://x.org/v1');
    assert.equal(normalizeBaseURL('https://x.org/api/openai/v1/chat/completions'), 'https://x.org/api/openai/v1');
    assert.throws(() => normalizeBaseURL('localhost:8000'), /--endpoint must be an http\(s\) URL/);
  });

  it('runs at most `limit` tasks at once, in order, and stops starting new ones after a failure', async () => {
    let live = 0, most = 0, started = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (x) => {
      live++;
      most = Math.max(most, live);
      await new Promise((r) => setTimeout(r, x));
      live--;
      return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
    await assert.rejects(mapLimit([1, 2, 3, 4, 5], 1, async (x) => {
      started++;
      if (x === 2) throw new Error('boom');
    }), /boom/);
    assert.equal(started, 2);
  });
});
