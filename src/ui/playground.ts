// The playground: pick a served model, write a prompt, and watch the completion stream in from
// the OpenAI-compatible API on this same server (POST /v1/completions with stream: true).
import { apiKeyHeader } from './api.js';
import { esc } from './dom.js';

interface Model { id: string; created: number }

export class PlaygroundUI {
  private abort: AbortController | null = null;
  private loaded = false;

  constructor(private readonly root: HTMLElement) {
    root.innerHTML = `
      <div class="pg-empty"></div>
      <form class="pg" autocomplete="off">
        <div class="pg-row">
          <label>model <select name="model" required></select></label>
          <label>max tokens <input name="max_tokens" type="number" min="1" max="4096" value="200"></label>
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
      const models = (body.data ?? []).sort((a, b) => b.created - a.created);
      this.loaded = true;
      const current = select.value;
      select.innerHTML = models.map((m) => `<option value="${esc(m.id)}">${esc(m.id)}</option>`).join('');
      if (models.some((m) => m.id === current)) select.value = current;
      empty.innerHTML = models.length ? '' : '<div class="empty">No finished runs to serve yet: run <code>scalelab train</code>; ' +
        'every finished run (and each checkpoint, as <code>NAME@STEP</code>) can be prompted here.</div>';
    } catch (err) {
      empty.innerHTML = `<div class="notice">Could not list the models: ${esc((err as Error).message)}</div>`;
    }
  }

  private async generate(form: HTMLFormElement): Promise<void> {
    const f = new FormData(form);
    const out = this.root.querySelector<HTMLElement>('.pg-out')!;
    const stats = this.root.querySelector<HTMLElement>('.pg-stats')!;
    const go = this.root.querySelector<HTMLButtonElement>('button[type=submit]')!;
    const stop = this.root.querySelector<HTMLButtonElement>('.stop')!;
    const prompt = String(f.get('prompt') ?? '');
    const body: Record<string, unknown> = {
      model: f.get('model'), prompt, stream: true, stream_options: { include_usage: true },
      max_tokens: Number(f.get('max_tokens')), temperature: Number(f.get('temperature')),
    };
    if (String(f.get('seed') ?? '') !== '') body.seed = Number(f.get('seed'));
    out.innerHTML = `<span class="prompt">${esc(prompt)}</span>`;
    const gen = document.createElement('span');
    out.append(gen);
    const abort = (this.abort = new AbortController());
    go.disabled = true;
    stop.disabled = false;
    const t0 = performance.now();
    let first = 0, tokens = 0;
    try {
      const r = await fetch('/v1/completions', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...apiKeyHeader() }, signal: abort.signal });
      if (!r.ok || !r.body) {
        const e = await r.json().catch(() => null) as { error?: { message: string } } | null;
        throw new Error(e?.error?.message ?? `${r.status} ${r.statusText}`);
      }
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data: ')) continue;
            const data = line.slice(6);
            if (data === '[DONE]') continue;
            const msg = JSON.parse(data) as { choices?: { text: string }[]; usage?: { completion_tokens: number } | null; error?: { message: string } };
            if (msg.error) throw new Error(msg.error.message);
            if (msg.usage) tokens = msg.usage.completion_tokens;
            const text = msg.choices?.[0]?.text ?? '';
            if (text) {
              if (!first) first = performance.now();
              gen.textContent += text;
            }
          }
        }
        const s = (performance.now() - t0) / 1000;
        // The count comes with the last chunk (stream_options.include_usage).
        stats.textContent = `${tokens ? `${tokens} tokens` : 'streaming'} in ${s.toFixed(1)} s${first ? `, first after ${((first - t0) / 1000).toFixed(2)} s` : ''}`;
      }
    } catch (err) {
      if (!abort.signal.aborted) out.insertAdjacentHTML('beforeend', `<div class="notice">${esc((err as Error).message)}</div>`);
    } finally {
      go.disabled = false;
      stop.disabled = true;
    }
  }
}
