// Evaluation outcomes and results in the SQLite store (migration 4): per-example outcomes as they
// are scored, so an interrupted evaluation resumes, and each task's metrics once it finishes.
import type { Connection } from './connection.js';
import { toResult, type ResultRow } from './rows.js';
import type { EvalStore } from './interface.js';
import type { EvalKey, EvalResult } from './types.js';

const KEY = 'subject = ? AND step = ? AND task = ? AND task_version = ? AND shots = ?';
const keyArgs = (k: EvalKey) => [k.subject, k.step, k.task, k.taskVersion, k.shots];

export class SqliteEvalStore implements EvalStore {
  readonly #c: Connection;

  constructor(c: Connection) {
    this.#c = c;
  }

  async outcomes(key: EvalKey): Promise<Map<number, unknown>> {
    const rows = this.#c.stmt(`SELECT idx, outcome FROM eval_outcomes WHERE ${KEY} AND seed = ?`).all(...keyArgs(key), key.seed) as { idx: number; outcome: string }[];
    return new Map(rows.map((r) => [r.idx, JSON.parse(r.outcome)]));
  }

  async saveOutcomes(key: EvalKey, items: readonly [number, unknown][]): Promise<void> {
    this.#c.immediate(() => {
      const insert = this.#c.stmt(
        `INSERT OR REPLACE INTO eval_outcomes (subject, run_id, step, task, task_version, shots, seed, idx, outcome)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const [idx, outcome] of items) {
        insert.run(key.subject, key.runId, key.step, key.task, key.taskVersion, key.shots, key.seed, idx, JSON.stringify(outcome));
      }
    });
  }

  async saveResults(key: EvalKey, metrics: readonly { metric: string; value: number; stderr: number | null; n: number }[]): Promise<void> {
    this.#c.immediate(() => {
      this.#c.stmt(`DELETE FROM eval_results WHERE ${KEY}`).run(...keyArgs(key));
      const insert = this.#c.stmt(
        `INSERT INTO eval_results (subject, run_id, step, task, task_version, shots, seed, metric, value, stderr, n, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      const now = new Date().toISOString();
      for (const m of metrics) {
        insert.run(key.subject, key.runId, key.step, key.task, key.taskVersion, key.shots, key.seed, m.metric,
          Number.isFinite(m.value) ? m.value : null, m.stderr !== null && Number.isFinite(m.stderr) ? m.stderr : null, m.n, now);
      }
    });
  }

  async results(filter: { subjects?: readonly string[]; task?: string } = {}): Promise<EvalResult[]> {
    const where: string[] = [], args: (string | number)[] = [];
    if (filter.subjects) {
      if (filter.subjects.length === 0) return [];
      where.push(`subject IN (${filter.subjects.map(() => '?').join(', ')})`);
      args.push(...filter.subjects);
    }
    if (filter.task !== undefined) {
      where.push('task = ?');
      args.push(filter.task);
    }
    const sql = `SELECT * FROM eval_results ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY subject, task, shots, step, metric`;
    // Built per filter shape: the statement cache keys on the text, so a few shapes are cached.
    return (this.#c.stmt(sql).all(...args) as ResultRow[]).map(toResult);
  }
}
