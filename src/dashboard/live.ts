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
import { lossUnit, runFamily, trainLossIn, type LossUnit, type Store } from '../runs/index.js';
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
  /** The tick under way, if any: a slow store must not start a second one beside it. */
  private ticking: Promise<void> | null = null;
  /** A write announced while a round was under way: one more round follows it. */
  private again = false;
  private unwatch: (() => void) | null = null;
  /** Each run's loss unit, read once: a run's family never changes. */
  private readonly units = new Map<string, LossUnit>();

  constructor(private readonly store: Store, readonly intervalMs = 500, private readonly onError: (err: unknown) => void = () => {}) {}

  get subscribers(): number {
    return this.clients.size;
  }

  /** Resolves once the page has its hello: from then on every change reaches it. */
  async subscribe(reply: FastifyReply): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const first = this.clients.size === 0;
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (first) this.start();
    // The hello says "fetch the past now": only once the cursors stand, so nothing falls between.
    await this.ticking;
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ intervalMs: this.intervalMs })}\n\n`);
  }

  /** Resolves when no round is under way (before the store closes). */
  async idle(): Promise<void> {
    await this.ticking;
  }

  close(): void {
    this.stop();
    for (const c of this.clients) c.destroy();
    this.clients.clear();
  }

  /** One round of reading and pushing (or the round already under way); the ticker calls it, tests may too. */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (this.clients.size === 0) return;
    try {
      const metrics = await this.newMetrics();
      if (metrics) this.broadcast('metrics', { runs: metrics });
      const runs = await this.changedRuns();
      if (runs.length) this.broadcast('runs', { runs });
      const sig = await sweepSignature(this.store);
      if (sig !== this.sweeps) {
        this.sweeps = sig;
        this.broadcast('sweeps', { sweeps: await sweepSummaries(this.store) });
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
    this.lastPing = Date.now();
    // The first tick waits for the cursors (tick() joins the round under way).
    this.ticking = this.setCursors().catch(this.onError).finally(() => (this.ticking = null));
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    // A store that announces writes (PostgreSQL's NOTIFY, from any machine) is read at once.
    this.unwatch = this.store.watch?.(() => this.poke()) ?? null;
  }

  private poke(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    void this.tick().then(() => {
      if (!this.again) return;
      this.again = false;
      this.poke();
    });
  }

  private async setCursors(): Promise<void> {
    this.rowCursor = await this.store.series.position();
    this.runCursor = await this.store.lastRunUpdate();
    this.runSeen.clear();
    for (const r of await this.store.runsUpdatedSince(this.runCursor)) this.runSeen.set(r.id, r.updatedAt);
    this.sweeps = await sweepSignature(this.store);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unwatch?.();
    this.unwatch = null;
  }

  private async newMetrics(): Promise<Record<string, MetricColumns> | null> {
    // A step that is logged again (a resumed run) comes after the position too.
    const { position, rows } = await this.store.series.after(this.rowCursor, MAX_ROWS);
    if (rows.length === 0) return null;
    this.rowCursor = position;
    const byRun: Record<string, MetricColumns> = {};
    for (const id of new Set(rows.map((r) => r.runId))) {
      if (!this.units.has(id)) this.units.set(id, lossUnit(runFamily((await this.store.findRun(id))?.config)));
    }
    for (const r of rows) {
      const c = byRun[r.runId] ??= Object.fromEntries(METRIC_KEYS.map((k) => [k, []])) as unknown as MetricColumns;
      c.step.push(r.step); c.tokens.push(r.tokens); c.flops.push(r.flops);
      c.trainBpb.push(trainLossIn(this.units.get(r.runId)!, r.trainLoss));
      c.valBpb.push(r.valBpb); c.lr.push(r.lr); c.tokensPerS.push(r.tokensPerS); c.gradNorm.push(r.gradNorm);
    }
    return byRun;
  }

  private async changedRuns() {
    // updated_at has millisecond resolution, so reread the last millisecond and skip what was sent.
    const rows = await this.store.runsUpdatedSince(this.runCursor);
    const out = [];
    for (const r of rows) {
      if (this.runSeen.get(r.id) === r.updatedAt) continue;
      this.runSeen.set(r.id, r.updatedAt);
      const run = await this.store.findRun(r.id);
      if (run) out.push(await runSummary(this.store, run));
    }
    if (rows.length) this.runCursor = rows[rows.length - 1].updatedAt;
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
