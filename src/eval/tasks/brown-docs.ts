// The Brown documents evaluation may use: only those the training split holds out (the split
// train() makes: splitCorpus(loadCorpus('brown'), { seed: 0 })), so no run was trained on them.
// They are divided once more, by a hash of the document's id, into evaluation documents and
// few-shot documents, so a demonstration never comes from a document being evaluated.
import { loadCorpus, splitCorpus } from '../../data/index.js';
import { hashString } from '../../engine/random.js';

/** Brown's 15 categories by the letter of the sample files (ca01 … cr09), named as NLTK names them. */
export const BROWN_CATEGORIES: Record<string, string> = {
  a: 'news', b: 'editorial', c: 'reviews', d: 'religion', e: 'hobbies', f: 'lore', g: 'belles lettres',
  h: 'government', j: 'learned', k: 'fiction', l: 'mystery', m: 'science fiction', n: 'adventure', p: 'romance', r: 'humor',
};

export interface HeldOutDoc {
  id: string;
  /** The category's name ('news', ...). */
  category: string;
  text: string;
}

/** 1 in FEWSHOT_MODULUS held-out documents is kept for few-shot demonstrations. */
const FEWSHOT_MODULUS = 5;
const FEWSHOT_SALT = 0xf5e7;

let cache: { eval: HeldOutDoc[]; fewshot: HeldOutDoc[] } | undefined;

/** The held-out documents, in corpus order, split into evaluation and few-shot ones (both non-empty). */
export function brownHeldOut(): { eval: HeldOutDoc[]; fewshot: HeldOutDoc[] } {
  if (cache) return cache;
  const corpus = loadCorpus('brown');
  // The same split as training (src/train/session.ts): change both together.
  const held = new Set(splitCorpus(corpus, { seed: 0 }).valIds);
  const decoder = new TextDecoder();
  const docs = corpus.documents.filter((d) => held.has(d.id))
    .map((d) => ({ id: d.id, category: BROWN_CATEGORIES[d.id[1]] ?? 'unknown', text: decoder.decode(d.bytes) }));
  const isFewshot = (d: HeldOutDoc) => hashString(d.id, FEWSHOT_SALT) % FEWSHOT_MODULUS === 0;
  let fewshot = docs.filter(isFewshot);
  if (fewshot.length === 0) fewshot = docs.slice(0, 1);
  const evalDocs = docs.filter((d) => !fewshot.includes(d));
  cache = { eval: evalDocs, fewshot };
  return cache;
}
