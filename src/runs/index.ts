// The run store's public API: where runs live on disk and the database that records them.
export { resolveHome, existingHome, runDir, assertRunId, RUN_ID_PATTERN } from './home.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
export { RunStore, DB_FILE } from './store.js';
export { newRunId, defaultRunName } from './ids.js';
export { RunClaim, RunBusyError, RunTakenOverError, TRAINER_LEASE_SECONDS, trainerAlive } from './trainer.js';
export { isProcessAlive, processStartToken } from './processes.js';
export {
  RUN_STATUSES,
  type RunStatus, type RunRecord, type NewRun, type RunPatch, type MetricRow, type NewEvent, type EventRecord,
  type TrainerRecord,
} from './types.js';
