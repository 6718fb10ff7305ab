// The dashboard benchmark: a temporary home with many runs of many points and one very long
// run, the real dashboard server on 127.0.0.1, and headless Chromium (Debian's, driven by
// playwright-core) loading the page. Times come from the page's own performance marks
// (scalelab:table, scalelab:curves, scalelab:interactive) relative to navigation start; "does
// not freeze" is the longest main-thread task (PerformanceObserver 'longtask', which reports
// tasks over 50 ms) and the longest gap between animation frames.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { startDashboard } from '../dashboard/server.js';
import { addSyntheticRun } from '../dashboard/synthetic.js';

export interface DashboardBenchOptions {
  /** Runs of `points` points each (default 1000 × 1000). */
  runs?: number;
  points?: number;
  /** Points of the one long run (default 1,000,000; 0 skips it). */
  bigPoints?: number;
  /** Page loads timed (default 5; the first is cold). */
  loads?: number;
  chromium?: string;
  width?: number;
  height?: number;
  /** Called with progress lines (seeding can take a while). */
  log?: (line: string) => void;
}

export interface PageTiming {
  table_ms: number;
  curves_ms: number;
  interactive_ms: number;
  /** Longest task over 50 ms (0: none over 50 ms). */
  longest_task_ms: number;
  /** Longest time between two animation frames. */
  longest_frame_gap_ms: number;
}

export interface DashboardBenchResult {
  runs: number;
  points_per_run: number;
  big_run_points: number;
  seed_s: number;
  chromium: string;
  viewport: string;
  loads: PageTiming[];
  interactive_median_ms: number;
  goal_ms: number;
  big: null | (PageTiming & {
    /** The metrics request of the long run, as the page's resource timing saw it. */
    metrics_request_ms: number;
    /** The server reading and downsampling the long run without its cache (in its worker thread). */
    server_uncached_ms: number;
    points_drawn: number;
    zoom_ms: number;
    zoom_longest_task_ms: number;
    zoom_longest_frame_gap_ms: number;
  });
  /** emaDebiased + m4Indices over 1,000,000 points in the page (a live run that long, held client-side). */
  client_1m_ms: number;
  load_average: number[];
  cpus: number;
}

export const GOAL_MS = 1500;

// Installed before the page's own scripts: collects long tasks and frame gaps from the start.
const PROBE = `
  window.__bench = { longtasks: [], gaps: [], last: 0 };
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__bench.longtasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch {}
  const frame = (t) => { const b = window.__bench; if (b.last) b.gaps.push([b.last, t - b.last]); b.last = t; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
`;

interface Probe { longtasks: [number, number][]; gaps: [number, number][] }

