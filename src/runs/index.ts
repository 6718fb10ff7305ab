// The run store's public API: where runs live on disk and the store that records them. The
// database connection is not part of it: every query is one of the store's methods.
export { resolveHome, existingHome, runDir, assertRunId, RUN_ID_PATTERN } from './home.js';
export { SCHEMA_VERSION } from './migrations.js';
export { RunStore, DB_FILE } from './store.js';
export { PgRunStore } from './pg/store.js';
export { openStore, storeUrl } from './open.js';
export { copyHome, type CopyReport } from './copy.js';
export { fetchMissing, sha256File, type Artifacts, type ArtifactInfo } from './artifacts.js';
export type { Store, Runs, Metrics, MetricSeries, Events, Trainers, SweepStore, EvalStore } from './interface.js';
export { newRunId, defaultRunName } from './ids.js';
export { RunClaim, RunBusyError, RunTakenOverError, TRAINER_LEASE_SECONDS, trainerAlive } from './trainer.js';
export { isProcessAlive, processStartToken } from './processes.js';
export { runFamily, lossUnit, trainLossIn, type RunFamily, type LossUnit } from './family.js';
export {
  RUN_STATUSES, JOB_STATUSES, JOB_ATTEMPTS,
  type RunStatus, type RunRecord, type NewRun, type RunPatch, type MetricRow, type NewEvent, type EventRecord,
  type TrainerRecord, type SweepRecord, type JobStatus, type JobRecord, type NewJob,
  type EvalKey, type EvalResult, type LastMetric, type RunMetricRow, type MetricAxis, type CurvePoint,
} from './types.js';
