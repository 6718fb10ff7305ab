// A sweep's or a run's evaluation results for the dashboard: which tasks were evaluated there
// (the page's task picker), and the emergence view of one (src/eval/emergence.ts draws the same
// numbers `scalelab emergence` prints). A sweep compares its runs' final weights against training
// FLOPs; a run compares its checkpoints against training step.
import type { EvalResult, Store } from '../runs/index.js';

/** Where results are read: a sweep's runs, or one run (by id or name). */
export type EvalSource = { sweep: string; run?: undefined } | { run: string; sweep?: undefined };

export interface EvalTask {
  task: string;
  shots: number;
  /** The newest version evaluated: the one the emergence view compares. */
  taskVersion: string;
  /** Its metrics, in the order the store lists them. */
  metrics: string[];
  /** Points the view would draw: runs (a sweep) or checkpoints and final weights (a run). */
  points: number;
}

export interface EvalTasks {
  sweep: string | null;
  run: string | null;
  tasks: EvalTask[];
}

/** The tasks (and few-shot counts) with results for `source`, sorted by task then shots. */
export async function evalTasks(store: Store, source: EvalSource): Promise<EvalTasks> {
  const results = await sourceResults(store, source);
  const groups = new Map<string, EvalResult[]>();
  for (const r of results) {
    const key = JSON.stringify([r.task, r.shots]);
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const tasks = [...groups.values()].map((list): EvalTask => {
    // Older versions scored other examples: the view keeps only the newest, and so does the count.
    const newest = list.reduce((a, r) => (r.createdAt > a.createdAt ? r : a));
    const current = list.filter((r) => r.taskVersion === newest.taskVersion);
    return {
      task: newest.task, shots: newest.shots, taskVersion: newest.taskVersion,
      metrics: [...new Set(current.map((r) => r.metric))],
      points: new Set(current.map((r) => `${r.subject}@${r.step}`)).size,
    };
  });
  tasks.sort((a, b) => a.task.localeCompare(b.task) || a.shots - b.shots);
  return { sweep: source.sweep ?? null, run: source.run === undefined ? null : (await store.getRun(source.run)).name, tasks };
}

/** Results the emergence view can draw: a sweep's runs' final weights, or every step of one run. */
async function sourceResults(store: Store, source: EvalSource): Promise<EvalResult[]> {
  if (source.sweep !== undefined) {
    const ids = (await Promise.all((await store.runsNamingSweep(source.sweep)).map((name) => store.getRun(name)))).map((r) => r.id);
    return (await store.evals.results({ subjects: ids })).filter((r) => r.step === -1);
  }
  return await store.evals.results({ subjects: [(await store.getRun(source.run)).id] });
}
