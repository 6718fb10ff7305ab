// The LM compressor (src/compress/): the range coder, the frequency rule, round trips through
// small random-weight models, the same bits under every kernel family, the container's checks,
// the CLI, and a count-bounded fuzz of decompress.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GPT, countParams, flopsPerToken, type GPTConfig } from '../src/models/gpt.js';
import { Decoder } from '../src/models/decode.js';
import { portable } from '../src/engine/portable.js';
import { kernelInfo, setKernel } from '../src/engine/native.js';
import { Rng } from '../src/engine/random.js';
import { RunStore, runDir } from '../src/runs/index.js';
import { saveWeights } from '../src/train/checkpoint.js';
import { UsageError } from '../src/errors.js';
import {
  RangeDecoder, RangeEncoder, compressBytes, cumulativeFrequencies, decompressBytes, exp64, codingParams,
  encodeBytes, decodeBytes, type CodingModel,
} from '../src/compress/index.js';
import { findSymbol } from '../src/compress/frequencies.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'scalelab.js');

/** A random-weight model, its weights scaled up so its distributions are far from uniform. */
function randomModel(config: Partial<GPTConfig> = {}, seed = 1): CodingModel {
  const model = new GPT({ layers: 2, dModel: 32, heads: 4, ctx: 48, vocab: 256, ...config }, { seed });
  for (let i = 0; i < model.params.length; i++) model.params[i] *= 8;
  return { name: 'random', file: '', sha256: 'a'.repeat(64), model };
}

const text = (n: number) => {
  const s = 'The quick brown fox jumps over the lazy dog; compression is prediction. ';
  return new Uint8Array(Buffer.from(s.repeat(Math.ceil(n / s.length)).slice(0, n)));
};
const random = (n: number, seed = 7) => {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256));
};

/** The kernel families this CPU runs (AVX-512 CPUs run the AVX2 build of the decode kernels). */
const initial = kernelInfo().gemm;
function families(): string[] {
  const fams = ['generic', 'avx2'].filter((f) => setKernel(f));
  restoreKernels();
  return fams;
}
function restoreKernels(): void {
  setKernel(initial);
}

describe('range coder', () => {
  it('round-trips random symbols under random frequency tables', () => {
    const rng = new Rng(3);
    const tables = Array.from({ length: 20 }, () => {
      const f = Array.from({ length: 256 }, () => 1 + Math.floor(rng.uniform() ** 8 * 600));
      const cum = new Uint32Array(257);
      for (let i = 0; i < 256; i++) cum[i + 1] = cum[i] + f[i];
      return cum;
    });
    const syms = Array.from({ length: 5000 }, (_, i) => ({ t: i % 20, s: Math.floor(rng.uniform() * 256) }));
    const enc = new RangeEncoder();
    for (const { t, s } of syms) enc.encode(tables[t][s], tables[t][s + 1] - tables[t][s], tables[t][256]);
    const bytes = enc.finish();
    const dec = new RangeDecoder(bytes);
    for (const { t, s } of syms) {
      const cum = tables[t], v = dec.target(cum[256]), got = findSymbol(cum, v);
      assert.equal(got, s);
      dec.consume(cum[got], cum[got + 1] - cum[got], cum[256]);
    }
    assert.equal(dec.unread, 0);
  });

  it('costs about the entropy', () => {
    // A symbol of probability 1/2 costs one bit: 8000 of them, about 1000 bytes.
    const enc = new RangeEncoder();
    for (let i = 0; i < 8000; i++) enc.encode(i % 2 ? 32768 : 0, 32768, 65536);
    const n = enc.finish().length;
    assert.ok(n >= 1000 && n <= 1005, `${n} bytes`);
  });
});

