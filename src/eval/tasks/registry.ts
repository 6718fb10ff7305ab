// Task specs to Tasks: a built-in name (copy, add3, brown-cloze, bpb, ...), `bpb:FILE` for bits
// per byte of any text file, or the path of a .jsonl task file (jsonl.ts).
import { TEXT_TASKS } from '../../data/tasks-text.js';
import { UsageError } from '../../errors.js';
import type { Task, TaskKind } from '../types.js';
import { brownBpbTask, fileBpbTask } from './bpb.js';
import { brownClozeTask } from './brown-cloze.js';
import { brownGenreTask } from './brown-genre.js';
import { limitTask } from './define.js';
import { jsonlTask } from './jsonl.js';
import { SYNTHETIC_NAMES, syntheticTask } from './synthetic.js';

export interface TaskOptions {
  /** Evaluate only the first `limit` examples (the order is fixed). */
  limit?: number;
  /** Another evaluation set of a built-in task (its version then names the seed). Default: the task's own. */
  seed?: number;
}

export interface BuiltinTask {
  name: string;
  kind: TaskKind;
  description: string;
  make: (seed?: number) => Task;
}

export const BUILTIN_TASKS: BuiltinTask[] = [
  ...SYNTHETIC_NAMES.map((name): BuiltinTask => ({ name, kind: 'generate', description: TEXT_TASKS[name].description, make: (seed) => syntheticTask(name, seed) })),
  { name: 'brown-cloze', kind: 'loglikelihood', description: 'the last word of a held-out Brown sentence among four of similar length (acc, acc_norm)', make: brownClozeTask },
  { name: 'brown-genre', kind: 'loglikelihood', description: 'the category of a held-out Brown passage among 15; few-shot multiple choice (acc, acc_norm)', make: brownGenreTask },
  { name: 'bpb', kind: 'rolling', description: 'bits per byte of held-out Brown text, overall and per category; bpb:FILE for any text file', make: brownBpbTask },
];

export function resolveTask(spec: string, opts: TaskOptions = {}): Task {
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 1)) {
    throw new UsageError(`the example limit must be a positive integer, got ${opts.limit}`);
  }
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new UsageError(`the task seed must be an integer, got ${opts.seed}`);
  const s = spec.trim();
  const builtin = BUILTIN_TASKS.find((t) => t.name === s);
  if (builtin) return limitTask(builtin.make(opts.seed), opts.limit);
  if (s.startsWith('bpb:')) {
    const file = s.slice('bpb:'.length);
    if (file === '') throw new UsageError("bpb: needs a file, e.g. --tasks bpb:notes.txt");
    return limitTask(fileBpbTask(file), opts.limit);
  }
  if (/\.jsonl$/i.test(s)) return limitTask(jsonlTask(s), opts.limit);
  throw new UsageError(`unknown task '${spec}'; built-in tasks: ${BUILTIN_TASKS.map((t) => t.name).join(', ')}; or bpb:FILE, or a .jsonl task file`);
}

/** A comma-separated list of specs (`copy,add3,bpb:notes.txt`), each resolved; duplicates refused. */
export function resolveTasks(list: string, opts: TaskOptions = {}): Task[] {
  const specs = list.split(',').map((s) => s.trim());
  if (specs.some((s) => s === '')) throw new UsageError(`--tasks '${list}' has an empty item; write names separated by commas, e.g. --tasks copy,add3`);
  const dup = specs.find((s, i) => specs.indexOf(s) !== i);
  if (dup) throw new UsageError(`--tasks names '${dup}' twice`);
  return specs.map((s) => resolveTask(s, opts));
}
