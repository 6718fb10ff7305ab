// Sweep status: per sweep its queued, running, done and failed jobs as a bar and counts, the ETA
// (the estimate `scalelab sweep status` prints), and on demand the jobs with their progress.
// Refreshed by the live stream when a job changes state, and as the running runs progress.
import { getJSON, type SweepDetail } from './api.js';
import { esc } from './dom.js';
import { duration, fixed, sci, si, when } from './format.js';
import { state } from './state.js';

const STATES = ['done', 'running', 'queued', 'failed'] as const;
/** Open sweeps' jobs are refetched at most this often while their runs report progress. */
const DETAIL_EVERY_MS = 2000;

export class SweepsUI {
  private open = new Set<string>();
  private details = new Map<string, SweepDetail>();
  private lastDetail = 0;
  private active = false;

  constructor(private readonly root: HTMLElement) {
    state.on('sweeps', () => {
      if (!this.active) return;
      this.render();
      void this.refreshOpen();
    });
    state.on('runs', () => {
      if (this.active && this.open.size && Date.now() - this.lastDetail > DETAIL_EVERY_MS) void this.refreshOpen();
    });
    root.addEventListener('toggle', (e) => {
      const d = e.target as HTMLDetailsElement;
      const name = d.dataset?.sweep;
      if (!name) return;
      if (d.open) {
        this.open.add(name);
        void this.loadDetail(name);
      } else this.open.delete(name);
    }, true);
  }

  show(): void {
    this.active = true;
    this.render();
    void this.refreshOpen();
  }

  hide(): void {
    this.active = false;
  }

  render(): void {
    const sweeps = state.sweeps;
    if (sweeps.length === 0) {
      this.root.innerHTML = '<div class="empty">No sweeps yet: plan one with <code>scalelab sweep plan NAME --flops 1e12,3e12,1e13 --sizes 4</code> ' +
        'and start it with <code>scalelab sweep run NAME</code>; its jobs show here as they run.</div>';
      return;
    }
    this.root.innerHTML = sweeps.map((s) => {
      const n = Math.max(1, s.jobs);
      const bar = STATES.map((k) => `<span class="s-${k}" style="width:${((100 * s.counts[k]) / n).toFixed(2)}%" title="${s.counts[k]} ${k}"></span>`).join('');
      const left = s.counts.queued + s.counts.running;
      return `<article class="sweep" data-sweep="${esc(s.name)}">
        <div class="sweep-head"><b>${esc(s.name)}</b><span class="muted">created ${esc(when(s.createdAt))}</span>
          <span class="eta">${left === 0 ? (s.counts.failed ? 'finished with failures' : 'finished') : s.etaKnown === false ? 'ETA once a run has finished' : `ETA ${duration(s.etaSeconds)} on one worker`}</span>
          <a href="#law?sweep=${encodeURIComponent(s.name)}">scaling law →</a>
          <a href="#emergence?sweep=${encodeURIComponent(s.name)}">emergence →</a></div>
        <div class="stack">${bar}</div>
        <div class="counts">${STATES.map((k) => `<span${s.counts[k] ? ` class="c-${k}"` : ''}>${s.counts[k]} ${k}</span>`).join(' · ')} of ${s.jobs} jobs</div>
        <details data-sweep="${esc(s.name)}"${this.open.has(s.name) ? ' open' : ''}><summary>jobs</summary>
          <div class="jobs">${this.details.has(s.name) ? jobsTable(this.details.get(s.name)!) : '<span class="spinner"></span>'}</div></details>
      </article>`;
    }).join('');
  }

  private async refreshOpen(): Promise<void> {
    this.lastDetail = Date.now();
    await Promise.all([...this.open].map((name) => this.loadDetail(name)));
  }

  private async loadDetail(name: string): Promise<void> {
    try {
      const d = await getJSON<SweepDetail>(`/api/sweeps/${encodeURIComponent(name)}`);
      this.details.set(name, d);
      const box = this.root.querySelector(`details[data-sweep="${CSS.escape(name)}"] .jobs`);
      if (box) box.innerHTML = jobsTable(d);
    } catch (err) {
      const box = this.root.querySelector(`details[data-sweep="${CSS.escape(name)}"] .jobs`);
      if (box) box.textContent = `could not load the jobs: ${(err as Error).message}`;
    }
  }
}

function progressCell(seen: number, target: number | null): string {
  const pct = target ? Math.min(100, (100 * seen) / target) : 0;
  return `<td class="num">${si(seen)} / ${si(target)}<span class="bar"><span style="width:${pct.toFixed(1)}%"></span></span></td>`;
}

function jobsTable(s: SweepDetail): string {
  // A video sweep's losses are the velocity MSE (verify runs are a GPT sweep's only).
  const metrics = new Set(s.jobs.map((j) => j.metric));
  const unit = metrics.size === 1 ? [...metrics][0] : metrics.size === 0 ? 'bpb' : null;
  const loss = (v: number | null, metric: 'bpb' | 'mse') => `${fixed(v, metric === 'bpb' ? 3 : 4)}${unit === null && v !== null ? ` <span class="unit">${metric}</span>` : ''}`;
  const runCell = (run: string) => `<td><a href="#runs?select=${encodeURIComponent(run)}">${esc(run)}</a></td>`;
  const rows = s.jobs.map((j) => `<tr><td class="num">${j.idx}</td>${runCell(j.run)}` +
    `<td><span class="st st-${esc(j.status)}">${esc(j.status)}</span></td><td class="opt">${esc(j.shape ?? '')}</td><td class="num">${si(j.nonEmbeddingParams)}</td>` +
    `<td class="num">${sci(j.budget)}</td>${progressCell(j.tokensSeen, j.tokensTarget)}` +
    `<td class="num">${loss(j.finalValBpb, j.metric)}</td><td class="num opt">${j.attempts}</td><td class="opt err">${esc(j.error ?? '')}</td></tr>`).join('');
  // The runs `sweep verify` trained to check the law: no jobs of the queue, but of this sweep.
  const verify = s.verify.map((v) => `<tr class="verify"><td class="num">verify</td>${runCell(v.run)}` +
    `<td><span class="st st-${esc(v.status)}">${esc(v.status)}</span></td><td class="opt">${esc(v.shape ?? '')}</td><td class="num">${si(v.nonEmbeddingParams)}</td>` +
    `<td class="num">${sci(v.budget)}</td>${progressCell(v.tokensSeen, v.tokensTarget)}<td class="num">${loss(v.finalValBpb, 'bpb')}</td><td class="num opt"></td><td class="opt"></td></tr>`).join('');
  return `<table class="grid"><thead><tr><th class="num">#</th><th>run</th><th>status</th><th class="opt">shape</th><th class="num">params (non-emb)</th>` +
    `<th class="num" title="the compute budget C = 6·N·D the run belongs to">budget</th><th class="num">tokens</th>` +
    `<th class="num">final val${unit ? ` ${unit}` : ''}</th><th class="num opt">attempts</th><th class="opt">error</th></tr></thead><tbody>${rows}${verify}</tbody></table>`;
}
