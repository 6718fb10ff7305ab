// Sweep status for the dashboard: every sweep with its job counts and ETA (the same numbers as
// `scalelab sweep status`), and one sweep's jobs in full, each with its shape and compute budget,
// followed by the `sweep verify` runs that checked its law.
import type { RunRecord, Store } from '../runs/index.js';
import { countParams } from '../models/gpt.js';
import { SweepQueue, type Job, type JobStatus } from '../sweep/queue.js';
import { modelConfig, isDitJob, type RunOptions } from '../sweep/plan.js';
import { sweepStatus, type SweepStatus } from '../sweep/status.js';
import { shapeLabel, verifiedSweep } from './runs.js';
import { trainingCompute } from '../common/compute.js';

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

/** What the jobs table shows beside a job's status. */
export interface JobShape {
  /** layers × d_model, heads and context. */
  shape: string | null;
  /** The isoFLOP budget the run belongs to; in a grid, its own planned FLOPs (6·N·D). */
  budget: number | null;
}

export interface VerifyRun extends JobShape {
  run: string;
  status: RunRecord['status'];
  tokensSeen: number;
  tokensTarget: number | null;
  nonEmbeddingParams: number | null;
  finalValBpb: number | null;
}

export type SweepDetail = Omit<SweepStatus, 'jobs'> & {
  createdAt: string;
  config: Record<string, unknown>;
  jobs: (SweepStatus['jobs'][number] & JobShape)[];
  verify: VerifyRun[];
};

export async function sweepSummaries(store: Store): Promise<SweepSummary[]> {
  return Promise.all((await new SweepQueue(store).listSweeps()).map(async (s) => {
    const st = await sweepStatus(store, s.name);
    return { name: s.name, createdAt: s.createdAt, config: s.config, counts: st.counts, jobs: st.jobs.length, etaSeconds: st.etaSeconds, etaKnown: st.etaKnown };
  }));
}

export async function sweepDetail(store: Store, name: string): Promise<SweepDetail> {
  const q = new SweepQueue(store);
  const s = await q.getSweep(name);
  const st = await sweepStatus(store, name);
  const budgets = sweepBudgets(s.config);
  const jobs = await q.jobs(name);
  const runs = new Map((await store.listRuns()).map((r) => [r.name, r]));
  // The sweep's verify runs: the runs that say they check it (the same rule as the runs table), its jobs aside.
  const jobRuns = new Set(jobs.map((j) => j.runName)), self = new Set([name]);
  const verify = [...runs.values()].filter((r) => !jobRuns.has(r.name) && verifiedSweep(r, self) === name).reverse().map((r) => ({
    run: r.name, status: r.status, shape: shapeLabel(r.config), budget: planned(r.nonEmbeddingParams, r.tokensTarget),
    tokensSeen: r.tokensSeen, tokensTarget: r.tokensTarget, nonEmbeddingParams: r.nonEmbeddingParams, finalValBpb: r.finalValBpb,
  }));
  return {
    ...st, createdAt: s.createdAt, config: s.config, verify,
    jobs: st.jobs.map((j, i) => ({ ...j, ...jobShape(jobs[i], runs.get(j.run), budgets) })),
  };
}

/** The budgets an isoFLOP sweep was planned from (none for a grid). */
function sweepBudgets(config: Record<string, unknown>): number[] {
  const b = config.flops;
  return Array.isArray(b) ? b.filter((x): x is number => typeof x === 'number' && x > 0) : [];
}

function planned(n: number | null, tokens: number | null | undefined): number | null {
  return n && tokens ? trainingCompute(n, tokens) : null;
}

function jobShape(job: Job | undefined, run: RunRecord | undefined, budgets: number[]): JobShape {
  // A DiT job's options have no ctx or tokens: its shape and budget come from its run once it has one.
  const o: RunOptions = job && !isDitJob(job.options) ? job.options : {};
  const fromOptions = o.layers && o.dModel && o.heads && o.ctx ? { layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx } : null;
  const shape = run ? shapeLabel(run.config) : fromOptions && shapeLabel(fromOptions);
  const n = run?.nonEmbeddingParams ?? (fromOptions ? countParams(modelConfig({ layers: o.layers!, dModel: o.dModel!, heads: o.heads! }, o.ctx!, o)).nonEmbedding : null);
  const flops = planned(n, o.tokens ?? run?.tokensTarget);
  // A run's 6·N·D sits within a step's rounding of its budget; the nearest budget in log is it.
  const near = flops === null ? undefined : budgets.reduce<number | undefined>((a, b) =>
    a === undefined || Math.abs(Math.log(b / flops)) < Math.abs(Math.log(a / flops)) ? b : a, undefined);
  return { shape, budget: near !== undefined && flops !== null && Math.abs(Math.log(near / flops)) < Math.log(1.5) ? near : flops };
}

/** Changes whenever a job changes state or a sweep appears: when the page's sweep view is stale. */
export async function sweepSignature(store: Store): Promise<string> {
  const counts = (await store.sweeps.allCounts()).map((c) => `${c.sweep}:${c.status}:${c.jobs}`);
  return `${await store.sweeps.count()};${counts.join(',')}`;
}
