// The API's guards sit on the root of the app buildApp makes, so a route that a later plugin adds
// (as the dashboard's are) passes them too: the Host check, the key on /v1, JSON-only bodies, and
// errors in the API's shape. Driven with fastify's inject; nothing listens.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { buildApp } from '../src/serve/server.js';

const probe: FastifyPluginAsync = async (app) => {
  app.post('/v1/probe', async (req) => ({ got: req.body }));
  app.get('/api/probe', async () => ({ open: true }));
  app.get('/api/boom', async () => {
    throw new Error('internal detail');
  });
};

describe('routes added as plugins pass the API guards', () => {
  let home: string;
  let app: FastifyInstance;

  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-serve-plugins-'));
    app = buildApp({ home, apiKeys: ['sk-probe'] }).app;
    app.register(probe);
    await app.ready();
  });

  after(async () => {
    await app?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const json = { 'content-type': 'application/json' };
  const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string | null; type: string } }).error;

  it('answers a good request with the key', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/probe', headers: { ...json, authorization: 'Bearer sk-probe' }, payload: '{"a":1}' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { got: { a: 1 } });
  });

  it('asks for the key on /v1 only', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/probe', headers: json, payload: '{}' });
    assert.equal(r.statusCode, 401);
    assert.equal(errorOf(r.body).code, 'missing_api_key');
    const wrong = await app.inject({ method: 'POST', url: '/v1/probe', headers: { ...json, authorization: 'Bearer sk-other' }, payload: '{}' });
    assert.equal(errorOf(wrong.body).code, 'invalid_api_key');
    assert.equal((await app.inject({ method: 'GET', url: '/api/probe' })).statusCode, 200);
  });

  it('refuses a Host it is not known by, on every route', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/probe', headers: { host: 'evil.example' } });
    assert.equal(r.statusCode, 403);
    assert.equal(errorOf(r.body).code, 'host_not_allowed');
  });

  it('takes only JSON bodies, and says so when the JSON is bad', async () => {
    const plain = await app.inject({ method: 'POST', url: '/v1/probe', headers: { 'content-type': 'text/plain', authorization: 'Bearer sk-probe' }, payload: 'a=1' });
    assert.equal(plain.statusCode, 415);
    assert.equal(errorOf(plain.body).code, 'unsupported_media_type');
    const bad = await app.inject({ method: 'POST', url: '/v1/probe', headers: { ...json, authorization: 'Bearer sk-probe' }, payload: '{bad' });
    assert.equal(bad.statusCode, 400);
    assert.equal(errorOf(bad.body).code, 'invalid_json');
  });

  it('answers a thrown error as a bare 500 in the API shape, without its message', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/boom' });
    assert.equal(r.statusCode, 500);
    assert.deepEqual(errorOf(r.body), { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'internal_error' });
  });
});
