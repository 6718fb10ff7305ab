// Reading metrics the way charts and the live stream need them, from the PostgreSQL store: the
// same reads as the SQLite ones (../metric-series.ts), each a range or probe of the primary key
// (run_id, step), and `seq` where SQLite has its rowid.
import type { MetricSeries } from '../interface.js';
import { CURVE_CHUNK } from '../metric-series.js';
import type { CurvePoint, LastMetric, MetricAxis, RunMetricRow } from '../types.js';
import type { PgConnection } from './connection.js';

const AXIS: Record<MetricAxis, string> = { step: 'step', tokens: 'tokens', flops: 'flops' };
const ROW = 'step, tokens, flops, train_loss, val_bpb, lr, tokens_per_s, grad_norm';
type Row = [number, number | null, number | null, number | null, number | null, number | null, number | null, number | null];

const toRow = (r: Row): Omit<RunMetricRow, 'runId'> => ({
  step: r[0], tokens: r[1], flops: r[2], trainLoss: r[3], valBpb: r[4], lr: r[5], tokensPerS: r[6], gradNorm: r[7],
});

// Infinite bounds (a range open at one end) as the integers steps never pass.
const bound = (x: number) => (x === -Infinity ? -1 : x === Infinity ? 2 ** 31 - 1 : x);

export class PgMetricSeries implements MetricSeries {
  readonly #c: PgConnection;

  constructor(c: PgConnection) {
    this.#c = c;
  }

  async last(runId: string): Promise<LastMetric | undefined> {
    const r = (await this.#c.query('SELECT step, tokens, flops, train_loss, tokens_per_s FROM metrics WHERE run_id = $1 ORDER BY step DESC LIMIT 1', [runId])).rows[0];
    return r && { step: r.step, tokens: r.tokens, flops: r.flops, trainLoss: r.train_loss, tokensPerS: r.tokens_per_s };
  }

  async span(runId: string): Promise<{ first: number; last: number } | undefined> {
    const r = (await this.#c.query(
      `SELECT (SELECT step FROM metrics WHERE run_id = $1 ORDER BY step LIMIT 1) AS first,
              (SELECT step FROM metrics WHERE run_id = $1 ORDER BY step DESC LIMIT 1) AS last`, [runId])).rows[0];
    return r.first === null ? undefined : { first: r.first, last: r.last };
  }

  async stepBefore(runId: string, axis: MetricAxis, value: number): Promise<number | undefined> {
    const r = await this.#c.query(`SELECT step FROM metrics WHERE run_id = $1 AND ${AXIS[axis]} < $2 ORDER BY step DESC LIMIT 1`, [runId, value]);
    return r.rows[0]?.step;
  }

  async stepAfter(runId: string, axis: MetricAxis, value: number): Promise<number | undefined> {
    const r = await this.#c.query(`SELECT step FROM metrics WHERE run_id = $1 AND ${AXIS[axis]} > $2 ORDER BY step LIMIT 1`, [runId, value]);
    return r.rows[0]?.step;
  }

  async *curve(runId: string, axis: MetricAxis, fromStep: number, toStep: number): AsyncIterable<CurvePoint[]> {
    for (let from = bound(fromStep); ;) {
      const r = await this.#c.pool.query({
        text: `SELECT step, ${AXIS[axis]}, train_loss, val_bpb, grad_norm FROM metrics
               WHERE run_id = $1 AND step >= $2 AND step <= $3 ORDER BY step LIMIT ${CURVE_CHUNK}`,
        values: [runId, from, bound(toStep)],
        rowMode: 'array',
      });
      const rows = r.rows as CurvePoint[];
      if (rows.length > 0) yield rows;
      if (rows.length < CURVE_CHUNK) return;
      from = rows[rows.length - 1][0] + 1;
    }
  }

  async atSteps(runId: string, steps: readonly number[]): Promise<Omit<RunMetricRow, 'runId'>[]> {
    const r = await this.#c.pool.query({
      text: `SELECT ${ROW} FROM metrics WHERE run_id = $1 AND step = ANY($2::int[]) ORDER BY step`,
      values: [runId, steps.filter((s) => Number.isSafeInteger(s) && Math.abs(s) < 2 ** 31)],
      rowMode: 'array',
    });
    return (r.rows as Row[]).map(toRow);
  }

  async position(): Promise<number> {
    return (await this.#c.query('SELECT MAX(seq) AS m FROM metrics')).rows[0].m ?? 0;
  }

  async after(position: number, limit: number): Promise<{ position: number; rows: RunMetricRow[] }> {
    const r = await this.#c.pool.query({
      text: `SELECT seq, run_id, ${ROW} FROM metrics WHERE seq > $1 ORDER BY seq LIMIT $2`,
      values: [position, limit],
      rowMode: 'array',
    });
    const rows = r.rows as [number, string, ...Row][];
    if (rows.length === 0) return { position, rows: [] };
    return { position: rows[rows.length - 1][0], rows: rows.map(([, runId, ...x]) => ({ runId, ...toRow(x) })) };
  }
}
