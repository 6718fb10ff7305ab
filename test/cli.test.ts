// The command line: bad input gets one line on stderr and exit code 2; bench prints its JSON;
// `runs`, `show`, the progress line and their JSON name their columns and units as the dashboard does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { train } from '../src/train/train.js';
import { jsonReporter, lineReporter, silentReporter } from '../src/train/progress.js';
import { RunStore } from '../src/runs/index.js';
import { runSummaries } from '../src/dashboard/runs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');

function scalelab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scalelab bench', () => {
  it('prints one JSON object with the fields the comparison script reads', () => {
    const r = scalelab('bench', '--json', '--layers', '1', '--d-model', '32', '--heads', '2', '--ctx', '16', '--batch', '2', '--steps', '2', '--warmup', '1', '--threads', '1');
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out.trim().split('\n').pop()!);
    for (const key of ['tokens_per_s', 'step_ms', 'gflops', 'peak_rss_mb', 'params', 'kernel']) assert.ok(key in o, `missing ${key}`);
    assert.equal(o.threads, 1);
    assert.ok(o.tokens_per_s > 0 && Number.isFinite(o.final_loss));
  });

  it('--gemm lists GFLOP/s for square sizes', () => {
    const r = scalelab('bench', '--gemm', '--json', '--threads', '1');
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out);
    assert.deepEqual(o.rows.map((x: { size: number }) => x.size), [256, 512, 1024, 2048]);
    assert.ok(o.rows.every((x: { gflops: number }) => x.gflops > 0));
  });

  for (const [args, message] of [
    [['--layers', '-3'], /--layers must be a positive integer, got '-3'/],
    [['--d-model', 'abc'], /--d-model must be a positive integer, got 'abc'/],
    [['--batch', '0'], /--batch must be a positive integer, got '0'/],
    [['--threads', '1.5'], /--threads must be a positive integer, got '1.5'/],
    [['--heads', '3'], /--heads \(3\) must divide --d-model \(256\)/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ] as const) {
    it(`rejects ${args.join(' ')} with one line and exit code 2`, () => {
      const r = scalelab('bench', ...args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split('\n').length, 1, `expected one line, got: ${r.err}`);
      assert.equal(r.out, '');
    });
  }

  it('rejects an unknown command with exit code 2', () => {
    const r = scalelab('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command 'frobnicate'/);
  });
});

describe('user errors from the engine', () => {
  it('a shape error is reported as one line, like a usage error', async () => {
    const { userErrorLine } = await import('../src/cli/main.js');
    const { embedding } = await import('../src/engine/ops.js');
    const { Graph } = await import('../src/engine/graph.js');
    const { Tensor } = await import('../src/engine/tensor.js');
    const { reference } = await import('../src/engine/reference.js');
    let thrown: unknown;
    try {
      embedding(new Graph(reference), new Int32Array([0, 1, 2]), new Tensor(new Float32Array(8), [4, 2]), [2]);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof Error && thrown.name === 'ShapeError', `expected a ShapeError, got ${thrown}`);
    assert.equal(userErrorLine(thrown), 'scalelab: embedding: 3 ids do not fill shape [2]');
    assert.equal(userErrorLine(new Error('a bug')), undefined);
  });
});

