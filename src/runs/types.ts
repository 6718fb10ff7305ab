// The shapes the run store hands out: camelCase mirrors of the rows in migrations.ts.

export const RUN_STATUSES = ['created', 'running', 'done', 'failed', 'stopped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  id: string;
  name: string;
  status: RunStatus;
  /** The run's full configuration (model, data, optimiser, schedule), parsed from JSON. */
  config: Record<string, unknown>;
  params: number | null;
  nonEmbeddingParams: number | null;
  flopsPerToken: number | null;
  tokensTarget: number | null;
  tokensSeen: number;
  flops: number;
  bestValBpb: number | null;
  finalTrainLoss: number | null;
  finalValBpb: number | null;
  weightsSha256: string | null;
  /** ISO-8601 UTC timestamps. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  trainSeconds: number;
  host: string | null;
  pid: number | null;
}

export interface NewRun {
  /** Defaults to a readable name derived from the id, e.g. 'swift-otter-042'. */
  name?: string;
  /** Any JSON-serialisable object; stored verbatim and handed back parsed. */
  config: object;
  params: number | null;
  nonEmbeddingParams: number | null;
  flopsPerToken: number | null;
  tokensTarget: number | null;
}

/** The fields updateRun may change; id, name, config and createdAt are fixed at creation. */
export type RunPatch = {
  [K in
    | 'status' | 'params' | 'nonEmbeddingParams' | 'flopsPerToken' | 'tokensTarget' | 'tokensSeen' | 'flops'
    | 'bestValBpb' | 'finalTrainLoss' | 'finalValBpb' | 'weightsSha256' | 'startedAt' | 'finishedAt'
    | 'trainSeconds' | 'host' | 'pid']?: RunRecord[K] | null;
};

/**
 * One logged step. Absent fields are stored as NULL and read back as null. SQLite cannot hold
 * NaN, so a NaN (a diverged loss) also reads back as null; ±Infinity survives.
 */
export interface MetricRow {
  step: number;
  tokens?: number | null;
  flops?: number | null;
  trainLoss?: number | null;
  valBpb?: number | null;
  lr?: number | null;
  tokensPerS?: number | null;
  gradNorm?: number | null;
  /** Wall-clock time of the step in seconds (Unix time by convention). */
  time?: number | null;
}

export interface NewEvent {
  step?: number | null;
  /** A short machine-readable tag: 'start', 'checkpoint', 'resume', 'error', ... */
  kind: string;
  message: string;
  /** Any JSON-serialisable value. */
  data?: unknown;
}

export interface EventRecord {
  id: number;
  runId: string;
  step: number | null;
  /** ISO-8601 UTC. */
  time: string;
  kind: string;
  message: string;
  data: unknown;
}

/** The process that holds a run (trains it); a run has at most one. */
export interface TrainerRecord {
  pid: number;
  host: string;
  /** Fresh for every claim: whoever holds it holds the run. */
  token: string;
  /** The process's start identity (src/runs/processes.ts), so a reused pid is not taken for it. */
  start: string | null;
  /** Unix seconds of its last heartbeat. */
  heartbeat: number;
}

/** A sweep: a named plan of training jobs. */
export interface SweepRecord {
  name: string;
  /** How it was planned (grid or budgets, estimates), parsed from JSON. */
  config: Record<string, unknown>;
  createdAt: string;
}

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** One job of a sweep: a run to train, with its queue state. `O` is the shape of its training options. */
export interface JobRecord<O = Record<string, unknown>> {
  sweep: string;
  idx: number;
  options: O;
  runName: string;
  status: JobStatus;
  attempts: number;
  worker: string | null;
  /** Unix seconds; a running job whose lease has passed is claimable again. */
  leaseExpires: number | null;
  estimatedSeconds: number | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NewJob {
  options: object;
  runName: string;
  estimatedSeconds: number | null;
}

/** The last metric row of a run, as the runs table shows it. */
export type LastMetric = Pick<Required<MetricRow>, 'step' | 'tokens' | 'flops' | 'trainLoss' | 'tokensPerS'>;

/** A metric row with the run it belongs to, as the live stream reads new rows. */
export type RunMetricRow = Required<Omit<MetricRow, 'time'>> & { runId: string };

/** The columns a run's steps can be placed by on a chart's x axis; each grows with the step. */
export type MetricAxis = 'step' | 'tokens' | 'flops';

/** step, x (on the chosen axis), train loss, validation bpb, grad norm: what downsampling a run's curves needs. */
export type CurvePoint = [step: number, x: number | null, trainLoss: number | null, valBpb: number | null, gradNorm: number | null];

/** What one evaluation is recorded under: a subject (run or endpoint), its checkpoint, a task at a version, shots and seed. */
export interface EvalKey {
  subject: string;
  /** The run evaluated, or null for an endpoint. */
  runId: string | null;
  /** The checkpoint's step; -1 for final weights and endpoints. */
  step: number;
  task: string;
  taskVersion: string;
  shots: number;
  seed: number;
}

/** One metric of one evaluation. */
export interface EvalResult extends EvalKey {
  metric: string;
  value: number | null;
  stderr: number | null;
  n: number;
  createdAt: string;
}

/** A sweep job is tried this many times in all before it is marked failed (the queue's rule, kept here for every store's queue). */
export const JOB_ATTEMPTS = 3;
