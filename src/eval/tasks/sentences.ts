// Sentences of a paragraph of printed Brown text. A period after an abbreviation ("Mr.", "Jr.")
// or an initial ("Raymond H. Hawksley") does not end a sentence; after anything else, a period,
// question or exclamation mark followed by a space and a capital (or an opening quote) does.

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'gen', 'gov', 'rep', 'sen', 'lt', 'col', 'capt', 'sgt', 'maj', 'prof',
  'rev', 'inc', 'co', 'corp', 'ltd', 'vs', 'no', 'mt', 'ft', 'jan', 'feb', 'mar', 'apr', 'aug', 'sept', 'sep', 'oct',
  'nov', 'dec', 'u.s', 'e.g', 'i.e', 'etc', 'p.m', 'a.m', 'ave', 'blvd', 'dept', 'fig', 'vol', 'ch',
]);

export function sentences(paragraph: string): string[] {
  const out: string[] = [];
  let start = 0;
  const end = /[.!?]["')]*\s+(?=["'(]?[A-Z])/g;
  for (let m = end.exec(paragraph); m !== null; m = end.exec(paragraph)) {
    const before = paragraph.slice(start, m.index);
    const word = /([A-Za-z.]+)$/.exec(before)?.[1] ?? '';
    if (paragraph[m.index] === '.' && (ABBREVIATIONS.has(word.toLowerCase()) || /^[A-Z]$/.test(word))) continue;
    out.push(paragraph.slice(start, m.index + m[0].trimEnd().length));
    start = m.index + m[0].length;
  }
  const rest = paragraph.slice(start).trim();
  if (rest !== '') out.push(rest);
  return out;
}
