// How far this machine's finished sweep jobs ran from their estimates: the factor that scales a
// new plan's estimates. A job's wall time (claimed to done) holds everything its run cost,
// whatever the cost model missed: a machine busier than when it was measured, store writes,
// slower kernels at the real thread count.
import type { Store } from '../runs/index.js';
import { SweepQueue, type Job } from './queue.js';

/** Marks sweeps whose job estimates come from estimate.ts; older ones priced training steps only and must not calibrate. */
export const ESTIMATE_MODEL = 2;

export interface Calibration {
  /** Actual over (uncalibrated) estimated seconds, summed over the jobs; 1 without a basis. */
  factor: number;
  /** The finished jobs it rests on. */
  jobs: number;
}

/** Seconds from a job's first claim to its completion. */
export function jobWallSeconds(j: Job): number | null {
  if (!j.startedAt || !j.finishedAt) return null;
  return (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000;
}

/** From every done job of an estimated sweep that ran in one attempt (a resumed one's wall time includes the wait for its lease). */
export async function calibrate(store: Store): Promise<Calibration> {
  const q = new SweepQueue(store);
  let actual = 0, estimated = 0, jobs = 0;
  for (const s of await q.listSweeps()) {
    const est = s.config.estimate as { model?: number; calibration?: number } | undefined;
    if (est?.model !== ESTIMATE_MODEL || !(Number(est.calibration) > 0)) continue;
    for (const j of await q.jobs(s.name)) {
      const wall = jobWallSeconds(j);
      if (j.status !== 'done' || j.attempts !== 1 || !j.estimatedSeconds || wall === null || wall <= 0) continue;
      actual += wall;
      estimated += j.estimatedSeconds / Number(est.calibration);
      jobs++;
    }
  }
  return jobs > 0 ? { factor: actual / estimated, jobs } : { factor: 1, jobs: 0 };
}