describe('frequency rule', () => {
  it('exp64 is e^x to about an ulp on x ≤ 0', () => {
    for (const x of [0, -1e-9, -0.3, -1, -5.5, -20, -87.3, -300, -700]) {
      const rel = Math.abs(exp64(x) - Math.exp(x)) / Math.exp(x);
      assert.ok(rel < 4e-16, `exp64(${x}) off by ${rel}`);
    }
    assert.equal(exp64(-800), 0);
    assert.equal(exp64(NaN), 0);
  });

  it('gives every byte at least 1 and totals at most 2^16, whatever the logits', () => {
    const cum = new Uint32Array(257), e = new Float64Array(256);
    const rows = [
      Float32Array.from({ length: 256 }, (_, i) => (i === 65 ? 1e4 : -1e4)), // certain
      new Float32Array(256), // uniform
      Float32Array.from({ length: 256 }, (_, i) => (i % 3 ? NaN : i)), // broken
      Float32Array.from({ length: 256 }, (_, i) => (i === 3 ? Infinity : 0)),
    ];
    for (const row of rows) {
      cumulativeFrequencies(row, 0, cum, e);
      for (let i = 0; i < 256; i++) assert.ok(cum[i + 1] - cum[i] >= 1);
      assert.ok(cum[256] <= 65536 && cum[256] >= 256);
    }
    cumulativeFrequencies(rows[0], 0, cum, e);
    assert.equal(cum[66] - cum[65], 65536 - 255);
  });
});

