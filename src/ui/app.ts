// The dashboard page: six views behind a hash router (#runs, #law, #emergence, #sweeps, #gallery, #playground), fed
// by the JSON API and one live EventSource. Marks `scalelab:table`, `scalelab:curves` and
// `scalelab:interactive` in the performance timeline so benchmarks and tests can time the load;
// `window.scalelab` exposes the state and charts to them.
import { getJSON, type MetricColumns, type RunSummary, type SweepSummary } from './api.js';
import { $ } from './dom.js';
import { CurvesView } from './curves.js';
import { EmergenceUI } from './emergence.js';
import { GalleryUI } from './gallery.js';
import { LawUI } from './law.js';
import { PlaygroundUI } from './playground.js';
import { RunsTable } from './runs-table.js';
import { emaDebiased, m4Indices } from '../common/series.js';
import { state, type XKey } from './state.js';
import { SweepsUI } from './sweeps.js';

const VIEWS = ['runs', 'law', 'emergence', 'sweeps', 'gallery', 'playground'] as const;
type View = (typeof VIEWS)[number];
/** Runs drawn when the page opens without a selection in its URL. */
const DEFAULT_SELECTION = 5;

let runsLoaded = false;
/** Until the user picks runs, new runs join the curves as they start. */
let followNew = true;
let pendingSelect: string[] | null = null;

function markOnce(name: string): void {
  if (performance.getEntriesByName(name, 'mark').length) return;
  performance.mark(name);
  if (name !== 'scalelab:interactive' && performance.getEntriesByName('scalelab:table').length && performance.getEntriesByName('scalelab:curves').length) {
    markOnce('scalelab:interactive');
  }
}

const curves = new CurvesView($('#charts'));
const table = new RunsTable($('#runs-table') as HTMLTableElement, $('#filter') as HTMLInputElement, $('#run-count'), $('#select-notice'));
const law = new LawUI($('#law-body'), $('#law-sweep') as HTMLSelectElement, $('#law-status'));
const emergence = new EmergenceUI($('#em-body'), $('#em-source') as HTMLSelectElement, $('#em-task') as HTMLSelectElement, $('#em-status'));
const sweeps = new SweepsUI($('#sweeps-body'));
const gallery = new GalleryUI($('#gallery-body'), $('#gallery-run') as HTMLSelectElement, $('#gallery-step') as HTMLSelectElement, $('#gallery-status'));
const playground = new PlaygroundUI($('#playground-body'));

table.onRender = () => {
  if (runsLoaded) markOnce('scalelab:table');
};
curves.onComplete = () => {
  if (runsLoaded) markOnce('scalelab:curves');
};
$('#runs-table').addEventListener('click', (e) => {
  if ((e.target as HTMLElement).closest('tbody, #select-all')) followNew = false;
});

(window as unknown as Record<string, unknown>).scalelab = { state, curves, table, law, emergence, sweeps, gallery, playground, series: { emaDebiased, m4Indices } };

// ---- chart controls ----
const xSelect = $('#x-axis') as HTMLSelectElement;
const logX = $('#log-x') as HTMLInputElement, logY = $('#log-y') as HTMLInputElement;
const smooth = $('#smoothing') as HTMLInputElement, smoothOut = $('#smoothing-value');
function syncControls(): void {
  const o = state.options;
  xSelect.value = o.x;
  logX.checked = o.logX;
  logY.checked = o.logY;
  smooth.value = String(o.smoothing);
  smoothOut.textContent = o.smoothing.toFixed(2);
  for (const box of document.querySelectorAll<HTMLInputElement>('#metric-picks input')) box.checked = o.metrics.includes(box.value as never);
  $('#reset-zoom').hidden = state.zoom === null;
}
xSelect.addEventListener('change', () => state.setOptions({ x: xSelect.value as XKey }));
logX.addEventListener('change', () => state.setOptions({ logX: logX.checked }));
logY.addEventListener('change', () => state.setOptions({ logY: logY.checked }));
smooth.addEventListener('input', () => {
  smoothOut.textContent = Number(smooth.value).toFixed(2);
});
smooth.addEventListener('change', () => state.setOptions({ smoothing: Number(smooth.value) }));
$('#metric-picks').addEventListener('change', () => {
  const picked = [...document.querySelectorAll<HTMLInputElement>('#metric-picks input')].filter((b) => b.checked).map((b) => b.value);
  state.setOptions({ metrics: picked as typeof state.options.metrics });
});
$('#reset-zoom').addEventListener('click', () => state.setZoom(null));
state.on('options', syncControls);
state.on('zoom', syncControls);
syncControls();

