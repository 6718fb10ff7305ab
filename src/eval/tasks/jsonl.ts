// A user's task: a JSONL file, one example a line, of one kind for the whole file.
//
//   loglikelihood  {"context": "2+2=", "choices": ["4", "5"], "gold": 0}
//   generate       {"prompt": "2+2=", "target": "4", "stop": ["\n"]}      (stop defaults to ["\n"];
//                  an optional "max_bytes" caps the generation)
//   rolling        {"text": "Any text to measure in bits per byte.", "group": "optional label"}
//
// A line with "split": "fewshot" is a demonstration for --shots, never evaluated; every other
// line ("split": "eval" or no split) is evaluated. Blank lines are skipped. Any other mistake (bad
// JSON, a missing or mistyped field, an unknown field, a second kind) is a UsageError naming the
// file and line, `tasks.jsonl:17: ...`. The task's name is the file's name without .jsonl and its
// version a hash of the file's bytes, so scores of an edited file are never mixed with the old.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../../errors.js';
import type { Example, Task, TaskKind } from '../types.js';
import { defineTask } from './define.js';

const split = z.enum(['eval', 'fewshot']).optional();
const str = z.string();

const SCHEMAS = {
  loglikelihood: z.strictObject({
    context: str,
    choices: z.array(str).min(1),
    gold: z.number().int().min(0),
    split,
  }),
  generate: z.strictObject({
    prompt: str,
    target: str,
    stop: z.array(z.string().min(1)).optional(),
    max_bytes: z.number().int().min(1).optional(),
    split,
  }),
  rolling: z.strictObject({
    text: z.string().min(1),
    group: str.optional(),
    split,
  }),
};

/** Which kind a line is, from the field that only that kind has. */
function kindOf(o: Record<string, unknown>): TaskKind | null {
  if ('choices' in o || 'context' in o || 'gold' in o) return 'loglikelihood';
  if ('prompt' in o || 'target' in o) return 'generate';
  if ('text' in o) return 'rolling';
  return null;
}

export function jsonlTask(file: string): Task {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT'
      ? `no task file '${file}'; give a built-in task (scalelab eval --list-tasks) or a .jsonl file`
      : `cannot read task file '${file}': ${code ?? String(e)}`);
  }
  const shown = file;
  const lines = raw.toString('utf8').replace(/^\uFEFF/, '').split('\n');
  let kind: TaskKind | null = null, kindLine = 0;
  const examples: Example[] = [], fewshot: Example[] = [];
  lines.forEach((line, i) => {
    const at = `${shown}:${i + 1}`;
    if (line.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new UsageError(`${at}: not valid JSON (${(e as Error).message.split('\n')[0]}); write one JSON object per line`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`${at}: expected a JSON object, got ${Array.isArray(o) ? 'an array' : JSON.stringify(o)}`);
    const k = kindOf(o as Record<string, unknown>);
    if (k === null) {
      throw new UsageError(`${at}: not an example: write {"context", "choices", "gold"} (multiple choice), {"prompt", "target"} (generation) or {"text"} (bits per byte)`);
    }
    if (kind !== null && k !== kind) throw new UsageError(`${at}: a ${k} example in a file of ${kind} examples (line ${kindLine}); put each kind in its own file`);
    if (kind === null) { kind = k; kindLine = i + 1; }
    const r = SCHEMAS[k].safeParse(o);
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = issue.path.length ? `"${issue.path.join('.')}"` : 'the line';
      const what = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((x) => `"${x}"`).join(', ')}` : `${field}: ${issue.message}`;
      throw new UsageError(`${at}: ${what} (a ${k} example)`);
    }
    const ex = toExample(k, r.data as Record<string, unknown>, at);
    ((r.data as { split?: string }).split === 'fewshot' ? fewshot : examples).push(ex);
  });
  if (examples.length === 0) throw new UsageError(`${shown}: no examples to evaluate${fewshot.length ? ' (every line is "split": "fewshot")' : ' (the file is empty)'}`);
  const name = path.basename(file).replace(/\.jsonl$/i, '');
  return defineTask({
    name,
    version: `sha256:${crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16)}`,
    kind: kind!,
    description: `${examples.length} ${kind} examples from ${file}${fewshot.length ? `, ${fewshot.length} few-shot` : ''}`,
    examples: () => examples,
    fewshot: () => fewshot,
  });
}

function toExample(kind: TaskKind, d: Record<string, unknown>, at: string): Example {
  if (kind === 'loglikelihood') {
    const { context, choices, gold } = d as { context: string; choices: string[]; gold: number };
    if (gold >= choices.length) throw new UsageError(`${at}: "gold" is ${gold} but there are ${choices.length} choices (it counts from 0)`);
    return { kind, context, choices, gold };
  }
  if (kind === 'generate') {
    const { prompt, target, stop, max_bytes } = d as { prompt: string; target: string; stop?: string[]; max_bytes?: number };
    return { kind, prompt, target, stop: stop ?? ['\n'], ...(max_bytes !== undefined ? { maxBytes: max_bytes } : {}) };
  }
  const { text, group } = d as { text: string; group?: string };
  return { kind: 'rolling', text, ...(group !== undefined ? { group } : {}) };
}
