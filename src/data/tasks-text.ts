// Synthetic task text: small problems (k-digit addition, copying, reversal) written as one line
// each, `PROMPT` + `TARGET`, e.g. "123+456=579". The same generators make the evaluation sets
// (src/eval/tasks wraps them into Tasks) and the text mixed into a training stream
// (src/data/mixture.ts), so a model is trained on exactly the format it is evaluated on.
//
// Training must never see an evaluation problem. Seeds alone would not promise that (two seeds
// can draw the same 3-digit sum), so the problem space itself is partitioned: a problem is
// evaluation-only when a hash of its prompt falls in one residue class (1 in EVAL_MODULUS), and
// training draws skip those. The evaluation set draws only from that class, and few-shot
// demonstrations only from the rest, so neither can be an evaluation problem either.
//
// Not even as a substring: "ruu>uur" sits inside the reversal "xruu>uurx", and "ab|ab" inside the
// copy "abab|abab". A task whose problems nest like that hashes only the part every nesting
// problem shares (the letters just before the separator), so the problems that contain an
// evaluation problem are evaluation-only too. Sums cannot nest: their operands have a fixed width.
//
// A generator's `version` names the text it produces: change it whenever draw() changes, since
// scores recorded under the old version were measured on other problems.
import { Rng, hashString } from '../engine/random.js';

export interface TextProblem {
  /** What the model is given, e.g. "123+456=". */
  prompt: string;
  /** What it should continue with, e.g. "579" (a line ends after it). */
  target: string;
}

export interface TextTask {
  name: string;
  version: string;
  description: string;
  /** One problem from the whole space (evaluation-only problems included). */
  draw(rng: Rng): TextProblem;
  /** What the partition hashes (default: the prompt); see partitionKey. */
  partitionKey?: (p: TextProblem) => string;
}

/** 1 in EVAL_MODULUS problems is evaluation-only. */
export const EVAL_MODULUS = 8;
/** Salt of the partition hash, fixed forever: changing it would move problems across the partition. */
const PARTITION_SALT = 0x5ca1ab1e;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function letters(rng: Rng, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[rng.int(26)];
  return s;
}

/** k-digit operands, uniform over [10^(k−1), 10^k − 1] (no leading zeros). */
function addition(k: number): TextTask {
  const lo = 10 ** (k - 1), span = 9 * lo;
  return {
    name: `add${k}`,
    version: `add${k}-v1`,
    description: `${k}-digit addition: "a+b=" → the sum (exact match; log-prob per byte of the answer)`,
    draw(rng) {
      const a = lo + rng.int(span), b = lo + rng.int(span);
      return { prompt: `${a}+${b}=`, target: String(a + b) };
    },
  };
}

/** Copy lengths: long enough that guessing letters one by one fails, short enough for ctx 64. */
export const COPY_LENGTH = { min: 6, max: 16 };
export const REV_LENGTH = { min: 3, max: 8 };
/** Letters before the separator that decide the partition of copy and rev (at most their shortest string). */
const PARTITION_LETTERS = { copy: 4, rev: 3 };

export const TEXT_TASKS: Record<string, TextTask> = {
  add2: addition(2),
  add3: addition(3),
  copy: {
    name: 'copy',
    version: 'copy-v1',
    description: `in-context copying: ${COPY_LENGTH.min}-${COPY_LENGTH.max} random letters, "|", the same letters again (induction heads)`,
    draw(rng) {
      const s = letters(rng, COPY_LENGTH.min, COPY_LENGTH.max);
      return { prompt: `${s}|`, target: s };
    },
    // "s|s" occurs in "t|t" only when t ends with s: hash the letters the two share at the end.
    partitionKey: (p) => p.prompt.slice(-1 - PARTITION_LETTERS.copy, -1),
  },
  rev: {
    name: 'rev',
    version: 'rev-v1',
    description: `string reversal: ${REV_LENGTH.min}-${REV_LENGTH.max} random letters, ">", the letters reversed`,
    draw(rng) {
      const s = letters(rng, REV_LENGTH.min, REV_LENGTH.max);
      return { prompt: `${s}>`, target: [...s].reverse().join('') };
    },
    // "s>r" occurs in "cs>rc": hash the letters just before ">", which every such problem shares.
    partitionKey: (p) => p.prompt.slice(-1 - PARTITION_LETTERS.rev, -1),
  },
};

export const TEXT_TASK_NAMES = Object.keys(TEXT_TASKS).sort();

/** Whether a problem is reserved for evaluation (training and few-shot never use it). */
export function isEvalProblem(task: TextTask, p: TextProblem): boolean {
  return hashString(`${task.name}:${task.partitionKey ? task.partitionKey(p) : p.prompt}`, PARTITION_SALT) % EVAL_MODULUS === 0;
}

/** A problem training may use: drawn until it falls outside the evaluation class. */
export function trainingProblem(task: TextTask, rng: Rng): TextProblem {
  for (;;) {
    const p = task.draw(rng);
    if (!isEvalProblem(task, p)) return p;
  }
}

/**
 * `n` distinct evaluation problems from a seed, in draw order. Fewer when the evaluation class
 * has fewer (add2 has about 8,100 / EVAL_MODULUS); the draw gives up after 400·n tries.
 */
export function evalProblems(task: TextTask, seed: number, n: number): TextProblem[] {
  return distinct(task, seed, n, true);
}

/** `n` distinct problems outside the evaluation class, for few-shot demonstrations. */
export function fewshotProblems(task: TextTask, seed: number, n: number): TextProblem[] {
  return distinct(task, hashString('fewshot', seed), n, false);
}

function distinct(task: TextTask, seed: number, n: number, evalClass: boolean): TextProblem[] {
  const rng = new Rng(hashString(task.name, seed));
  const seen = new Set<string>();
  const out: TextProblem[] = [];
  for (let tries = 0; out.length < n && tries < 400 * n; tries++) {
    const p = task.draw(rng);
    if (isEvalProblem(task, p) !== evalClass || seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    out.push(p);
  }
  return out;
}

/** A problem as a line of text (without the newline that ends it). */
export function problemLine(p: TextProblem): string {
  return p.prompt + p.target;
}
