// The emergence view: a task's metrics against training FLOPs across a sweep's runs (log x), or
// against training step across one run's checkpoints, one point per run or checkpoint with its
// ±1 standard error drawn as a bar. Exact match (or accuracy) sits beside the continuous metric
// of the same outputs, so a jump and the smooth curve beneath it are seen together (Schaeffer et
// al. 2023), each with the verdict `scalelab emergence` prints. Results change only when
// `scalelab eval` runs, so the view is fetched when it is shown, not on every live update.
import { getJSON, type EmergenceSeries, type EmergenceView, type EvalTask, type EvalTasks } from './api.js';
import { axis, padded } from './axes.js';
import { esc } from './dom.js';
import { sci, tick } from './format.js';
import { state } from './state.js';
import { uPlot, type UPlot } from './uplot.js';
import { describeShape } from '../common/emergence-text.js';

type Source = { kind: 'sweep' | 'run'; name: string };

/** Charts first for the discrete metric, then the continuous one beside it, then the rest. */
const FIRST = ['exact_match', 'acc', 'logprob_per_byte', 'p_gold'];

const LABELS: Record<string, string> = {
  exact_match: 'exact match',
  acc: 'accuracy',
  acc_norm: 'accuracy (length-normalised)',
  p_gold: 'probability of the gold choice',
  logprob_per_byte: 'log-prob of the target per byte',
  edit_distance: 'edit distance (normalised)',
  bpb: 'bits per byte',
};

const DISCRETE = new Set(['exact_match', 'acc', 'acc_norm']);
const COLORS = { discrete: '#1f77b4', continuous: '#d62728' };

interface Chart { metric: string; u: UPlot; series: EmergenceSeries }

export class EmergenceUI {
  tasks: EvalTasks | null = null;
  view: EmergenceView | null = null;
  charts: Chart[] = [];
  private source: Source | null = null;
  private abort: AbortController | null = null;
  private active = false;

  constructor(private readonly root: HTMLElement, private readonly sourcePicker: HTMLSelectElement,
    private readonly taskPicker: HTMLSelectElement, private readonly status: HTMLElement) {
    sourcePicker.addEventListener('change', () => {
      const [kind, ...rest] = sourcePicker.value.split(':');
      // The task stays picked where the new sweep or run has it too.
      location.hash = emergenceHash({ kind: kind as Source['kind'], name: rest.join(':') }, this.picked());
    });
    taskPicker.addEventListener('change', () => {
      if (this.source) location.hash = emergenceHash(this.source, this.picked());
    });
    // Until a sweep or run exists to show, a new one is shown as it appears.
    const retry = () => {
      if (this.active && this.source === null) this.show(new URLSearchParams());
      else if (this.active) this.fillSources();
    };
    state.on('sweeps', retry);
    state.on('runs', retry);
    new ResizeObserver(() => this.resize()).observe(root);
  }

  hide(): void {
    this.active = false;
  }

  /** Show what the URL names (`sweep=` or `run=`, `task=`, `shots=`), else the newest sweep with finished runs. */
  show(params: URLSearchParams): void {
    this.active = true;
    const sweep = params.get('sweep'), run = params.get('run');
    const src: Source | null = sweep ? { kind: 'sweep', name: sweep } : run ? { kind: 'run', name: run } : this.source ?? defaultSource();
    this.source = src;
    this.fillSources();
    if (!src) {
      this.clear();
      this.taskPicker.innerHTML = '';
      this.status.textContent = '';
      this.root.innerHTML = '<div class="empty">No sweeps or runs yet. Train a family with <code>scalelab sweep run NAME</code>, ' +
        'evaluate it with <code>scalelab eval --sweep NAME --tasks copy,add3</code>, and its abilities are plotted here against compute.</div>';
      return;
    }
    const shots = params.get('shots');
    void this.load(src, params.get('task'), shots === null ? null : Number(shots));
  }

