// brown-genre: which of Brown's 15 categories a held-out passage comes from, as multiple choice
// over the category names; meant for few-shot (--shots), with demonstrations from the few-shot
// documents. A passage is the start of a paragraph, cut at a word to at most PASSAGE_BYTES, so
// that a few demonstrations fit a small model's context.
import { Rng, hashString } from '../../engine/random.js';
import type { LoglikelihoodExample, Task } from '../types.js';
import { BROWN_CATEGORIES, brownHeldOut, type HeldOutDoc } from './brown-docs.js';
import { shuffle } from './brown-cloze.js';
import { defineTask } from './define.js';
import { chunkText } from './text-chunks.js';
import { byteLength } from '../truncate.js';

export const GENRE_SIZE = 300;
export const GENRE_SEED = 1961;
const PASSAGE_BYTES = 200;
/** Shorter passages (a headline, a dateline) say little about their genre. */
const MIN_PASSAGE_BYTES = 100;
const FEWSHOT_POOL = 150;

/** The choices, in a fixed order: the category names, each after a space. */
export const GENRE_CHOICES = Object.values(BROWN_CATEGORIES).map((c) => ` ${c}`);

export function brownGenreTask(seed = GENRE_SEED): Task {
  return defineTask({
    name: 'brown-genre',
    version: seed === GENRE_SEED ? 'brown-genre-v1' : `brown-genre-v1-seed${seed}`,
    kind: 'loglikelihood',
    description: "the category of a held-out Brown passage among the corpus's 15 (news, fiction, ...); few-shot multiple choice",
    examples: () => genreExamples(brownHeldOut().eval, seed, GENRE_SIZE),
    fewshot: () => genreExamples(brownHeldOut().fewshot, hashString('fewshot', seed), FEWSHOT_POOL),
  });
}

export function genreExamples(docs: HeldOutDoc[], seed: number, n: number): LoglikelihoodExample[] {
  const all: LoglikelihoodExample[] = [];
  for (const d of docs) {
    const gold = GENRE_CHOICES.indexOf(` ${d.category}`);
    // A passage begins where a paragraph does (a piece from its middle starts mid-sentence) and
    // runs to at most PASSAGE_BYTES, cut at a word.
    for (const para of d.text.split('\n')) {
      const passage = chunkText(para, PASSAGE_BYTES)[0] ?? '';
      if (byteLength(passage) < MIN_PASSAGE_BYTES) continue;
      all.push({ kind: 'loglikelihood', context: `Passage: ${passage}\nGenre:`, choices: GENRE_CHOICES, gold });
    }
  }
  shuffle(all, new Rng(seed));
  return all.slice(0, n);
}
