// What a run store provides, grouped by what it records: runs, their metrics, their events, the
// process that trains each, and sweeps with their jobs. Every query scalelab makes goes through
// these methods, so another database is one more implementation of them; RunStore (store.ts)
// is the SQLite one. A method that needs a transaction owns it: callers never hold one.
import type { Artifacts } from './artifacts.js';
import type {
  CurvePoint, EvalKey, EvalResult, EventRecord, JobRecord, JobStatus, LastMetric, MetricAxis, MetricRow, NewEvent, NewJob, NewRun,
  RunMetricRow, RunPatch, RunRecord, RunStatus, SweepRecord, TrainerRecord,
} from './types.js';

export interface Runs {
  createRun(spec: NewRun): Promise<RunRecord>;
  /** Apply `patch` (undefined fields are left alone, null clears) and bump updatedAt. */
  updateRun(id: string, patch: RunPatch): Promise<RunRecord>;
  /** The run with this id, else the run with this name; UsageError if neither exists. */
  getRun(idOrName: string): Promise<RunRecord>;
  findRun(idOrName: string): Promise<RunRecord | undefined>;
  /** Runs, newest first; `limit` keeps the newest N. */
  listRuns(options?: { status?: RunStatus; limit?: number }): Promise<RunRecord[]>;
  /** Delete these runs (by name) with their metrics and events, in one transaction; names not in the store are skipped. */
  deleteRuns(names: readonly string[]): Promise<RunRecord[]>;
  /** Names of runs that say they belong to this sweep: by their stored config, or by a `sweep verify` record. */
  runsNamingSweep(sweep: string): Promise<string[]>;
  /** The newest updatedAt of any run ('' in an empty store): where a watcher of changes starts. */
  lastRunUpdate(): Promise<string>;
  /** Runs updated at or after `at`, oldest change first. */
  runsUpdatedSince(at: string): Promise<{ id: string; updatedAt: string }[]>;
}

export interface Metrics {
  /** Record metric rows in one transaction; a (run, step) already present is replaced. */
  logMetrics(runId: string, rows: MetricRow[]): Promise<void>;
  /** A run's metrics in step order; with `sinceStep`, only steps after it. */
  metrics(runId: string, options?: { sinceStep?: number }): Promise<Required<MetricRow>[]>;
}

/** Metrics read the way charts and the live stream need them. */
export interface MetricSeries {
  /** The run's newest row, if it has logged any. */
  last(runId: string): Promise<LastMetric | undefined>;
  /** The run's first and last step, if it has logged any. */
  span(runId: string): Promise<{ first: number; last: number } | undefined>;
  /** The last step whose `axis` value is below `value`. */
  stepBefore(runId: string, axis: MetricAxis, value: number): Promise<number | undefined>;
  /** The first step whose `axis` value is above `value`. */
  stepAfter(runId: string, axis: MetricAxis, value: number): Promise<number | undefined>;
  /**
   * What downsampling needs of each step from `fromStep` to `toStep` (inclusive), in step order,
   * in chunks: a million-step run arrives a few thousand rows at a time, never all in memory.
   */
  curve(runId: string, axis: MetricAxis, fromStep: number, toStep: number): AsyncIterable<CurvePoint[]>;
  /** The run's rows at these steps, in step order (all but the wall-clock time). */
  atSteps(runId: string, steps: readonly number[]): Promise<Omit<RunMetricRow, 'runId'>[]>;
  /** Where the newest row of any run stands: rows logged later come after it (0 in an empty store). */
  position(): Promise<number>;
  /** Up to `limit` rows of any run logged after `position`, oldest first, and the position of the last. */
  after(position: number, limit: number): Promise<{ position: number; rows: RunMetricRow[] }>;
}

export interface Events {
  /** Append an event to a run's log; returns the event's id. */
  logEvent(runId: string, event: NewEvent): Promise<number>;
  /** A run's events, oldest first. */
  events(runId: string): Promise<EventRecord[]>;
  /** Every run's events of this kind, oldest first, with the run's name. */
  eventsOfKind(kind: string): Promise<{ runName: string; data: unknown }[]>;
}

/** The process that holds a run (src/runs/trainer.ts decides who may); each change is atomic, so of racing processes one wins. */
export interface Trainers {
  trainerOf(runId: string): Promise<TrainerRecord | null>;
  /** Make `trainer` the holder if the holder is still the one seen (`seenToken`, null: nobody); false if someone got there first. */
  claimTrainer(runId: string, trainer: TrainerRecord, seenToken: string | null): Promise<boolean>;
  /** Renew the holder's heartbeat; false when `token` no longer holds the run. */
  beatTrainer(runId: string, token: string, at?: number): Promise<boolean>;
  /** Let go of the run if `token` holds it. */
  releaseTrainer(runId: string, token: string): Promise<boolean>;
}

