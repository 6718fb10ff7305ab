// A Task from functions that build its examples, each built once on first use: the Brown tasks
// load and split the corpus, which a command that only lists tasks should not pay for.
import type { Example, Task, TaskKind } from '../types.js';

export interface TaskDefinition {
  name: string;
  version: string;
  kind: TaskKind;
  description: string;
  examples: () => Example[];
  fewshot: () => Example[];
  fewshotSeparator?: string;
}

export function defineTask(d: TaskDefinition): Task {
  let examples: Example[] | undefined;
  let fewshot: Example[] | undefined;
  return {
    name: d.name,
    version: d.version,
    kind: d.kind,
    description: d.description,
    examples: () => (examples ??= d.examples()),
    fewshot: () => (fewshot ??= d.fewshot()),
    ...(d.fewshotSeparator !== undefined ? { fewshotSeparator: d.fewshotSeparator } : {}),
  };
}

/** The same task with its evaluation set cut to its first `limit` examples (the order is fixed, so a prefix is a fair sample). */
export function limitTask(task: Task, limit: number | undefined): Task {
  if (limit === undefined) return task;
  let cut: Example[] | undefined;
  return { ...task, examples: () => (cut ??= task.examples().slice(0, limit)) };
}