  /** The sweeps, then the runs (newest first), with the shown one picked. */
  private fillSources(): void {
    const sweeps = state.sweeps.map((s) => s.name);
    const runs = [...state.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((r) => r.name);
    const src = this.source;
    if (src && !(src.kind === 'sweep' ? sweeps : runs).includes(src.name)) (src.kind === 'sweep' ? sweeps : runs).unshift(src.name);
    const opts = (kind: string, names: string[]) => names.map((n) => `<option value="${kind}:${esc(n)}">${esc(n)}</option>`).join('');
    this.sourcePicker.innerHTML = `<optgroup label="sweeps: runs against FLOPs">${opts('sweep', sweeps)}</optgroup>` +
      `<optgroup label="runs: checkpoints against step">${opts('run', runs)}</optgroup>`;
    if (src) this.sourcePicker.value = `${src.kind}:${src.name}`;
  }

  private picked(): { task: string; shots: number } | null {
    const v = this.taskPicker.value;
    if (!v) return null;
    const [task, shots] = JSON.parse(v) as [string, number];
    return { task, shots };
  }

  private async load(src: Source, task: string | null, shots: number | null): Promise<void> {
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const q = `${src.kind}=${encodeURIComponent(src.name)}`;
    this.status.innerHTML = '<span class="spinner"></span> loading…';
    try {
      const tasks = await getJSON<EvalTasks>(`/api/evals?${q}`, abort.signal);
      if (abort.signal.aborted) return;
      this.tasks = tasks;
      this.taskPicker.disabled = tasks.tasks.length === 0;
      this.taskPicker.innerHTML = tasks.tasks.map((t) => `<option value="${esc(JSON.stringify([t.task, t.shots]))}">${esc(taskLabel(t))}</option>`).join('');
      const chosen = tasks.tasks.find((t) => t.task === task && (shots === null || t.shots === shots)) ?? tasks.tasks[0];
      if (!chosen) {
        this.clear();
        this.view = null;
        this.status.textContent = '';
        const cmd = src.kind === 'sweep' ? `scalelab eval --sweep ${src.name} --tasks copy,add3` : `scalelab eval ${src.name} --checkpoints --tasks copy,add3`;
        this.root.innerHTML = `<div class="empty">No evaluation results for ${src.kind} <b>${esc(src.name)}</b> yet: ` +
          `run <code>${esc(cmd)}</code> and its tasks appear here.</div>`;
        return;
      }
      this.taskPicker.value = JSON.stringify([chosen.task, chosen.shots]);
      const v = await getJSON<EmergenceView>(`/api/emergence?${q}&task=${encodeURIComponent(chosen.task)}&shots=${chosen.shots}`, abort.signal);
      if (abort.signal.aborted) return;
      this.view = v;
      this.render(v, src);
      this.status.textContent = `${v.task} ${v.taskVersion ?? ''}, ${v.shots}-shot: ${src.kind === 'sweep' ? 'one point per run' : 'one point per checkpoint'}, bars ±1 standard error`;
    } catch (err) {
      if (abort.signal.aborted) return;
      this.status.textContent = `could not load the results: ${(err as Error).message}`;
    }
  }

  private clear(): void {
    for (const c of this.charts) c.u.destroy();
    this.charts = [];
  }

  private render(v: EmergenceView, src: Source): void {
    this.clear();
    const series = [...v.series].sort((a, b) => rank(a.metric) - rank(b.metric));
    if (series.length === 0) {
      this.root.innerHTML = `<div class="empty">No results for ${esc(v.task)} with ${v.shots} shots in ${src.kind} <b>${esc(src.name)}</b>.</div>`;
      return;
    }
    this.root.innerHTML = `<div class="em-charts">${series.map((s, i) => `
      <div class="chart" data-metric="${esc(s.metric)}">
        <div class="chart-head"><span class="chart-title">${esc(LABELS[s.metric] ?? s.metric)}</span>
          <span class="muted">${s.higherIsBetter ? 'higher' : 'lower'} is better</span><div class="readout"></div></div>
        <div class="verdict v-${esc(s.shape.verdict.replace(/\s+/g, '-'))}">${esc(describeShape(s.shape, v.axis, sci))}</div>
        <div class="plot" id="em-plot-${i}"></div>
      </div>`).join('')}</div>
      <div class="em-table">${pointsTable(v, series)}</div>`;
    series.forEach((s, i) => {
      const box = this.root.querySelector<HTMLElement>(`#em-plot-${i}`)!;
      const readout = box.parentElement!.querySelector<HTMLElement>('.readout')!;
      this.charts.push({ metric: s.metric, series: s, u: this.chart(s, v.axis, box, readout) });
    });
  }

  private size(box: HTMLElement): { width: number; height: number } {
    const width = Math.max(240, box.clientWidth);
    return { width, height: Math.round(Math.min(320, Math.max(200, width * 0.6))) };
  }

  private resize(): void {
    for (const c of this.charts) c.u.setSize(this.size(c.u.root.parentElement!));
  }

  private chart(s: EmergenceSeries, xAxis: EmergenceView['axis'], box: HTMLElement, readout: HTMLElement): UPlot {
    const pts = s.points.filter((p) => xAxis === 'step' || p.x > 0);
    const xs = distinctAscending(pts.map((p) => p.x));
    const ys = pts.map((p) => p.value);
    // The bar's ends only widen the y range; the draw hook paints them.
    const lo = pts.map((p) => (p.value === null || p.stderr === null ? null : p.value - p.stderr));
    const hi = pts.map((p) => (p.value === null || p.stderr === null ? null : p.value + p.stderr));
    const color = DISCRETE.has(s.metric) ? COLORS.discrete : COLORS.continuous;
    const log = xAxis === 'flops';
    return new uPlot({
      ...this.size(box),
      scales: { x: log ? { time: false, distr: 3, range: padded(1.6) } : { time: false }, y: {} },
      axes: [axis(log ? 'training FLOPs (6·N·D)' : 'training step', log), axis(LABELS[s.metric] ?? s.metric)],
      series: [
        { label: log ? 'FLOPs' : 'step' },
        { label: s.metric, stroke: color, width: 1.5, points: { show: true, size: 7, fill: color, stroke: color } },
        { label: 'lo', stroke: 'transparent', paths: () => null, points: { show: false } },
        { label: 'hi', stroke: 'transparent', paths: () => null, points: { show: false } },
      ],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = color;
          ctx.lineWidth = 1.5 * devicePixelRatio;
          const cap = 5 * devicePixelRatio;
          xs.forEach((x, i) => {
            if (lo[i] === null || hi[i] === null) return;
            const px = u.valToPos(x, 'x', true), y0 = u.valToPos(lo[i]!, 'y', true), y1 = u.valToPos(hi[i]!, 'y', true);
            ctx.beginPath();
            ctx.moveTo(px, y0); ctx.lineTo(px, y1);
            ctx.moveTo(px - cap, y0); ctx.lineTo(px + cap, y0);
            ctx.moveTo(px - cap, y1); ctx.lineTo(px + cap, y1);
            ctx.stroke();
          });
          ctx.restore();
        }],
        setCursor: [(u) => {
          const i = u.cursor.idx;
          const p = i === null || i === undefined ? undefined : pts[i];
          readout.innerHTML = p ? `<span class="ri">${esc(p.label)} <b>${esc(value(p.value))}</b>${p.stderr === null ? '' : ` ± ${esc(value(p.stderr))}`} (n ${p.n})</span>` : '';
        }],
      },
    }, [xs, ys, lo, hi], box);
  }
}

