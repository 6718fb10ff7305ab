// The gallery of a video run: the first prompts of the evaluation set, each a contact sheet of
// its seeds (a row each, the frames left to right), from the run's final weights or any kept
// checkpoint (the step picker). The server samples a sheet once and keeps it (the images carry
// an ETag), so coming back to a run or reloading the page shows them without sampling again.
// A training run's new checkpoints join the picker as the live stream reports its progress.
import { getJSON, type GalleryView, type RunSummary } from './api.js';
import { esc } from './dom.js';
import { state } from './state.js';

/** A running run's view (its list of checkpoints) is fetched again at most this often. */
const REFRESH_MS = 5000;

export class GalleryUI {
  view: GalleryView | null = null;
  private run: string | null = null;
  /** 'final' or a checkpoint's step, as the URL has it. */
  private step: string | null = null;
  private fetchedAt = 0;
  private fetchedStep: number | null = null;
  private abort: AbortController | null = null;
  private active = false;

  constructor(private readonly root: HTMLElement, private readonly runPicker: HTMLSelectElement,
    private readonly stepPicker: HTMLSelectElement, private readonly status: HTMLElement) {
    runPicker.addEventListener('change', () => {
      location.hash = `#gallery?run=${encodeURIComponent(runPicker.value)}`;
    });
    stepPicker.addEventListener('change', () => {
      location.hash = `#gallery?run=${encodeURIComponent(this.run ?? '')}&step=${encodeURIComponent(stepPicker.value)}`;
    });
    state.on('runs', () => {
      if (!this.active) return;
      this.fillRuns();
      const r = this.summary();
      // New checkpoints come with progress: look again now and then while the run trains.
      if (r && r.lastStep !== this.fetchedStep && Date.now() - this.fetchedAt > REFRESH_MS) void this.load();
    });
  }

  hide(): void {
    this.active = false;
  }

  /** Show `run=` (a name or id; default the newest video run) at `step=` (default its final weights, else its newest checkpoint). */
  show(params: URLSearchParams): void {
    this.active = true;
    const runs = this.fillRuns();
    if (runs.length === 0) {
      this.run = null;
      this.view = null;
      this.status.textContent = '';
      this.root.innerHTML = '<div class="empty">No video runs yet: train one with <code>scalelab train --model dit --data clips</code>, ' +
        'and samples of its final weights and checkpoints show here.</div>';
      return;
    }
    const asked = params.get('run');
    const chosen = runs.find((r) => r.name === asked || r.id === asked) ?? runs[0];
    const step = params.get('step');
    if (chosen.name === this.run && this.view?.run === chosen.name) {
      // The same run at another step: its sheets, without fetching the view again.
      if (step !== this.step) {
        this.step = step;
        this.render(this.view);
      }
      return;
    }
    this.run = chosen.name;
    this.step = step;
    this.runPicker.value = chosen.name;
    void this.load();
  }

  /** The video runs, newest first, as the run picker's options. */
  private fillRuns(): RunSummary[] {
    const runs = [...state.runs.values()].filter((r) => r.family === 'dit').sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const html = runs.map((r) => `<option value="${esc(r.name)}">${esc(r.name)} (${esc(r.status)})</option>`).join('');
    if (this.runPicker.innerHTML !== html) {
      this.runPicker.innerHTML = html;
      if (this.run) this.runPicker.value = this.run;
    }
    return runs;
  }

  private summary(): RunSummary | undefined {
    return [...state.runs.values()].find((r) => r.name === this.run);
  }

  private async load(): Promise<void> {
    const name = this.run;
    if (!name) return;
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    this.fetchedAt = Date.now();
    this.fetchedStep = this.summary()?.lastStep ?? null;
    try {
      const v = await getJSON<GalleryView>(`/api/runs/${encodeURIComponent(name)}/gallery`, abort.signal);
      if (abort.signal.aborted) return;
      const changed = JSON.stringify(v) !== JSON.stringify(this.view);
      this.view = v;
      if (changed) this.render(v);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.status.textContent = `could not load the gallery: ${(err as Error).message}`;
    }
  }

  private render(v: GalleryView): void {
    this.stepPicker.innerHTML = v.weights.map((w) => `<option value="${w.step < 0 ? 'final' : w.step}">${esc(w.label)}</option>`).join('');
    if (v.weights.length === 0) {
      this.stepPicker.disabled = true;
      this.status.textContent = '';
      this.root.innerHTML = `<div class="empty">Run <b>${esc(v.run)}</b> has no weights yet: its first checkpoint appears here once it is written.</div>`;
      return;
    }
    this.stepPicker.disabled = false;
    const values = v.weights.map((w) => (w.step < 0 ? 'final' : String(w.step)));
    const step = this.step !== null && values.includes(this.step) ? this.step : values[0];
    this.stepPicker.value = step;
    const base = `/api/runs/${encodeURIComponent(v.run)}/gallery/${step}`;
    const label = v.weights[values.indexOf(step)].label;
    this.root.innerHTML = `<p class="muted">${v.prompts.length} prompts of the evaluation set, each a row per seed (${v.seeds.join(', ')}) with its ${v.clip.frames} frames left to right; ` +
      `the clips <code>scalelab video ${esc(v.run)}${step === 'final' ? '' : `@${step}`} --steps ${v.steps} --guidance ${v.guidance} --seed S</code> draws.</p>` +
      `<div class="gallery">${v.prompts.map((p, i) => `<figure><img src="${base}/${i}" alt="${esc(p)} (${esc(label)})" data-prompt="${i}">` +
        `<figcaption>${esc(p)}</figcaption></figure>`).join('')}</div>`;
    const imgs = [...this.root.querySelectorAll<HTMLImageElement>('.gallery img')];
    let ready = 0, failed = 0;
    const report = () => {
      this.status.innerHTML = ready + failed === imgs.length
        ? `${label}: ${ready} sheets${failed ? `, ${failed} could not be sampled` : ''}`
        : `<span class="spinner"></span> sampling ${label}: ${ready} of ${imgs.length} sheets ready`;
    };
    for (const img of imgs) {
      img.addEventListener('load', () => { ready++; report(); }, { once: true });
      img.addEventListener('error', () => { failed++; img.closest('figure')?.classList.add('failed'); report(); }, { once: true });
    }
    report();
  }
}
