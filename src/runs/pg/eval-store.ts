// Evaluation outcomes and results in the PostgreSQL store: the SQLite eval store's reads and
// writes (../eval-store.ts), on the same tables.
import type { EvalStore } from '../interface.js';
import type { EvalKey, EvalResult } from '../types.js';
import type { PgConnection } from './connection.js';
import { toResult, type ResultRow } from '../rows.js';

const KEY = 'subject = $1 AND step = $2 AND task = $3 AND task_version = $4 AND shots = $5';
const keyArgs = (k: EvalKey) => [k.subject, k.step, k.task, k.taskVersion, k.shots];

export class PgEvalStore implements EvalStore {
  readonly #c: PgConnection;

  constructor(c: PgConnection) {
    this.#c = c;
  }

  async outcomes(key: EvalKey): Promise<Map<number, unknown>> {
    const r = await this.#c.query<{ idx: number; outcome: string }>(`SELECT idx, outcome FROM eval_outcomes WHERE ${KEY} AND seed = $6`, [...keyArgs(key), key.seed]);
    return new Map(r.rows.map((x) => [x.idx, JSON.parse(x.outcome)]));
  }

  async saveOutcomes(key: EvalKey, items: readonly [number, unknown][]): Promise<void> {
    await this.#c.tx(async (t) => {
      for (const [idx, outcome] of items) {
        await t.query(
          `INSERT INTO eval_outcomes (subject, run_id, step, task, task_version, shots, seed, idx, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (subject, step, task, task_version, shots, seed, idx) DO UPDATE SET outcome = EXCLUDED.outcome, run_id = EXCLUDED.run_id`,
          [key.subject, key.runId, key.step, key.task, key.taskVersion, key.shots, key.seed, idx, JSON.stringify(outcome)]);
      }
    });
  }

  async saveResults(key: EvalKey, metrics: readonly { metric: string; value: number; stderr: number | null; n: number }[]): Promise<void> {
    await this.#c.tx(async (t) => {
      await t.query(`DELETE FROM eval_results WHERE ${KEY}`, keyArgs(key));
      const now = new Date().toISOString();
      for (const m of metrics) {
        await t.query(
          `INSERT INTO eval_results (subject, run_id, step, task, task_version, shots, seed, metric, value, stderr, n, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [key.subject, key.runId, key.step, key.task, key.taskVersion, key.shots, key.seed, m.metric,
            Number.isFinite(m.value) ? m.value : null, m.stderr !== null && Number.isFinite(m.stderr) ? m.stderr : null, m.n, now]);
      }
    });
  }

  async results(filter: { subjects?: readonly string[]; task?: string } = {}): Promise<EvalResult[]> {
    if (filter.subjects && filter.subjects.length === 0) return [];
    const r = await this.#c.query<ResultRow>(
      `SELECT * FROM eval_results WHERE ($1::text[] IS NULL OR subject = ANY($1)) AND ($2::text IS NULL OR task = $2)
       ORDER BY subject, task, shots, step, metric`, [filter.subjects ?? null, filter.task ?? null]);
    return r.rows.map(toResult);
  }
}