// ---- routing ----
function route(): void {
  const [name, query] = location.hash.replace(/^#/, '').split('?');
  const view: View = (VIEWS as readonly string[]).includes(name) ? (name as View) : 'runs';
  const params = new URLSearchParams(query ?? '');
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('active', a.getAttribute('href') === `#${view}`);
  if (view === 'runs' && params.has('select')) {
    pendingSelect = params.get('select')!.split(',').filter(Boolean);
    followNew = false;
    if (runsLoaded) applySelection();
  }
  if (view === 'law') law.show(params.get('sweep'));
  else law.hide();
  if (view === 'emergence') emergence.show(params);
  else emergence.hide();
  if (view === 'sweeps') sweeps.show();
  else sweeps.hide();
  if (view === 'gallery') gallery.show(params);
  else gallery.hide();
  if (view === 'playground') playground.show();
  if (view === 'runs') curves.redraw();
}

/** Ids or names from the URL, else the running runs and then the newest, up to DEFAULT_SELECTION. */
function applySelection(): void {
  if (pendingSelect) {
    const byName = new Map([...state.runs.values()].map((r) => [r.name, r.id]));
    state.select(pendingSelect.map((s) => (state.runs.has(s) ? s : byName.get(s) ?? s)));
    pendingSelect = null;
    return;
  }
  const runs = [...state.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const running = runs.filter((r) => r.status === 'running');
  state.select([...running, ...runs].slice(0, DEFAULT_SELECTION).map((r) => r.id));
}

// ---- data and the live stream ----
let helloCount = 0;
let helloSeen: () => void = () => {};
const hello = new Promise<void>((resolve) => {
  helloSeen = resolve;
});

function connect(): void {
  const live = $('#live');
  const es = new EventSource('/api/events');
  es.addEventListener('hello', () => {
    live.className = 'live on';
    live.title = 'live: updates arrive as they are logged';
    if (++helloCount === 1) helloSeen();
    else void reloadAll();
  });
  es.addEventListener('error', () => {
    live.className = 'live off';
    live.title = 'disconnected; reconnecting…';
  });
  es.addEventListener('metrics', (e) => {
    const m = JSON.parse((e as MessageEvent<string>).data) as { runs: Record<string, MetricColumns> };
    let drawn = false;
    for (const [id, rows] of Object.entries(m.runs)) {
      state.append(id, rows);
      if (state.selected.includes(id)) drawn = true;
    }
    state.emit('runs');
    if (drawn) state.emit('series');
  });
  es.addEventListener('runs', (e) => mergeRuns((JSON.parse((e as MessageEvent<string>).data) as { runs: RunSummary[] }).runs));
  es.addEventListener('sweeps', (e) => {
    state.setSweeps((JSON.parse((e as MessageEvent<string>).data) as { sweeps: SweepSummary[] }).sweeps);
  });
}

/** Changed or new runs; new ones join the curves until the user picks runs. */
function mergeRuns(runs: RunSummary[]): void {
  const fresh = runs.filter((r) => !state.runs.has(r.id));
  state.upsertRuns(runs);
  if (followNew && fresh.length) state.select([...fresh.map((r) => r.id), ...state.selected]);
}

/** After a reconnect rows may have been missed: fetch everything again. */
async function reloadAll(): Promise<void> {
  const [r, s] = await Promise.all([getJSON<{ runs: RunSummary[] }>('/api/runs'), getJSON<{ sweeps: SweepSummary[] }>('/api/sweeps')]);
  state.setRuns(r.runs);
  state.setSweeps(s.sweeps);
  state.reload();
}

async function start(): Promise<void> {
  connect();
  window.addEventListener('hashchange', route);
  route();
  const sweepsLoad = getJSON<{ sweeps: SweepSummary[] }>('/api/sweeps').then((s) => state.setSweeps(s.sweeps));
  const r = await getJSON<{ runs: RunSummary[] }>('/api/runs');
  runsLoaded = true;
  state.setRuns(r.runs);
  // Rows logged after the stream's hello arrive on it, so series are fetched only after it.
  await hello;
  applySelection();
  if (state.selected.length === 0) curves.rebuild();
  await Promise.all([sweepsLoad, state.loadMissing()]);
  // The runs list was fetched (preloaded) before the stream began: a run created in between
  // would be missing until it next changes, so ask once more now the stream covers what follows.
  mergeRuns((await getJSON<{ runs: RunSummary[] }>('/api/runs')).runs);
}

start().catch((err) => {
  $('#fatal').hidden = false;
  $('#fatal').textContent = `The dashboard could not load: ${(err as Error).message}`;
});
