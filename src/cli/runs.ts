// `scalelab runs` and `scalelab show RUN`: what the run store holds.
import path from 'node:path';
import { Command, Option } from 'commander';
import { openStore, existingHome, resolveHome, trainLossIn, RUN_ID_PATTERN, RUN_STATUSES, type LossUnit, type RunRecord, type Store } from '../runs/index.js';
import { checkRunWeights, type FileCheck } from '../train/weights-check.js';
import { positiveInt } from '../errors.js';
import { runSummaries, type RunSummary } from '../dashboard/runs.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';
import { table } from './table.js';

// Both commands only read: a --home that does not exist is refused, not created.
async function withStore<T>(home: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = openStore(existingHome(home), { reading: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const fmt = {
  count: (n: number | null) => (n === null ? '-' : n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n)),
  flops: (n: number) => (n > 0 ? n.toExponential(2) : '-'),
  /** A loss in its unit: bits per byte to 3 places, an MSE to 4 (its values are small). */
  loss: (x: number | null, unit: LossUnit) => (x === null ? '-' : x.toFixed(unit === 'bpb' ? 3 : 4)),
  date: (s: string | null) => (s ? s.replace('T', ' ').slice(0, 16) : '-'),
};

/**
 * A run as JSON: the dashboard's summary under the same names, every loss named for its unit:
 * best_val_bpb ... for a GPT, best_val_mse ... for a video run (as `train --json` names them).
 */
function runJson(r: RunRecord, s: RunSummary) {
  const u = s.unit;
  return {
    id: r.id, name: r.name, status: r.status, family: s.family, sweep: s.sweep, shape: s.shape, ctx: s.ctx,
    params: r.params, non_embedding_params: r.nonEmbeddingParams,
    tokens_seen: r.tokensSeen, tokens_target: r.tokensTarget, flops: r.flops, [`best_val_${u}`]: r.bestValBpb,
    [`final_train_${u}`]: trainLossIn(u, r.finalTrainLoss), [`final_val_${u}`]: r.finalValBpb,
    [`last_train_${u}`]: s.lastTrainBpb, tokens_per_s_avg: s.tokensPerS, weights_sha256: r.weightsSha256,
    created_at: r.createdAt, started_at: r.startedAt, finished_at: r.finishedAt, train_seconds: r.trainSeconds,
  };
}

/**
 * A loss column's heading and cells: the unit in the heading when every run listed shares it
 * (`best val bpb`, `best val mse`); with GPT and video runs together, each cell names its own.
 */
export function lossColumn(name: string, rows: readonly RunSummary[], value: (s: RunSummary) => number | null): { label: string; cell: (s: RunSummary) => string } {
  const units = new Set(rows.map((s) => s.unit));
  const only = units.size === 1 ? [...units][0] : null;
  return {
    label: only ? `${name} ${only}` : name,
    cell: (s) => {
      const v = value(s);
      return only || v === null ? fmt.loss(v, s.unit) : `${fmt.loss(v, s.unit)} ${s.unit}`;
    },
  };
}

/** What the runs' data is counted in: a GPT's tokens (bytes), a video run's patches; 'data' when both kinds are listed. */
function dataLabel(rows: readonly RunSummary[], gpt: string, dit: string): string {
  const families = new Set(rows.map((s) => s.family));
  return families.size > 1 ? 'data' : families.has('dit') ? dit : gpt;
}

type Column = { label: string; right: boolean; cell: (s: RunSummary) => string };

/** The `runs` table's columns for these rows: the dashboard's, under the dashboard's names. */
const columns = (rows: readonly RunSummary[]): Column[] => [
  { label: 'name', right: false, cell: (s) => s.name },
  { label: 'status', right: false, cell: (s) => s.status },
  { label: 'sweep', right: false, cell: (s) => s.sweep ?? '-' },
  { label: 'params (non-emb)', right: true, cell: (s) => fmt.count(s.nonEmbeddingParams) },
  { label: 'params (total)', right: true, cell: (s) => fmt.count(s.params) },
  { label: dataLabel(rows, 'tokens', 'patches'), right: true, cell: (s) => fmt.count(s.tokensSeen) },
  { label: 'FLOPs', right: true, cell: (s) => fmt.flops(s.flops) },
  { ...lossColumn('best val', rows, (s) => s.bestValBpb), right: true },
  { ...lossColumn('train', rows, (s) => s.lastTrainBpb), right: true },
  { label: `${dataLabel(rows, 'tok', 'patches')}/s (avg)`, right: true, cell: (s) => fmt.count(s.tokensPerS === null ? null : Math.round(s.tokensPerS)) },
  { label: 'started', right: false, cell: (s) => fmt.date(s.startedAt) },
];

export function runsCommand(): Command {
  return new Command('runs')
    .description('list the runs in the store, newest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices([...RUN_STATUSES]))
    .option('--limit <n>', 'at most this many', positiveInt('--limit'))
    .addOption(flag('home', HOME))
    .option('--json', 'print a JSON array')
    .action(async (o) => {
      const { runs, summaries } = await withStore(o.home, async (s) => {
        const runs = await s.listRuns({ status: o.status, limit: o.limit });
        return { runs, summaries: await runSummaries(s, runs) };
      });
      if (o.json) return console.log(JSON.stringify(runs.map((r, i) => runJson(r, summaries[i]))));
      if (runs.length === 0) return console.log('no runs yet: start one with `scalelab train`');
      const cols = columns(summaries);
      console.log(table(cols.map((c) => c.label), summaries.map((s) => cols.map((c) => c.cell(s))), cols.map((c) => c.right)));
    });
}

/** The run's weights files checked against their SHA-256 (none when its folder is not a run's). */
export function verifyRun(home: string | undefined, run: RunRecord): FileCheck[] {
  if (!RUN_ID_PATTERN.test(run.id)) return [];
  return checkRunWeights(path.join(resolveHome(home), 'runs', run.id), run.weightsSha256);
}

function printChecks(run: RunRecord, checks: FileCheck[]): void {
  if (checks.length === 0) console.log('verify    no weights files yet');
  for (const c of checks) console.log(`verify    ${c.ok ? 'ok     ' : 'CORRUPT'}  ${c.file}${c.ok ? '' : `: ${c.problem}`}`);
  const bad = checks.filter((c) => !c.ok).length;
  if (bad > 0) {
    process.stderr.write(`scalelab: ${bad} of ${checks.length} weights files of run '${run.name}' are corrupt; the files that verify still ` +
      'serve and resume (train --resume skips damaged checkpoints); restore the others from a copy or train the run again\n');
    process.exitCode = 1;
  }
}

export function showCommand(): Command {
  return new Command('show')
    .description('details of one run: its config, final metrics and the SHA-256 of its final weights')
    .argument('<run>', 'run name or id')
    .addOption(flag('home', HOME))
    .option('--json', 'print one JSON object')
    .option('--verify', 'check the final weights and every checkpoint against their SHA-256 (exit code 1 if any is corrupt)')
    .action(async (name, o) => {
      const { run, summary, events, last } = await withStore(o.home, async (s) => {
        const run = await s.getRun(name);
        const metrics = await s.metrics(run.id);
        return { run, summary: (await runSummaries(s, [run]))[0], events: await s.events(run.id), last: metrics[metrics.length - 1] ?? null };
      });
      const checks = o.verify ? verifyRun(o.home, run) : null;
      if (o.json) {
        const verify = checks && checks.map((c) => ({ file: c.file, status: c.ok ? 'ok' : 'corrupt', sha256: c.sha256, problem: c.problem }));
        console.log(JSON.stringify({ ...runJson(run, summary), config: run.config, last_metrics: last, events: events.length, ...(verify ? { verify } : {}) }));
        if (checks?.some((c) => !c.ok)) process.exitCode = 1;
        return;
      }
      const cfg = run.config as { model?: Record<string, number>; train?: Record<string, unknown> };
      console.log(`${run.name}  (${run.id})  ${run.status}`);
      if (cfg.model) console.log(`model     ${Object.entries(cfg.model).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      console.log(`params    ${run.nonEmbeddingParams?.toLocaleString('en-US')} non-embedding, ${run.params?.toLocaleString('en-US')} total`);
      console.log(`tokens    ${fmt.count(run.tokensSeen)} of ${fmt.count(run.tokensTarget)}, ${fmt.flops(run.flops)} FLOPs (6·N·D)`);
      const u = summary.unit;
      // The label is padded to the others' width: `bpb       ` for a GPT, `mse       ` for a video run.
      console.log(`${u.padEnd(10)}val best ${fmt.loss(run.bestValBpb, u)}, final ${fmt.loss(run.finalValBpb, u)}; train final ${fmt.loss(trainLossIn(u, run.finalTrainLoss), u)}`);
      console.log(`time      ${run.trainSeconds.toFixed(1)} s training; started ${fmt.date(run.startedAt)}, finished ${fmt.date(run.finishedAt)}`);
      console.log(`weights   ${run.weightsSha256 ?? '-'}`);
      if (cfg.train) console.log(`train     ${Object.entries(cfg.train).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      for (const e of events.slice(-10)) console.log(`event     ${fmt.date(e.time)} step ${e.step ?? '-'} ${e.kind}: ${e.message}`);
      if (checks) printChecks(run, checks);
    });
}
