// The playground: pick a served model, write a prompt, and watch the completion stream in from
// the OpenAI-compatible API on this same server (POST /v1/completions with stream: true). A
// completion longer than the model's context continues over several requests (prompt-window.ts),
// so the defaults work on every model listed, whatever its context.
import { apiKeyHeader, getJSON, type RunSummary } from './api.js';
import { esc } from './dom.js';
import { groupModels, type ModelGroup } from './model-groups.js';
import { nextWindow } from './prompt-window.js';

interface Model { id: string; created: number }

interface Part { tokens: number; finish: string | null }

export class PlaygroundUI {
  private abort: AbortController | null = null;
  private loaded = false;
  private groups: ModelGroup[] = [];

  constructor(private readonly root: HTMLElement) {
    root.innerHTML = `
      <div class="pg-empty"></div>
      <form class="pg" autocomplete="off">
        <div class="pg-row">
          <label>model <select name="model" required></select></label>
          <label>max tokens <input name="max_tokens" type="number" min="1" max="4096" value="200"></label><span class="pg-ctx muted"></span>
          <label>temperature <input name="temperature" type="number" min="0" max="2" step="0.1" value="0.8"></label>
          <label>seed <input name="seed" type="number" min="0" step="1" placeholder="random"></label>
        </div>
        <textarea name="prompt" rows="4" placeholder="The jury said">The jury said</textarea>
        <div class="pg-row"><button type="submit" class="primary">Generate</button><button type="button" class="stop" disabled>Stop</button>
          <button type="button" class="refresh" title="list the models again">↻ models</button><span class="pg-stats muted"></span></div>
        <pre class="pg-out" aria-live="polite"></pre>
      </form>`;
    const form = root.querySelector('form')!;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.generate(form);
    });
    root.querySelector('.stop')!.addEventListener('click', () => this.abort?.abort());
    root.querySelector('.refresh')!.addEventListener('click', () => void this.loadModels());
    root.querySelector('select[name=model]')!.addEventListener('change', () => this.showContext());
  }

  show(): void {
    if (!this.loaded) void this.loadModels();
  }

  async loadModels(): Promise<void> {
    const select = this.root.querySelector<HTMLSelectElement>('select[name=model]')!;
    const empty = this.root.querySelector<HTMLElement>('.pg-empty')!;
    try {
      const r = await fetch('/v1/models', { headers: apiKeyHeader() });
      const body = await r.json() as { data?: Model[]; error?: { message: string } };
      if (!r.ok) throw new Error(body.error?.message ?? r.statusText);
      const runs = await getJSON<{ runs: RunSummary[] }>('/api/runs').then((x) => x.runs, () => []);
      const models = body.data ?? [];
      this.groups = groupModels(models.map((m) => m.id), runs);
      this.loaded = true;
      const current = select.value;
      select.innerHTML = this.groups.map((g) => `<optgroup label="${esc(groupLabel(g))}">${
        g.models.map((m) => `<option value="${esc(m.id)}">${esc(m.id)}${m.step === null ? ' (final)' : ''}</option>`).join('')}</optgroup>`).join('');
      if (models.some((m) => m.id === current)) select.value = current;
      this.showContext();
      empty.innerHTML = models.length ? '' : '<div class="empty">No finished runs to serve yet: run <code>scalelab train</code>; ' +
        'every finished run (and each checkpoint, as <code>NAME@STEP</code>) can be prompted here.</div>';
    } catch (err) {
      empty.innerHTML = `<div class="notice">Could not list the models: ${esc((err as Error).message)}</div>`;
    }
  }

  /** The selected model's context length, when its run is known. */
  private contextOf(id: string): number | null {
    return this.groups.find((g) => g.models.some((m) => m.id === id))?.ctx ?? null;
  }

  private showContext(): void {
    const id = this.root.querySelector<HTMLSelectElement>('select[name=model]')!.value;
    const ctx = this.contextOf(id);
    this.root.querySelector<HTMLElement>('.pg-ctx')!.textContent = ctx === null ? ''
      : `context ${ctx}: a longer completion continues from the last ${Math.floor(ctx / 2)} bytes`;
  }

  private async generate(form: HTMLFormElement): Promise<void> {
    const f = new FormData(form);
    const out = this.root.querySelector<HTMLElement>('.pg-out')!;
    const stats = this.root.querySelector<HTMLElement>('.pg-stats')!;
    const go = this.root.querySelector<HTMLButtonElement>('button[type=submit]')!;
    const stop = this.root.querySelector<HTMLButtonElement>('.stop')!;
    const prompt = String(f.get('prompt') ?? '');
    const model = String(f.get('model') ?? '');
    const ctx = this.contextOf(model);
    const seed = String(f.get('seed') ?? '') === '' ? null : Number(f.get('seed'));
    out.innerHTML = `<span class="prompt">${esc(prompt)}</span>`;
    const gen = document.createElement('span');
    out.append(gen);
    const abort = (this.abort = new AbortController());
    go.disabled = true;
    stop.disabled = false;
    const t0 = performance.now();
    let first = 0, tokens = 0, requests = 0;
    const show = (streaming: boolean) => {
      const s = (performance.now() - t0) / 1000;
      stats.textContent = `${streaming ? 'streaming' : `${tokens} tokens`} in ${s.toFixed(1)} s${first ? `, first after ${((first - t0) / 1000).toFixed(2)} s` : ''}` +
        (requests > 1 ? ` (${requests} requests of context ${ctx})` : '');
    };
    try {
      let text = prompt, left = Number(f.get('max_tokens'));
      while (left > 0) {
        const w = ctx === null ? { prompt: text, maxTokens: left } : nextWindow(text, left, ctx);
        const body: Record<string, unknown> = {
          model, prompt: w.prompt, stream: true, stream_options: { include_usage: true },
          max_tokens: w.maxTokens, temperature: Number(f.get('temperature')),
        };
        // Each continuation draws its own reproducible stream.
        if (seed !== null) body.seed = (seed + requests) >>> 0;
        requests++;
        const part = await this.complete(body, abort.signal, (piece) => {
          if (!first) first = performance.now();
          gen.textContent += piece;
          text += piece;
          show(true);
        });
        tokens += part.tokens;
        left -= part.tokens;
        show(true);
        if (part.finish !== 'length' || part.tokens === 0) break;
      }
      show(false);
    } catch (err) {
      if (!abort.signal.aborted) out.insertAdjacentHTML('beforeend', `<div class="notice">${esc((err as Error).message)}</div>`);
    } finally {
      go.disabled = false;
      stop.disabled = true;
    }
  }

  /** One streamed completion: its text to `onText` as it arrives; its token count and finish reason at the end. */
  private async complete(body: Record<string, unknown>, signal: AbortSignal, onText: (text: string) => void): Promise<Part> {
    const part: Part = { tokens: 0, finish: null };
    const r = await fetch('/v1/completions', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...apiKeyHeader() }, signal });
    if (!r.ok || !r.body) {
      const e = await r.json().catch(() => null) as { error?: { message: string } } | null;
      throw new Error(e?.error?.message ?? `${r.status} ${r.statusText}`);
    }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return part;
      buf += value;
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') continue;
          const msg = JSON.parse(data) as { choices?: { text: string; finish_reason?: string | null }[]; usage?: { completion_tokens: number } | null; error?: { message: string } };
          if (msg.error) throw new Error(msg.error.message);
          // The count comes with the last chunk (stream_options.include_usage).
          if (msg.usage) part.tokens = msg.usage.completion_tokens;
          const choice = msg.choices?.[0];
          if (choice?.finish_reason) part.finish = choice.finish_reason;
          if (choice?.text) onText(choice.text);
        }
      }
    }
  }
}

function groupLabel(g: ModelGroup): string {
  return [g.run, g.shape].filter(Boolean).join(' · ');
}
