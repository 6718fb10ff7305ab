// The synthetic tasks (copy, add2, add3, rev) as generate tasks, from the same text generators
// that training mixtures use (src/data/tasks-text.ts), so a model is asked exactly what it was
// trained on. Evaluation problems come from the evaluation-only class of the problem space,
// few-shot demonstrations from the rest (as training does), so neither a demonstration nor a
// training line is ever an evaluation problem.
import { TEXT_TASKS, evalProblems, fewshotProblems, type TextProblem, type TextTask } from '../../data/tasks-text.js';
import type { GenerateExample, Task } from '../types.js';
import { defineTask } from './define.js';

/** Evaluation problems per task: enough for a standard error of about 2 points of exact match. */
export const SYNTHETIC_SIZE = 500;
/** The evaluation set's seed; another seed (TaskOptions.seed) gives another set and version. */
export const SYNTHETIC_SEED = 20240614;
const FEWSHOT_POOL = 64;

export const SYNTHETIC_NAMES = Object.keys(TEXT_TASKS).sort();

export function syntheticTask(name: string, seed = SYNTHETIC_SEED): Task {
  const t: TextTask = TEXT_TASKS[name];
  const asExample = (p: TextProblem): GenerateExample => ({ kind: 'generate', prompt: p.prompt, target: p.target, stop: ['\n'] });
  return defineTask({
    name,
    version: seed === SYNTHETIC_SEED ? t.version : `${t.version}-seed${seed}`,
    kind: 'generate',
    description: t.description,
    examples: () => evalProblems(t, seed, SYNTHETIC_SIZE).map(asExample),
    fewshot: () => fewshotProblems(t, seed, FEWSHOT_POOL).map(asExample),
    // Demonstrations one a line, as problems follow each other in a training mixture's blocks.
    fewshotSeparator: '\n',
  });
}
