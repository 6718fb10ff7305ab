// The server's model registry: every id of one weights file (run name, run id, STEP with leading
// zeros) shares one loaded model; loaded models stay under a byte bound, least recently used idle
// ones dropped first, never one a request is decoding with; corrupt weights are answered with a
// clear API error, logged once, while the run's checkpoints still serve.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { train, type TrainResult } from '../src/train/train.js';
import { ModelRegistry, modelBytes, type LoadedModel } from '../src/serve/models.js';
import { ApiError } from '../src/serve/errors.js';
import { startServer } from '../src/serve/server.js';

const CTX = 32;
let home: string;
let res: TrainResult;
const registries: ModelRegistry[] = [];

function registry(maxBytes?: number, log: string[] = []): ModelRegistry {
  const r = new ModelRegistry(home, { maxBatch: 4 }, { maxBytes, log: (l) => log.push(l) });
  registries.push(r);
  return r;
}

/** Decode a few tokens with a model; resolves with the tokens. */
function decode(m: LoadedModel, tokens = 3): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const out: number[] = [];
    m.scheduler.submit({
      prompt: [84, 104, 101], maxTokens: tokens, temperature: 0, topP: 1, seed: 1, topLogprobs: 0,
      onToken: (t) => {
        out.push(t.token);
        return 'continue';
      },
      onDone: () => resolve(out),
      onError: reject,
    });
  });
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${err}`);
    return err;
  }
  assert.fail('expected the promise to reject');
}

describe('model registry', () => {
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-models-'));
    res = await train({ layers: 1, dModel: 32, heads: 2, ctx: CTX, batch: 2, tokens: 2 * CTX * 40, evalTokens: 256, checkpointEvery: 10, keepCheckpoints: 4, threads: 1, name: 'tiny' }, { home });
    assert.equal(res.status, 'done');
  });

  after(async () => {
    for (const r of registries) await r.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('loads one copy for every id of one weights file, and names it by its canonical id', async () => {
    const reg = registry();
    const id = res.run.id;
    const finals = await Promise.all(['tiny', id, 'tiny', id].map((m) => reg.get(m)));
    assert.ok(finals.every((m) => m === finals[0]), "the run's name and id share one model");
    assert.equal(finals[0].id, 'tiny');
    const aliases = ['tiny@10', 'tiny@010', 'tiny@000000010', `${id}@10`];
    for (let z = 0; z < 40; z++) aliases.push(`tiny@${'0'.repeat(z)}10`);
    const ckpts = await Promise.all(aliases.map((m) => reg.get(m)));
    assert.ok(ckpts.every((m) => m === ckpts[0]), 'every spelling of step 10 shares one model');
    assert.equal(ckpts[0].id, 'tiny@10');
    assert.notEqual(ckpts[0], finals[0]);
    assert.equal(reg.cache.loads, 2);
    assert.equal((await reg.loadedModels()).length, 2);
    assert.equal(reg.cache.bytesHeld, modelBytes(finals[0]) + modelBytes(ckpts[0]));
  });

  it('answers 404 for ids that name no file, and loads nothing for them', async () => {
    const reg = registry();
    for (const bad of ['nosuch', 'tiny@', 'tiny@11', 'tiny@1e1', 'tiny@-10', 'tiny@ 10', '@10', 'tiny@10@10', `tiny@${'9'.repeat(30)}`]) {
      const err = await apiError((async () => reg.get(bad))());
      assert.equal(err.status, 404, bad);
      assert.equal(err.code, 'model_not_found');
    }
    assert.equal(reg.cache.loads, 0);
  });

  it('keeps loaded models under the bound, dropping the least recently used first', async () => {
    const probe = registry();
    const one = modelBytes(await probe.get('tiny@10'));
    const reg = registry(Math.floor(one * 2.5));
    await reg.get('tiny@10');
    await reg.get('tiny@20');
    await reg.get('tiny@10');
    await reg.get('tiny@30');
    assert.deepEqual((await reg.loadedModels()).map((m) => m.id), ['tiny@10', 'tiny@30'], 'tiny@20 was the least recently used');
    assert.equal(reg.cache.evictions, 1);
    assert.ok(reg.cache.bytesHeld <= reg.cache.maxBytes);
    // Many different models through a small bound: what is held stays bounded.
    for (let i = 0; i < 6; i++) for (const m of ['tiny', 'tiny@10', 'tiny@20', 'tiny@30']) await reg.get(m);
    assert.ok(reg.cache.bytesHeld <= reg.cache.maxBytes, `${reg.cache.bytesHeld} bytes held, bound ${reg.cache.maxBytes}`);
    assert.equal((await reg.loadedModels()).length, 2);
  });

  it('counts the KV caches a model has allocated in what it holds', async () => {
    const reg = registry();
    const m = await reg.get('tiny');
    const before = modelBytes(m);
    assert.equal(before, m.weightBytes);
    await Promise.all([decode(m), decode(m)]);
    assert.equal(modelBytes(m), m.weightBytes + 2 * (2 * 1 * CTX * 32 * 4));
  });

  it('never drops a model a request is decoding with; it finishes, and the model goes once idle', async () => {
    const probe = registry();
    const one = modelBytes(await probe.get('tiny@10'));
    const reg = registry(one);
    const busy = await reg.get('tiny@10');
    const alone = await decode(busy, 4);
    busy.scheduler.pause();
    const inFlight = decode(busy, 4);
    await reg.get('tiny@20');
    await reg.get('tiny@30');
    assert.deepEqual((await reg.loadedModels()).map((m) => m.id), ['tiny@10', 'tiny@30'], 'the busy model stays; the idle tiny@20 goes');
    busy.scheduler.resume();
    assert.deepEqual(await inFlight, alone, 'the request in flight finishes with the same tokens');
    await reg.get('tiny');
    assert.deepEqual((await reg.loadedModels()).map((m) => m.id), ['tiny'], 'idle now, tiny@10 goes at the next load');
  });

  it('answers corrupt weights with a clear error, logs it once and reads the file again only once it changes', async () => {
    const file = path.join(res.dir, 'model.safetensors');
    const good = fs.readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 5] ^= 0xff;
    fs.writeFileSync(file, bad);
    try {
      const log: string[] = [];
      const reg = registry(undefined, log);
      for (let i = 0; i < 3; i++) {
        const err = await apiError(reg.get('tiny'));
        assert.equal(err.status, 500);
        assert.equal(err.type, 'server_error');
        assert.equal(err.code, 'model_corrupt');
        assert.equal(err.param, 'model');
        assert.match(err.message, /model 'tiny' \(model\.safetensors\) failed its integrity check: sha256 mismatch/);
        assert.match(err.message, /scalelab show tiny --verify/);
        assert.ok(!err.message.includes(home), 'the API answer does not reveal server paths');
      }
      assert.equal(log.length, 1, 'logged once');
      assert.match(log[0], /cannot serve model 'tiny': .*model\.safetensors: sha256 mismatch/);
      assert.equal(reg.cache.loads, 1, 'the corrupt file is not hashed again for every request');
      assert.equal((await reg.get('tiny@30')).id, 'tiny@30', 'the checkpoints still serve');
      fs.writeFileSync(file, good);
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      assert.equal((await reg.get('tiny')).id, 'tiny', 'a restored file serves again');
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  it('over HTTP: corrupt weights answer the error shape, not a generic 500, and the server keeps serving', async () => {
    const file = path.join(res.dir, 'model.safetensors');
    const good = fs.readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 5] ^= 0xff;
    fs.writeFileSync(file, bad);
    const logged: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => logged.push(String(s)) > 0) as typeof process.stderr.write;
    const server = await startServer({ home, port: 0, modelCacheBytes: 1 << 20 });
    try {
      const post = (model: string) => fetch(`${server.url}/v1/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, prompt: 'The', max_tokens: 2, seed: 1 }),
      });
      const r = await post('tiny');
      assert.equal(r.status, 500);
      const body = await r.json() as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(body.error.code, 'model_corrupt');
      assert.match(String(body.error.message), /failed its integrity check/);
      assert.ok(logged.some((l) => /cannot serve model 'tiny'/.test(l)), `logged: ${logged.join('')}`);
      const ok = await post('tiny@30');
      assert.equal(ok.status, 200);
      assert.equal((await ok.json() as { model: string }).model, 'tiny@30');
      const alias = await post(`${res.run.id}@030`);
      assert.equal((await alias.json() as { model: string }).model, 'tiny@30', 'an alias answers with the canonical id');
      assert.equal(server.registry.cache.loads, 2);
    } finally {
      process.stderr.write = write;
      await server.close();
      fs.writeFileSync(file, good);
    }
  });
});
