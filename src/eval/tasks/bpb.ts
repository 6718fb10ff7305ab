// bpb: bits per byte of held-out text, as rolling examples. On Brown, passages of the held-out
// documents with `group` set to their category, so the runner reports the figure overall and per
// category; on a user's file (`bpb:FILE`), the file's passages in order. Passages are at most
// CHUNK_BYTES bytes, cut at paragraphs; each is scored on its own, so the first bytes of each
// are predicted with less context than in a continuous pass, the same way for every model.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../engine/random.js';
import { invalidUtf8Offset } from '../../data/index.js';
import { UsageError } from '../../errors.js';
import type { RollingExample, Task } from '../types.js';
import { brownHeldOut } from './brown-docs.js';
import { shuffle } from './brown-cloze.js';
import { defineTask } from './define.js';
import { chunkText } from './text-chunks.js';

export const CHUNK_BYTES = 512;
export const BPB_SIZE = 300;
export const BPB_SEED = 1961;

export function brownBpbTask(seed = BPB_SEED): Task {
  return defineTask({
    name: 'bpb',
    version: seed === BPB_SEED ? 'bpb-brown-v1' : `bpb-brown-v1-seed${seed}`,
    kind: 'rolling',
    description: 'bits per byte of held-out Brown text, overall and per category (bpb:FILE for any text file)',
    examples: () => {
      const { eval: evalDocs, fewshot } = brownHeldOut();
      // No demonstrations here: every held-out document may be measured.
      const all: RollingExample[] = [...evalDocs, ...fewshot]
        .flatMap((d) => chunkText(d.text, CHUNK_BYTES).map((text) => ({ kind: 'rolling' as const, text, group: d.category })));
      shuffle(all, new Rng(seed));
      return all.slice(0, BPB_SIZE);
    },
    fewshot: () => [],
  });
}

/** `bpb:FILE`: every passage of a UTF-8 text file, in order; its version is a hash of the content. */
export function fileBpbTask(file: string): Task {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read text file '${file}' for bpb: ${(e as NodeJS.ErrnoException).code ?? String(e)}; give a readable UTF-8 text file`);
  }
  const bad = invalidUtf8Offset(raw);
  if (bad >= 0) throw new UsageError(`'${file}' is not UTF-8 text (invalid byte at offset ${bad}); bpb needs a UTF-8 text file`);
  const examples = chunkText(raw.toString('utf8').replace(/^\uFEFF/, ''), CHUNK_BYTES).map((text): RollingExample => ({ kind: 'rolling', text }));
  if (examples.length === 0) throw new UsageError(`'${file}' has no text; bpb needs a file with some text`);
  return defineTask({
    name: `bpb:${path.basename(file)}`,
    version: `sha256:${crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16)}`,
    kind: 'rolling',
    description: `bits per byte of ${file}`,
    examples: () => examples,
    fewshot: () => [],
  });
}
