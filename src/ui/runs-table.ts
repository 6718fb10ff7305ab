// The runs table: sortable by any column, filtered by words (all must match the name, status,
// sweep or shape), with a checkbox per run selecting it for the curves. Only the rows in view
// (and a margin) are in the DOM, as one HTML string per paint: laying out every row of a
// thousand runs took the browser most of a second. Rows have a fixed height, so the scroll
// position says which rows are in view; spacer rows keep the scrollbar true.
import type { RunSummary } from './api.js';
import { esc, perFrame } from './dom.js';
import { fixed, sci, si, when } from './format.js';
import { MAX_SELECTED, state } from './state.js';

interface Column {
  key: string;
  label: string;
  /** A loss column: its heading is this and the runs' unit (bpb, mse) when they share one. */
  loss?: string;
  /** Hidden on narrow screens. */
  optional?: boolean;
  num?: boolean;
  /** A loss: its first click sorts ascending, best first. */
  lowFirst?: boolean;
  value: (r: RunSummary) => number | string | null;
  cell: (r: RunSummary) => string;
}

const COLUMNS: Column[] = [
  { key: 'name', label: 'run', value: (r) => r.name, cell: nameCell },
  { key: 'status', label: 'status', value: (r) => r.status, cell: (r) => `<span class="st st-${esc(r.status)}">${esc(r.status)}</span>` },
  { key: 'sweep', label: 'sweep', optional: true, value: (r) => r.sweep, cell: (r) => esc(r.sweep ?? '') },
  { key: 'params', label: 'params (non-emb)', num: true, value: (r) => r.nonEmbeddingParams, cell: (r) => `<span title="${esc(r.shape ?? '')}">${si(r.nonEmbeddingParams)}</span>` },
  { key: 'total', label: 'params (total)', num: true, optional: true, value: (r) => r.params, cell: (r) => si(r.params) },
  { key: 'tokens', label: 'tokens', num: true, value: (r) => r.tokensSeen, cell: tokensCell },
  { key: 'flops', label: 'FLOPs', num: true, optional: true, value: (r) => r.flops, cell: (r) => sci(r.flops) },
  { key: 'best', label: 'best val bpb', loss: 'best val', num: true, lowFirst: true, value: (r) => r.bestValBpb, cell: (r) => lossCell(r.bestValBpb, r.unit) },
  { key: 'train', label: 'train bpb', loss: 'train', num: true, lowFirst: true, optional: true, value: (r) => r.lastTrainBpb, cell: (r) => lossCell(r.lastTrainBpb, r.unit) },
  { key: 'tps', label: 'tok/s (avg)', num: true, optional: true, value: (r) => r.tokensPerS, cell: rateCell },
  { key: 'started', label: 'started', optional: true, value: (r) => r.startedAt ?? r.createdAt, cell: (r) => `<span title="${esc(r.startedAt ?? '')}">${when(r.startedAt)}</span>` },
];

/** A video run's name links to its samples in the gallery. */
function nameCell(r: RunSummary): string {
  return r.family === 'dit' ? `${esc(r.name)} <a class="to-gallery" href="#gallery?run=${encodeURIComponent(r.name)}" title="samples of ${esc(r.name)}">gallery</a>` : esc(r.name);
}

/**
 * The unit every run in the table shares (a GPT's losses are bits per byte, a video run's the
 * velocity MSE), or null when both kinds are listed and each loss and throughput cell names its own unit.
 */
let sharedUnit: RunSummary['unit'] | null = 'bpb';

function lossCell(v: number | null, unit: RunSummary['unit']): string {
  const text = fixed(v, unit === 'bpb' ? 3 : 4);
  return sharedUnit !== null || v === null ? text : `${text} <span class="unit">${unit}</span>`;
}

/** What a run's steps go through per second: a GPT's tokens (bytes), a video run's spacetime patches. */
const RATE_UNITS: Record<RunSummary['unit'], string> = { bpb: 'tok/s', mse: 'patches/s' };

