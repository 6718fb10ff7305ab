// scalelab serve: a real server on loopback driven by the official openai client. Completions,
// streaming chat, echo log-probs equal to the training forward's, n > 1, stop sequences, seeds,
// every error status (and the server still serving after each), a client that disconnects
// mid-stream, and a small concurrent load.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { train } from '../src/train/train.js';
import { loadWeights } from '../src/train/checkpoint.js';
import { GPT } from '../src/models/gpt.js';
import { Graph } from '../src/engine/graph.js';
import { native } from '../src/engine/native.js';
import { Decoder, logSoftmax } from '../src/models/decode.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { tokenString } from '../src/serve/text.js';
import type { LoadedModel } from '../src/serve/models.js';

const CTX = 64;
let home: string;
let server: RunningServer;
let keyed: RunningServer;
let client: OpenAI;
let model: GPT;

/** The training forward's log-probs of each token of `ids` given the ones before it. */
function trainingLogprobs(ids: number[]): number[] {
  const g = new Graph(native, { training: false });
  const { logits } = model.forward(g, Int32Array.from(ids), 1, ids.length);
  const out: number[] = [];
  for (let t = 1; t < ids.length; t++) out.push(logSoftmax(logits.data.subarray((t - 1) * 256, t * 256))[ids[t]]);
  return out;
}

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const r = await fetch(url, { method: 'POST', body, headers });
  return { status: r.status, json: await r.json() as { error?: { message: string; type: string; param: string | null; code: string | null } } };
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? -1;
    throw err;
  }
}

async function loaded(): Promise<LoadedModel> {
  return (await server.registry.loadedModels()).find((m) => m.id === 'tiny')!;
}

/** A good request succeeds: the server keeps serving. */
async function stillServes(): Promise<void> {
  const r = await client.completions.create({ model: 'tiny', prompt: 'The ', max_tokens: 3, seed: 1 });
  assert.equal(r.usage?.completion_tokens, 3);
}

