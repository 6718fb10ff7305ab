// `sweep rm`: delete a sweep, its queue and (unless kept) its runs and their folders. The store
// changes in one transaction; the folders go only after it commits.
import fs from 'node:fs';
import path from 'node:path';
import { assertRunId, type Store } from '../runs/index.js';
import { SweepQueue } from './queue.js';

export interface RemovedSweep {
  sweep: string;
  jobs: number;
  /** Names of the runs deleted with it (none with keepRuns). */
  deletedRuns: string[];
  /** Names of the sweep's runs left in the store (with keepRuns). */
  keptRuns: string[];
}

export async function removeSweep(store: Store, home: string, name: string, o: { force?: boolean; keepRuns?: boolean } = {}): Promise<RemovedSweep> {
  const q = new SweepQueue(store);
  // The sweep's runs include its verify runs; the store finds them inside its transaction.
  const { jobs, runs } = await q.removeSweep(name, { force: o.force, deleteRuns: !o.keepRuns });
  const deleted = o.keepRuns ? [] : runs;
  const kept = o.keepRuns ? runs.map((r) => r.name) : [];
  for (const r of deleted) {
    assertRunId(r.id);
    fs.rmSync(path.join(home, 'runs', r.id), { recursive: true, force: true });
  }
  return { sweep: name, jobs: jobs.length, deletedRuns: deleted.map((r) => r.name), keptRuns: kept };
}