/** The throughput column's heading: in the unit the runs share, or 'throughput' when each cell names its own. */
export function rateHeading(shared: RunSummary['unit'] | null): string {
  return `${shared ? RATE_UNITS[shared] : 'throughput'} (avg)`;
}

function rateCell(r: RunSummary): string {
  const unit = sharedUnit === null && r.tokensPerS !== null ? ` <span class="unit">${RATE_UNITS[r.unit]}</span>` : '';
  return `<span title="last step: ${esc(si(r.lastTokensPerS))} ${RATE_UNITS[r.unit]}">${si(r.tokensPerS)}</span>${unit}`;
}

function tokensCell(r: RunSummary): string {
  const t = r.tokensTarget;
  const pct = t && t > 0 ? Math.min(100, (100 * r.tokensSeen) / t) : null;
  const bar = pct === null || r.status === 'done' ? '' : `<span class="bar"><span style="width:${pct.toFixed(1)}%"></span></span>`;
  return `${si(r.tokensSeen)}${bar}`;
}

/** Row height in CSS pixels; style.css fixes it to this. */
const ROW_HEIGHT = 30;
/** Rows painted above and below the visible ones. */
const OVERSCAN = 15;

export class RunsTable {
  sort = { key: 'started', desc: true };
  filter = '';
  /** Called after every paint, with the number of rows that pass the filter. */
  onRender: (rows: number) => void = () => {};
  private rows: RunSummary[] = [];
  private readonly wrap: HTMLElement;

