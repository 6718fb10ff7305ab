// Sweeps: plans, the durable job queue, workers, status.
export { planSweep, parseShape, estimateSeconds, LADDER, type Shape, type PlannedRun, type PlanOptions } from './plan.js';
export { SweepQueue, MAX_ATTEMPTS, type Job, type JobStatus, type SweepRecord } from './queue.js';
export { runWorker, type WorkerOptions } from './worker.js';
export { sweepStatus, type SweepStatus } from './status.js';
export { sweepPoints, type SweepPoint } from './points.js';
export { verifySweep, type VerifyResult } from './verify.js';