/** The URL of a source's view, with a task picked. */
export function emergenceHash(src: Source, picked: { task: string; shots: number } | null): string {
  const q = new URLSearchParams({ [src.kind]: src.name });
  if (picked) {
    q.set('task', picked.task);
    q.set('shots', String(picked.shots));
  }
  return `#emergence?${q}`;
}

function defaultSource(): Source | null {
  const sweep = state.sweeps.find((s) => s.counts.done > 0) ?? state.sweeps[0];
  if (sweep) return { kind: 'sweep', name: sweep.name };
  const run = [...state.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  return run ? { kind: 'run', name: run.name } : null;
}

function rank(metric: string): number {
  const i = FIRST.indexOf(metric);
  return i < 0 ? FIRST.length : i;
}

function taskLabel(t: EvalTask): string {
  return `${t.task} (${t.shots}-shot, ${t.points} point${t.points === 1 ? '' : 's'})`;
}

function value(v: number | null): string {
  return v === null ? '–' : tick(v);
}

/**
 * The xs in order, each nudged above the one before if equal: uPlot needs ascending x, and two
 * runs with the same FLOPs would otherwise be one point.
 */
export function distinctAscending(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (const x of xs) {
    const prev = out[out.length - 1];
    out.push(prev !== undefined && x <= prev ? (prev > 0 ? prev * (1 + 1e-9) : prev + 1e-9) : x);
  }
  return out;
}

/** Every point's numbers: a row per run or checkpoint, a column per metric (value ± se). */
function pointsTable(v: EmergenceView, series: EmergenceSeries[]): string {
  const rows = new Map<string, { x: number; cells: Map<string, string> }>();
  for (const s of series) {
    for (const p of s.points) {
      const row = rows.get(p.label) ?? { x: p.x, cells: new Map() };
      row.cells.set(s.metric, p.value === null ? '–' : `${value(p.value)}${p.stderr === null ? '' : ` ± ${value(p.stderr)}`}`);
      rows.set(p.label, row);
    }
  }
  const sorted = [...rows].sort((a, b) => a[1].x - b[1].x);
  const flops = v.axis === 'flops';
  return `<table class="kv"><tr><th>${flops ? 'run' : 'checkpoint'}</th><th>${flops ? 'FLOPs' : 'step'}</th>${
    series.map((s) => `<th>${esc(s.metric)}</th>`).join('')}</tr>${
    sorted.map(([label, r]) => `<tr><td>${esc(label)}</td><td>${flops ? sci(r.x) : r.x}</td>${
      series.map((s) => `<td>${r.cells.get(s.metric) ?? ''}</td>`).join('')}</tr>`).join('')}</table>`;
}