  constructor(private readonly table: HTMLTableElement, private readonly filterInput: HTMLInputElement,
    private readonly count: HTMLElement, private readonly notice: HTMLElement) {
    this.wrap = table.parentElement!;
    table.createTHead().innerHTML = `<tr><th class="sel"><input type="checkbox" aria-label="select all shown runs" id="select-all"></th>${
      COLUMNS.map((c) => `<th data-key="${c.key}" class="c-${c.key}${c.num ? ' num' : ''}${c.optional ? ' opt' : ''}" tabindex="0">${esc(c.label)}</th>`).join('')}</tr>`;
    table.createTBody();
    table.tHead!.addEventListener('click', (e) => this.onHeadClick(e));
    table.tHead!.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.onHeadClick(e);
    });
    table.tBodies[0].addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('a')) return; // a link (to the gallery) is not a selection
      const tr = (e.target as HTMLElement).closest('tr');
      if (tr?.dataset.id) this.report(state.toggle(tr.dataset.id));
    });
    filterInput.addEventListener('input', () => {
      this.filter = filterInput.value;
      this.render();
    });
    this.wrap.addEventListener('scroll', this.repaint, { passive: true });
    new ResizeObserver(this.repaint).observe(this.wrap);
    state.on('runs', this.refresh);
    state.on('selection', this.repaint);
  }

  /** Filter and sort again (runs changed), at most once per frame. */
  readonly refresh = perFrame(() => this.render());
  readonly repaint = perFrame(() => this.paint());

  render(): void {
    const units = new Set([...state.runs.values()].map((r) => r.unit));
    sharedUnit = units.size === 1 ? [...units][0] : units.size === 0 ? 'bpb' : null;
    for (const c of COLUMNS) {
      if (!c.loss && c.key !== 'tps') continue;
      c.label = c.key === 'tps' ? rateHeading(sharedUnit) : sharedUnit ? `${c.loss} ${sharedUnit}` : c.loss!;
      const th = this.table.tHead!.querySelector<HTMLElement>(`th[data-key="${c.key}"]`);
      if (th) th.textContent = c.label;
    }
    const words = this.filter.toLowerCase().split(/\s+/).filter(Boolean);
    let rows = [...state.runs.values()];
    if (words.length) {
      rows = rows.filter((r) => {
        const hay = `${r.name} ${r.id} ${r.status} ${r.sweep ?? ''} ${r.shape ?? ''}`.toLowerCase();
        return words.every((w) => hay.includes(w));
      });
    }
    const col = COLUMNS.find((c) => c.key === this.sort.key) ?? COLUMNS[0];
    const keyed = rows.map((r) => ({ r, v: col.value(r) }));
    keyed.sort((a, b) => compare(a.v, b.v, this.sort.desc));
    this.rows = keyed.map((k) => k.r);
    for (const th of this.table.tHead!.querySelectorAll<HTMLElement>('th[data-key]')) {
      th.classList.toggle('sorted', th.dataset.key === this.sort.key);
      th.classList.toggle('desc', th.dataset.key === this.sort.key && this.sort.desc);
    }
    this.paint();
  }

  private paint(): void {
    const tbody = this.table.tBodies[0];
    this.wrap.querySelector('.empty')?.remove();
    if (state.runs.size === 0) {
      tbody.innerHTML = '';
      this.count.textContent = '';
      this.wrap.insertAdjacentHTML('beforeend', '<div class="empty">No runs yet: run <code>scalelab train</code> ' +
        '(or <code>scalelab sweep run NAME</code>) and they appear here live.</div>');
      this.onRender(0);
      return;
    }
    const rows = this.rows;
    const first = Math.max(0, Math.floor(this.wrap.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, first + Math.ceil((this.wrap.clientHeight || 800) / ROW_HEIGHT) + 2 * OVERSCAN);
    const selected = new Set(state.selected);
    const span = COLUMNS.length + 1;
    let html = first > 0 ? `<tr class="spacer" style="height:${first * ROW_HEIGHT}px"><td colspan="${span}"></td></tr>` : '';
    for (let i = first; i < last; i++) {
      const r = rows[i];
      const on = selected.has(r.id);
      html += `<tr data-id="${esc(r.id)}"${on ? ' class="on"' : ''}><td class="sel"><input type="checkbox" tabindex="-1"${on ? ' checked' : ''} aria-label="select ${esc(r.name)}">` +
        `<i style="background:${on ? state.color(r.id) : 'transparent'}"></i></td>`;
      for (const c of COLUMNS) html += `<td class="${c.num ? 'num' : ''}${c.optional ? ' opt' : ''}">${c.cell(r)}</td>`;
      html += '</tr>';
    }
    if (last < rows.length) html += `<tr class="spacer" style="height:${(rows.length - last) * ROW_HEIGHT}px"><td colspan="${span}"></td></tr>`;
    tbody.innerHTML = html;
    const all = this.table.querySelector<HTMLInputElement>('#select-all')!;
    all.checked = rows.length > 0 && rows.every((r) => selected.has(r.id));
    this.count.textContent = `${rows.length === state.runs.size ? '' : `${rows.length} of `}${state.runs.size} runs · ${state.selected.length} selected`;
    this.onRender(rows.length);
  }

  private onHeadClick(e: Event): void {
    const t = e.target as HTMLElement;
    if (t.id === 'select-all') {
      const on = (t as HTMLInputElement).checked;
      const shown = this.rows.map((r) => r.id);
      const set = new Set(shown);
      this.report(state.select(on ? [...state.selected, ...shown] : state.selected.filter((id) => !set.has(id))));
      return;
    }
    const th = t.closest<HTMLElement>('th[data-key]');
    if (!th) return;
    const key = th.dataset.key!;
    this.sort = { key, desc: this.sort.key === key ? !this.sort.desc : firstClickDesc(key) };
    this.render();
  }

  private report(leftOut: number): void {
    this.notice.textContent = leftOut > 0 ? `Curves are drawn for at most ${MAX_SELECTED} runs; ${leftOut} not added.` : '';
  }
}

/** A first click puts the best first: largest counts, lowest losses, newest starts, names from A. */
export function firstClickDesc(key: string): boolean {
  const c = COLUMNS.find((col) => col.key === key);
  return key === 'started' || (Boolean(c?.num) && !c?.lowFirst);
}

/** Ascending or descending, with missing values last either way; strings in locale order. */
export function compare(a: number | string | null, b: number | string | null, desc = false): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  return desc ? -c : c;
}