/** Sweeps and their jobs: the job queue's tables. Of workers racing for a job, exactly one gets it. */
export interface SweepStore {
  /**
   * Store a sweep and its jobs in one transaction. `replaces` sees the jobs of a plan already
   * stored under the name (undefined when there is none) and throws to refuse, or says whether
   * that plan is to be replaced. Refuses a job whose run name is a run's name or id.
   */
  create(name: string, config: object, jobs: readonly NewJob[], replaces: (existing: JobRecord[] | undefined) => boolean): Promise<void>;
  /**
   * Delete a sweep and its jobs in one transaction. `refuse` runs inside it first, with the
   * jobs, and may throw to refuse (nothing is deleted). The sweep's runs (its jobs' runs and the
   * runs naming it, read inside the transaction) are deleted with it when `deleteRuns`, and
   * only listed otherwise.
   */
  remove(name: string, o: { refuse: (jobs: JobRecord[]) => void; deleteRuns: boolean }): Promise<{ jobs: JobRecord[]; runs: RunRecord[] }>;
  find(name: string): Promise<SweepRecord | undefined>;
  /** The sweep; UsageError if there is none of that name. */
  get(name: string): Promise<SweepRecord>;
  /** Newest first. */
  list(): Promise<SweepRecord[]>;
  names(): Promise<Set<string>>;
  count(): Promise<number>;
  jobs(sweep: string): Promise<JobRecord[]>;
  /** The sweep whose job trains the run of this name. */
  sweepOfRun(runName: string): Promise<string | undefined>;
  /** Run name → the sweep whose job trains it, for every job. */
  sweepsOfRuns(): Promise<Map<string, string>>;
  /** Claim the next job (of one sweep, or any) for `worker`: a queued one, or a running one whose lease has expired. */
  claim(worker: string, leaseSeconds: number, sweep?: string): Promise<JobRecord | null>;
  /** Extend the lease; false when `worker` no longer holds the job. */
  renewLease(job: JobRecord<unknown>, worker: string, leaseSeconds: number): Promise<boolean>;
  /** Mark the job done; false when `worker` no longer holds it. */
  complete(job: JobRecord<unknown>, worker: string): Promise<boolean>;
  /** Put the job back in the queue, or mark it failed; false when `worker` no longer holds it. */
  release(job: JobRecord<unknown>, worker: string, outcome: { failed: boolean; error: string | null; refund?: boolean }): Promise<boolean>;
  counts(sweep: string): Promise<Record<JobStatus, number>>;
  /** Job counts by sweep and status, in that order. */
  allCounts(): Promise<{ sweep: string; status: JobStatus; jobs: number }[]>;
  /** True when no job of the sweep (or of any sweep) is queued or running. */
  finished(sweep?: string): Promise<boolean>;
}

/** Evaluation: each example's outcome as it is scored (to resume), and each task's metrics. */
export interface EvalStore {
  /** Outcomes already recorded under this key (with its seed), by example index. */
  outcomes(key: EvalKey): Promise<Map<number, unknown>>;
  /** Record outcomes in one transaction; an index already present is replaced. */
  saveOutcomes(key: EvalKey, items: readonly [number, unknown][]): Promise<void>;
  /** Replace the key's metrics with these, in one transaction. */
  saveResults(key: EvalKey, metrics: readonly { metric: string; value: number; stderr: number | null; n: number }[]): Promise<void>;
  /** Results of these subjects (all when absent) and task, ordered by subject, task, shots, step, metric. */
  results(filter?: { subjects?: readonly string[]; task?: string }): Promise<EvalResult[]>;
}

/**
 * A whole store. Its methods return promises: SQLite answers in process at once, PostgreSQL
 * over the network later, and callers await both the same way.
 */
export interface Store extends Runs, Metrics, Events, Trainers {
  readonly sweeps: SweepStore;
  readonly series: MetricSeries;
  readonly evals: EvalStore;
  /** Where the runs' files are kept beyond their run folders (artifacts.ts). */
  readonly artifacts: Artifacts;
  /**
   * Call `onChange` when any process may have written (a store shared over the network announces
   * its writes); returns the function that stops it. Absent where watching means polling.
   */
  watch?(onChange: () => void): () => void;
  close(): Promise<void>;
}
