// What npm installs: every package supports the Node versions scalelab says it supports (npm ci
// warns about any that does not), and the versions overridden for that still work where used.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import Fastify from 'fastify';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));

describe('dependencies', () => {
  it('every locked package accepts the oldest Node that scalelab accepts', () => {
    const oldest = semver.minVersion(readJson('package.json').engines.node)!;
    const lock = readJson('package-lock.json');
    const refusing = Object.entries(lock.packages as Record<string, { engines?: { node?: string }; optional?: boolean }>)
      .filter(([name, p]) => name && !p.optional && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([name, p]) => `${name} (node ${p.engines!.node})`);
    assert.deepEqual(refusing, [], `packages that refuse Node ${oldest}`);
  });

  it("fastify's inject sends cookies with the cookie version light-my-request is given", async () => {
    const app = Fastify();
    app.get('/', async (req) => ({ cookie: req.headers.cookie }));
    try {
      const res = await app.inject({ method: 'GET', url: '/', cookies: { a: '1', b: 'x y' } });
      assert.deepEqual(res.json(), { cookie: 'a=1; b=x%20y' });
    } finally {
      await app.close();
    }
  });
});
