// `scalelab eval` end to end: a run evaluated locally and through `scalelab serve` gives the same
// metrics, both recorded in the store; checkpoints feed `emergence`; a dying endpoint keeps what
// was scored and a second call resumes; bad task files and endpoints get one line and exit 2.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../src/train/train.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { RunStore } from '../src/runs/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');

/** The CLI in a child process, without blocking this process (which serves the endpoint). */
function scalelab(home: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args, '--home', home], { encoding: 'utf8', timeout: 120_000 }, (err, out, errOut) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut });
    });
  });
}

interface Row { label: string; task: string; metric: string; value: number; stderr: number | null; n: number }

describe('scalelab eval', () => {
  let home: string;
  let server: RunningServer;
  const TASKS = 'add2,copy,brown-cloze,bpb';

  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-eval-cli-'));
    const res = await train({
      layers: 1, dModel: 32, heads: 2, ctx: 64, batch: 8, tokens: 8 * 64 * 60, evalTokens: 2048, threads: 2,
      name: 'tiny', mix: 'add2:0.2,copy:0.1', checkpointEvery: 20, keepCheckpoints: 5,
    }, { home });
    assert.equal(res.status, 'done');
    server = await startServer({ home, port: 0, maxBatch: 16 });
  });

  after(async () => {
    await server?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('gives identical metrics locally and through scalelab serve, and records both', async () => {
    const local = await scalelab(home, 'eval', 'tiny', '--tasks', TASKS, '--limit', '12', '--json');
    assert.equal(local.code, 0, local.err);
    const remote = await scalelab(home, 'eval', '--endpoint', server.url, '--model', 'tiny', '--tasks', TASKS, '--limit', '12', '--json');
    assert.equal(remote.code, 0, remote.err);
    const a = JSON.parse(local.out).results as Row[], b = JSON.parse(remote.out).results as Row[];
    assert.ok(a.length >= 10);
    const metrics = (rows: Row[]) => rows.map((r) => [r.task, r.metric, r.value, r.stderr, r.n]);
    assert.deepEqual(metrics(b), metrics(a));
    assert.ok(a.some((r) => r.metric === 'logprob_per_byte' && r.value < 0));
    const store = RunStore.openForReading(home);
    try {
      const subjects = new Set((await store.evals.results()).map((r) => r.subject));
      assert.deepEqual([...subjects].sort(), [(await store.getRun('tiny')).id, `endpoint:${server.url}/v1#tiny`].sort());
    } finally {
      await store.close();
    }
    const table = await scalelab(home, 'eval', 'tiny', '--tasks', 'add2', '--limit', '12');
    assert.match(table.out, /^model\s+task\s+shots\s+metric\s+value\s+± se\s+n$/m);
    assert.match(table.out, /^tiny\s+add2\s+0\s+exact_match\s+\d\.\d{4}\s+/m);
  });

  it('evaluates every checkpoint, few-shot, and shows the curve with emergence', async () => {
    const r = await scalelab(home, 'eval', 'tiny', '--checkpoints', '--tasks', 'add2', '--shots', '2', '--limit', '8', '--json');
    assert.equal(r.code, 0, r.err);
    const labels = new Set((JSON.parse(r.out).results as Row[]).map((x) => x.label));
    assert.ok(labels.size >= 3 && [...labels].some((l) => /^tiny@\d+$/.test(l)) && labels.has('tiny'), [...labels].join(' '));
    const e = await scalelab(home, 'emergence', '--run', 'tiny', '--task', 'add2', '--shots', '2');
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /add2 \(add2-v\d+, 2-shot\) against training step/);
    assert.match(e.out, /^exact_match \(higher is better\)/m);
    assert.match(e.out, /^logprob_per_byte \(higher is better\)/m);
  });

  it('keeps what a failing endpoint scored and resumes from it', async () => {
    // A proxy to the real server that fails for good after a few requests.
    let served = 0;
    const proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const isScoring = req.url?.endsWith('/completions') ?? false;
      if (isScoring && ++served > 6) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
        return;
      }
      const up = await fetch(server.url + req.url, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
      res.writeHead(up.status, { 'content-type': 'application/json' }).end(Buffer.from(await up.arrayBuffer()));
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const args = ['eval', '--endpoint', url, '--model', 'tiny', '--tasks', 'brown-cloze', '--limit', '200', '--retries', '0', '--concurrency', '1'];
      const failed = await scalelab(home, ...args);
      assert.equal(failed.code, 2, failed.err);
      assert.equal(failed.err.trim().split('\n').length, 1, failed.err);
      assert.match(failed.err, /503/);
      const store = RunStore.openForReading(home);
      let kept: number;
      try {
        const key = { subject: `endpoint:${url}/v1#tiny`, runId: null, step: -1, task: 'brown-cloze', shots: 0, seed: 0 };
        const version = 'brown-cloze-v1';
        kept = (await store.evals.outcomes({ ...key, taskVersion: version })).size;
      } finally {
        await store.close();
      }
      assert.ok(kept > 0 && kept < 200, `kept ${kept}`);
      served = -1e9; // the endpoint recovers
      const again = await scalelab(home, ...args);
      assert.equal(again.code, 0, again.err);
      assert.match(again.err, new RegExp(`tiny brown-cloze: resumed with ${kept} of 200 examples already scored`));
    } finally {
      proxy.close();
    }
  });

  it('names the file and line of a malformed task file, and refuses unreachable endpoints, with exit code 2', async () => {
    const file = path.join(home, 'bad.jsonl');
    fs.writeFileSync(file, '{"context":"a","choices":["b","c"],"gold":0}\n{"context": oops}\n');
    const r = await scalelab(home, 'eval', 'tiny', '--tasks', file);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^scalelab: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `));
    assert.equal(r.err.trim().split('\n').length, 1);
    const down = await scalelab(home, 'eval', '--endpoint', 'http://127.0.0.1:9', '--model', 'x', '--tasks', 'add2', '--retries', '0');
    assert.equal(down.code, 2, down.err);
    assert.equal(down.err.trim().split('\n').length, 1, down.err);
    assert.match(down.err, /127\.0\.0\.1:9/);
    for (const [args, message] of [
      [['--tasks', 'nosuch'], /unknown task 'nosuch'/],
      [['--shots', '1.5'], /--shots must be an integer/],
      [['--endpoint', 'http://x'], /--endpoint and --model go together/],
    ] as const) {
      const bad = await scalelab(home, 'eval', 'tiny', ...args);
      assert.equal(bad.code, 2, bad.err);
      assert.match(bad.err, message);
    }
    const none = await scalelab(home, 'eval');
    assert.match(none.err, /name runs to evaluate/);
  });
});
