// The page's state: the runs, which are selected for comparison (each with a stable colour),
// their metric series, and the chart options. Views subscribe to what they draw; the live
// stream and the API feed it. Series are kept in column form as the API sends them.
import { getJSON, type MetricColumns, type MetricKey, type MetricsResponse, type RunSummary, type SweepSummary } from './api.js';

export type XKey = 'step' | 'tokens' | 'flops';

export interface ChartOptions {
  x: XKey;
  logX: boolean;
  logY: boolean;
  /** EMA weight, 0 (none) to 0.99. */
  smoothing: number;
  metrics: MetricKey[];
}

export interface Zoom { min: number; max: number }

/** A run's points: the whole run (downsampled by the server if long), and a zoomed range in full. */
export interface RunSeries {
  overview: MetricColumns;
  downsampled: boolean;
  /** The overview was bucketed in log x. */
  log: boolean;
  detail: { x: XKey; from: number; to: number; cols: MetricColumns } | null;
}

type Topic = 'runs' | 'selection' | 'series' | 'options' | 'zoom' | 'sweeps';

export const MAX_SELECTED = 24;

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22',
  '#393b79', '#ad494a', '#637939', '#e6550d', '#7b4173', '#3182bd', '#843c39', '#31a354', '#756bb1', '#636363',
  '#b5cf6b', '#e7969c', '#6baed6', '#fd8d3c'];

const KEYS: MetricKey[] = ['step', 'tokens', 'flops', 'trainBpb', 'valBpb', 'lr', 'tokensPerS', 'gradNorm'];
const OPTIONS_KEY = 'scalelab.chart-options';

export function emptyColumns(): MetricColumns {
  return Object.fromEntries(KEYS.map((k) => [k, []])) as unknown as MetricColumns;
}

class State {
  runs = new Map<string, RunSummary>();
  sweeps: SweepSummary[] = [];
  selected: string[] = [];
  series = new Map<string, RunSeries>();
  zoom: Zoom | null = null;
  options: ChartOptions = { x: 'step', logX: false, logY: false, smoothing: 0.6, metrics: ['trainBpb', 'valBpb'] };
  private colors = new Map<string, string>();
  private listeners = new Map<Topic, Set<() => void>>();
  private loading = new Map<string, { pending: MetricColumns[]; generation: number }>();
  private generation = 0;

  constructor() {
    try {
      const saved = JSON.parse(localStorage.getItem(OPTIONS_KEY) ?? 'null') as Partial<ChartOptions> | null;
      if (saved) this.options = { ...this.options, ...saved };
    } catch {
      // A private window or a corrupt entry: the defaults do.
    }
  }

  on(topic: Topic, fn: () => void): void {
    let s = this.listeners.get(topic);
    if (!s) this.listeners.set(topic, (s = new Set()));
    s.add(fn);
  }

  emit(topic: Topic): void {
    for (const fn of this.listeners.get(topic) ?? []) fn();
  }

  color(id: string): string {
    return this.colors.get(id) ?? '#888';
  }

  setRuns(runs: RunSummary[]): void {
    this.runs = new Map(runs.map((r) => [r.id, r]));
    this.selected = this.selected.filter((id) => this.runs.has(id));
    this.emit('runs');
  }

  setSweeps(sweeps: SweepSummary[]): void {
    this.sweeps = sweeps;
    this.emit('sweeps');
  }

  upsertRuns(runs: RunSummary[]): void {
    for (const r of runs) {
      const old = this.runs.get(r.id);
      // The live rows may be ahead of the store's counters, which move at checkpoints.
      this.runs.set(r.id, old ? {
        ...r, tokensSeen: Math.max(r.tokensSeen, old.tokensSeen), flops: Math.max(r.flops, old.flops),
        bestValBpb: r.bestValBpb === null ? old.bestValBpb : old.bestValBpb === null ? r.bestValBpb : Math.min(r.bestValBpb, old.bestValBpb),
      } : r);
    }
    this.emit('runs');
  }

  /** Replace the selection (at most MAX_SELECTED); returns how many were left out. */
  select(ids: string[]): number {
    const wanted = [...new Set(ids)].filter((id) => this.runs.has(id));
    const kept = wanted.slice(0, MAX_SELECTED);
    for (const id of [...this.colors.keys()]) if (!kept.includes(id)) this.colors.delete(id);
    const used = new Set(this.colors.values());
    for (const id of kept) {
      if (this.colors.has(id)) continue;
      const c = PALETTE.find((p) => !used.has(p)) ?? PALETTE[this.colors.size % PALETTE.length];
      this.colors.set(id, c);
      used.add(c);
    }
    this.selected = kept;
    for (const id of [...this.series.keys()]) if (!kept.includes(id)) this.series.delete(id);
    this.emit('selection');
    void this.loadMissing();
    return wanted.length - kept.length;
  }

  toggle(id: string): number {
    return this.select(this.selected.includes(id) ? this.selected.filter((x) => x !== id) : [...this.selected, id]);
  }

  setOptions(patch: Partial<ChartOptions>): void {
    const before = this.options;
    this.options = { ...before, ...patch };
    try {
      localStorage.setItem(OPTIONS_KEY, JSON.stringify(this.options));
    } catch {
      // Not persisted; still applied.
    }
    // A zoom is in the old axis's units (and may start at 0, which a log axis cannot show).
    if ((patch.x !== undefined && patch.x !== before.x) || (patch.logX !== undefined && patch.logX !== before.logX)) this.setZoom(null);
    // Only a long run's overview depends on the x scale (its buckets are equal in log x on a log axis).
    if (patch.logX !== undefined && patch.logX !== before.logX) {
      for (const [id, s] of this.series) if (s.downsampled) this.series.delete(id);
      void this.loadMissing();
    }
    this.emit('options');
  }