describe('scalelab serve', () => {
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-serve-'));
    const res = await train({ layers: 1, dModel: 32, heads: 2, ctx: CTX, batch: 4, tokens: 4 * CTX * 20, evalTokens: 1024, checkpointEvery: 10, threads: 2, name: 'tiny' }, { home });
    assert.equal(res.status, 'done');
    model = loadWeights(path.join(res.dir, 'model.safetensors'), (cfg) => new GPT(cfg)).model;
    server = await startServer({ home, port: 0, maxBatch: 8, bodyLimit: 64 * 1024 });
    keyed = await startServer({ home, port: 0, apiKeys: ['sk-first', 'sk-second'] });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await server?.close();
    await keyed?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('binds to loopback and lists finished runs and their checkpoints', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('tiny'), ids.join());
    assert.ok(ids.includes('tiny@10'), ids.join());
    const c = await client.completions.create({ model: 'tiny@10', prompt: 'a', max_tokens: 2 });
    assert.equal(c.model, 'tiny@10');
  });

  it('decodes with a KV cache to the training forward\'s logits', () => {
    const ids = Array.from({ length: CTX }, (_, i) => 'It was the best of times, it was the worst of times; '.charCodeAt(i % 52));
    const ref = trainingLogprobs(ids);
    const d = new Decoder(model);
    const a = d.newCache(), b = d.newCache();
    // A prompt of 20, then one token a step, batched with another sequence.
    let worst = 0;
    const first = d.step([{ cache: a, tokens: ids.slice(0, 20), logits: 'all' }]);
    for (let t = 1; t < 20; t++) worst = Math.max(worst, Math.abs(logSoftmax(first.logits.subarray((t - 1) * 256, t * 256))[ids[t]] - ref[t - 1]));
    let prev = first.logits.slice(19 * 256, 20 * 256);
    for (let t = 20; t < CTX; t++) {
      worst = Math.max(worst, Math.abs(logSoftmax(prev)[ids[t]] - ref[t - 1]));
      const chunks = [{ cache: b, tokens: [t % 200], logits: 'last' as const }, { cache: a, tokens: [ids[t]], logits: 'last' as const }];
      const out = d.step(b.length < CTX ? chunks : chunks.slice(1));
      const row = out.rowOf[out.rowOf.length - 1];
      prev = out.logits.slice(row * 256, (row + 1) * 256);
    }
    assert.ok(worst < 1e-4, `max |Δ log-prob| ${worst}`);
  });

  it('completes a prompt with usage counts', async () => {
    const r = await client.completions.create({ model: 'tiny', prompt: 'The jury', max_tokens: 12, temperature: 0.8, seed: 7 });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.deepEqual(r.usage, { prompt_tokens: 8, completion_tokens: 12, total_tokens: 20 });
    assert.ok(Buffer.byteLength(r.choices[0].text) <= 12 * 3);
  });

  it('echo + logprobs + max_tokens 0 returns the prompt\'s log-probs, equal to the training forward\'s', async () => {
    const prompt = 'The Fulton County Grand Jury said Friday';
    const r = await client.completions.create({ model: 'tiny', prompt, max_tokens: 0, echo: true, logprobs: 3 });
    const c = r.choices[0];
    assert.equal(c.text, prompt);
    const lp = c.logprobs!;
    const ids = [...Buffer.from(prompt)];
    assert.deepEqual(lp.tokens, ids.map(tokenString));
    assert.equal(lp.token_logprobs![0], null);
    assert.equal(lp.top_logprobs![0], null);
    assert.deepEqual(lp.text_offset, ids.map((_, i) => i));
    const ref = trainingLogprobs(ids);
    const worst = Math.max(...ref.map((x, i) => Math.abs(x - (lp.token_logprobs![i + 1] as number))));
    assert.ok(worst < 1e-4, `max |Δ log-prob| ${worst}`);
    for (let i = 1; i < ids.length; i++) {
      const top = lp.top_logprobs![i]!;
      assert.ok(Object.keys(top).length >= 3 && Object.keys(top).length <= 4);
      assert.equal(top[lp.tokens![i]], lp.token_logprobs![i]);
      assert.ok(Math.max(...Object.values(top)) >= (lp.token_logprobs![i] as number));
    }
    assert.deepEqual(r.usage, { prompt_tokens: ids.length, completion_tokens: 0, total_tokens: ids.length });
  });

  it('scores the lm-evaluation-harness way: token-id prompts, echo, max_tokens 1', async () => {
    const a = [...Buffer.from('Hello there')], b = [...Buffer.from('é café ✓')];
    const r = await client.completions.create({ model: 'tiny', prompt: [a, b], max_tokens: 1, echo: true, logprobs: 1, temperature: 0 });
    assert.equal(r.choices.length, 2);
    for (const [i, ids] of [a, b].entries()) {
      const lp = r.choices[i].logprobs!;
      assert.equal(lp.tokens!.length, ids.length + 1);
      const ref = trainingLogprobs(ids);
      for (let t = 1; t < ids.length; t++) assert.ok(Math.abs((lp.token_logprobs![t] as number) - ref[t - 1]) < 1e-4);
      // Greedy: the generated token is the top alternative.
      const last = lp.top_logprobs![ids.length]!;
      assert.equal(Math.max(...Object.values(last)), lp.token_logprobs![ids.length]);
    }
    // Multi-byte characters: every byte has the offset where its character starts (code points).
    const lp = r.choices[1].logprobs!;
    assert.deepEqual(lp.text_offset!.slice(0, b.length), [0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 7, 7]);
    assert.equal(lp.tokens![0], 'bytes:\\xc3');
    assert.ok(r.choices[1].text.startsWith('é café ✓'));
  });

  it('streams chat as server-sent events ending with usage', async () => {
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi.' }];
    const stream = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 16, seed: 3, stream: true, stream_options: { include_usage: true } });
    let text = '', usage = null, finish = null, roles = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.delta.role === 'assistant') roles++;
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(roles, 1);
    assert.ok(finish === 'length' || finish === 'stop');
    assert.ok(usage && usage.prompt_tokens === Buffer.byteLength('System: Be brief.\nUser: Hi.\nAssistant:'));
    const whole = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 16, seed: 3 });
    assert.equal(whole.choices[0].message.content, text);
    assert.equal(whole.choices[0].message.role, 'assistant');
    assert.deepEqual(whole.usage, usage);
  });

  it('n > 1 gives n different choices, each reproducible', async () => {
    const r = await client.completions.create({ model: 'tiny', prompt: 'In the', max_tokens: 10, n: 3, seed: 11, temperature: 1 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
    assert.equal(new Set(r.choices.map((c) => c.text)).size, 3);
    assert.equal(r.usage?.completion_tokens, 30);
    const again = await client.completions.create({ model: 'tiny', prompt: 'In the', max_tokens: 10, n: 3, seed: 11, temperature: 1 });
    assert.deepEqual(again.choices.map((c) => c.text), r.choices.map((c) => c.text));
  });

  it('n > 1 prefills the prompt once, and each choice is what its own prefill would give', async () => {
    const stats = (await server.registry.loadedModels()).find((m) => m.id === 'tiny')!.scheduler.stats;
    const prompt = 'It was a dark and stormy night';
    const before = stats.prefillTokens;
    const r = await client.completions.create({ model: 'tiny', prompt, max_tokens: 12, n: 5, seed: 7, temperature: 1, logprobs: 2 });
    assert.equal(stats.prefillTokens - before, prompt.length, 'one prefill for five choices');
    assert.equal(new Set(r.choices.map((c) => c.text)).size, 5);
    // Choice 0 samples with the request's seed: the same as n = 1, which prefills on its own.
    const one = await client.completions.create({ model: 'tiny', prompt, max_tokens: 12, seed: 7, temperature: 1, logprobs: 2 });
    assert.equal(r.choices[0].text, one.choices[0].text);
    assert.deepEqual(r.choices[0].logprobs!.token_logprobs, one.choices[0].logprobs!.token_logprobs);
  });

  it('stops at a stop sequence, leaving it out', async () => {
    const full = await client.completions.create({ model: 'tiny', prompt: 'The', max_tokens: 30, temperature: 0, logprobs: 0 });
    const text = full.choices[0].text;
    const chars = [...text];
    const stop = chars.slice(6, 8).join('');
    const cut = text.slice(0, text.indexOf(stop));
    const r = await client.completions.create({ model: 'tiny', prompt: 'The', max_tokens: 30, temperature: 0, stop: [stop, 'never-appears'], logprobs: 0 });
    assert.equal(r.choices[0].text, cut);
    assert.equal(r.choices[0].finish_reason, 'stop');
    const kept = r.choices[0].logprobs!.tokens!;
    assert.ok(kept.length < 30);
    assert.deepEqual(kept, full.choices[0].logprobs!.tokens!.slice(0, kept.length));
    // Streamed, the held-back text never leaks the stop sequence.
    const s = await client.completions.create({ model: 'tiny', prompt: 'The', max_tokens: 30, temperature: 0, stop, stream: true });
    let streamed = '';
    for await (const ch of s) streamed += ch.choices[0]?.text ?? '';
    assert.equal(streamed, cut);
  });

  it('the same seed gives the same text, whatever else is in the batch', async () => {
    const req = { model: 'tiny', prompt: 'She said', max_tokens: 24, temperature: 0.9, top_p: 0.9, seed: 42 };
    const alone = (await client.completions.create(req)).choices[0].text;
    const noise = Array.from({ length: 7 }, (_, i) => client.completions.create({ model: 'tiny', prompt: 'x'.repeat(i + 1), max_tokens: 20 + i, seed: i }));
    const crowded = client.completions.create(req);
    const [res] = await Promise.all([crowded, ...noise]);
    assert.equal(res.choices[0].text, alone);
    const other = (await client.completions.create({ ...req, seed: 43 })).choices[0].text;
    assert.notEqual(other, alone);
  });

  it('answers bad requests with the right status and the error shape, and keeps serving', async () => {
    const url = `${server.url}/v1/completions`;
    const cases: [string, Promise<{ status: number; json: { error?: { message: string; type: string; param: string | null; code: string | null } } }>, number, RegExp?][] = [
      ['invalid JSON', post(url, '{"model": "tiny", "prompt": '), 400, /JSON/],
      ['not an object', post(url, '[1, 2]'), 400],
      ['unknown model', post(url, JSON.stringify({ model: 'no-such-run', prompt: 'a' })), 404, /does not exist/],
      ['prompt longer than the context', post(url, JSON.stringify({ model: 'tiny', prompt: 'x'.repeat(CTX + 1) })), 400, /maximum context length is 64 tokens.*prompt is 65 tokens/],
      ['prompt plus max_tokens over the context', post(url, JSON.stringify({ model: 'tiny', prompt: 'x'.repeat(60), max_tokens: 10 })), 400, /maximum context length/],
      ['negative max_tokens', post(url, JSON.stringify({ model: 'tiny', prompt: 'a', max_tokens: -1 })), 400, /max_tokens/],
      ['fractional max_tokens', post(url, JSON.stringify({ model: 'tiny', prompt: 'a', max_tokens: 1.5 })), 400, /max_tokens/],
      ['string temperature', post(url, JSON.stringify({ model: 'tiny', prompt: 'a', temperature: 'hot' })), 400, /temperature/],
      ['numeric prompt', post(url, JSON.stringify({ model: 'tiny', prompt: 123 })), 400, /prompt/],
      ['token ids out of range', post(url, JSON.stringify({ model: 'tiny', prompt: [1, 300] })), 400, /token ids/],
      ['logprobs over 5', post(url, JSON.stringify({ model: 'tiny', prompt: 'a', logprobs: 6 })), 400, /logprobs/],
      ['n = 0', post(url, JSON.stringify({ model: 'tiny', prompt: 'a', n: 0 })), 400, /'n'/],
      ['missing model', post(url, JSON.stringify({ prompt: 'a' })), 400, /model/],
      ['body over the limit', post(url, JSON.stringify({ model: 'tiny', prompt: 'x'.repeat(100_000) })), 413, /limit/],
      ['chat without messages', post(`${server.url}/v1/chat/completions`, JSON.stringify({ model: 'tiny', messages: [] })), 400, /messages/],
      ['chat with a bad role', post(`${server.url}/v1/chat/completions`, JSON.stringify({ model: 'tiny', messages: [{ role: 'wizard', content: 'hi' }] })), 400, /role/],
      ['unknown URL', post(`${server.url}/v1/embeddings`, '{}'), 404],
    ];
    for (const [what, p, status, message] of cases) {
      const r = await p;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
      const e = r.json.error!;
      assert.ok(e && typeof e.message === 'string' && typeof e.type === 'string' && 'param' in e && 'code' in e, `${what}: ${JSON.stringify(r.json)}`);
      if (message) assert.match(e.message, message, what);
      await stillServes();
    }
    // The client sees the same statuses.
    assert.equal(await statusOf(client.completions.create({ model: 'nope', prompt: 'a' })), 404);
    assert.equal(await statusOf(client.completions.create({ model: 'tiny', prompt: 'a', max_tokens: 10_000 })), 400);
    // Only JSON bodies: a web page can post a form without a CORS preflight, so curl's default form type is refused.
    const form = await post(url, JSON.stringify({ model: 'tiny', prompt: 'a', max_tokens: 2 }), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal(form.json.error?.code, 'unsupported_media_type');
  });

  it('requires a key when keys are set: 401 for a missing or wrong one', async () => {
    const make = (apiKey: string) => new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey, maxRetries: 0 });
    assert.equal(await statusOf(make('sk-wrong').completions.create({ model: 'tiny', prompt: 'a', max_tokens: 1 })), 401);
    assert.equal(await statusOf(make('sk-firs').models.list()), 401);
    const bare = await fetch(`${keyed.url}/v1/models`);
    assert.equal(bare.status, 401);
    assert.equal(((await bare.json()) as { error: { code: string } }).error.code, 'missing_api_key');
    assert.equal(await statusOf(make('sk-first').completions.create({ model: 'tiny', prompt: 'a', max_tokens: 1 })), 200);
    assert.equal(await statusOf(make('sk-second').completions.create({ model: 'tiny', prompt: 'a', max_tokens: 1 })), 200);
  });

  it('frees the slot of a client that disconnects mid-stream', async () => {
    const m = await loaded();
    const before = m.scheduler.stats.tokens;
    const ac = new AbortController();
    const stream = await client.completions.create({ model: 'tiny', prompt: 'The', max_tokens: 60, temperature: 1, seed: 5, stream: true }, { signal: ac.signal });
    let chunks = 0;
    try {
      for await (const ch of stream) {
        if (ch.choices[0]?.text) chunks++;
        if (chunks === 1) {
          // Mid-stream: hold the decode loop, check the sequence is running, then hang up.
          m.scheduler.pause();
          assert.equal(m.scheduler.active, 1);
          ac.abort();
        }
      }
    } catch (err) {
      assert.ok(err instanceof Error && /abort/i.test(err.name + err.message), String(err));
    }
    const deadline = Date.now() + 5000;
    while (m.scheduler.active !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    m.scheduler.resume();
    assert.equal(m.scheduler.active, 0);
    assert.ok(m.scheduler.stats.tokens - before < 60, 'the sequence was cancelled before it finished');
    await stillServes();
  });

  it('serves 50 requests at concurrency 16 with no 5xx', async () => {
    const m = await loaded();
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < 50) {
        const i = next++;
        const kind = i % 3;
        const p = kind === 0
          ? client.completions.create({ model: 'tiny', prompt: `Request ${i}:`, max_tokens: 8 + (i % 20), seed: i })
          : kind === 1
            ? client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 10, seed: i })
            : (async () => {
              const s = await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 12, stream: true, seed: i });
              for await (const _ of s) { /* drain */ }
            })();
        statuses.push(await statusOf(p));
      }
    };
    const peak = m.scheduler.stats.maxBatchSeen;
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(statuses.length, 50);
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    assert.equal(m.scheduler.active, 0);
    assert.ok(m.scheduler.stats.maxBatchSeen >= Math.min(8, peak + 2), `batched: up to ${m.scheduler.stats.maxBatchSeen} sequences per step`);
    assert.ok(m.scheduler.stats.maxBatchSeen <= 8, 'never over --max-batch');
  });
});