describe('compress / decompress', () => {
  it('round-trips text, binary, empty and ragged inputs, for every variant', () => {
    const cases: [Partial<GPTConfig>, Uint8Array][] = [
      [{}, text(1000)],
      [{}, random(333)],
      [{ norm: 'rmsnorm', mlp: 'swiglu', pos: 'rope', heads: 2 }, text(500)],
      [{ heads: 3, dModel: 36 }, random(97)],
      [{}, new Uint8Array(0)],
      [{}, new Uint8Array([0])],
    ];
    for (const [cfg, data] of cases) {
      const m = randomModel(cfg);
      const file = compressBytes(data, m);
      const { data: back, header } = decompressBytes(file, { loaded: m });
      assert.deepEqual(Buffer.from(back), Buffer.from(data), JSON.stringify(cfg));
      assert.equal(header.length, data.length);
    }
  });

  it('codes with the language model alone or mixed with context models, and the mixture learns the file', () => {
    const m = randomModel();
    // Text the random model cannot predict but that repeats: the context models learn it.
    const data = text(3000);
    const alone = compressBytes(data, m, { contextMix: false }), mixed = compressBytes(data, m);
    for (const file of [alone, mixed]) assert.deepEqual(Buffer.from(decompressBytes(file, { loaded: m }).data), Buffer.from(data));
    assert.equal(decompressBytes(alone, { loaded: m }).header.mixer, undefined);
    assert.ok(mixed.length < alone.length / 4, `mixed ${mixed.length} bytes against ${alone.length} alone`);
    // Random bytes: nothing to learn, and the mixture costs little over the model alone.
    const noise = random(3000);
    const a = compressBytes(noise, m, { contextMix: false }).length, b = compressBytes(noise, m).length;
    assert.ok(b < a * 1.05, `random bytes: mixed ${b} against ${a} alone`);
  });

  it('round-trips under any segment length and group size', () => {
    const m = randomModel();
    const data = text(700);
    for (const [segment, group, contextMix] of [[1, 1, true], [7, 3, true], [48, 256, false], [20, 1000, true]] as const) {
      const p = codingParams(m.model, { segment, group, contextMix });
      const coded = encodeBytes(m.model, data, p);
      assert.deepEqual(Buffer.from(decodeBytes(m.model, coded, data.length, p)), Buffer.from(data));
    }
    assert.throws(() => codingParams(m.model, { segment: 49 }), RangeError);
  });

  it('gives the same bits under every kernel family: compressed under one, decompressed under another', () => {
    const fams = families();
    assert.ok(fams.includes('generic'));
    for (const cfg of [{}, { norm: 'rmsnorm' as const, mlp: 'swiglu' as const, pos: 'rope' as const, heads: 2, dModel: 20 }]) {
      const m = randomModel(cfg, 5);
      const data = text(400);
      const files = fams.map((f) => {
        setKernel(f);
        return Buffer.from(compressBytes(data, m, { segment: 40 }));
      });
      for (const f of files) assert.deepEqual(f, files[0], 'every family writes the same file');
      for (const f of fams) {
        setKernel(f);
        assert.deepEqual(Buffer.from(decompressBytes(files[0], { loaded: m }).data), Buffer.from(data), `decompressed under ${f}`);
      }
      // The logits themselves, not only the file: a whole segment at once against byte by byte.
      const logits = fams.map((f) => {
        setKernel(f);
        const d = new Decoder(m.model, portable);
        return Buffer.from(d.step([{ cache: d.newCache(), tokens: Array.from(data.subarray(0, 40)), logits: 'all' }]).logits.slice());
      });
      for (const l of logits) assert.deepEqual(l, logits[0]);
    }
    restoreKernels();
  });

  it('refuses a different model, and damaged, truncated, extended or foreign files, with one line', () => {
    const m = randomModel();
    const data = text(300);
    const file = Buffer.from(compressBytes(data, m));
    const other = { ...randomModel({}, 2), sha256: 'b'.repeat(64), name: 'other' };
    assert.throws(() => decompressBytes(file, { loaded: other }), (e: Error) => e instanceof UsageError && /not the one/.test(e.message));
    const bad: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['foreign', Buffer.from('hello world, not compressed')],
      ['truncated header', file.subarray(0, 20)],
      ['truncated payload', file.subarray(0, file.length - 3)],
      ['extended', Buffer.concat([file, Buffer.from([1, 2, 3])])],
      ['header byte', Buffer.from(file.map((b, i) => (i === 30 ? b ^ 4 : b)))],
      ['payload byte', Buffer.from(file.map((b, i) => (i === file.length - 20 ? b ^ 1 : b)))],
      ['version', Buffer.from(file.map((b, i) => (i === 4 ? 9 : b)))],
    ];
    for (const [what, f] of bad) {
      assert.throws(() => decompressBytes(f, { loaded: m }), (e: Error) => e instanceof UsageError && !e.message.includes('\n'), what);
    }
  });

  it('fuzz: 1000 random mutations of valid files each give a UsageError or the exact original', (t) => {
    // Bounded by count, not time. Small files keep each decode short.
    const m = randomModel({ layers: 1, dModel: 16, heads: 2, ctx: 32 });
    const originals = [text(120), random(60, 9), new Uint8Array(0)];
    const files = originals.map((d) => Buffer.from(compressBytes(d, m, { segment: 16 })));
    const rng = new Rng(11);
    const pick = (n: number) => Math.floor(rng.uniform() * n);
    let refused = 0, restored = 0;
    for (let i = 0; i < 1000; i++) {
      const k = pick(files.length), f = Buffer.from(files[k]);
      let g: Buffer;
      switch (pick(5)) {
        case 0: f[pick(f.length)] ^= 1 << pick(8); g = f; break;
        case 1: f[pick(f.length)] = pick(256); g = f; break;
        case 2: g = f.subarray(0, pick(f.length)); break;
        case 3: { const at = pick(f.length); g = Buffer.concat([f.subarray(0, at), Buffer.from([pick(256)]), f.subarray(at)]); break; }
        default: { const at = pick(f.length); g = Buffer.concat([f.subarray(0, at), f.subarray(at + 1 + pick(4))]); break; }
      }
      try {
        const back = decompressBytes(g, { loaded: m }).data;
        assert.deepEqual(Buffer.from(back), Buffer.from(originals[k]), `mutation ${i} decoded to something else`);
        restored++;
      } catch (err) {
        assert.ok(err instanceof UsageError, `mutation ${i}: ${(err as Error).stack}`);
        assert.ok(!(err as Error).message.includes('\n'));
        refused++;
      }
    }
    assert.equal(refused + restored, 1000);
    t.diagnostic(`${refused} refused with a UsageError, ${restored} decoded to the original`);
  });
});

