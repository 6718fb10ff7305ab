// The server's model cache: one load per key, shared by concurrent callers; least recently used
// values dropped past the byte bound; busy values and the one just loaded never dropped; a failed
// load forgotten so a later call retries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelCache } from '../src/serve/model-cache.js';

interface Fake {
  name: string;
  bytes: number;
  busy: boolean;
}

function cache(maxBytes: number) {
  return new ModelCache<Fake>({ maxBytes, sizeOf: (v) => v.bytes, busy: (v) => v.busy });
}

const fake = (name: string, bytes = 100) => () => ({ name, bytes, busy: false });

describe('ModelCache', () => {
  it('loads a key once, however many callers ask at the same time', async () => {
    const c = cache(1000);
    let calls = 0;
    const load = () => {
      calls++;
      return { name: 'a', bytes: 10, busy: false };
    };
    const got = await Promise.all(Array.from({ length: 20 }, () => c.get('a', load)));
    assert.equal(calls, 1);
    assert.equal(c.loads, 1);
    assert.ok(got.every((v) => v === got[0]), 'every caller gets the same object');
    assert.equal(c.bytesHeld, 10);
  });

  it('drops the least recently used value once past the bound', async () => {
    const c = cache(250);
    await c.get('a', fake('a'));
    await c.get('b', fake('b'));
    await c.get('a', fake('a')); // a is now more recent than b
    await c.get('c', fake('c'));
    assert.deepEqual(c.keys(), ['a', 'c']);
    assert.equal(c.evictions, 1);
    assert.equal(c.bytesHeld, 200);
    await c.get('b', fake('b'));
    assert.equal(c.loads, 4, 'a dropped value is loaded again');
    assert.deepEqual(c.keys(), ['c', 'b']);
  });

  it('never drops a busy value, nor the one just loaded, even past the bound', async () => {
    const c = cache(150);
    const a = await c.get('a', fake('a'));
    a.busy = true;
    await c.get('b', fake('b'));
    assert.deepEqual(c.keys(), ['a', 'b'], 'a is busy and b was just loaded: the bound waits');
    assert.equal(c.bytesHeld, 200);
    await c.get('c', fake('c'));
    assert.deepEqual(c.keys(), ['a', 'c'], 'b, idle, goes; a, busy, stays');
    a.busy = false;
    await c.get('d', fake('d'));
    assert.deepEqual(c.keys(), ['d'], 'an idle value goes at the next load');
    assert.equal(c.bytesHeld, 100);
  });

  it('counts what a value holds when it decides, so a value that grew counts its growth', async () => {
    const c = cache(300);
    const a = await c.get('a', fake('a'));
    await c.get('b', fake('b'));
    a.bytes = 250;
    await c.get('c', fake('c'));
    assert.deepEqual(c.keys(), ['b', 'c']);
  });

  it('forgets a failed load, so the next call loads again', async () => {
    const c = cache(1000);
    await assert.rejects(c.get('a', () => {
      throw new Error('disk hiccup');
    }), /disk hiccup/);
    assert.deepEqual(c.keys(), []);
    assert.equal((await c.get('a', fake('a'))).name, 'a');
    assert.equal(c.loads, 2);
  });

  it('refuses a bound that is not positive', () => {
    assert.throws(() => cache(0), RangeError);
    assert.throws(() => cache(Number.NaN), RangeError);
  });
});
