// The serving benchmark's client: streaming /v1/completions requests with plain `fetch`, a fixed
// number in flight (closed loop). It runs in a worker thread (serve-client-thread.ts), so that
// reading the streams does not queue behind the server's decode steps on one event loop, as a
// load generator on its own machine would not.

export interface RequestOutcome {
  status: number | null;
  ttftMs: number | null;
  completionTokens: number;
  error?: string;
}

/** One streaming completion; reads the whole SSE stream. Never throws. */
export async function streamCompletion(url: string, model: string, prompt: string, maxTokens: number, seed: number, timeoutMs: number): Promise<RequestOutcome> {
  const t0 = performance.now();
  let status: number | null = null;
  let ttftMs: number | null = null;
  let completionTokens = 0;
  try {
    const r = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, prompt, max_tokens: maxTokens, temperature: 1, seed, stream: true, stream_options: { include_usage: true } }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = r.status;
    if (!r.ok || !r.body) {
      await r.text().catch(() => '');
      return { status, ttftMs, completionTokens };
    }
    const decoder = new TextDecoder();
    let buf = '';
    let done = false;
    let streamError: string | undefined;
    const reader = r.body.getReader();
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          const obj = JSON.parse(data) as { choices?: { text?: string }[]; usage?: { completion_tokens: number } | null; error?: { message: string } };
          if (obj.error) streamError = obj.error.message;
          if (ttftMs === null && obj.choices?.some((c) => typeof c.text === 'string' && c.text !== '')) ttftMs = performance.now() - t0;
          if (obj.usage) completionTokens = obj.usage.completion_tokens;
        }
      }
    }
    if (streamError) return { status, ttftMs, completionTokens, error: `stream error: ${streamError}` };
    if (!done) return { status, ttftMs, completionTokens, error: 'stream ended without [DONE]' };
    return { status, ttftMs, completionTokens };
  } catch (err) {
    return { status, ttftMs, completionTokens, error: (err as Error).message };
  }
}

export interface ClientJob {
  url: string;
  model: string;
  prompt: string;
  maxTokens: number;
  /** Request i is sent with seed firstSeed + i. */
  firstSeed: number;
  timeoutMs: number;
  total: number;
  concurrency: number;
  /** Sample the process's resident set size after every this many finished requests (0: never). */
  rssEvery: number;
}

export interface ClientResult {
  outcomes: RequestOutcome[];
  wallS: number;
  rssSamplesMb: number[];
}

/** `total` requests, `concurrency` at a time. */
export async function runClient(job: ClientJob): Promise<ClientResult> {
  const outcomes: RequestOutcome[] = new Array(job.total);
  const rssSamplesMb: number[] = [];
  let next = 0, finished = 0;
  // A fresh thread's first fetch loads its HTTP client; keep that out of the timings.
  await streamCompletion(job.url, job.model, job.prompt, 1, 0, job.timeoutMs);
  const t0 = performance.now();
  const worker = async () => {
    while (next < job.total) {
      const i = next++;
      outcomes[i] = await streamCompletion(job.url, job.model, job.prompt, job.maxTokens, job.firstSeed + i, job.timeoutMs);
      if (job.rssEvery > 0 && ++finished % job.rssEvery === 0) rssSamplesMb.push(process.memoryUsage().rss / (1024 * 1024));
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.total) }, worker));
  return { outcomes, wallS: (performance.now() - t0) / 1000, rssSamplesMb };
}
