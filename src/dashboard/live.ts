// Live updates for every open page over one server-sent-events stream each. A single ticker
// (not one per page, and nothing while no page is open) reads what changed since its cursors —
// metric rows after the last rowid seen, runs whose updated_at moved, job counts of the sweeps —
// and pushes it to every subscriber. Pages never poll.
//
//   event: hello    {intervalMs}               on connect: fetch state now; later rows arrive here
//   event: metrics  {runs: {id: columns}}      new metric rows, by run, in the columns of /metrics
//   event: runs     {runs: [RunSummary]}       runs created or changed
//   event: sweeps   {sweeps: [SweepSummary]}   a job changed state (or a sweep appeared)
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { RunStore } from '../runs/index.js';
import { METRIC_KEYS, type MetricColumns } from './metrics.js';
import { runSummary } from './runs.js';
import { sweepSignature, sweepSummaries } from './sweeps.js';

/** Rows per tick at most; a backlog drains over the next ticks instead of one huge message. */
const MAX_ROWS = 20_000;
/** A page that reads slower than this much buffered output is dropped; its EventSource reconnects and refetches. */
const MAX_BUFFERED = 8 << 20;
const PING_MS = 15_000;

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private lastPing = 0;
  private rowCursor = 0;
  private runCursor = '';
  private readonly runSeen = new Map<string, string>();
  private sweeps = '';

  constructor(private readonly store: RunStore, readonly intervalMs = 500, private readonly onError: (err: unknown) => void = () => {}) {}

  get subscribers(): number {
    return this.clients.size;
  }

  subscribe(reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (this.clients.size === 0) this.start();
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ intervalMs: this.intervalMs })}\n\n`);
  }

  close(): void {
    this.stop();
    for (const c of this.clients) c.destroy();
    this.clients.clear();
  }

  /** One round of reading and pushing; the ticker calls it, tests may too. */
  tick(): void {
    if (this.clients.size === 0) return;
    try {
      const metrics = this.newMetrics();
      if (metrics) this.broadcast('metrics', { runs: metrics });
      const runs = this.changedRuns();
      if (runs.length) this.broadcast('runs', { runs });
      const sig = sweepSignature(this.store);
      if (sig !== this.sweeps) {
        this.sweeps = sig;
        this.broadcast('sweeps', { sweeps: sweepSummaries(this.store) });
      }
      const now = Date.now();
      if (now - this.lastPing > PING_MS) {
        this.lastPing = now;
        for (const c of this.clients) c.write(': ping\n\n');
      }
    } catch (err) {
      this.onError(err);
    }
  }

  // Cursors start at "now" whenever the first page subscribes: a page fetches the past itself
  // after its hello, so a hub idle for an hour must not replay that hour.
  private start(): void {
    const db = this.store.db;
    this.rowCursor = (db.prepare('SELECT MAX(rowid) AS m FROM metrics').get() as { m: number | null }).m ?? 0;
    this.runCursor = (db.prepare('SELECT MAX(updated_at) AS m FROM runs').get() as { m: string | null }).m ?? '';
    this.runSeen.clear();
    for (const r of db.prepare('SELECT id, updated_at FROM runs WHERE updated_at >= ?').all(this.runCursor) as { id: string; updated_at: string }[]) {
      this.runSeen.set(r.id, r.updated_at);
    }
    this.sweeps = sweepSignature(this.store);
    this.lastPing = Date.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private newMetrics(): Record<string, MetricColumns> | null {
    // rowid only grows for new rows; a step that is logged again (a resumed run) is a new row too.
    const rows = this.store.db.prepare(
      `SELECT rowid, run_id, step, tokens, flops, train_loss, val_bpb, lr, tokens_per_s, grad_norm FROM metrics
       WHERE rowid > ? ORDER BY rowid LIMIT ${MAX_ROWS}`,
    ).raw(true).all(this.rowCursor) as (number | string | null)[][];
    if (rows.length === 0) return null;
    this.rowCursor = rows[rows.length - 1][0] as number;
    const byRun: Record<string, MetricColumns> = {};
    for (const r of rows) {
      const id = r[1] as string;
      const c = byRun[id] ??= Object.fromEntries(METRIC_KEYS.map((k) => [k, []])) as unknown as MetricColumns;
      const [step, tokens, flops, loss, val, lr, tps, gn] = r.slice(2) as (number | null)[];
      c.step.push(step); c.tokens.push(tokens); c.flops.push(flops);
      c.trainBpb.push(loss === null ? null : loss / Math.LN2);
      c.valBpb.push(val); c.lr.push(lr); c.tokensPerS.push(tps); c.gradNorm.push(gn);
    }
    return byRun;
  }

  private changedRuns() {
    // updated_at has millisecond resolution, so reread the last millisecond and skip what was sent.
    const rows = this.store.db.prepare('SELECT id, updated_at FROM runs WHERE updated_at >= ? ORDER BY updated_at')
      .all(this.runCursor) as { id: string; updated_at: string }[];
    const out = [];
    for (const r of rows) {
      if (this.runSeen.get(r.id) === r.updated_at) continue;
      this.runSeen.set(r.id, r.updated_at);
      const run = this.store.findRun(r.id);
      if (run) out.push(runSummary(this.store, run));
    }
    if (rows.length) this.runCursor = rows[rows.length - 1].updated_at;
    return out;
  }

  private broadcast(event: string, data: unknown): void {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) {
      if (c.writableLength > MAX_BUFFERED) {
        c.destroy();
        continue;
      }
      c.write(msg);
    }
  }
}
