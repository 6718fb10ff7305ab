// Captions of the procedural clips: written from templates, read back into the objects they ask
// for, and turned into word ids for the model's small text encoder.
//
//   object  := "a" COLOUR SHAPE ("moves" left|right|up|down | "bounces")
//   caption := object | object "while" object | object "," object "and" object
//              followed by " behind a grey bar" when the clip has the occluder
//
// e.g. "a red circle moves right while a blue square bounces". The vocabulary is every word the
// templates can write, so a prompt with any other word is refused, in one line that names the
// word and the words it could have used; so is a prompt for more objects than a clip holds.
import { UsageError } from '../errors.js';
import { COLOURS, MAX_OBJECTS, MOTIONS, SHAPES, type Colour, type Motion, type Shape } from './clip-world.js';

export interface CaptionObject {
  colour: Colour;
  shape: Shape;
  motion: Motion;
}

export interface Caption {
  objects: CaptionObject[];
  /** The clip has the grey bar that objects pass behind. */
  occluder: boolean;
}

const DIRECTIONS = MOTIONS.filter((m) => m !== 'bounces');
const GLUE = ['a', ',', 'while', 'and', 'moves', 'bounces', 'behind', 'grey', 'bar'] as const;
const OCCLUDER_WORDS = ['behind', 'a', 'grey', 'bar'];

/** Word ids: 0 is padding; then every word the templates write. Fixed order, so ids never move. */
export const CAPTION_VOCAB: readonly string[] = ['<pad>', ...GLUE, ...COLOURS, ...SHAPES, ...DIRECTIONS];
export const PAD_ID = 0;
const WORD_ID = new Map(CAPTION_VOCAB.map((w, i) => [w, i]));

/** Word ids per caption: the longest caption (three objects, all moving, and the bar) is 21 words. */
export const CAPTION_LENGTH = 24;

function objectPhrase(o: CaptionObject): string {
  return `a ${o.colour} ${o.shape} ${o.motion === 'bounces' ? 'bounces' : `moves ${o.motion}`}`;
}

/** The caption of a clip with these objects, in this order. */
export function writeCaption(c: Caption): string {
  const p = c.objects.map(objectPhrase);
  if (p.length < 1 || p.length > MAX_OBJECTS) throw new RangeError(`a caption names 1 to ${MAX_OBJECTS} objects, got ${p.length}`);
  const body = p.length === 1 ? p[0] : p.length === 2 ? `${p[0]} while ${p[1]}` : `${p[0]}, ${p[1]} and ${p[2]}`;
  return c.occluder ? `${body} behind a grey bar` : body;
}

/** Lower-cased words, a comma as a word of its own, a final full stop dropped. */
function words(text: string): string[] {
  return text.toLowerCase().trim().replace(/\.$/, '').replace(/,/g, ' , ').split(/\s+/).filter((w) => w !== '');
}

const KNOWN = `known colours: ${COLOURS.join(', ')}; shapes: ${SHAPES.join(', ')}; motions: moves ${DIRECTIONS.join('|')}, bounces`;
const FORM = `each object reads 'a COLOUR SHAPE moves ${DIRECTIONS.join('|')}' or 'a COLOUR SHAPE bounces', joined by 'while', 'and' or commas, optionally ending 'behind a grey bar'`;

/**
 * The objects a caption or prompt asks for. Throws UsageError, one line, for an unknown word, more
 * than MAX_OBJECTS objects, two objects of one colour (the detector tells objects apart by colour
 * and the generator never paints two alike) or a sentence outside the templates.
 */
export function parseCaption(text: string): Caption {
  const w = words(text);
  if (w.length === 0) throw new UsageError(`the prompt is empty; ${FORM}`);
  for (const word of w) {
    if (!WORD_ID.has(word) || word === '<pad>') throw new UsageError(`unknown word '${word}' in the prompt; ${KNOWN}`);
  }
  let occluder = false;
  if (w.length >= 4 && w.slice(-4).join(' ') === OCCLUDER_WORDS.join(' ')) {
    occluder = true;
    w.length -= 4;
  }
  // Objects are the runs of words between separators; count them first, so a prompt for five
  // objects hears about the limit rather than about its grammar.
  const groups: string[][] = [[]];
  for (const word of w) {
    if (word === ',' || word === 'while' || word === 'and') groups.push([]);
    else groups[groups.length - 1].push(word);
  }
  // Joins may repeat (", and"): empty runs between them are not objects.
  if (groups.length > 1) for (let i = groups.length - 1; i >= 0; i--) if (groups[i].length === 0) groups.splice(i, 1);
  if (groups.length > MAX_OBJECTS) throw new UsageError(`the prompt asks for ${groups.length} objects; clips hold at most ${MAX_OBJECTS}`);
  const objects = groups.map((g): CaptionObject => {
    const phrase = g.join(' ');
    const [article, colour, shape, verb, direction, ...rest] = g;
    const ok = article === 'a' && (COLOURS as readonly string[]).includes(colour) && (SHAPES as readonly string[]).includes(shape) &&
      ((verb === 'bounces' && direction === undefined) || (verb === 'moves' && (DIRECTIONS as readonly string[]).includes(direction))) && rest.length === 0;
    if (!ok) throw new UsageError(`cannot read '${phrase || (occluder ? 'behind a grey bar' : text.trim())}' in the prompt; ${FORM}`);
    return { colour: colour as Colour, shape: shape as Shape, motion: (verb === 'bounces' ? 'bounces' : direction) as Motion };
  });
  const seen = new Set<Colour>();
  for (const o of objects) {
    if (seen.has(o.colour)) throw new UsageError(`two objects in the prompt are ${o.colour}; each object needs a colour of its own`);
    seen.add(o.colour);
  }
  return { objects, occluder };
}

/**
 * Word ids of a caption or prompt, padded with PAD_ID to CAPTION_LENGTH; refuses what parseCaption
 * refuses. A prompt is encoded as the caption the templates would write for it ("X and Y" as
 * "X while Y"), so the model is given exactly the phrasing it was trained on.
 */
export function encodeCaption(text: string): Int32Array {
  const ids = new Int32Array(CAPTION_LENGTH);
  words(writeCaption(parseCaption(text))).forEach((w, i) => (ids[i] = WORD_ID.get(w)!));
  return ids;
}

/** The words of encoded ids, padding dropped (for tests and for printing what a model was given). */
export function decodeCaption(ids: Int32Array): string {
  const out: string[] = [];
  for (const id of ids) if (id !== PAD_ID) out.push(CAPTION_VOCAB[id]);
  return out.join(' ').replace(/ ,/g, ',');
}
