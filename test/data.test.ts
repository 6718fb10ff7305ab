// The data layer: corpus loading and validation, the byte tokenizer, the split, batch sampling
// and the reference statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertUsageError } from './helpers.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BatchSampler, VOCAB, StreamDecoder, bitsPerByte, decode, encode, evalBatches, loadCorpus, splitCorpus,
  unigramEntropyBits, unigramDivergenceBits, untagBrown, summariseSplit, MAX_DIVERGENCE_BITS, type Corpus,
} from '../src/data/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-data-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, content: string | Uint8Array): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

const usage = assertUsageError;

function corpusOf(docs: Record<string, string>): Corpus {
  const documents = Object.entries(docs).map(([id, text]) => ({ id, bytes: encode(text) }));
  return { name: 'test', documents, totalBytes: documents.reduce((s, d) => s + d.bytes.length, 0) };
}

test('brown loads as plain English, about 6 MB, the same bytes every time', () => {
  const c = loadCorpus('brown');
  assert.equal(c.name, 'brown');
  assert.equal(c.documents.length, 500);
  assert.equal(c.documents[0].id, 'ca01');
  assert.equal(c.documents[499].id, 'cr09');
  assert.ok(c.totalBytes > 5.5e6 && c.totalBytes < 6.5e6, `${c.totalBytes} bytes`);
  assert.equal(c.totalBytes, c.documents.reduce((s, d) => s + d.bytes.length, 0));
  const text = c.documents.map((d) => decode(d.bytes)).join('\n\n');
  assert.ok(text.startsWith('The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.\n'));
  for (const tag of ['/at ', '/nn', '/vb', '/in ', '-hl', '``', ' ,', ' .', ' ;', '( ', '\t']) {
    assert.ok(!text.includes(tag), `found ${JSON.stringify(tag)}`);
  }
  assert.ok(text.includes('The Afghans invaded; the Safavids fell from power;'), 'doubled semicolons collapsed');
  assert.ok(text.includes('\nMerger proposed\nHowever, the jury said'), 'headlines on their own line');
  // Cached: the second load is the same object, hence the same bytes.
  assert.equal(loadCorpus('brown'), c);
});

test('untagBrown: tags after the last slash, printed spacing, quotes, paragraphs', () => {
  const tagged = "\n\n\tHe/pps said/vbd ,/, ``/`` 1/2/cd of/in it/ppo ''/'' (/( mostly/rb )/) ./.\n"
    + "Then/rb '/' so/rb '/' ;/. ;/.\nit/pps ended/vbd at/in Jr./np ./.\n\n\n\tNext/ap ?/.\n";
  assert.equal(untagBrown(tagged), 'He said, "1/2 of it" (mostly). Then \'so\'; it ended at Jr.\nNext?');
});

test('a path corpus: a file is one document, a folder every visible file in path order', () => {
  const file = write('one.txt', '\uFEFFhello\n\nworld\n');
  const one = loadCorpus(file);
  assert.equal(one.documents.length, 1);
  assert.equal(decode(one.documents[0].bytes), 'hello\n\nworld\n', 'byte-order mark dropped');
  write('dir/b.txt', 'bee');
  write('dir/a/z.txt', 'zed');
  write('dir/.hidden', '\xff not even checked');
  write('dir/.git/config', 'x');
  write('dir/blank.txt', ' \n\n');
  const dir = loadCorpus(path.join(tmp, 'dir'));
  assert.deepEqual(dir.documents.map((d) => d.id), ['a/z.txt', 'b.txt']);
  assert.equal(dir.totalBytes, 6);
});

