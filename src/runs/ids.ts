// Run ids and default run names. Ids sort by creation time as plain strings (so `ls runs/`
// and ORDER BY id agree with history) and carry enough randomness that two processes
// creating runs in the same millisecond do not collide. Names are for people: short,
// pronounceable, and derived from the id so the same run always gets the same name.
import { createHash, randomBytes } from 'node:crypto';

// 9 base36 digits of milliseconds cover dates until the year 5188, so the width never changes
// and lexical order stays chronological.
const TIME_WIDTH = 9;
const RANDOM_CHARS = 6;

/** The time part of the last id this process made. */
let lastTime = 0;

/**
 * A fresh run id: 'r' + zero-padded base36 milliseconds + 6 random base36 characters. One
 * process's ids strictly increase: a second id in the same millisecond takes the next one
 * (ULID's monotonic rule), since the random part alone would order them by chance. Ids that
 * two processes make in the same millisecond stay unordered between them.
 */
export function newRunId(now = Date.now()): string {
  const ms = Math.max(now, lastTime + 1);
  lastTime = ms;
  const time = ms.toString(36).padStart(TIME_WIDTH, '0');
  const bytes = randomBytes(RANDOM_CHARS);
  let suffix = '';
  for (const b of bytes) suffix += (b % 36).toString(36);
  return `r${time}${suffix}`;
}

const ADJECTIVES = [
  'amber', 'bold', 'brisk', 'calm', 'clever', 'cosmic', 'crisp', 'daring', 'deep', 'eager',
  'fancy', 'fierce', 'gentle', 'golden', 'grand', 'happy', 'hidden', 'humble', 'icy', 'jolly',
  'keen', 'kind', 'lively', 'lucky', 'merry', 'misty', 'noble', 'odd', 'pale', 'plucky',
  'proud', 'quick', 'quiet', 'rapid', 'rustic', 'shiny', 'silent', 'sleek', 'sly', 'snowy',
  'solar', 'spry', 'steady', 'sunny', 'swift', 'tidy', 'vivid', 'wary', 'witty', 'zesty',
];

const NOUNS = [
  'badger', 'beacon', 'cedar', 'comet', 'coral', 'crane', 'delta', 'ember', 'falcon', 'fern',
  'finch', 'fjord', 'forest', 'galaxy', 'glacier', 'harbor', 'heron', 'island', 'jaguar', 'lark',
  'lemur', 'lynx', 'maple', 'meadow', 'meteor', 'nebula', 'otter', 'owl', 'panda', 'pebble',
  'pine', 'planet', 'quartz', 'raven', 'reef', 'river', 'robin', 'sparrow', 'spruce', 'summit',
  'thistle', 'tiger', 'tundra', 'valley', 'walrus', 'willow', 'wombat', 'yak', 'zebra', 'zephyr',
];

/** The default name for a run: adjective-noun-NNN, a pure function of the id. */
export function defaultRunName(id: string): string {
  const h = createHash('sha256').update(id).digest();
  const adjective = ADJECTIVES[h.readUInt32BE(0) % ADJECTIVES.length];
  const noun = NOUNS[h.readUInt32BE(4) % NOUNS.length];
  const n = String(h.readUInt32BE(8) % 1000).padStart(3, '0');
  return `${adjective}-${noun}-${n}`;
}
