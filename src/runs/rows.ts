// Rows as both databases return them, and the records the store hands out: the column names,
// the row shapes and their conversions, shared by the SQLite store and the PostgreSQL one so the
// two cannot drift apart.
import type { EvalResult, JobRecord, JobStatus, RunPatch, RunRecord, RunStatus, SweepRecord } from './types.js';

// camelCase field → column, for the fields updateRun may set. Also the whitelist that keeps
// patch keys out of the SQL text.
export const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  status: 'status', params: 'params', nonEmbeddingParams: 'non_embedding_params', flopsPerToken: 'flops_per_token',
  tokensTarget: 'tokens_target', tokensSeen: 'tokens_seen', flops: 'flops', bestValBpb: 'best_val_bpb',
  finalTrainLoss: 'final_train_loss', finalValBpb: 'final_val_bpb', weightsSha256: 'weights_sha256', startedAt: 'started_at',
  finishedAt: 'finished_at', trainSeconds: 'train_seconds', host: 'host', pid: 'pid',
};

export const METRIC_COLUMNS = ['tokens', 'flops', 'train_loss', 'val_bpb', 'lr', 'tokens_per_s', 'grad_norm', 'time'] as const;

export interface RunRow {
  id: string; name: string; status: RunStatus; config: string;
  params: number | null; non_embedding_params: number | null; flops_per_token: number | null;
  tokens_target: number | null; tokens_seen: number | null; flops: number | null;
  best_val_bpb: number | null; final_train_loss: number | null; final_val_bpb: number | null;
  weights_sha256: string | null; created_at: string; started_at: string | null; finished_at: string | null;
  updated_at: string; train_seconds: number | null; host: string | null; pid: number | null;
}

export function toRun(r: RunRow): RunRecord {
  return {
    id: r.id, name: r.name, status: r.status, config: JSON.parse(r.config) as Record<string, unknown>,
    params: r.params, nonEmbeddingParams: r.non_embedding_params, flopsPerToken: r.flops_per_token,
    tokensTarget: r.tokens_target, tokensSeen: r.tokens_seen ?? 0, flops: r.flops ?? 0,
    bestValBpb: r.best_val_bpb, finalTrainLoss: r.final_train_loss, finalValBpb: r.final_val_bpb,
    weightsSha256: r.weights_sha256, createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at,
    updatedAt: r.updated_at, trainSeconds: r.train_seconds ?? 0, host: r.host, pid: r.pid,
  };
}

/** An event's JSON data, or null when it is missing or not JSON. */
export function parseOrNull(json: string | null): unknown {
  try {
    return JSON.parse(json ?? 'null');
  } catch {
    return null;
  }
}

export interface SweepRow { name: string; config: string; created_at: string }

export interface JobRow {
  sweep: string; idx: number; options: string; run_name: string; status: JobStatus; attempts: number;
  worker: string | null; lease_expires: number | null; estimated_seconds: number | null; error: string | null;
  started_at: string | null; finished_at: string | null;
}

export const toSweep = (r: SweepRow): SweepRecord => ({ name: r.name, config: JSON.parse(r.config), createdAt: r.created_at });

export const toJob = (r: JobRow): JobRecord => ({
  sweep: r.sweep, idx: r.idx, options: JSON.parse(r.options), runName: r.run_name, status: r.status, attempts: r.attempts,
  worker: r.worker, leaseExpires: r.lease_expires, estimatedSeconds: r.estimated_seconds, error: r.error,
  startedAt: r.started_at, finishedAt: r.finished_at,
});

export interface ResultRow {
  subject: string; run_id: string | null; step: number; task: string; task_version: string; shots: number; seed: number;
  metric: string; value: number | null; stderr: number | null; n: number; created_at: string;
}

export const toResult = (r: ResultRow): EvalResult => ({
  subject: r.subject, runId: r.run_id, step: r.step, task: r.task, taskVersion: r.task_version, shots: r.shots, seed: r.seed,
  metric: r.metric, value: r.value, stderr: r.stderr, n: r.n, createdAt: r.created_at,
});
