// The playground's model list: the ids GET /v1/models offers (a run's final weights as NAME,
// its checkpoints as NAME@STEP), grouped under their run with what the runs table knows of it
// (its context length above all, which bounds every request). Runs come newest first; within
// one, the final weights and then the checkpoints from the latest step down.
import type { RunSummary } from './api.js';

export interface ModelChoice {
  id: string;
  /** The checkpoint's step; null for the final weights. */
  step: number | null;
}

export interface ModelGroup {
  run: string;
  /** The run's context length, when the runs table knows the run. */
  ctx: number | null;
  shape: string | null;
  createdAt: string;
  models: ModelChoice[];
}

/** NAME@STEP → the run and step; anything else is a run's final weights. */
export function parseModelId(id: string): { run: string; step: number | null } {
  const m = /^(.+)@(\d+)$/.exec(id);
  return m ? { run: m[1], step: Number(m[2]) } : { run: id, step: null };
}

export function groupModels(ids: string[], runs: Iterable<RunSummary>): ModelGroup[] {
  const byName = new Map<string, RunSummary>([...runs].map((r) => [r.name, r])); // run names are unique in the store
  const groups = new Map<string, ModelGroup>();
  for (const id of ids) {
    const { run, step } = parseModelId(id);
    let g = groups.get(run);
    if (!g) {
      const r = byName.get(run);
      g = { run, ctx: r?.ctx ?? null, shape: r?.shape ?? null, createdAt: r?.createdAt ?? '', models: [] };
      groups.set(run, g);
    }
    g.models.push({ id, step });
  }
  const out = [...groups.values()];
  for (const g of out) g.models.sort((a, b) => (a.step === null ? -1 : b.step === null ? 1 : b.step - a.step));
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.run.localeCompare(b.run));
}
