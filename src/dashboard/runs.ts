// The runs table: every run with what a researcher compares at a glance, plus the latest
// throughput and loss from its last metric row and the sweep it belongs to.
import type { RunRecord, RunStore } from '../runs/index.js';

export interface RunSummary {
  id: string;
  name: string;
  status: RunRecord['status'];
  sweep: string | null;
  params: number | null;
  nonEmbeddingParams: number | null;
  /** layers × d_model, heads and context, when the config has them. */
  shape: string | null;
  tokensSeen: number;
  tokensTarget: number | null;
  flops: number;
  bestValBpb: number | null;
  finalValBpb: number | null;
  lastStep: number | null;
  lastTrainBpb: number | null;
  tokensPerS: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  trainSeconds: number;
}

interface LastRow { run_id: string; step: number; tokens: number | null; flops: number | null; train_loss: number | null; tokens_per_s: number | null }

export function runSummaries(store: RunStore): RunSummary[] {
  const runs = store.listRuns();
  // One probe of the primary key (run_id, step) per run: a join with a correlated MAX makes
  // SQLite scan every metric row of every run instead.
  const lastOf = store.db.prepare('SELECT run_id, step, tokens, flops, train_loss, tokens_per_s FROM metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1');
  const last = new Map<string, LastRow>();
  for (const r of runs) {
    const row = lastOf.get(r.id) as LastRow | undefined;
    if (row) last.set(r.id, row);
  }
  const sweepOf = new Map<string, string>();
  for (const j of store.db.prepare('SELECT run_name, sweep FROM jobs').all() as { run_name: string; sweep: string }[]) {
    sweepOf.set(j.run_name, j.sweep);
  }
  return runs.map((r) => summarize(r, last.get(r.id), sweepOf.get(r.name) ?? null));
}

export function runSummary(store: RunStore, run: RunRecord): RunSummary {
  const l = store.db.prepare('SELECT run_id, step, tokens, flops, train_loss, tokens_per_s FROM metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1')
    .get(run.id) as LastRow | undefined;
  const j = store.db.prepare('SELECT sweep FROM jobs WHERE run_name = ?').get(run.name) as { sweep: string } | undefined;
  return summarize(run, l, j?.sweep ?? null);
}

function summarize(r: RunRecord, l: LastRow | undefined, sweep: string | null): RunSummary {
  const c = r.config;
  const shape = typeof c.layers === 'number' && typeof c.dModel === 'number'
    ? `${c.layers}×${c.dModel}${typeof c.heads === 'number' ? ` h${c.heads}` : ''}${typeof c.ctx === 'number' ? ` ctx${c.ctx}` : ''}`
    : null;
  return {
    id: r.id, name: r.name, status: r.status, sweep, params: r.params, nonEmbeddingParams: r.nonEmbeddingParams, shape,
    // The store updates a run's counters at checkpoints; its newest metric row is fresher.
    tokensSeen: Math.max(r.tokensSeen, l?.tokens ?? 0), tokensTarget: r.tokensTarget, flops: Math.max(r.flops, l?.flops ?? 0), bestValBpb: r.bestValBpb, finalValBpb: r.finalValBpb,
    lastStep: l?.step ?? null, lastTrainBpb: l?.train_loss == null ? null : l.train_loss / Math.LN2,
    tokensPerS: l?.tokens_per_s ?? (r.trainSeconds > 0 ? r.tokensSeen / r.trainSeconds : null),
    createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt, updatedAt: r.updatedAt, trainSeconds: r.trainSeconds,
  };
}
