// Evaluating subjects (runs, checkpoints, endpoints) on tasks, into the run store: the library
// function behind `scalelab eval`.
import type { EvalKey, Store } from '../runs/index.js';
import type { MetricValue, Outcome } from './metrics.js';
import { evaluateTask, UnsupportedTaskError, type OutcomeSink } from './runner.js';
import type { Subject } from './subjects.js';
import type { Example, Task } from './types.js';

export interface EvaluateSubjectsOptions {
  shots: number;
  seed: number;
  /** The example with its few-shot demonstrations, for this task. */
  prompt?: (task: Task) => (example: Example, index: number) => Example;
  /** Called as each (subject, task) progresses. */
  onProgress?: (subject: Subject, task: Task, done: number, total: number) => void;
}

/** One metric of one (subject, task) evaluation, with the subject's label. */
export interface EvalRow extends EvalKey, MetricValue {
  label: string;
}

export interface EvaluateSubjectsResult {
  rows: EvalRow[];
  /** (subject, task) pairs the scorer could not serve, with the reason. */
  skipped: { label: string; task: string; reason: string }[];
  /** (subject, task) pairs that found examples already scored by an earlier, interrupted call. */
  resumed: { label: string; task: string; examples: number; of: number }[];
}

/**
 * Every task on every subject, one subject's model loaded at a time. Outcomes are saved as they
 * are scored, so a failure (an endpoint that went away) keeps what was done and a second call
 * resumes; the error is rethrown after the subject's scorer is closed.
 */
export async function evaluateSubjects(store: Store, subjects: readonly Subject[], tasks: readonly Task[],
  o: EvaluateSubjectsOptions): Promise<EvaluateSubjectsResult> {
  const rows: EvalRow[] = [], skipped: EvaluateSubjectsResult['skipped'] = [], resumed: EvaluateSubjectsResult['resumed'] = [];
  for (const subject of subjects) {
    const scorer = await subject.open();
    try {
      for (const task of tasks) {
        const key = { subject: subject.subject, runId: subject.runId, step: subject.step, task: task.name, taskVersion: task.version, shots: o.shots, seed: o.seed };
        const sink: OutcomeSink = {
          done: async () => await store.evals.outcomes(key) as Map<number, Outcome>,
          save: async (items) => await store.evals.saveOutcomes(key, items),
          finish: async (metrics) => await store.evals.saveResults(key, metrics),
        };
        try {
          const report = await evaluateTask(scorer, task, {
            sink, prompt: o.prompt?.(task),
            onProgress: (done, total) => o.onProgress?.(subject, task, done, total),
          });
          if (report.resumed > 0) resumed.push({ label: subject.label, task: task.name, examples: report.resumed, of: report.n });
          for (const m of report.metrics) rows.push({ ...key, ...m, label: subject.label });
        } catch (err) {
          if (!(err instanceof UnsupportedTaskError)) throw err;
          skipped.push({ label: subject.label, task: task.name, reason: err.message });
        }
      }
    } finally {
      await scorer.close?.();
    }
  }
  return { rows, skipped, resumed };
}
