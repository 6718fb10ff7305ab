// `sweep rm`: delete a sweep, its queue and (unless kept) its runs and their folders. The store
// changes in one transaction; the folders go only after it commits.
import fs from 'node:fs';
import path from 'node:path';
import { assertRunId, type RunStore } from '../runs/index.js';
import { SweepQueue } from './queue.js';

export interface RemovedSweep {
  sweep: string;
  jobs: number;
  /** Names of the runs deleted with it (none with keepRuns). */
  deletedRuns: string[];
  /** Names of the sweep's runs left in the store (with keepRuns). */
  keptRuns: string[];
}

export function removeSweep(store: RunStore, home: string, name: string, o: { force?: boolean; keepRuns?: boolean } = {}): RemovedSweep {
  const q = new SweepQueue(store);
  let deleted: { id: string; name: string }[] = [];
  let kept: string[] = [];
  const { jobs } = q.removeSweep(name, {
    force: o.force,
    deleteRuns: (jobRuns) => {
      // The sweep's verify runs belong to it too; read inside the transaction, before anything is gone.
      const names = [...new Set([...jobRuns, ...store.runsNamingSweep(name)])];
      if (o.keepRuns) kept = names.filter((n) => store.findRun(n));
      else deleted = store.deleteRuns(names);
    },
  });
  for (const r of deleted) {
    assertRunId(r.id);
    fs.rmSync(path.join(home, 'runs', r.id), { recursive: true, force: true });
  }
  return { sweep: name, jobs: jobs.length, deletedRuns: deleted.map((r) => r.name), keptRuns: kept };
}
