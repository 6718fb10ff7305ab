// `scalelab store copy`: an existing home (its SQLite store and run folders) into a PostgreSQL
// store, so that a lab that starts on one machine keeps its history when it adds more. Runs keep
// their ids, names, times and counters; metrics, events, sweeps with their jobs, evaluation
// results and every run file (final weights, checkpoints, into the database) go with them. Then
// it is checked: per run the metric rows (count and a SHA-256 of their values), the events, the
// files (their SHA-256 read back from the database), and the sweeps' jobs and evaluation results
// by count. A run already in the destination is left as it is (a copy that stopped half-way can
// be run again) and checked all the same.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { sha256File } from './artifacts.js';
import { DB_FILE, RunStore } from './store.js';
import type { PgRunStore } from './pg/store.js';
import type { Store } from './interface.js';

export interface CopyReport {
  runs: number;
  skippedRuns: number;
  metricRows: number;
  events: number;
  sweeps: number;
  jobs: number;
  evalResults: number;
  files: number;
  bytes: number;
}

/** The metric rows of a run, as one hash: what must arrive unchanged. */
async function metricsHash(store: Store, runId: string): Promise<{ rows: number; sha256: string }> {
  const rows = await store.metrics(runId);
  return { rows: rows.length, sha256: crypto.createHash('sha256').update(JSON.stringify(rows)).digest('hex') };
}

/** A run folder's files, as artifact names ('model.safetensors', 'checkpoints/…'). */
function runFiles(home: string, runId: string): string[] {
  const dir = path.join(home, 'runs', runId);
  const out: string[] = [];
  if (fs.existsSync(path.join(dir, 'model.safetensors'))) out.push('model.safetensors');
  const ck = path.join(dir, 'checkpoints');
  if (fs.existsSync(ck)) for (const f of fs.readdirSync(ck).sort()) if (/^ckpt-\d+\.safetensors$/.test(f)) out.push(`checkpoints/${f}`);
  return out;
}

export async function copyHome(from: string, to: PgRunStore, log: (line: string) => void = () => {}): Promise<CopyReport> {
  if (!fs.existsSync(path.join(from, DB_FILE))) throw new UsageError(`no scalelab store in ${from} (no ${DB_FILE}); pass the --from DIR your runs are in`);
  const src = RunStore.openForReading(from);
  const r: CopyReport = { runs: 0, skippedRuns: 0, metricRows: 0, events: 0, sweeps: 0, jobs: 0, evalResults: 0, files: 0, bytes: 0 };
  try {
    const runs = (await src.listRuns()).reverse(); // oldest first, as they were made
    for (const run of runs) {
      const events = await src.events(run.id);
      if (!(await to.importRun(run, events))) {
        r.skippedRuns++;
      } else {
        const rows = await src.metrics(run.id);
        for (let i = 0; i < rows.length; i += 5000) await to.logMetrics(run.id, rows.slice(i, i + 5000));
        for (const name of runFiles(from, run.id)) await to.artifacts.put(run.id, name, path.join(from, 'runs', run.id, name));
        r.runs++;
      }
      log(`run ${run.name}: copied`);
    }
    for (const s of await src.sweeps.list()) {
      if (await to.sweeps.importSweep(s, await src.sweeps.jobs(s.name))) r.sweeps++;
    }
    const results = await src.evals.results();
    const byKey = new Map<string, typeof results>();
    for (const e of results) {
      const k = JSON.stringify([e.subject, e.runId, e.step, e.task, e.taskVersion, e.shots, e.seed]);
      byKey.set(k, [...(byKey.get(k) ?? []), e]);
    }
    for (const list of byKey.values()) {
      const e = list[0];
      await to.evals.saveResults(e, list.map((x) => ({ metric: x.metric, value: x.value ?? NaN, stderr: x.stderr, n: x.n })));
    }

    // Checked against the source, whether copied now or before.
    for (const run of runs) {
      const a = await metricsHash(src, run.id), b = await metricsHash(to, run.id);
      if (a.rows !== b.rows || a.sha256 !== b.sha256) throw new Error(`run ${run.name}: ${b.rows} metric rows arrived of ${a.rows}, or their values differ`);
      const ea = (await src.events(run.id)).length, eb = (await to.events(run.id)).length;
      if (ea !== eb) throw new Error(`run ${run.name}: ${eb} events arrived of ${ea}`);
      const stored = new Map((await to.artifacts.list(run.id)).map((x) => [x.name, x]));
      for (const name of runFiles(from, run.id)) {
        const file = path.join(from, 'runs', run.id, name);
        const got = stored.get(name);
        if (!got || got.sha256 !== sha256File(file)) throw new Error(`run ${run.name}: ${name} is missing in the database or its SHA-256 differs`);
        r.files++;
        r.bytes += got.size;
      }
      r.metricRows += a.rows;
      r.events += ea;
    }
    for (const s of await src.sweeps.list()) {
      const ja = await src.sweeps.jobs(s.name), jb = await to.sweeps.jobs(s.name);
      if (ja.length !== jb.length) throw new Error(`sweep ${s.name}: ${jb.length} jobs arrived of ${ja.length}`);
      r.jobs += ja.length;
    }
    const eb = (await to.evals.results()).length;
    if (eb < results.length) throw new Error(`${eb} evaluation results arrived of ${results.length}`);
    r.evalResults = results.length;
    return r;
  } finally {
    await src.close();
  }
}
