// Training mixtures: synthetic task text (tasks-text.ts) mixed into a corpus's training bytes, so
// that abilities like addition or copying can be learned at all and then watched across scale.
//
// `--mix add3:0.05,copy:0.02` asks for 5 % and 2 % of the training stream's bytes to be task text.
// The stream is rebuilt from the seed on every start, the same bytes every time, so a resumed run
// draws exactly the batches it would have drawn (BatchSampler.restore checks the length too).
//
// Layout: task text comes in blocks of consecutive problems of one task, one problem a line
// ("123+456=579\n456+789=1245"), the format evaluation prompts and few-shot demonstrations use.
// Blocks are put between the corpus's documents, at its '\n\n' boundaries, never inside a
// document, and the corpus's own bytes stay in order, untouched. Validation is not mixed: it stays
// pure corpus, so validation bpb compares across runs with and without a mixture.
import { Rng, hashString } from '../engine/random.js';
import { UsageError } from '../errors.js';
import { TEXT_TASKS, TEXT_TASK_NAMES, problemLine, trainingProblem } from './tasks-text.js';
import { DOC_SEPARATOR } from './split.js';

export interface MixPart {
  task: string;
  /** Share of the mixed stream's bytes, in (0, 1). */
  fraction: number;
}

/** Problems per block: enough for a window to see several in a row, as a few-shot prompt does. */
const BLOCK_LINES = { min: 4, max: 16 };

/** What a mixture spec must be, for messages: `--mix ${MIX_FORMAT} (why), got '…'`. */
export const MIX_FORMAT = 'must be TASK:FRACTION pairs like add3:0.05,copy:0.02';

/**
 * A mixture spec, `TASK:FRACTION,...`, as parts sorted by task name (so the order it was written
 * in does not change the stream). A mistake is one UsageError line naming --mix and why.
 */
export function parseMix(spec: string): MixPart[] {
  const r = readMix(spec);
  if (typeof r === 'string') throw new UsageError(`--mix ${MIX_FORMAT} (${r}), got '${spec}'`);
  return r;
}

/** The parts of a spec, or what is wrong with it. */
export function readMix(spec: string): MixPart[] | string {
  const items = spec.split(',').map((s) => s.trim());
  if (spec.trim() === '' || items.some((s) => s === '')) return 'an empty item';
  const parts: MixPart[] = [];
  for (const item of items) {
    const m = /^([^:\s]+)\s*:\s*(\S+)$/.exec(item);
    if (!m) return `'${item}' is not TASK:FRACTION`;
    const [, task, frac] = m;
    if (!(task in TEXT_TASKS)) return `unknown task '${task}'; tasks that can be mixed into training: ${TEXT_TASK_NAMES.join(', ')}`;
    const fraction = Number(frac);
    if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) return `the fraction of ${task} must be a number between 0 and 1, a share of the training bytes`;
    if (parts.some((p) => p.task === task)) return `${task} is named twice`;
    parts.push({ task, fraction });
  }
  const sum = parts.reduce((s, p) => s + p.fraction, 0);
  if (sum >= 1) return `the fractions add up to ${+sum.toFixed(6)}; they must sum to less than 1 so the corpus keeps a share`;
  return parts.sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
}

/** The canonical spelling of a mixture (sorted by task). */
export function formatMix(parts: MixPart[]): string {
  return parts.map((p) => `${p.task}:${p.fraction}`).join(',');
}

export interface Mixture {
  /** The mixed training stream. */
  tokens: Uint8Array;
  /** Corpus bytes (unchanged) and each task's bytes (its lines and their newlines). */
  corpusBytes: number;
  taskBytes: Record<string, number>;
  /** Blocks of task text inserted. */
  blocks: number;
}

/**
 * The corpus's training bytes with task text mixed in: each task gets about fraction × the
 * result's bytes. Deterministic in (train, parts, seed). `train` is the split's training half,
 * documents joined by DOC_SEPARATOR; blocks go only where that separator is (or at either end).
 */
export function mixTraining(train: Uint8Array, parts: MixPart[], seed: number): Mixture {
  const total = parts.reduce((s, p) => s + p.fraction, 0);
  if (!(total > 0 && total < 1)) throw new UsageError(`--mix fractions must sum to between 0 and 1, got ${total}`);
  const corpusBytes = train.length;
  const encoder = new TextEncoder();
  const blocks: Uint8Array[] = [];
  const taskBytes: Record<string, number> = {};
  for (const p of parts) {
    const task = TEXT_TASKS[p.task];
    if (!task) throw new UsageError(`--mix: unknown task '${p.task}'; tasks that can be mixed into training: ${TEXT_TASK_NAMES.join(', ')}`);
    // fraction of the mixed stream: corpus / (1 − total) bytes in all.
    const want = Math.round((p.fraction * corpusBytes) / (1 - total));
    const rng = new Rng(hashString(`mix:${p.task}`, seed));
    let bytes = 0;
    while (bytes < want) {
      const lines = BLOCK_LINES.min + rng.int(BLOCK_LINES.max - BLOCK_LINES.min + 1);
      const text: string[] = [];
      for (let i = 0; i < lines; i++) text.push(problemLine(trainingProblem(task, rng)));
      const block = encoder.encode(text.join('\n'));
      blocks.push(block);
      bytes += block.length + DOC_SEPARATOR.length;
    }
    taskBytes[p.task] = bytes;
  }
  const segments = splitAtSeparator(train);
  // Shuffle the blocks (so tasks interleave), then give each a slot: before segment k, or after the last.
  const rng = new Rng(hashString('mix:slots', seed));
  for (let i = blocks.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
  }
  const bySlot: Uint8Array[][] = Array.from({ length: segments.length + 1 }, () => []);
  for (const b of blocks) bySlot[rng.int(segments.length + 1)].push(b);
  const pieces: Uint8Array[] = [];
  for (let k = 0; k <= segments.length; k++) {
    pieces.push(...bySlot[k]);
    if (k < segments.length) pieces.push(segments[k]);
  }
  return { tokens: joinPieces(pieces), corpusBytes, taskBytes, blocks: blocks.length };
}

/** The bytes between separators, left to right; joining them with the separator gives `bytes` back. */
function splitAtSeparator(bytes: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const at = buf.indexOf(DOC_SEPARATOR, start);
    if (at < 0) break;
    out.push(bytes.subarray(start, at));
    start = at + DOC_SEPARATOR.length;
  }
  out.push(bytes.subarray(start));
  return out;
}

function joinPieces(pieces: Uint8Array[]): Uint8Array {
  const n = pieces.reduce((s, p) => s + p.length, 0) + DOC_SEPARATOR.length * Math.max(0, pieces.length - 1);
  const out = new Uint8Array(n);
  let at = 0;
  pieces.forEach((p, k) => {
    if (k > 0) { out.set(DOC_SEPARATOR, at); at += DOC_SEPARATOR.length; }
    out.set(p, at);
    at += p.length;
  });
  return out;
}
