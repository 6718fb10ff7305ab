// The HTTP edges of `serve` and `dashboard`, driven with raw sockets where a well-behaved client
// cannot go: only JSON bodies on POST, only the Host names the server is known by, a key on the
// dashboard's /v1 that only its page carries, slow requests and idle connections dropped, and
// every error answer (Node's and fastify's own included) in the API's shape.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { startDashboard, type RunningDashboard } from '../src/dashboard/server.js';
import { hostAllowed, hostName } from '../src/serve/guard.js';

interface Answer { status: number; headers: string; body: string; closed: boolean }

/** Send `data` on a fresh connection; resolve with the answer once the server closes it. */
function raw(url: string, data: string): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname);
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => (got += d));
    sock.on('error', reject);
    sock.on('close', () => {
      const cut = got.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), headers: got.slice(0, cut), body: got.slice(cut + 4), closed: true });
    });
    sock.write(data);
  });
}

/** A request that asks the server to close the connection after answering. */
function request(method: string, target: string, headers: Record<string, string>, body = ''): string {
  const lines = Object.entries({ host: '127.0.0.1', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `${method} ${target} HTTP/1.1\r\n${lines}${body ? `content-length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;
}

/** The answer is `status` with a body {"error": {message, type, param, code}} and, if given, that code. */
function assertApiError(a: Answer, status: number, code?: string): void {
  assert.equal(a.status, status, `${a.headers}\n${a.body}`);
  assert.match(a.headers, /content-type: application\/json/i);
  const e = (JSON.parse(a.body) as { error: Record<string, unknown> }).error;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type'], a.body);
  assert.equal(typeof e.message, 'string');
  assert.equal(typeof e.type, 'string');
  if (code) assert.equal(e.code, code, a.body);
}

const pageKey = (html: string) => /<meta name="scalelab-key" content="([^"]+)">/.exec(html)?.[1];

let home: string;
let serve: RunningServer;
let dash: RunningDashboard;

before(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-http-'));
  serve = await startServer({ home, port: 0, allowedHosts: ['Lab.Example.com'], requestTimeout: 300, keepAliveTimeout: 200 });
  dash = await startDashboard({ home, port: 0, apiKeys: ['sk-script'], requestTimeout: 300, keepAliveTimeout: 200 });
});

after(async () => {
  await serve?.close();
  await dash?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('POST takes only JSON', () => {
  it('refuses form, multipart, text and XML bodies and a body without a type with 415, on serve and the dashboard', async () => {
    const auth = (url: string) => (url === dash.url ? { authorization: 'Bearer sk-script' } : {});
    for (const url of [serve.url, dash.url]) {
      for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'text/xml', 'application/jsonx', undefined]) {
        const headers = { ...auth(url), ...(type ? { 'content-type': type } : {}) };
        const a = await raw(url, request('POST', '/v1/completions', headers, '{"model":"nope","prompt":"a"}'));
        assertApiError(a, 415, 'unsupported_media_type');
      }
      // JSON with a charset, in any case, goes through to the handler (which finds no such model).
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON; charset=UTF-8']) {
        const a = await raw(url, request('POST', '/v1/completions', { ...auth(url), 'content-type': type }, '{"model":"nope","prompt":"a"}'));
        assertApiError(a, 404, 'model_not_found');
      }
    }
  });
});

describe('Host check', () => {
  it('a loopback server answers loopback names and addresses, and the allowed names', async () => {
    for (const host of ['127.0.0.1', `127.0.0.1:${new URL(serve.url).port}`, 'localhost:8080', 'LOCALHOST', 'app.localhost', '[::1]:80', '127.1.2.3', 'lab.example.com', 'lab.example.com.:443']) {
      assert.equal((await raw(serve.url, request('GET', '/health', { host }))).status, 200, host);
    }
  });

  it('refuses any other name with 403 in the API shape, /health and the dashboard API included', async () => {
    for (const url of [serve.url, dash.url]) {
      for (const host of ['evil.example', 'evil.example:8787', '127.0.0.1.evil.example', 'localhost.evil.example', '192.168.1.5', '[fe80::1]', 'example.com']) {
        for (const target of ['/health', '/v1/models', '/api/runs', '/']) {
          const a = await raw(url, request('GET', target, { host }));
          assertApiError(a, 403, 'host_not_allowed');
          assert.match(a.body, /--allowed-host/);
        }
      }
    }
  });

  it('follows the bound address: one address, or any address and localhost on a wildcard bind', () => {
    const policy = (bound: string, allowed: string[] = []) => ({ bound: () => bound, allowed });
    assert.ok(hostAllowed('192.168.1.5:8080', policy('192.168.1.5')));
    assert.ok(!hostAllowed('127.0.0.1', policy('192.168.1.5')));
    assert.ok(!hostAllowed('evil.example', policy('192.168.1.5')));
    for (const bound of ['0.0.0.0', '::']) {
      for (const host of ['10.0.0.7:8080', '[fe80::1]:8080', 'localhost', '127.0.0.1']) assert.ok(hostAllowed(host, policy(bound)), `${host} on ${bound}`);
      for (const host of ['evil.example', 'box.lan', '10.0.0.7.evil.example']) assert.ok(!hostAllowed(host, policy(bound)), `${host} on ${bound}`);
      assert.ok(hostAllowed('box.lan:8080', policy(bound, ['box.lan'])));
    }
    assert.ok(hostAllowed('anything.example', policy('127.0.0.1', ['*'])));
    assert.ok(hostAllowed('[::1]:1', policy('::1')));
    assert.equal(hostName('[::1]:8080'), '::1');
    assert.equal(hostName('Lab.Example.COM.:443'), 'lab.example.com');
  });
});