test('bad corpora are usage errors that say what to do', () => {
  usage(() => loadCorpus(path.join(tmp, 'nope')), /^unknown corpus '.*nope': not 'brown' and no such file or folder$/);
  usage(() => loadCorpus(write('empty.txt', '')), /corpus file '.*empty\.txt' has no text/);
  fs.mkdirSync(path.join(tmp, 'emptydir'));
  usage(() => loadCorpus(path.join(tmp, 'emptydir')), /corpus folder '.*emptydir' has no text/);
  usage(() => loadCorpus(write('bad.txt', new Uint8Array([0x61, 0x62, 0xe2, 0x82, 0xac, 0x63, 0xc3, 0x28]))),
    /corpus file '.*bad\.txt' is not UTF-8 text: invalid byte 0xc3 at byte offset 6; convert it to UTF-8/);
  write('badfolder/ok.txt', 'fine');
  write('badfolder/img.bin', new Uint8Array([0x89, 0x50]));
  usage(() => loadCorpus(path.join(tmp, 'badfolder')), /corpus file '.*img\.bin' is not UTF-8 text: invalid byte 0x89 at byte offset 0/);
  usage(() => loadCorpus(write('surrogate.txt', new Uint8Array([0x41, 0xed, 0xa0, 0x80]))), /invalid byte 0xed at byte offset 1/);
});

test('byte tokenizer: UTF-8 round trip, lossy decode of cut samples', () => {
  assert.equal(VOCAB, 256);
  const s = 'naïve café — 東京 🙂';
  const b = encode(s);
  assert.equal(decode(b), s);
  assert.equal(decode(Int32Array.from(b)), s);
  assert.equal(decode(b.subarray(0, b.length - 1)), 'naïve café — 東京 \uFFFD');
  assert.equal(decode([0xff, 0x41]), '\uFFFDA');
  const d = new StreamDecoder();
  const pieces = Array.from(encode('é🙂'), (x) => d.push(x));
  assert.deepEqual(pieces, ['', 'é', '', '', '', '🙂']);
  assert.equal(d.end(), '');
});

test('the split holds out whole documents, deterministically', () => {
  const c = loadCorpus('brown');
  const a = splitCorpus(c);
  const b = splitCorpus(c, { valFraction: 0.1, seed: 0 });
  assert.equal(a.method, 'documents');
  assert.deepEqual([a.trainDocs, a.valDocs], [b.trainDocs, b.valDocs]);
  assert.ok(Buffer.from(a.train).equals(Buffer.from(b.train)) && Buffer.from(a.val).equals(Buffer.from(b.val)));
  assert.equal(a.trainDocs + a.valDocs, 500);
  const share = a.val.length / (a.train.length + a.val.length);
  assert.ok(share > 0.07 && share < 0.13, `val share ${share}`);
  // Disjoint by document: every document is found whole in exactly one half.
  const train = Buffer.from(a.train), val = Buffer.from(a.val);
  let inVal = 0;
  for (const d of c.documents.slice(0, 120)) {
    const t = train.includes(Buffer.from(d.bytes)), v = val.includes(Buffer.from(d.bytes));
    assert.ok(t !== v, `${d.id} in both halves or neither`);
    if (v) inVal++;
  }
  assert.ok(inVal > 0, 'held-out documents are mixed across genres');
  const other = splitCorpus(c, { seed: 1 });
  assert.ok(!Buffer.from(other.val).equals(val), 'the seed picks other documents');
});

