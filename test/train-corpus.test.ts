// scalelab train on a folder corpus: the split is printed, stored and streamed before training;
// files that are not text are refused by name or skipped on request; unreadable paths are one line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../src/runs/index.js';
import { decode, loadCorpus } from '../src/data/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'scalelab.js');
const tiny = ['--layers', '1', '--d-model', '16', '--heads', '2', '--ctx', '16', '--batch', '2', '--tokens', '128',
  '--eval-tokens', '256', '--threads', '1'];

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--home', home], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A folder of four prose files (Brown) and one markdown file small enough to be the one held out. */
function folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-corpus-'));
  const docs = loadCorpus('brown').documents;
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dir, `chapter${i + 1}.txt`), docs.slice(3 * i, 3 * i + 3).map((d) => decode(d.bytes)).join('\n'));
  const md = '# Notes\n\n```sh\nnpm ci\n```\n\n| flag | value |\n|---|---|\n| `--ctx` | 256 |\n\n- [x] [link](a.md#b)\n';
  fs.writeFileSync(path.join(dir, 'notes.md'), md.repeat(130));
  return dir;
}

describe('train --corpus FOLDER', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-train-corpus-'));
  const dir = folder();

  it('refuses a binary file by name in one line, pointing at --skip-non-text', () => {
    fs.writeFileSync(path.join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const r = cli(home, 'train', '--corpus', dir, ...tiny);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /corpus file '.*logo\.png' is not UTF-8 text: invalid byte 0x89 at byte offset 0; .*--skip-non-text/);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  });

  it('with --skip-non-text trains, and streams, prints and stores the split and its warning before the first step', async () => {
    const r = cli(home, 'train', '--corpus', dir, '--skip-non-text', '--name', 'mixed', '--json', ...tiny);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const first = lines.findIndex((l) => l.type === 'metrics');
    const split = lines.findIndex((l) => l.type === 'event' && l.kind === 'split');
    assert.ok(split >= 0 && split < first, 'the split comes before training');
    const s = lines[split];
    assert.deepEqual([s.documents, s.train_documents, s.val_documents, s.held_out, s.skipped, s.skipped_files],
      [5, 4, 1, ['notes.md'], 1, ['logo.png']]);
    assert.equal(s.train_bytes + s.val_bytes, s.bytes + 2 * 3, 'every byte, and a blank line between the 4 training documents');
    assert.match(s.message, /validation 1 document, .*\(notes\.md\); skipped 1 file\(s\) that are not text \(logo\.png\)/);
    const warning = lines.find((l) => l.type === 'event' && l.kind === 'warning');
    assert.match(warning.message, /validation is unlike training: .*held out: notes\.md/);

    const store = RunStore.open(home);
    try {
      const events = await store.events((await store.getRun('mixed')).id);
      assert.deepEqual(events.filter((e) => e.kind === 'split' || e.kind === 'warning').map((e) => e.kind), ['split', 'warning']);
      const stored = events.find((e) => e.kind === 'split')!;
      assert.deepEqual((stored.data as Record<string, unknown>).held_out, ['notes.md']);
    } finally {
      await store.close();
    }
    const text = cli(home, 'train', '--corpus', dir, '--skip-non-text', ...tiny);
    assert.match(text.err, /^split: .*: 5 documents, .*validation 1 document, .*\(notes\.md\)/m);
    assert.match(text.err, /^warning: validation is unlike training/m);
  });

  it('an unreadable corpus such as /proc is one line and exit code 2', { skip: process.platform !== 'linux' }, () => {
    const r = cli(home, 'train', '--corpus', '/proc', ...tiny);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^scalelab: (cannot read corpus|corpus file)/);
  });
});
