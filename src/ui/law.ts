// The scaling-law view of a sweep: final loss against compute on log-log axes with the fitted
// compute-optimal frontier and its bootstrap band, the verify runs' predicted interval beside
// what they measured, and the isoFLOP curves (loss against model size at each budget, with the
// law's curve through them). The fit runs on the server and is refetched when a run of the
// sweep finishes or a verify run of it does. A video sweep's losses are val MSE, and its first
// chart draws L(C) = E + A/C^α against compute, the law `scalelab fit` fits to video runs.
import { getJSON, type LawView } from './api.js';
import { esc } from './dom.js';
import { axis, padded } from './axes.js';
import { fixed, sci, si } from './format.js';
import { state } from './state.js';
import { uPlot, type UPlot } from './uplot.js';
import { trainingCompute } from '../common/compute.js';

const BUDGET_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const FRONTIER = '#222';

export class LawUI {
  view: LawView | null = null;
  frontierChart: UPlot | null = null;
  isoflopChart: UPlot | null = null;
  /** Index of the frontier line among the frontier chart's series. */
  frontierSeries = -1;
  private sweep: string | null = null;
  private fetched = '';
  private abort: AbortController | null = null;
  private active = false;

  constructor(private readonly root: HTMLElement, private readonly picker: HTMLSelectElement, private readonly status: HTMLElement) {
    picker.addEventListener('change', () => {
      location.hash = `#law?sweep=${encodeURIComponent(picker.value)}`;
    });
    state.on('sweeps', () => {
      if (this.active) this.show(this.sweep);
    });
    state.on('runs', () => {
      if (this.active) this.refresh();
    });
    new ResizeObserver(() => this.resize()).observe(root);
  }

  hide(): void {
    this.active = false;
  }

  /** Show `sweep` (or the newest sweep with finished runs). */
  show(sweep: string | null): void {
    this.active = true;
    const sweeps = state.sweeps;
    this.picker.innerHTML = sweeps.map((s) => `<option value="${esc(s.name)}">${esc(s.name)} (${s.counts.done}/${s.jobs} done)</option>`).join('');
    if (sweeps.length === 0) {
      this.clear();
      this.status.textContent = '';
      this.root.innerHTML = '<div class="empty">No sweeps yet: plan one with <code>scalelab sweep plan NAME --flops 1e12,3e12,1e13</code>, ' +
        'run it with <code>scalelab sweep run NAME</code>, and its scaling law is fitted here as the runs finish.</div>';
      return;
    }
    const chosen = sweeps.find((s) => s.name === sweep) ?? sweeps.find((s) => s.counts.done > 0) ?? sweeps[0];
    this.sweep = chosen.name;
    this.picker.value = chosen.name;
    this.refresh();
  }

  /** Fetch the view again only if what it is fitted to changed: the finished runs and verify runs. */
  private refresh(): void {
    const name = this.sweep;
    const sweep = state.sweeps.find((s) => s.name === name);
    if (!name || !sweep) return;
    let verified = 0;
    for (const r of state.runs.values()) if (r.status === 'done' && r.name.startsWith(`${name}-verify-`)) verified++;
    const key = `${name}:${sweep.counts.done}:${verified}`;
    if (key === this.fetched) return;
    this.fetched = key;
    void this.load(name);
  }

  private async load(name: string): Promise<void> {
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    this.status.innerHTML = '<span class="spinner"></span> fitting the law (bootstrap)…';
    try {
      const v = await getJSON<LawView>(`/api/sweeps/${encodeURIComponent(name)}/law`, abort.signal);
      if (abort.signal.aborted) return;
      this.view = v;
      this.render(v);
      const f = v.compute ?? v.fit;
      this.status.textContent = f ? `${v.points.length} runs fitted, ${Math.round(f.level * 100)}% intervals from ${f.resamples} bootstrap resamples` : '';
    } catch (err) {
      if (abort.signal.aborted) return;
      this.fetched = '';
      this.status.textContent = `could not load the law: ${(err as Error).message}`;
    }
  }

  private clear(): void {
    this.frontierChart?.destroy();
    this.isoflopChart?.destroy();
    this.frontierChart = this.isoflopChart = null;
  }

