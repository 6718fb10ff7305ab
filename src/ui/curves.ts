// The loss curves: one uPlot chart per metric, every selected run overlaid in its colour. Each
// run is smoothed (debiased EMA) with the raw line kept faint beside it, then decimated to the
// chart's width keeping each pixel column's extremes (m4Indices), so what is drawn is bounded by
// the screen, not by the run's length, and a spike always shows. Dragging across a chart zooms
// every chart; the server then sends the zoomed range at full resolution; a double click resets.
import type { MetricKey } from './api.js';
import { axis, padded } from './axes.js';
import { emptyState, esc, perFrame } from './dom.js';
import { tick } from './format.js';
import { emaDebiased, m4Indices, pick } from '../common/series.js';
import { seriesView, state, type XKey } from './state.js';
import { uPlot, type UPlot } from './uplot.js';

export const METRIC_LABELS: Partial<Record<MetricKey, string>> = {
  trainBpb: 'train loss (bits/byte)',
  valBpb: 'validation loss (bits/byte)',
  lr: 'learning rate',
  gradNorm: 'gradient norm',
  tokensPerS: 'tokens/s (each step)',
};

const LOSS_UNITS = { bpb: 'bits/byte', mse: 'velocity MSE' } as const;

/**
 * A chart's title. The losses are in the selected runs' unit: bits per byte for a GPT, velocity
 * MSE for a video run; throughput in tokens for a GPT, spacetime patches for a video run; when
 * both kinds are drawn together the title says which is which.
 */
export function metricLabel(metric: MetricKey, units: ReadonlySet<keyof typeof LOSS_UNITS>): string {
  const base = METRIC_LABELS[metric] ?? metric;
  if (metric === 'tokensPerS') {
    if (!units.has('mse')) return base;
    return units.size === 2 ? 'tokens/s (each step; patches/s for video runs)' : 'patches/s (each step)';
  }
  if (metric !== 'trainBpb' && metric !== 'valBpb') return base;
  const name = base.replace(/ \(bits\/byte\)$/, '');
  if (units.size === 2) return `${name} (bits/byte; velocity MSE for video runs)`;
  return `${name} (${LOSS_UNITS[units.has('mse') ? 'mse' : 'bpb']})`;
}

/** The learning rate is a schedule, not a noisy measurement: an EMA would only make it lag. */
export function smoothingFor(metric: MetricKey, smoothing: number): number {
  return metric === 'lr' ? 0 : smoothing;
}

const X_LABELS: Record<XKey, string> = { step: 'step', tokens: 'tokens', flops: 'FLOPs (6·N·D)' };

interface Chart { metric: MetricKey; u: UPlot; box: HTMLElement; plot: HTMLElement; readout: HTMLElement }

export class CurvesView {
  charts: Chart[] = [];
  /** Called after a draw in which every selected run had its series. */
  onComplete: () => void = () => {};

  private readonly observer = new ResizeObserver((entries) => {
    let resized = false;
    for (const e of entries) {
      const c = this.charts.find((ch) => ch.plot === e.target);
      const size = c && this.size(c.plot);
      if (c && size && size.width !== c.u.width) {
        c.u.setSize(size);
        resized = true;
      }
    }
    // The decimation depends on the width, so the data is rebuilt too.
    if (resized) this.redraw();
  });

  constructor(private readonly root: HTMLElement) {
    state.on('selection', () => this.rebuild());
    state.on('options', () => this.rebuild());
    state.on('series', () => this.redraw());
    state.on('zoom', () => this.redraw());
    // The first run to appear replaces the "no runs yet" message.
    state.on('runs', () => {
      if (this.charts.length === 0 && state.runs.size > 0 && this.root.querySelector('.empty.no-runs')) this.rebuild();
    });
  }

  /** Draw again at the next frame (live rows arrived). */
  readonly redraw = perFrame(() => {
    for (const c of this.charts) {
      c.u.setData(this.data(c.metric, c.u), state.zoom === null);
      if (state.zoom) c.u.setScale('x', { min: state.zoom.min, max: state.zoom.max });
    }
  });

  rebuild(): void {
    for (const c of this.charts) {
      this.observer.unobserve(c.plot);
      c.u.destroy();
    }
    this.charts = [];
    this.root.innerHTML = '';
    if (state.runs.size === 0) {
      emptyState(this.root, 'No runs yet: run <code>scalelab train</code> and its curves appear here as it trains.');
      this.root.firstElementChild!.classList.add('no-runs');
      this.onComplete();
      return;
    }
    if (state.selected.length === 0) {
      emptyState(this.root, 'Select runs in the table below to draw and compare their curves.');
      this.onComplete();
      return;
    }
    if (state.options.metrics.length === 0) {
      emptyState(this.root, 'Tick a metric above (train, val, lr, ...) to draw it.');
      this.onComplete();
      return;
    }
    const units = new Set(state.selected.map((id) => state.runs.get(id)?.unit ?? 'bpb'));
    // Every box is laid out before any chart is sized, so each chart takes its final grid cell's width.
    const boxes = state.options.metrics.map((metric) => {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.metric = metric;
      box.innerHTML = `<div class="chart-head"><span class="chart-title">${esc(metricLabel(metric, units))}</span><div class="readout"></div></div><div class="plot"></div>`;
      this.root.append(box);
      return { metric, box };
    });
    for (const { metric, box } of boxes) {
      const plot = box.querySelector<HTMLElement>('.plot')!, readout = box.querySelector<HTMLElement>('.readout')!;
      const u = new uPlot(this.options(metric, plot), [[]], plot);
      const c = { metric, u, box, plot, readout };
      this.charts.push(c);
      this.observer.observe(plot);
      this.legend(c, null);
    }
    this.redraw();
  }

