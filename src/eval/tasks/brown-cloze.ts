// brown-cloze: the last word of a held-out Brown sentence, chosen among four by log-likelihood.
// The distractors are words of the held-out text of about the same length (within one letter)
// and the same capitalisation, so neither length nor a capital gives the answer away; where
// the gold choice sits is drawn per example from the seed.
import { Rng, hashString } from '../../engine/random.js';
import type { LoglikelihoodExample, Task } from '../types.js';
import { brownHeldOut, type HeldOutDoc } from './brown-docs.js';
import { defineTask } from './define.js';
import { sentences } from './sentences.js';

export const CLOZE_SIZE = 300;
export const CLOZE_SEED = 1961;
const FEWSHOT_POOL = 100;
/** Sentences shorter than this many words leave too little to go on. */
const MIN_WORDS = 8;

export function brownClozeTask(seed = CLOZE_SEED): Task {
  return defineTask({
    name: 'brown-cloze',
    version: seed === CLOZE_SEED ? 'brown-cloze-v1' : `brown-cloze-v1-seed${seed}`,
    kind: 'loglikelihood',
    description: 'the last word of a held-out Brown sentence among four of similar length, by log-likelihood (acc, acc_norm)',
    examples: () => clozeExamples(brownHeldOut().eval, seed, CLOZE_SIZE),
    fewshot: () => clozeExamples(brownHeldOut().fewshot, hashString('fewshot', seed), FEWSHOT_POOL),
    fewshotSeparator: '\n',
  });
}

/** Up to n cloze examples from these documents, in a seeded order. */
export function clozeExamples(docs: HeldOutDoc[], seed: number, n: number): LoglikelihoodExample[] {
  const candidates: { context: string; word: string }[] = [];
  const pool = new WordPool();
  for (const d of docs) {
    pool.addText(d.text);
    for (const para of d.text.split('\n')) {
      for (const s of sentences(para)) {
        const m = /^(.*\S) ([A-Za-z]{3,})[.!?]$/.exec(s);
        if (m && s.split(' ').length >= MIN_WORDS) candidates.push({ context: m[1], word: m[2] });
      }
    }
  }
  const rng = new Rng(seed);
  shuffle(candidates, rng);
  const out: LoglikelihoodExample[] = [];
  for (const c of candidates) {
    if (out.length >= n) break;
    const r = new Rng(hashString(c.context, seed));
    const distractors = pool.draw(c.word, 3, r);
    if (distractors.length < 3) continue;
    const gold = r.int(4);
    const choices = distractors.map((w) => ` ${w}`);
    choices.splice(gold, 0, ` ${c.word}`);
    out.push({ kind: 'loglikelihood', context: c.context, choices, gold });
  }
  return out;
}

/** The distinct words of a text, by length and capitalisation, to draw distractors from. */
class WordPool {
  private byKey = new Map<string, string[]>();
  private seen = new Set<string>();

  addText(text: string): void {
    for (const w of text.match(/\b[A-Za-z]{2,}\b/g) ?? []) {
      if (this.seen.has(w)) continue;
      this.seen.add(w);
      const key = WordPool.key(w.length, w);
      const list = this.byKey.get(key) ?? [];
      list.push(w);
      this.byKey.set(key, list);
    }
  }

  private static key(length: number, like: string): string {
    return `${length}:${/^[A-Z]/.test(like) ? 'C' : 'l'}`;
  }

  /** k distinct words within one letter of the word's length, capitalised as it is, none the word itself (in any case). */
  draw(word: string, k: number, rng: Rng): string[] {
    const lower = word.toLowerCase();
    const options = [word.length - 1, word.length, word.length + 1]
      .flatMap((len) => this.byKey.get(WordPool.key(len, word)) ?? [])
      .filter((w) => w.toLowerCase() !== lower);
    const out: string[] = [];
    const used = new Set<string>();
    for (let tries = 0; out.length < k && tries < 50 * k && options.length > 0; tries++) {
      const w = options[rng.int(options.length)];
      if (used.has(w.toLowerCase())) continue;
      used.add(w.toLowerCase());
      out.push(w);
    }
    return out;
  }
}

export function shuffle<T>(a: T[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
}