describe('units and column names: bits per byte, both parameter counts, average tokens/s', () => {
  let home: string;
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-cli-units-'));
    const res = await train({ layers: 1, dModel: 32, heads: 2, ctx: 64, batch: 4, tokens: 4 * 64 * 12, evalEvery: 6, evalTokens: 1024, threads: 1, name: 'u1' }, { home, reporter: silentReporter });
    assert.equal(res.status, 'done');
  });
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  it('the progress line labels train and val in bits per byte and tokens/s as the average', () => {
    let out = '';
    const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
    const r = lineReporter(sink, 1);
    // Two steps of 256 tokens: one at 1000 tok/s, one at 3000: 512 tokens in 0.3413 s is 1500 tok/s.
    r.progress({ step: 1, steps: 4, tokens: 256, tokensTarget: 1024, loss: 2 * Math.LN2, valBpb: null, tokensPerS: 1000, lr: 1e-3 });
    r.progress({ step: 2, steps: 4, tokens: 512, tokensTarget: 1024, loss: 1.5 * Math.LN2, valBpb: 1.75, tokensPerS: 3000, lr: 1e-3 });
    const lines = out.trim().split('\n');
    assert.match(lines[0], /train bpb 2\.000  1\.0k tok\/s \(avg\)/);
    assert.match(lines[1], /train bpb 1\.500  val bpb 1\.750  1\.5k tok\/s \(avg\)/);
    assert.doesNotMatch(out, /loss/);
    out = '';
    const j = jsonReporter(sink);
    j.progress({ step: 1, steps: 4, tokens: 256, tokensTarget: 1024, loss: 2 * Math.LN2, valBpb: 1.9, tokensPerS: 1000, lr: 1e-3 });
    const o = JSON.parse(out);
    assert.equal(o.train_bpb, 2);
    assert.equal(o.val_bpb, 1.9);
    assert.equal(o.tokens_per_s_avg, 1000);
    assert.ok(!('loss' in o), 'no loss in nats beside bits per byte');
  });

  it('`runs` names its columns as the dashboard does', () => {
    const r = scalelab('runs', '--home', home);
    assert.equal(r.code, 0, r.err);
    const [header, row] = r.out.trim().split('\n');
    for (const label of ['params (non-emb)', 'params (total)', 'best val bpb', 'train bpb', 'tok/s (avg)', 'sweep']) assert.ok(header.includes(label), `${label} in ${header}`);
    assert.doesNotMatch(header, /best bpb|\bparams +tokens/);
    assert.match(row, /^u1 +done +- +12\.8k +23\.0k /);
  });

  it('`runs --json` carries shape, sweep, context, bits per byte and the average tokens/s, the same numbers as the dashboard', async () => {
    const r = scalelab('runs', '--json', '--home', home);
    assert.equal(r.code, 0, r.err);
    const [o] = JSON.parse(r.out);
    assert.equal(o.shape, '1×32 h2 ctx64');
    assert.equal(o.ctx, 64);
    assert.equal(o.sweep, null);
    assert.ok(!('final_train_loss' in o), 'no loss in nats');
    assert.ok(o.final_train_bpb > 0 && o.final_train_bpb === o.last_train_bpb);
    assert.equal(o.tokens_per_s_avg, o.tokens_seen / o.train_seconds);
    const store = RunStore.open(home);
    try {
      const [s] = await runSummaries(store);
      assert.equal(s.tokensPerS, o.tokens_per_s_avg);
      assert.equal(s.lastTrainBpb, o.last_train_bpb);
      assert.equal(s.shape, o.shape);
    } finally {
      await store.close();
    }
    const show = scalelab('show', 'u1', '--home', home);
    assert.match(show.out, /params +12,768 non-embedding, 23,008 total/);
    assert.match(show.out, /train final \d\.\d{3}/);
    assert.doesNotMatch(show.out, /nats/);
  });

  it('`train` ends with its losses in bits per byte, labelled, as text and as JSON', () => {
    const args = ['--home', home, '--layers', '1', '--d-model', '32', '--heads', '2', '--ctx', '32', '--batch', '2', '--tokens', '640', '--threads', '1'];
    const text = scalelab('train', ...args, '--name', 'u2');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /val bpb \d\.\d{3}, train bpb \d\.\d{3}\n/);
    assert.doesNotMatch(text.out, /nats|train loss/);
    const json = scalelab('train', ...args, '--name', 'u3', '--json');
    assert.equal(json.code, 0, json.err);
    const result = JSON.parse(json.out.trim().split('\n').pop()!);
    assert.equal(result.type, 'result');
    assert.ok(result.final_train_bpb > 0 && !('final_train_loss' in result), 'the result gives train loss in bits per byte only');
  });

  it('`generate` ends its text with a newline, on a terminal or through a pipe', () => {
    const r = scalelab('generate', 'u1', '--prompt', 'The ', '--tokens', '10', '--home', home);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.startsWith('The ') && r.out.endsWith('\n'), JSON.stringify(r.out));
  });
});