  private size(plot: HTMLElement): { width: number; height: number } {
    const width = Math.max(200, plot.clientWidth);
    return { width, height: Math.round(Math.min(300, Math.max(180, width * 0.45))) };
  }

  private options(metric: MetricKey, plot: HTMLElement): UPlot.Options {
    const { x, logX, logY } = state.options;
    const smoothing = smoothingFor(metric, state.options.smoothing);
    const series: UPlot.Series[] = [{ label: X_LABELS[x] }];
    for (const id of state.selected) {
      const color = state.color(id), name = state.runs.get(id)?.name ?? id;
      // The raw line stays visible but faint under the smoothed one; alone (no smoothing) it is the curve.
      series.push({ label: `${name} (raw)`, stroke: smoothing > 0 ? `${color}40` : color, width: 1, ...(smoothing > 0 && { points: { show: false } }) });
      series.push({ label: name, stroke: color, width: 1.75, show: smoothing > 0 });
    }
    return {
      ...this.size(plot),
      scales: {
        x: { time: false, distr: logX ? 3 : 1, ...(logX && { range: padded(1) }) },
        y: { distr: logY ? 3 : 1, ...(logY && { range: padded(1.02) }) },
      },
      axes: [axis(X_LABELS[x], logX), axis('', logY)],
      series,
      legend: { show: false },
      cursor: {
        sync: { key: 'scalelab-curves', setSeries: false },
        drag: { x: true, y: false, setScale: false },
        bind: {
          dblclick: () => () => {
            state.setZoom(null);
            return null;
          },
        },
      },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const min = u.posToVal(u.select.left, 'x'), max = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          state.setZoom({ min, max });
        }],
        setCursor: [(u) => {
          const c = this.charts.find((ch) => ch.u === u);
          if (c) this.legend(c, u.cursor.idx ?? null);
        }],
        draw: [() => {
          if (state.selected.every((id) => state.series.has(id))) this.onComplete();
        }],
      },
    };
  }

  /** uPlot's data for one chart: per run [x, raw, smoothed], decimated to the plot's width, then joined on x. */
  private data(metric: MetricKey, u: UPlot): UPlot.AlignedData {
    const { x, logX, logY } = state.options;
    const smoothing = smoothingFor(metric, state.options.smoothing);
    const width = Math.max(100, Math.round(u.bbox.width / devicePixelRatio) || u.width);
    const zoom = state.zoom;
    const tables: UPlot.AlignedData[] = state.selected.map((id) => {
      const s = state.series.get(id);
      if (!s) return [[], [], []];
      const cols = seriesView(s);
      const X = cols[x], Y = cols[metric];
      const xs: number[] = [], ys: number[] = [];
      for (let i = 0; i < X.length; i++) {
        const xv = X[i], yv = Y[i];
        if (xv === null || yv === null || !Number.isFinite(yv) || (logY && yv <= 0)) continue;
        xs.push(xv);
        ys.push(yv);
      }
      const sm = smoothing > 0 ? emaDebiased(ys, smoothing) : ys;
      const idx = m4Indices(xs, smoothing > 0 ? [ys, sm] : [ys], width, { min: zoom?.min, max: zoom?.max, log: logX });
      return [pick(xs, idx), pick(ys, idx), pick(sm, idx)];
    });
    return tables.length === 1 ? tables[0] : uPlot.join(tables);
  }

  private legend(c: Chart, idx: number | null): void {
    const d = c.u.data;
    const parts: string[] = [];
    if (idx !== null && d[0]?.[idx] !== undefined) parts.push(`<span class="rx">${esc(X_LABELS[state.options.x])} ${esc(tick(d[0][idx] as number))}</span>`);
    state.selected.forEach((id, k) => {
      const name = state.runs.get(id)?.name ?? id;
      const col = smoothingFor(c.metric, state.options.smoothing) > 0 ? 2 + 2 * k : 1 + 2 * k;
      const v = idx === null ? undefined : nearestValue(d[col], idx);
      parts.push(`<span class="ri"><i style="background:${state.color(id)}"></i>${esc(name)}${v === undefined ? '' : ` <b>${esc(tick(v))}</b>`}</span>`);
    });
    c.readout.innerHTML = parts.join('');
  }
}

/** The value at idx, or the nearest defined one (runs joined on x leave holes at each other's x). */
function nearestValue(ys: UPlot.AlignedData[number] | undefined, idx: number): number | undefined {
  if (!ys) return undefined;
  for (let r = 0; r < 64; r++) {
    const a = ys[idx - r], b = ys[idx + r];
    if (typeof a === 'number') return a;
    if (typeof b === 'number') return b;
  }
  return undefined;
}
