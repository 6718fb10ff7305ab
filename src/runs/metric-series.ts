// Reading runs' metrics the way charts and the live stream need them, from the SQLite store: a
// run's last row and span, its curve over a range of steps, the rows at chosen steps, and the rows
// logged since a position. Every per-run read is a range or probe of the primary key (run_id,
// step), so it costs what it returns, never a scan of every run's rows.
import type { Connection } from './connection.js';
import type { MetricSeries } from './interface.js';
import type { CurvePoint, LastMetric, MetricAxis, RunMetricRow } from './types.js';

// The axis names are also the whitelist that keeps a caller's choice out of the SQL text.
const AXIS: Record<MetricAxis, string> = { step: 'step', tokens: 'tokens', flops: 'flops' };
const ROW = 'step, tokens, flops, train_loss, val_bpb, lr, tokens_per_s, grad_norm';
/** Rows per chunk of a curve. */
export const CURVE_CHUNK = 10_000;
type Row = [number, number | null, number | null, number | null, number | null, number | null, number | null, number | null];

const toRow = (r: Row): Omit<RunMetricRow, 'runId'> => ({
  step: r[0], tokens: r[1], flops: r[2], trainLoss: r[3], valBpb: r[4], lr: r[5], tokensPerS: r[6], gradNorm: r[7],
});

export class SqliteMetricSeries implements MetricSeries {
  readonly #c: Connection;

  constructor(c: Connection) {
    this.#c = c;
  }

  async last(runId: string): Promise<LastMetric | undefined> {
    const r = this.#c.stmt('SELECT step, tokens, flops, train_loss, tokens_per_s FROM metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1')
      .get(runId) as { step: number; tokens: number | null; flops: number | null; train_loss: number | null; tokens_per_s: number | null } | undefined;
    return r && { step: r.step, tokens: r.tokens, flops: r.flops, trainLoss: r.train_loss, tokensPerS: r.tokens_per_s };
  }

  async span(runId: string): Promise<{ first: number; last: number } | undefined> {
    const first = this.#c.stmt('SELECT step FROM metrics WHERE run_id = ? ORDER BY step LIMIT 1').get(runId) as { step: number } | undefined;
    const last = this.#c.stmt('SELECT step FROM metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId) as { step: number } | undefined;
    return first && last && { first: first.step, last: last.step };
  }

  async stepBefore(runId: string, axis: MetricAxis, value: number): Promise<number | undefined> {
    const r = this.#c.stmt(`SELECT step FROM metrics WHERE run_id = ? AND ${AXIS[axis]} < ? ORDER BY step DESC LIMIT 1`).get(runId, value);
    return (r as { step: number } | undefined)?.step;
  }

  async stepAfter(runId: string, axis: MetricAxis, value: number): Promise<number | undefined> {
    const r = this.#c.stmt(`SELECT step FROM metrics WHERE run_id = ? AND ${AXIS[axis]} > ? ORDER BY step LIMIT 1`).get(runId, value);
    return (r as { step: number } | undefined)?.step;
  }

  async *curve(runId: string, axis: MetricAxis, fromStep: number, toStep: number): AsyncIterable<CurvePoint[]> {
    // Rows as arrays: a million-step run arrives without a million objects. Each chunk is read
    // by one statement call, so no statement stays open between chunks.
    const page = this.#c.stmt(
      `SELECT step, ${AXIS[axis]}, train_loss, val_bpb, grad_norm FROM metrics
       WHERE run_id = ? AND step >= ? AND step <= ? ORDER BY step LIMIT ${CURVE_CHUNK}`,
    ).raw(true);
    for (let from = fromStep; ;) {
      const rows = page.all(runId, from, toStep) as CurvePoint[];
      if (rows.length > 0) yield rows;
      if (rows.length < CURVE_CHUNK) return;
      from = rows[rows.length - 1][0] + 1;
    }
  }

  async atSteps(runId: string, steps: readonly number[]): Promise<Omit<RunMetricRow, 'runId'>[]> {
    const rows = this.#c.stmt(`SELECT ${ROW} FROM metrics WHERE run_id = ? AND step IN (SELECT value FROM json_each(?)) ORDER BY step`)
      .raw(true).all(runId, JSON.stringify(steps)) as Row[];
    return rows.map(toRow);
  }

  async position(): Promise<number> {
    return (this.#c.stmt('SELECT MAX(rowid) AS m FROM metrics').get() as { m: number | null }).m ?? 0;
  }

  async after(position: number, limit: number): Promise<{ position: number; rows: RunMetricRow[] }> {
    // rowid only grows for new rows; a step that is logged again (a resumed run) is a new row too.
    const rows = this.#c.stmt(`SELECT rowid, run_id, ${ROW} FROM metrics WHERE rowid > ? ORDER BY rowid LIMIT ?`)
      .raw(true).all(position, limit) as [number, string, ...Row][];
    if (rows.length === 0) return { position, rows: [] };
    return {
      position: rows[rows.length - 1][0],
      rows: rows.map(([, runId, ...r]) => ({ runId, ...toRow(r) })),
    };
  }
}