  private render(v: LawView): void {
    this.clear();
    const sweep = state.sweeps.find((s) => s.name === v.sweep);
    if (v.points.length === 0) {
      const c = sweep?.counts;
      this.root.innerHTML = `<div class="empty">No finished runs in sweep <b>${esc(v.sweep)}</b> yet` +
        `${c ? ` (${c.running} running, ${c.queued} queued)` : ''}: the law is fitted here as they finish. ` +
        `Start workers with <code>scalelab sweep run ${esc(v.sweep)}</code>.</div>`;
      return;
    }
    const notice = v.metric === 'mse'
      ? (v.compute || v.fit ? '' : `No fit yet: L(C): ${v.computeError ?? ''}; L(N, D): ${v.error ?? ''}`)
      : (v.error ? `No fit yet: ${v.error}` : '');
    const loss = v.metric === 'mse' ? 'val mse' : 'loss';
    this.root.innerHTML = `
      ${notice ? `<div class="notice">${esc(notice)}</div>` : ''}
      <div class="law-charts">
        <div class="chart"><div class="chart-head"><span class="chart-title">final ${loss} vs compute</span></div><div id="law-frontier"></div><div class="legend" id="law-frontier-legend"></div></div>
        <div class="chart"><div class="chart-head"><span class="chart-title">isoFLOP curves: ${loss} vs model size</span></div><div id="law-isoflop"></div></div>
      </div>
      <div class="law-text">${lawText(v)}</div>`;
    const fbox = this.root.querySelector<HTMLElement>('#law-frontier')!;
    const ibox = this.root.querySelector<HTMLElement>('#law-isoflop')!;
    this.frontierChart = this.frontier(v, fbox);
    this.isoflopChart = this.isoflop(v, ibox);
    this.root.querySelector('#law-frontier-legend')!.innerHTML = legend(v);
  }

  private size(box: HTMLElement): { width: number; height: number } {
    const width = Math.max(240, box.clientWidth);
    return { width, height: Math.round(Math.min(380, Math.max(220, width * 0.62))) };
  }

  private resize(): void {
    if (this.frontierChart) this.frontierChart.setSize(this.size(this.frontierChart.root.parentElement!));
    if (this.isoflopChart) this.isoflopChart.setSize(this.size(this.isoflopChart.root.parentElement!));
  }