test('the split: small corpora, byte fallback, separators, bad fractions', () => {
  const one = splitCorpus(corpusOf({ only: 'x'.repeat(1000) }));
  assert.equal(one.method, 'bytes');
  assert.deepEqual([one.train.length, one.val.length, one.trainDocs, one.valDocs], [900, 100, 1, 1]);
  const tiny = splitCorpus(corpusOf({ only: 'ab' }), { valFraction: 0.01 });
  assert.deepEqual([tiny.train.length, tiny.val.length], [1, 1], 'val is never empty');
  // Two documents of very different size: holding either out misses 10 % by far, so cut bytes.
  assert.equal(splitCorpus(corpusOf({ a: 'a'.repeat(900), b: 'b'.repeat(100) }), { valFraction: 0.5 }).method, 'bytes');
  // No cut inside a multi-byte character.
  const utf = splitCorpus(corpusOf({ only: 'é'.repeat(10) }), { valFraction: 0.15 });
  assert.equal(decode(utf.train) + decode(utf.val), 'é'.repeat(10));
  assert.ok(!decode(utf.val).includes('\uFFFD'));
  // Ten equal documents: one held out, the rest joined with blank lines.
  const docs: Record<string, string> = {};
  for (let i = 0; i < 10; i++) docs[`d${i}`] = String(i).repeat(50);
  const ten = splitCorpus(corpusOf(docs));
  assert.deepEqual([ten.method, ten.trainDocs, ten.valDocs, ten.val.length, ten.train.length], ['documents', 9, 1, 50, 9 * 50 + 8 * 2]);
  assert.equal(decode(ten.train).split('\n\n').length, 9);
  usage(() => splitCorpus(corpusOf(docs), { valFraction: 1 }), /validation fraction must be between 0 and 1/);
  usage(() => splitCorpus(corpusOf(docs), { valFraction: 0 }), /validation fraction/);
});

test('the sampler: seeded, targets shifted by one, offsets in range, restorable', () => {
  const tokens = new Uint8Array(5000);
  for (let i = 0; i < tokens.length; i++) tokens[i] = (i * 7 + (i >> 8)) & 0xff;
  const opts = { batch: 4, ctx: 16, seed: 3 };
  const draw = (s: BatchSampler, n: number) => Array.from({ length: n }, () => {
    const b = s.next();
    return [Array.from(b.ids), Array.from(b.targets)];
  });
  const a = new BatchSampler(tokens, opts), b = new BatchSampler(tokens, opts);
  const ref = draw(a, 10);
  assert.deepEqual(draw(b, 10), ref);
  assert.notDeepEqual(draw(new BatchSampler(tokens, { ...opts, seed: 4 }), 10), ref);
  for (const [ids, targets] of ref) {
    for (let r = 0; r < 4; r++) {
      const row = ids.slice(r * 16, r * 16 + 16), next = targets.slice(r * 16, r * 16 + 16);
      const o = tokens.findIndex((_, k) => row.every((x, t) => tokens[k + t] === x));
      assert.ok(o >= 0 && o + 16 < tokens.length, 'a row is a window of the stream');
      assert.deepEqual(next, Array.from(tokens.subarray(o + 1, o + 17)));
    }
  }
  // Interrupted after 5 batches, checkpointed through JSON, skipped 3: continues identically.
  const whole = new BatchSampler(tokens, opts);
  const wholeSeq = draw(whole, 20);
  const first = new BatchSampler(tokens, opts);
  draw(first, 5);
  const saved = JSON.parse(JSON.stringify(first.state()));
  assert.equal(saved.batches, 5);
  const resumed = BatchSampler.restore(tokens, opts, saved);
  assert.deepEqual(draw(resumed, 15), wholeSeq.slice(5));
  const skipper = BatchSampler.restore(tokens, opts, saved);
  skipper.skip(3);
  assert.equal(skipper.state().batches, 8);
  assert.deepEqual(draw(skipper, 12), wholeSeq.slice(8));
  usage(() => BatchSampler.restore(tokens, { ...opts, ctx: 32 }, saved), /cannot resume/);
  usage(() => BatchSampler.restore(tokens.subarray(1), opts, saved), /cannot resume/);
  // The arrays are reused between calls.
  const s = new BatchSampler(tokens, opts);
  assert.equal(s.next().ids, s.next().ids);
});