describe('scalelab compress / decompress (CLI)', () => {
  /** A home with one finished run of random weights. */
  async function home(): Promise<{ home: string; name: string; sha: string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-compress-'));
    const store = RunStore.open(dir);
    try {
      const config: GPTConfig = { layers: 1, dModel: 16, heads: 2, ctx: 32, vocab: 256 };
      const counts = countParams(config);
      const run = await store.createRun({
        name: 'tiny', config: { model: config, train: null, note: 'random weights for the compress tests' },
        params: counts.total, nonEmbeddingParams: counts.nonEmbedding, flopsPerToken: flopsPerToken(config), tokensTarget: 0,
      });
      const sha = saveWeights(path.join(runDir(dir, run.id), 'model.safetensors'), new GPT(config, { seed: 4 }));
      const now = new Date().toISOString();
      await store.updateRun(run.id, { status: 'done', startedAt: now, finishedAt: now, tokensSeen: 0, weightsSha256: sha });
      return { home: dir, name: 'tiny', sha };
    } finally {
      await store.close();
    }
  }
  const cli = (args: string[], env: Record<string, string> = {}, input?: Buffer) =>
    spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, input, maxBuffer: 1 << 26 });

  it('round-trips a file and stdin/stdout, under forced kernel families, and finds the model by hash', async () => {
    const h = await home();
    const src = path.join(h.home, 'in.bin'), packed = path.join(h.home, 'in.slz'), back = path.join(h.home, 'back.bin');
    const data = Buffer.concat([Buffer.from(text(500)), Buffer.from(random(200))]);
    fs.writeFileSync(src, data);
    let r = cli(['compress', '--home', h.home, '--model', 'tiny', src, packed], { SCALELAB_KERNELS: 'generic' });
    assert.equal(r.status, 0, r.stderr.toString());
    for (const fam of families()) {
      r = cli(['decompress', '--home', h.home, packed, back], { SCALELAB_KERNELS: fam });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.deepEqual(fs.readFileSync(back), data);
    }
    r = cli(['compress', '--home', h.home, '--model', 'tiny', '-', '-'], {}, data);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(r.stdout, fs.readFileSync(packed), 'stdin/stdout writes the same file');
    r = cli(['decompress', '--home', h.home, '-', '-'], {}, r.stdout);
    assert.deepEqual(r.stdout, data);
  });

  it('bad input: one line, exit 2, nothing written', async () => {
    const h = await home();
    const src = path.join(h.home, 'in.txt'), packed = path.join(h.home, 'in.slz'), out = path.join(h.home, 'out.txt');
    fs.writeFileSync(src, 'some text to compress');
    assert.equal(cli(['compress', '--home', h.home, '--model', 'tiny', src, packed]).status, 0);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-compress-empty-'));
    RunStore.open(other).close();
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['decompress', '--home', h.home, src, out], /not a scalelab compressed file/],
      [['decompress', '--home', other, packed, out], /not in the scalelab home/],
      [['compress', '--home', h.home, '--model', 'nope', src, packed + '2'], /no run 'nope'/],
      [['compress', '--home', h.home, '--model', 'tiny', path.join(h.home, 'missing'), out], /no such file/],
      [['compress', '--home', h.home, '--model', 'tiny', '--segment', '33', src, out], /segment length/],
      [['decompress', '--home', h.home, packed, out], /SCALELAB_KERNELS/, { SCALELAB_KERNELS: 'sse9' }],
    ];
    for (const [args, re, env] of cases) {
      const r = cli(args, env);
      const err = r.stderr.toString();
      assert.equal(r.status, 2, `${args.join(' ')}: ${err}`);
      assert.match(err, re);
      assert.equal(err.trim().split('\n').length, 1, err);
      assert.ok(!fs.existsSync(out), 'nothing written');
    }
    assert.deepEqual(fs.readdirSync(h.home).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
  });
});