export async function benchDashboard(o: DashboardBenchOptions = {}): Promise<DashboardBenchResult> {
  const runs = o.runs ?? 1000, points = o.points ?? 1000, bigPoints = o.bigPoints ?? 1_000_000, loads = o.loads ?? 5;
  const exe = o.chromium ?? '/usr/bin/chromium';
  const log = o.log ?? (() => {});
  if (!fs.existsSync(exe)) throw new UsageError(`no Chromium at ${exe}: install Debian's (apt-get install chromium) or pass --chromium PATH`);
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new UsageError('bench dashboard drives Chromium with playwright-core, a development dependency: run `npm install` in the scalelab checkout');
  }
  const width = o.width ?? 1280, height = o.height ?? 800;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-dashboard-'));
  try {
    const t0 = performance.now();
    const store = openStore(home);
    try {
      // The long run first, so it is the oldest and not among the runs the page opens with.
      if (bigPoints > 0) {
        log(`seeding one run of ${bigPoints.toLocaleString('en-US')} points`);
        await addSyntheticRun(store, { name: 'big', steps: bigPoints, spikes: [Math.floor(bigPoints * 0.37)], evalEvery: 1000, batch: 50_000 });
      }
      log(`seeding ${runs} runs of ${points} points`);
      for (let i = 0; i < runs; i++) {
        await addSyntheticRun(store, { name: `run-${String(i).padStart(4, '0')}`, steps: points, params: 1e5 * (1 + (i % 20)), seed: i + 2, spikes: [1 + (i * 37) % points] });
      }
    } finally {
      await store.close();
    }
    const seedS = (performance.now() - t0) / 1000;
    const dash = await startDashboard({ home, port: 0 });
    // The loads time a running dashboard, so the start-up warm-up finishes first; then what the
    // long run's overview costs uncached (a bucket count other than the page's misses the cache).
    await dash.metrics.idle();
    const long = await dash.store.findRun('big');
    let uncachedMs = NaN;
    if (long) {
      const t = performance.now();
      await dash.metrics.get(long.id, { x: 'step', buckets: 999, log: false });
      uncachedMs = performance.now() - t;
    }
    const browser = await playwright.chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const timings: PageTiming[] = [];
      const open = async (hash: string) => {
        // A fresh context per load: nothing cached from the previous one.
        const context = await browser.newContext({ viewport: { width, height } });
        await context.addInitScript(PROBE);
        const page = await context.newPage();
        page.setDefaultTimeout(0);
        await page.goto(`${dash.url}/${hash}`);
        await page.waitForFunction(() => performance.getEntriesByName('scalelab:interactive').length > 0);
        // A few frames more, so a task that the first draw queued is counted too.
        await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
        const t = await page.evaluate(() => {
          const at = (n: string) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
          const b = (window as unknown as { __bench: Probe }).__bench;
          return {
            table_ms: at('scalelab:table'), curves_ms: at('scalelab:curves'), interactive_ms: at('scalelab:interactive'),
            longest_task_ms: Math.max(0, ...b.longtasks.map((x) => x[1])),
            longest_frame_gap_ms: Math.max(0, ...b.gaps.filter((g) => g[0] > 0).map((g) => g[1])),
          };
        });
        return { context, page, t };
      };
      for (let i = 0; i < loads; i++) {
        const { context, t } = await open('');
        timings.push(t);
        log(`load ${i + 1}/${loads}: interactive after ${t.interactive_ms.toFixed(0)} ms`);
        await context.close();
      }
      let big: DashboardBenchResult['big'] = null;
      let client1m = NaN;
      const { context, page, t } = await open(bigPoints > 0 ? '#runs?select=big' : '');
      if (bigPoints > 0) {
        const extra = await page.evaluate(async () => {
          const w = window as unknown as { __bench: Probe; scalelab: { state: { setZoom(z: { min: number; max: number }): void; on(t: string, f: () => void): void }; curves: { charts: { u: { data: unknown[][] } }[] } } };
          const req = performance.getEntriesByType('resource').find((e) => e.name.includes('/metrics'));
          const drawn = w.scalelab.curves.charts[0]?.u.data[0]?.length ?? 0;
          const before = performance.now();
          const { state } = w.scalelab;
          const loaded = new Promise<void>((r) => state.on('series', r));
          const max = Number((w.scalelab.curves.charts[0]?.u.data[0] as number[]).at(-1));
          state.setZoom({ min: max * 0.4, max: max * 0.41 });
          await loaded;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          const after = performance.now();
          await new Promise((r) => setTimeout(r, 300));
          const b = w.__bench;
          return {
            metrics_request_ms: req ? req.duration : NaN, points_drawn: drawn, zoom_ms: after - before,
            zoom_longest_task_ms: Math.max(0, ...b.longtasks.filter((x) => x[0] >= before).map((x) => x[1])),
            zoom_longest_frame_gap_ms: Math.max(0, ...b.gaps.filter((g) => g[0] >= before).map((g) => g[1])),
          };
        });
        big = { ...t, ...extra, server_uncached_ms: uncachedMs };
        log(`long run: first curve after ${t.curves_ms.toFixed(0)} ms`);
      }
      client1m = await page.evaluate(() => {
        const s = (window as unknown as { scalelab: { series: { emaDebiased(y: number[], w: number): (number | null)[]; m4Indices(x: number[], y: (number | null)[][], b: number): number[] } } }).scalelab.series;
        const n = 1_000_000, xs = new Array<number>(n), ys = new Array<number>(n);
        for (let i = 0; i < n; i++) {
          xs[i] = i + 1;
          ys[i] = 2 + 3 / Math.sqrt(i + 10) + 0.05 * Math.sin(i * 12.9898);
        }
        const t0 = performance.now();
        const sm = s.emaDebiased(ys, 0.9);
        s.m4Indices(xs, [ys, sm], 1200);
        return performance.now() - t0;
      });
      await context.close();
      const sorted = timings.map((x) => x.interactive_ms).sort((a, b) => a - b);
      return {
        runs, points_per_run: points, big_run_points: bigPoints, seed_s: seedS, chromium: browser.version(), viewport: `${width}x${height}`,
        loads: timings, interactive_median_ms: sorted[Math.floor((sorted.length - 1) / 2)], goal_ms: GOAL_MS, big, client_1m_ms: client1m,
        load_average: os.loadavg(), cpus: os.cpus().length,
      };
    } finally {
      await browser.close();
      await dash.close();
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