  private frontier(v: LawView, box: HTMLElement): UPlot {
    const tables: UPlot.AlignedData[] = [];
    const series: UPlot.Series[] = [{ label: 'FLOPs' }];
    const taken = new Set<number>();
    v.budgets.forEach((b, i) => {
      tables.push([b.runs.map((r) => distinct(trainingCompute(r.params, r.tokens), taken)), b.runs.map((r) => r.loss)]);
      series.push(scatter(`C ≈ ${sci(b.flops)}`, BUDGET_COLORS[i % BUDGET_COLORS.length], 7));
    });
    const bands: UPlot.Band[] = [];
    this.frontierSeries = -1;
    if (v.compute) {
      const p = v.compute.predictions;
      tables.push([p.map((x) => distinct(x.flops, taken)), p.map((x) => x.loss), p.map((x) => x.interval[0]), p.map((x) => x.interval[1])]);
      this.frontierSeries = series.length;
      series.push({ label: v.compute.law, stroke: FRONTIER, width: 2, points: { show: false } });
      series.push({ label: 'interval low', stroke: '#2224', width: 1, dash: [4, 4], points: { show: false } });
      series.push({ label: 'interval high', stroke: '#2224', width: 1, dash: [4, 4], points: { show: false } });
      bands.push({ series: [series.length - 1, series.length - 2], fill: 'rgba(34,34,34,0.10)' });
    } else if (v.frontier) {
      const f = v.frontier;
      tables.push([f.flops.map((c) => distinct(c, taken)), f.loss, f.lo, f.hi]);
      this.frontierSeries = series.length;
      series.push({ label: 'compute-optimal frontier', stroke: FRONTIER, width: 2, points: { show: false } });
      series.push({ label: 'interval low', stroke: '#2224', width: 1, dash: [4, 4], points: { show: false } });
      series.push({ label: 'interval high', stroke: '#2224', width: 1, dash: [4, 4], points: { show: false } });
      bands.push({ series: [series.length - 1, series.length - 2], fill: 'rgba(34,34,34,0.10)' });
    }
    const verify = v.verify;
    if (verify.length) {
      const xs = verify.map((p) => distinct(p.flops, taken));
      tables.push([xs, verify.map((p) => p.predicted), verify.map((p) => p.measured), verify.map((p) => p.interval[0]), verify.map((p) => p.interval[1])]);
      series.push({ ...scatter('predicted', '#fff', 9), stroke: '#c00', width: 2 } as UPlot.Series);
      series.push(scatter('measured', '#c00', 8));
      // The interval's ends only widen the y range; the draw hook paints them as a bar.
      series.push({ label: 'lo', stroke: 'transparent', paths: () => null, points: { show: false } });
      series.push({ label: 'hi', stroke: 'transparent', paths: () => null, points: { show: false } });
    }
    const data = uPlot.join(tables);
    const opts: UPlot.Options = {
      ...this.size(box),
      scales: { x: { time: false, distr: 3, range: padded(1.3) }, y: { distr: 3, range: padded(1.04) } },
      axes: [axis('FLOPs (6·N·D)', true), axis(lossAxis(v), true)],
      series, bands, legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [(u) => {
          if (!verify.length) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#c00';
          ctx.lineWidth = 2 * devicePixelRatio;
          for (const p of verify) {
            const x = u.valToPos(p.flops, 'x', true);
            const y0 = u.valToPos(p.interval[0], 'y', true), y1 = u.valToPos(p.interval[1], 'y', true);
            const cap = 6 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(x, y0); ctx.lineTo(x, y1);
            ctx.moveTo(x - cap, y0); ctx.lineTo(x + cap, y0);
            ctx.moveTo(x - cap, y1); ctx.lineTo(x + cap, y1);
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    };
    return new uPlot(opts, data, box);
  }

  private isoflop(v: LawView, box: HTMLElement): UPlot {
    const tables: UPlot.AlignedData[] = [];
    const series: UPlot.Series[] = [{ label: 'params' }];
    v.budgets.forEach((b, i) => {
      const color = BUDGET_COLORS[i % BUDGET_COLORS.length];
      tables.push([b.runs.map((r) => r.params), b.runs.map((r) => r.loss)]);
      series.push(scatter(`C ≈ ${sci(b.flops)}`, color, 7));
      if (b.law) {
        tables.push([b.law.params, b.law.loss]);
        series.push({ label: `law at C ≈ ${sci(b.flops)}`, stroke: color, width: 1.5, points: { show: false } });
      }
      if (b.parabola) {
        tables.push([b.parabola.params, b.parabola.loss]);
        series.push({ label: `parabola at C ≈ ${sci(b.flops)}`, stroke: `${color}99`, width: 1, dash: [3, 3], points: { show: false } });
      }
    });
    return new uPlot({
      ...this.size(box),
      scales: { x: { time: false, distr: 3, range: padded(1.1) }, y: { distr: 3, range: padded(1.04) } },
      axes: [axis('non-embedding parameters N', true), axis(lossAxis(v), true)],
      series, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    }, uPlot.join(tables), box);
  }
}

/**
 * x itself, or the next float up if another point already has it: uPlot joins series on exact x,
 * so two runs of one budget with the same 6·N·D would otherwise be drawn as one.
 */
function distinct(x: number, taken: Set<number>): number {
  let v = x;
  while (taken.has(v)) v *= 1 + 1e-12;
  taken.add(v);
  return v;
}

/** The loss axis: a GPT sweep's val bits per byte, a video sweep's val MSE (velocity). */
export function lossAxis(v: Pick<LawView, 'metric'>): string {
  return v.metric === 'mse' ? 'final val MSE (velocity)' : 'final val loss (bits/byte)';
}

function scatter(label: string, color: string, size: number): UPlot.Series {
  return { label, stroke: color, fill: color, width: 1, paths: () => null, points: { show: true, size, fill: color, stroke: color } };
}

function legend(v: LawView): string {
  const items = v.budgets.map((b, i) => `<span class="ri"><i style="background:${BUDGET_COLORS[i % BUDGET_COLORS.length]}"></i>C ≈ ${sci(b.flops)} (${b.runs.length} run${b.runs.length === 1 ? '' : 's'})</span>`);
  if (v.compute) items.push(`<span class="ri"><i style="background:${FRONTIER}"></i>${esc(v.compute.law)}, shaded: ${Math.round(v.compute.level * 100)}% interval</span>`);
  else if (v.frontier) items.push(`<span class="ri"><i style="background:${FRONTIER}"></i>frontier, shaded: ${v.fit ? Math.round(v.fit.level * 100) : 90}% interval</span>`);
  if (v.verify.length) items.push('<span class="ri"><i class="hollow"></i>predicted (bar: interval) <i style="background:#c00"></i>measured</span>');
  return items.join('');
}

/** A video sweep's law against compute: its parameters, each budget's best run and what it predicts beyond them. */
function computeLawText(v: LawView): string {
  const c = v.compute;
  if (!c) return v.computeError ? `<h3>L(C) = E + A/C<sup>α</sup></h3><p class="muted">not fitted: ${esc(v.computeError)}</p>` : '';
  const pct = Math.round(c.level * 100);
  const iv = (k: keyof typeof c.intervals) => `[${fixed(c.intervals[k][0], 4)}, ${fixed(c.intervals[k][1], 4)}]`;
  const ahead = c.predictions.at(-1);
  let html = `<h3>L(C) = E + A/C<sup>α</sup></h3>
    <p class="muted">final val MSE against compute C = 6·N·D (D in patches), fitted to the best run of each of ${c.budgets.length} budgets</p>
    <table class="kv"><tr><th></th><th>fit</th><th>${pct}% interval</th></tr>
    <tr><td>E</td><td>${fixed(c.fit.E, 4)}</td><td>${iv('E')}</td></tr>
    <tr><td>A</td><td>${si(c.fit.A)}</td><td>[${si(c.intervals.A[0])}, ${si(c.intervals.A[1])}]</td></tr>
    <tr><td>α</td><td>${fixed(c.fit.alpha)}</td><td>${iv('alpha')}</td></tr></table>`;
  for (const w of c.warnings) html += `<p class="warn">${esc(w)}</p>`;
  html += `<h4>Budgets</h4><table class="kv"><tr><th>FLOPs</th><th>best val mse</th><th>runs</th></tr>${
    c.budgets.map((b) => `<tr><td>${sci(b.flops)}</td><td>${fixed(b.loss, 4)}</td><td>${b.runs}</td></tr>`).join('')}</table>`;
  if (ahead) html += `<p>predicted at ${sci(ahead.flops)} FLOPs: val mse ${fixed(ahead.loss, 4)} [${fixed(ahead.interval[0], 4)}, ${fixed(ahead.interval[1], 4)}]</p>`;
  return html;
}

function lawText(v: LawView): string {
  const mse = v.metric === 'mse';
  const f = v.fit;
  if (!f) return mse ? computeLawText(v) + (v.error ? `<h3>L(N, D) = E + A/N<sup>α</sup> + B/D<sup>β</sup></h3><p class="muted">not fitted: ${esc(v.error)}</p>` : '') : '';
  const iv = (k: keyof typeof f.intervals, d = 3) => `[${fixed(f.intervals[k][0], d)}, ${fixed(f.intervals[k][1], d)}]`;
  const pct = Math.round(f.level * 100);
  let html = `${mse ? computeLawText(v) : ''}<h3>L(N, D) = E + A/N<sup>α</sup> + B/D<sup>β</sup></h3>${mse ? '<p class="muted">val MSE; N non-embedding parameters, D training patches</p>' : ''}
    <table class="kv"><tr><th></th><th>fit</th><th>${pct}% interval</th></tr>
    <tr><td>E</td><td>${fixed(f.law.E)}</td><td>${iv('E')}</td></tr>
    <tr><td>A</td><td>${si(f.law.A)}</td><td>[${si(f.intervals.A[0])}, ${si(f.intervals.A[1])}]</td></tr>
    <tr><td>B</td><td>${si(f.law.B)}</td><td>[${si(f.intervals.B[0])}, ${si(f.intervals.B[1])}]</td></tr>
    <tr><td>α</td><td>${fixed(f.law.alpha)}</td><td>${iv('alpha')}</td></tr>
    <tr><td>β</td><td>${fixed(f.law.beta)}</td><td>${iv('beta')}</td></tr></table>`;
  for (const w of f.warnings) html += `<p class="warn">${esc(w)}</p>`;
  html += `<h4>Compute-optimal allocation</h4><table class="kv"><tr><th>FLOPs</th><th>N</th><th>D${mse ? ' (patches)' : ''}</th><th>${mse ? 'val mse' : 'loss'}</th></tr>${
    f.optimal.map((o) => `<tr><td>${sci(o.flops)}</td><td>${si(o.params)}</td><td>${si(o.tokens)}</td><td>${fixed(o.loss)} [${fixed(o.intervals.loss[0])}, ${fixed(o.intervals.loss[1])}]</td></tr>`).join('')}</table>`;
  html += '<h4>Approach 2 (isoFLOP parabolas)</h4>';
  html += 'error' in f.isoflop
    ? `<p class="muted">${esc(f.isoflop.error)}</p>`
    : `<p>N<sub>opt</sub> ∝ C<sup>${fixed(f.isoflop.nOpt.exponent, 2)}</sup>, D<sub>opt</sub> ∝ C<sup>${fixed(f.isoflop.dOpt.exponent, 2)}</sup> (R² ${fixed(f.isoflop.nOpt.r2, 3)})</p>`;
  if (v.verify.length) {
    html += `<h4>Verified</h4><table class="kv"><tr><th>run</th><th>FLOPs</th><th>predicted</th><th>measured</th><th>error</th></tr>${
      v.verify.map((p) => {
        const inside = p.measured >= p.interval[0] && p.measured <= p.interval[1];
        return `<tr><td>${esc(p.run)}</td><td>${sci(p.flops)}</td><td>${fixed(p.predicted)} [${fixed(p.interval[0])}, ${fixed(p.interval[1])}]</td>` +
          `<td>${fixed(p.measured)}</td><td class="${inside ? 'ok' : 'bad'}">${(p.relativeError * 100).toFixed(1)}%${inside ? ' (inside)' : ' (outside)'}</td></tr>`;
      }).join('')}</table>`;
  }
  return html;
}