test('the sampler on a stream of exactly ctx + 1 bytes, and one too short', () => {
  const tokens = Uint8Array.from({ length: 9 }, (_, i) => i);
  const s = new BatchSampler(tokens, { batch: 3, ctx: 8, seed: 1 });
  for (let k = 0; k < 5; k++) {
    const { ids, targets } = s.next();
    assert.deepEqual(Array.from(ids), [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(Array.from(targets), [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
  }
  usage(() => new BatchSampler(tokens, { batch: 1, ctx: 9 }),
    /^context length 9 is longer than the corpus split \(9 bytes\); use a smaller --ctx or a bigger corpus$/);
  usage(() => evalBatches(tokens, 1, 9), /context length 9 is longer than the corpus split/);
  usage(() => new BatchSampler(tokens, { batch: 0, ctx: 4 }), /batch size must be a positive integer/);
});

test('evaluation batches: non-overlapping windows covering the stream, capped evenly', () => {
  const tokens = Uint8Array.from({ length: 103 }, (_, i) => i);
  const all = evalBatches(tokens, 4, 10);
  assert.deepEqual(all.map((b) => b.rows), [4, 4, 2]);
  const ids = all.flatMap((b) => Array.from(b.ids)), targets = all.flatMap((b) => Array.from(b.targets));
  assert.deepEqual(ids, Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(targets, Array.from({ length: 100 }, (_, i) => i + 1));
  assert.deepEqual(evalBatches(tokens, 4, 10), all, 'deterministic');
  const capped = evalBatches(tokens, 4, 10, 30);
  assert.deepEqual(capped.map((b) => b.rows), [3]);
  assert.deepEqual([0, 1, 2].map((r) => capped[0].ids[r * 10]), [0, 30, 60], 'spread over the stream');
  assert.equal(evalBatches(tokens, 4, 10, 5)[0].rows, 1, 'at least one window');
});

test('unigram entropy and bits per byte', () => {
  const uniform = Uint8Array.from({ length: 256 * 4 }, (_, i) => i & 0xff);
  assert.equal(unigramEntropyBits(uniform), 8);
  assert.equal(unigramEntropyBits(new Uint8Array(1000).fill(65)), 0);
  assert.equal(unigramEntropyBits(Uint8Array.from([1, 2])), 1);
  assert.equal(bitsPerByte(Math.LN2 * 3), 3);
  const h = unigramEntropyBits(splitCorpus(loadCorpus('brown')).train);
  assert.ok(h > 4.2 && h < 4.7, `brown's unigram entropy ${h}`);
});

// Prose cut from Brown, and markdown that is plainly not prose: headings, fences, tables, links.
function prose(from: number, bytes: number): string {
  const docs = loadCorpus('brown').documents;
  let text = '';
  for (let i = from; text.length < bytes; i++) text += decode(docs[i].bytes) + '\n';
  return text.slice(0, bytes);
}
const MARKDOWN = '# Setup\n\n```sh\nnpm ci && npx tsc -p tsconfig.json\n```\n\n| flag | default |\n|---|---|\n| `--ctx` | 256 |\n\n' +
  '- [x] see [the guide](docs/guide.md#install)\n- [ ] `scalelab train --corpus ./notes/`\n\n## API\n\n`POST /v1/completions` -> `{"id": "cmpl-1"}`\n\n';

test('a folder of prose with one markdown file held out: the split is described and the mismatch warned about', () => {
  // Four 40 kB prose files and a 16 kB markdown file: only the markdown fits the 10 % validation
  // share, whatever the hash ranks first.
  for (let i = 0; i < 4; i++) write(`mixed/chapter${i + 1}.txt`, prose(40 * i, 40_000));
  write('mixed/notes.md', MARKDOWN.repeat(Math.ceil(16_000 / MARKDOWN.length)).slice(0, 16_000));
  const corpus = loadCorpus(path.join(tmp, 'mixed'));
  const split = splitCorpus(corpus);
  assert.deepEqual(split.valIds, ['notes.md']);
  const s = summariseSplit(corpus, split);
  assert.match(s.message, /: 5 documents, 176\.0 kB; train 4 documents, 160\.0 kB; validation 1 document, 16\.0 kB \(notes\.md\)$/);
  assert.deepEqual([s.data.train_documents, s.data.train_bytes, s.data.val_documents, s.data.val_bytes, s.data.held_out],
    [4, 160_006, 1, 16_000, ['notes.md']]);
  assert.ok((s.data.divergence_bits as number) > MAX_DIVERGENCE_BITS, `divergence ${s.data.divergence_bits}`);
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0], /^validation is unlike training: its byte frequencies diverge by [\d.]+ bits\/byte .*held out: notes\.md/);

  // The same folder with prose in place of the markdown: no warning.
  fs.rmSync(path.join(tmp, 'mixed/notes.md'));
  write('mixed/notes.txt', prose(400, 16_000));
  const allProse = loadCorpus(path.join(tmp, 'mixed'));
  const plain = summariseSplit(allProse, splitCorpus(allProse));
  assert.ok((plain.data.divergence_bits as number) < MAX_DIVERGENCE_BITS / 2, `divergence ${plain.data.divergence_bits}`);
  assert.deepEqual(plain.warnings, []);
});

test('a validation side of a few hundred bytes is warned about; a byte split names the document it cuts', () => {
  const c = corpusOf({ only: prose(0, 3000) });
  const s = summariseSplit(c, splitCorpus(c));
  assert.match(s.message, /validation the last 300 bytes \(of only\)/);
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0], /^validation holds only 300 bytes \(under 4096 bytes\), so its bpb is mostly noise/);
});

test('the byte divergence: 0 for the same distribution, large for disjoint bytes, finite for bytes never seen', () => {
  const a = encode('the cat sat on the mat. '.repeat(4000));
  assert.ok(unigramDivergenceBits(a, a) < 0.005, `${unigramDivergenceBits(a, a)}`);
  assert.equal(unigramDivergenceBits(new Uint8Array(0), a), 0);
  const d = unigramDivergenceBits(encode('0123456789'.repeat(500)), a);
  assert.ok(d > 5 && Number.isFinite(d), `${d}`);
});

test('a folder with a binary file: refused by name, or skipped and listed with --skip-non-text', () => {
  write('withbin/a.txt', prose(0, 5000));
  write('withbin/b.txt', prose(10, 5000));
  write('withbin/logo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  write('withbin/zeros.dat', new Uint8Array([0x41, 0x42, 0, 0x43])); // valid UTF-8, but a NUL is never text
  const dir = path.join(tmp, 'withbin');
  usage(() => loadCorpus(dir), /corpus file '.*logo\.png' is not UTF-8 text: invalid byte 0x89 at byte offset 0; .* or pass --skip-non-text$/);
  const c = loadCorpus(dir, { skipNonText: true });
  assert.deepEqual(c.documents.map((d) => d.id), ['a.txt', 'b.txt']);
  assert.deepEqual(c.skipped!.map((s) => s.id), ['logo.png', 'zeros.dat']);
  assert.match(c.skipped![1].why, /a NUL byte at byte offset 2/);
  const s = summariseSplit(c, splitCorpus(c));
  assert.match(s.message, /; skipped 2 file\(s\) that are not text \(logo\.png, zeros\.dat\)$/);
  assert.deepEqual([s.data.skipped, s.data.skipped_files], [2, ['logo.png', 'zeros.dat']]);
  // Only binary files left: still a clear refusal.
  write('allbin/x.bin', new Uint8Array([0xff]));
  usage(() => loadCorpus(path.join(tmp, 'allbin'), { skipNonText: true }), /has no text .*1 file\(s\) skipped as not text/);
  usage(() => loadCorpus(write('nul.txt', 'a\0b')), /corpus file '.*nul\.txt' is not text: a NUL byte at byte offset 1/);
});

test('a path that cannot be read is one line, whatever the system says', () => {
  fs.mkdirSync(path.join(tmp, 'loop'));
  write('loop/ok.txt', 'fine');
  fs.symlinkSync('self', path.join(tmp, 'loop/self')); // stat of it: ELOOP
  usage(() => loadCorpus(path.join(tmp, 'loop')), /^cannot read corpus path '.*self': ELOOP; check its permissions or leave it out of the corpus$/);
  if (process.platform === 'linux') {
    usage(() => loadCorpus('/proc/self/mem'), /^cannot read corpus file '\/proc\/self\/mem': EIO;/);
  }
});
