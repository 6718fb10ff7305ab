// The evaluation benchmark: a task scored with requests batched (many per decoder step, shared
// contexts prefilled once) against the same task scored one example at a time, on one model, in
// one process. Both give the same numbers (batch invariance); only the time differs.
import { setThreads, getThreads, kernelInfo } from '../engine/native.js';
import { GPT, REFERENCE_CONFIG } from '../models/gpt.js';
import { LocalScorer } from '../eval/local-scorer.js';
import { evaluateTask } from '../eval/runner.js';
import type { Example, Task } from '../eval/types.js';

export interface EvalBenchOptions {
  /** The model to score with (default: the reference GPT with seed-0 weights: speed does not depend on training). */
  model?: GPT;
  tasks: Task[];
  /** Examples per task (default 200). */
  limit?: number;
  /** Prompt transform (few-shot), as `scalelab eval` applies it. */
  prompt?: (task: Task) => (example: Example, index: number) => Example;
  threads?: number;
}

export interface EvalBenchRow {
  task: string;
  examples: number;
  batched_examples_per_s: number;
  single_examples_per_s: number;
  speedup: number;
  /** Whether both ways gave identical metrics (they must). */
  identical: boolean;
}

export interface EvalBenchResult {
  kernel: string;
  threads: number;
  params: number;
  rows: EvalBenchRow[];
}

export async function benchEval(o: EvalBenchOptions): Promise<EvalBenchResult> {
  if (o.threads !== undefined) setThreads(o.threads);
  const model = o.model ?? new GPT(REFERENCE_CONFIG, { seed: 0 });
  const limit = o.limit ?? 200;
  const rows: EvalBenchRow[] = [];
  for (const task of o.tasks) {
    const run = async (batched: boolean) => {
      const scorer = new LocalScorer(model, batched ? { subject: 'bench' } : { subject: 'bench', sequencesPerStep: 1 });
      const t0 = process.hrtime.bigint();
      const r = await evaluateTask(scorer, task, { limit, chunk: batched ? 64 : 1, prompt: o.prompt?.(task) });
      return { r, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    };
    await run(true); // warm-up: first-touch allocations and the packed weights' caches
    const batched = await run(true);
    const single = await run(false);
    const n = batched.r.n;
    rows.push({
      task: task.name, examples: n,
      batched_examples_per_s: n / batched.seconds, single_examples_per_s: n / single.seconds,
      speedup: single.seconds / batched.seconds,
      identical: JSON.stringify(batched.r.metrics) === JSON.stringify(single.r.metrics),
    });
  }
  return { kernel: kernelInfo().kernels, threads: getThreads(), params: model.params.length, rows };
}
