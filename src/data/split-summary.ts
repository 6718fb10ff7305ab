// What a training run says about its data before it starts: how big the corpus is, how it was
// split, which documents were held out, what was skipped, and whether the validation side can
// mean anything.
//
// Two warnings, each about a validation bpb that would mislead:
//  - too small: under MIN_VAL_BYTES the validation loss is a handful of windows, so its noise
//    swamps the differences between runs;
//  - too unlike: the byte-frequency divergence KL(val ‖ train) (stats.ts) above
//    MAX_DIVERGENCE_BITS bits per byte. A trained model pays at least that divergence on top of
//    its training loss for the mismatch of single-byte frequencies alone, so a validation side
//    above the threshold measures how different its documents are more than how well the model
//    generalises. The threshold, 0.2, sits between text of one kind and text of another, as
//    measured on Brown: its default split diverges by 0.001, each genre against the other
//    fourteen by at most 0.03, one 12 kB sample against the other 499 by at most 0.07; while
//    this project's README (markdown) against Brown diverges by 0.6 and a TypeScript file by 0.9.
import type { Corpus } from './corpus.js';
import type { Split } from './split.js';
import { unigramDivergenceBits } from './stats.js';

export const MIN_VAL_BYTES = 4096;
export const MAX_DIVERGENCE_BITS = 0.2;
/** Name the held-out documents (and skipped files) when there are at most this many. */
const NAMES_SHOWN = 5;

export interface SplitSummary {
  /** One line for the progress output. */
  message: string;
  /** The same as data for the run's events and `--json` (snake_case, like the other events). */
  data: Record<string, unknown>;
  warnings: string[];
}

export function summariseSplit(corpus: Corpus, split: Split): SplitSummary {
  const divergence = unigramDivergenceBits(split.val, split.train);
  const skipped = corpus.skipped ?? [];
  const heldOut = split.valIds.length <= NAMES_SHOWN ? split.valIds : null;
  const data = {
    corpus: corpus.name, documents: corpus.documents.length, bytes: corpus.totalBytes, method: split.method,
    train_documents: split.trainDocs, train_bytes: split.train.length,
    val_documents: split.valDocs, val_bytes: split.val.length, held_out: heldOut,
    divergence_bits: divergence, skipped: skipped.length, skipped_files: skipped.slice(0, NAMES_SHOWN).map((s) => s.id),
  };
  const held = split.method === 'bytes'
    ? `the last ${bytes(split.val.length)} (of ${names(split.valIds)})`
    : `${docs(split.valDocs)}, ${bytes(split.val.length)}${heldOut ? ` (${names(heldOut)})` : ''}`;
  let message = `${corpus.name}: ${docs(corpus.documents.length)}, ${bytes(corpus.totalBytes)}; ` +
    `train ${docs(split.trainDocs)}, ${bytes(split.train.length)}; validation ${held}`;
  if (skipped.length) message += `; skipped ${skipped.length} file(s) that are not text (${names(skipped.map((s) => s.id))})`;

  const warnings: string[] = [];
  if (split.val.length < MIN_VAL_BYTES) {
    warnings.push(`validation holds only ${bytes(split.val.length)} (under ${bytes(MIN_VAL_BYTES)}), so its bpb is mostly noise; give a larger corpus`);
  }
  if (divergence > MAX_DIVERGENCE_BITS) {
    warnings.push(`validation is unlike training: its byte frequencies diverge by ${divergence.toFixed(3)} bits/byte ` +
      `(KL(val ‖ train), warning above ${MAX_DIVERGENCE_BITS}), so val bpb measures that difference more than generalisation; ` +
      `held out: ${names(split.valIds)} — add more text like it, or move it out of the corpus`);
  }
  return { message, data, warnings };
}

function names(ids: string[]): string {
  const shown = ids.slice(0, NAMES_SHOWN).join(', ');
  return ids.length > NAMES_SHOWN ? `${shown} and ${ids.length - NAMES_SHOWN} more` : shown;
}

const docs = (n: number) => `${n} document${n === 1 ? '' : 's'}`;

function bytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} bytes`;
}