  setZoom(z: Zoom | null): void {
    this.zoom = z;
    for (const s of this.series.values()) s.detail = null;
    this.emit('zoom');
    if (z) void this.loadDetail(z);
  }

  /** Forget all series and fetch them again (after the live stream reconnected, say). */
  reload(): void {
    this.generation++;
    this.series.clear();
    this.loading.clear();
    void this.loadMissing();
  }

  /** Fetch the series of selected runs that have none; resolves when all have arrived. */
  async loadMissing(): Promise<void> {
    const todo = this.selected.filter((id) => !this.series.has(id) && !this.loading.has(id));
    await Promise.all(todo.map((id) => this.load(id)));
  }

  /** Live rows for a run: appended after its last step, or replacing a step logged again. */
  append(runId: string, rows: MetricColumns): void {
    const run = this.runs.get(runId);
    if (run) this.runs.set(runId, liveSummary(run, rows));
    const pending = this.loading.get(runId);
    if (pending) {
      pending.pending.push(rows);
      return;
    }
    const s = this.series.get(runId);
    if (s) mergeRows(s.overview, rows);
  }

  private async load(id: string): Promise<void> {
    const generation = this.generation;
    const entry = { pending: [] as MetricColumns[], generation };
    this.loading.set(id, entry);
    const logX = this.options.logX;
    try {
      const r = await getJSON<MetricsResponse>(`/api/runs/${encodeURIComponent(id)}/metrics?x=step&buckets=1000${logX ? '&log=1' : ''}`);
      if (this.loading.get(id) !== entry || generation !== this.generation || !this.selected.includes(id)) return;
      for (const rows of entry.pending) mergeRows(r.columns, rows);
      this.series.set(id, { overview: r.columns, downsampled: r.downsampled, log: logX, detail: null });
    } catch (err) {
      console.error(`metrics of ${id}:`, err);
    } finally {
      if (this.loading.get(id) === entry) this.loading.delete(id);
    }
    this.emit('series');
  }

  private async loadDetail(z: Zoom): Promise<void> {
    const x = this.options.x;
    await Promise.all([...this.series].filter(([, s]) => s.downsampled).map(async ([id, s]) => {
      try {
        const r = await getJSON<MetricsResponse>(`/api/runs/${encodeURIComponent(id)}/metrics?x=${x}&buckets=1000` +
          `&from=${z.min}&to=${z.max}${this.options.logX ? '&log=1' : ''}`);
        if (this.zoom !== z || this.series.get(id) !== s) return;
        s.detail = { x, from: z.min, to: z.max, cols: r.columns };
      } catch (err) {
        console.error(`detail of ${id}:`, err);
      }
    }));
    if (this.zoom === z) this.emit('series');
  }
}

/** The columns to draw for a run: the overview, with the zoomed range replaced by its full-resolution rows. */
export function seriesView(s: RunSeries): MetricColumns {
  const d = s.detail;
  if (!d) return s.overview;
  const out = emptyColumns();
  const xs = s.overview[d.x];
  const n = xs.length;
  let i = 0;
  const push = (c: MetricColumns, j: number) => {
    for (const k of KEYS) out[k].push(c[k][j]);
  };
  for (; i < n && (xs[i] ?? -Infinity) < d.from; i++) push(s.overview, i);
  for (let j = 0; j < d.cols.step.length; j++) {
    const x = d.cols[d.x][j];
    if (x !== null && x >= d.from && x <= d.to) push(d.cols, j);
  }
  while (i < n && (xs[i] ?? -Infinity) <= d.to) i++;
  for (; i < n; i++) push(s.overview, i);
  return out;
}

/** Merge `rows` (ascending steps) into `cols`: after the last step they append, an equal step is replaced. */
export function mergeRows(cols: MetricColumns, rows: MetricColumns): void {
  const steps = cols.step;
  for (let j = 0; j < rows.step.length; j++) {
    const step = rows.step[j] as number;
    const last = steps.length ? (steps[steps.length - 1] as number) : -Infinity;
    if (step > last) {
      for (const k of KEYS) cols[k].push(rows[k][j]);
      continue;
    }
    const at = findStep(steps, step);
    if (at >= 0) for (const k of KEYS) cols[k][at] = rows[k][j];
  }
}

function findStep(steps: (number | null)[], step: number): number {
  let lo = 0, hi = steps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = steps[mid] as number;
    if (s === step) return mid;
    if (s < step) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The table's live columns from the newest row: the store updates the run itself only at checkpoints. */
function liveSummary(run: RunSummary, rows: MetricColumns): RunSummary {
  const n = rows.step.length - 1;
  if (n < 0 || (run.lastStep !== null && (rows.step[n] as number) < run.lastStep)) return run;
  const tokens = rows.tokens[n], flops = rows.flops[n];
  let best = run.bestValBpb;
  for (const v of rows.valBpb) if (v !== null && (best === null || v < best)) best = v;
  return {
    ...run,
    lastStep: rows.step[n], lastTrainBpb: rows.trainBpb[n] ?? run.lastTrainBpb, lastTokensPerS: rows.tokensPerS[n] ?? run.lastTokensPerS,
    tokensSeen: tokens !== null && tokens > run.tokensSeen ? tokens : run.tokensSeen,
    flops: flops !== null && flops > run.flops ? flops : run.flops, bestValBpb: best,
  };
}

export const state = new State();
