// Train/validation split by held-out documents. Validation text the model has never seen any
// part of measures generalisation; cutting every document at 90 % would leak each document's
// topic, names and style into both halves.
//
// Which documents are held out depends only on each document's id and the seed: documents are
// ranked by a hash of (seed, id), and taken in rank order into validation until it holds about
// valFraction of the bytes. So the same corpus always gives the same split, the split does not
// depend on the order documents were listed in, and adding a document to a folder moves at most
// that document rather than reshuffling everything. Ranking by hash also mixes genres (Brown's
// files are ordered by genre).
//
// When no set of whole documents comes near the fraction (one document, or a few of very
// different sizes) the split falls back to bytes: all documents are concatenated and the last
// valFraction of the bytes is validation.
//
// Documents in each half are concatenated in corpus order with '\n\n' between them, a boundary
// that reads as "new text" and never occurs inside a brown document (paragraphs there are
// separated by a single '\n').
import { hashString } from '../engine/random.js';
import { UsageError } from '../errors.js';
import type { Corpus, Document } from './corpus.js';

export interface SplitOptions {
  /** Share of the corpus's bytes held out for validation, in (0, 1). Default 0.1. */
  valFraction?: number;
  /** Chooses which documents are held out. Default 0. */
  seed?: number;
}

export interface Split {
  train: Uint8Array;
  val: Uint8Array;
  /** Documents with bytes in each half. In a byte split the document that is cut counts in both. */
  trainDocs: number;
  valDocs: number;
  /** Ids of the documents with bytes in validation, in corpus order. */
  valIds: string[];
  /** 'documents' when whole documents were held out, 'bytes' for the fallback. */
  method: 'documents' | 'bytes';
}

export const DOC_SEPARATOR = new Uint8Array([0x0a, 0x0a]);

/** Validation may hold between these multiples of the asked-for bytes before falling back. */
const LOW = 0.5, HIGH = 1.5;

export function splitCorpus(corpus: Corpus, opts: SplitOptions = {}): Split {
  const valFraction = opts.valFraction ?? 0.1;
  const seed = opts.seed ?? 0;
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new UsageError(`validation fraction must be between 0 and 1 (exclusive), got ${valFraction}`);
  }
  if (!Number.isInteger(seed)) throw new UsageError(`split seed must be an integer, got ${seed}`);
  const docs = corpus.documents;
  if (docs.length === 0 || corpus.totalBytes === 0) throw new UsageError(`corpus '${corpus.name}' is empty; give a corpus with some text`);

  const target = valFraction * corpus.totalBytes;
  const ranked = docs
    .map((d, i) => ({ i, key: hashString(d.id, seed), id: d.id }))
    .sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : a.i - b.i));
  const held = new Set<number>();
  let valBytes = 0;
  for (const r of ranked) {
    if (valBytes >= target) break;
    if (held.size === docs.length - 1) break; // training keeps at least one document
    const size = docs[r.i].bytes.length;
    // Skip a document that would overshoot far past the target; a smaller one may fit.
    if (valBytes + size <= HIGH * target) {
      held.add(r.i);
      valBytes += size;
    }
  }
  if (held.size > 0 && valBytes >= LOW * target) {
    const train = docs.filter((_, i) => !held.has(i));
    const val = docs.filter((_, i) => held.has(i));
    return { train: join(train), val: join(val), trainDocs: train.length, valDocs: val.length, valIds: val.map((d) => d.id), method: 'documents' };
  }
  return byteSplit(docs, valFraction);
}

function byteSplit(docs: Document[], valFraction: number): Split {
  const all = join(docs);
  // Cut at the fraction, moved back to the start of a UTF-8 character, keeping both halves
  // non-empty whenever there are two bytes (and validation non-empty always).
  let cut = Math.floor((1 - valFraction) * all.length);
  while (cut > 0 && (all[cut] & 0xc0) === 0x80) cut--;
  cut = Math.max(Math.min(cut, all.length - 1), all.length >= 2 ? 1 : 0);
  // Count the documents on each side of the cut.
  let start = 0, trainDocs = 0;
  const valIds: string[] = [];
  docs.forEach((d, k) => {
    const end = start + d.bytes.length;
    if (start < cut) trainDocs++;
    if (end > cut) valIds.push(d.id);
    start = end + (k < docs.length - 1 ? DOC_SEPARATOR.length : 0);
  });
  return { train: all.slice(0, cut), val: all.slice(cut), trainDocs, valDocs: valIds.length, valIds, method: 'bytes' };
}

/** Documents concatenated with the separator between them. */
function join(docs: Document[]): Uint8Array {
  const n = docs.reduce((s, d) => s + d.bytes.length, 0) + DOC_SEPARATOR.length * Math.max(0, docs.length - 1);
  const out = new Uint8Array(n);
  let at = 0;
  docs.forEach((d, k) => {
    if (k > 0) { out.set(DOC_SEPARATOR, at); at += DOC_SEPARATOR.length; }
    out.set(d.bytes, at);
    at += d.bytes.length;
  });
  return out;
}