describe("the dashboard's /v1 takes the page's key", () => {
  it('the page carries a fresh key; /v1 refuses requests without it or with a wrong one, takes it and the configured keys', async () => {
    const html = await (await fetch(`${dash.url}/`)).text();
    const key = pageKey(html);
    assert.ok(key && key.length >= 32, 'the page carries a key');
    const models = (headers: Record<string, string>) => raw(dash.url, request('GET', '/v1/models', headers));
    assertApiError(await models({}), 401, 'missing_api_key');
    assertApiError(await models({ authorization: 'Bearer nope' }), 401, 'invalid_api_key');
    assertApiError(await raw(dash.url, request('POST', '/v1/completions', { 'content-type': 'application/json' }, '{"model":"x","prompt":"a"}')), 401, 'missing_api_key');
    assert.equal((await models({ authorization: `Bearer ${key}` })).status, 200);
    assert.equal((await models({ authorization: 'Bearer sk-script' })).status, 200);
    // The page, its data, /health and an unknown URL need no key.
    for (const [target, status] of [['/', 200], ['/api/runs', 200], ['/health', 200], ['/nope', 404]] as const) {
      assert.equal((await raw(dash.url, request('GET', target, {}))).status, status, target);
    }
    // Another server, another key.
    const other = await startDashboard({ home, port: 0 });
    try {
      const otherKey = pageKey(await (await fetch(`${other.url}/`)).text());
      assert.ok(otherKey && otherKey !== key);
      assertApiError(await raw(other.url, request('GET', '/v1/models', { authorization: `Bearer ${key}` })), 401, 'invalid_api_key');
    } finally {
      await other.close();
    }
  });

  it('/health answers without a key on a keyed serve', async () => {
    const keyed = await startServer({ home, port: 0, apiKeys: ['sk-1'] });
    try {
      assert.equal((await raw(keyed.url, request('GET', '/health', {}))).status, 200);
      assertApiError(await raw(keyed.url, request('GET', '/v1/models', {})), 401, 'missing_api_key');
    } finally {
      await keyed.close();
    }
  });
});

describe('timeouts', () => {
  it('a body shorter than its Content-Length gets 408 and the connection closed, on serve and the dashboard', async () => {
    for (const url of [serve.url, dash.url]) {
      const head = `POST /v1/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer sk-script\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n`;
      const a = await raw(url, `${head}{"model":`);
      assert.ok(a.closed);
      assertApiError(a, 408, 'request_timeout');
    }
  });

  it('headers that never end get 408 and the connection closed', async () => {
    const a = await raw(serve.url, 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    assertApiError(a, 408, 'request_timeout');
  });

  it('an idle keep-alive connection is closed after its answer', async () => {
    const a = await raw(serve.url, request('GET', '/health', { connection: 'keep-alive' }));
    assert.equal(a.status, 200);
    assert.ok(a.closed);
  });
});

describe('every error answer is in the API shape', () => {
  const long = 'a'.repeat(200);
  for (const name of ['serve', 'dashboard'] as const) {
    it(`${name}: unknown URL, bad percent-encoding, an overlong path segment`, async () => {
      const url = name === 'serve' ? serve.url : dash.url;
      assertApiError(await raw(url, request('GET', '/v2/nothing', {})), 404, 'unknown_url');
      assertApiError(await raw(url, request('GET', '/v1/models/%E0%A4%A', { authorization: 'Bearer sk-script' })), 400, 'invalid_url');
      assertApiError(await raw(url, request('GET', `/v1/models/${long}`, { authorization: 'Bearer sk-script' })), 414, 'url_too_long');
      if (name === 'dashboard') {
        assertApiError(await raw(url, request('GET', '/api/runs/%ZZ', {})), 400, 'invalid_url');
        assertApiError(await raw(url, request('GET', `/api/runs/${long}/metrics`, {})), 414, 'url_too_long');
      }
    });

    it(`${name}: headers too large (431) and malformed HTTP (400), written by the server itself`, async () => {
      const url = name === 'serve' ? serve.url : dash.url;
      assertApiError(await raw(url, request('GET', '/health', { 'x-big': 'x'.repeat(20_000) })), 431, 'headers_too_large');
      assertApiError(await raw(url, 'HELLO\r\n\r\n'), 400, 'malformed_request');
      assertApiError(await raw(url, 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nno colon here\r\n\r\n'), 400, 'malformed_request');
      assertApiError(await raw(url, 'POST /v1/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'), 400, 'malformed_request');
      // The server still answers.
      assert.equal((await raw(url, request('GET', '/health', {}))).status, 200);
    });
  }
});
