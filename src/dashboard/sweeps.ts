// Sweep status for the dashboard: every sweep with its job counts and ETA (the same numbers as
// `scalelab sweep status`), and one sweep's jobs in full.
import type { RunStore } from '../runs/index.js';
import { SweepQueue, type JobStatus } from '../sweep/queue.js';
import { sweepStatus, type SweepStatus } from '../sweep/status.js';

export interface SweepSummary {
  name: string;
  createdAt: string;
  config: Record<string, unknown>;
  counts: Record<JobStatus, number>;
  jobs: number;
  etaSeconds: number;
  /** False while no finished run or plan estimate gives the ETA a basis. */
  etaKnown: boolean;
}

export function sweepSummaries(store: RunStore): SweepSummary[] {
  return new SweepQueue(store).listSweeps().map((s) => {
    const st = sweepStatus(store, s.name);
    return { name: s.name, createdAt: s.createdAt, config: s.config, counts: st.counts, jobs: st.jobs.length, etaSeconds: st.etaSeconds, etaKnown: st.etaKnown };
  });
}

export function sweepDetail(store: RunStore, name: string): SweepStatus & { createdAt: string; config: Record<string, unknown> } {
  const s = new SweepQueue(store).getSweep(name);
  return { ...sweepStatus(store, name), createdAt: s.createdAt, config: s.config };
}

/** Changes whenever a job changes state or a sweep appears: when the page's sweep view is stale. */
export function sweepSignature(store: RunStore): string {
  const rows = store.db.prepare('SELECT sweep, status, COUNT(*) AS n FROM jobs GROUP BY sweep, status ORDER BY sweep, status').all() as
    { sweep: string; status: string; n: number }[];
  const sweeps = store.db.prepare('SELECT COUNT(*) AS n FROM sweeps').get() as { n: number };
  return `${sweeps.n};${rows.map((r) => `${r.sweep}:${r.status}:${r.n}`).join(',')}`;
}
