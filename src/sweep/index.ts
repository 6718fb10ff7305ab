// Sweeps: plans, the durable job queue, workers, status.
export { planSweep, parseShape, estimateSeconds, LADDER, PlanRefused, type Shape, type PlannedRun, type PlanOptions, type DitPlanOptions, type Candidate } from './plan.js';
export { DIT_LADDER, gptFamily, ditFamily, type SweepFamily, type JobOptions, type DitRunOptions } from './family.js';
export { estimateRun, type MachineCosts, type RunEstimate } from './estimate.js';
export { removeSweep, type RemovedSweep } from './remove.js';
export { SweepQueue, MAX_ATTEMPTS, type Job, type JobStatus, type SweepRecord } from './queue.js';
export { runWorker, type WorkerOptions } from './worker.js';
export { sweepStatus, type SweepStatus } from './status.js';
export { sweepPoints, type SweepPoint } from './points.js';
export { verifySweep, type VerifyResult } from './verify.js';
