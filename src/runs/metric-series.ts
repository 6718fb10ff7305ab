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
type Row = [number, number | null, number | null, number | null, number | null, number | null, number | null, number | null];

const toRow = (r: Row): Omit<RunMetricRow, 'runId'> => ({
  step: r[0], tokens: r[1], flops: r[2], trainLoss: r[3], valBpb: r[4], lr: r[5], tokensPerS: r[6], gradNorm: r[7],
});

export class SqliteMetricSeries implements MetricSeries {
  readonly #c: Connection;

  constructor(c: Connection) {
    this.#c = c;
  }

  last(runId: string): LastMetric | undefined {
    const r = this.#c.stmt('SELECT step, tokens, flops, train_loss, tokens_per_s FROM metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1')
      .get(runId) as { step: number; tokens: number | null; flops: number | null; train_loss: number | null; tokens_per_s: number | null } | undefined;
    return r && { step: r.step, tokens: r.tokens, flops: r.flops, trainLoss: r.train_loss, tokensPerS: r.tokens_per_s };
  }

  span(runId: string): { first: number; last: number } | undefined {
    const first = this.#c.stmt('SELECT step FROM metrics WHERE run_id = ? ORDER BY step LIMIT 1').get(runId) as { step: number } | undefined;
    const last = this.#c.stmt('SELECT step FROM metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId) as { step: number } | undefined;
    return first && last && { first: first.step, last: last.step };
  }

  stepBefore(runId: string, axis: MetricAxis, value: number): number | undefined {
    const r = this.#c.stmt(`SELECT step FROM metrics WHERE run_id = ? AND ${AXIS[axis]} < ? ORDER BY step DESC LIMIT 1`).get(runId, value);
    return (r as { step: number } | undefined)?.step;
  }

  stepAfter(runId: string, axis: MetricAxis, value: number): number | undefined {
    const r = this.#c.stmt(`SELECT step FROM metrics WHERE run_id = ? AND ${AXIS[axis]} > ? ORDER BY step LIMIT 1`).get(runId, value);
    return (r as { step: number } | undefined)?.step;
  }

  curve(runId: string, axis: MetricAxis, fromStep: number, toStep: number): IterableIterator<CurvePoint> {
    // Rows as arrays: a million-step run arrives without a million objects.
    return this.#c.stmt(
      `SELECT step, ${AXIS[axis]}, train_loss, val_bpb, grad_norm FROM metrics WHERE run_id = ? AND step >= ? AND step <= ? ORDER BY step`,
    ).raw(true).iterate(runId, fromStep, toStep) as IterableIterator<CurvePoint>;
  }

  atSteps(runId: string, steps: readonly number[]): Omit<RunMetricRow, 'runId'>[] {
    const rows = this.#c.stmt(`SELECT ${ROW} FROM metrics WHERE run_id = ? AND step IN (SELECT value FROM json_each(?)) ORDER BY step`)
      .raw(true).all(runId, JSON.stringify(steps)) as Row[];
    return rows.map(toRow);
  }

  position(): number {
    return (this.#c.stmt('SELECT MAX(rowid) AS m FROM metrics').get() as { m: number | null }).m ?? 0;
  }

  after(position: number, limit: number): { position: number; rows: RunMetricRow[] } {
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
