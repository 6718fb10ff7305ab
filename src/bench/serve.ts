// The serving benchmark: the real server (src/serve/) on 127.0.0.1, port 0, driven by plain
// `fetch` streaming requests to /v1/completions. Rounds at several concurrencies report total
// generated tokens/s and time-to-first-token percentiles; a load mode sends N requests at a fixed
// concurrency and counts HTTP statuses (any 5xx is a failure). Without a model id it serves the
// reference GPT with random initial weights from a temporary home, removed at the end.
//
// Server and client run in one process, so peak RSS (process.resourceUsage().maxRSS) covers both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GPT, REFERENCE_CONFIG, countParams, flopsPerToken, type GPTConfig } from '../models/gpt.js';
import { getThreads, kernelInfo, setThreads } from '../engine/native.js';
import { RunStore, resolveHome, runDir } from '../runs/index.js';
import { saveWeights } from '../train/checkpoint.js';
import { startServer, type RunningServer } from '../serve/server.js';

export interface ServeBenchOptions {
  /** The scalelab home holding `model`; only used with `model`. */
  home?: string;
  /** A model id the server offers (run name or NAME@STEP); default: the random reference model. */
  model?: string;
  /** Overrides of the reference config for the random model (ignored with `model`). */
  config?: Partial<GPTConfig>;
  /** Concurrencies of the timed rounds; [] skips them. */
  concurrency?: number[];
  /** Requests per round; default max(16, 2 × concurrency). */
  requests?: number;
  /** max_tokens of every round request. */
  tokens?: number;
  /** Requests of the load; none skips it. */
  load?: number;
  /** Requests in flight during the load. */
  loadConcurrency?: number;
  /** max_tokens of every load request. */
  loadTokens?: number;
  /** Per-request timeout in milliseconds (a timed-out request counts as an error, not a 5xx). */
  timeoutMs?: number;
  /** Scheduler batch size of the server. */
  maxBatch?: number;
  threads?: number;
  prompt?: string;
}

export interface ServeRound {
  concurrency: number;
  requests: number;
  completion_tokens: number;
  wall_s: number;
  tokens_per_s: number;
  ttft_p50_ms: number;
  ttft_p99_ms: number;
  /** Average sequences per decode step in the scheduler during the round. */
  mean_batch: number;
  errors: number;
}

export interface ServeLoadResult {
  requests: number;
  concurrency: number;
  max_tokens: number;
  wall_s: number;
  /** HTTP status → count. */
  statuses: Record<string, number>;
  ok: number;
  server_errors_5xx: number;
  /** Requests with no HTTP status: timeouts, network errors, a stream that broke off. */
  failed_without_status: number;
  completion_tokens: number;
  tokens_per_s: number;
  /** Resident set size sampled during the load (MB): after each tenth of the requests. */
  rss_samples_mb: number[];
  rss_end_mb: number;
  peak_rss_mb: number;
}

export interface ServeBenchResult {
  model: string;
  config: GPTConfig | null;
  random_weights: boolean;
  params: number | null;
  threads: number;
  kernel: string;
  max_batch: number;
  max_tokens: number;
  prompt_tokens: number;
  rounds: ServeRound[];
  load?: ServeLoadResult;
  /** Peak RSS of this process, which runs both the server and the client. */
  peak_rss_mb: number;
  rss_note: string;
}

const DEFAULT_PROMPT = 'The quick brown fox ';
const mb = (bytes: number) => bytes / (1024 * 1024);
const kernelName = () => {
  const k = kernelInfo();
  return k.gemm === k.kernels ? k.gemm : `gemm ${k.gemm}, others ${k.kernels}`;
};
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

interface RequestOutcome {
  status: number | null;
  ttftMs: number | null;
  completionTokens: number;
  error?: string;
}

/** One streaming completion; reads the whole SSE stream. Never throws. */
async function streamCompletion(url: string, model: string, prompt: string, maxTokens: number, seed: number, timeoutMs: number): Promise<RequestOutcome> {
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

/** `total` requests, `concurrency` at a time (closed loop); `each` runs after every request. */
async function drive(total: number, concurrency: number, request: (i: number) => Promise<RequestOutcome>,
  each: (o: RequestOutcome, finished: number) => void = () => {}): Promise<{ outcomes: RequestOutcome[]; wallS: number }> {
  const outcomes: RequestOutcome[] = new Array(total);
  let next = 0, finished = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      outcomes[i] = await request(i);
      each(outcomes[i], ++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { outcomes, wallS: (performance.now() - t0) / 1000 };
}

/** A temporary home with one finished run of `config` holding random initial weights. */
function randomModelHome(config: GPTConfig): { home: string; name: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-serve-'));
  const store = RunStore.open(home);
  try {
    const counts = countParams(config);
    const name = 'bench-serve';
    const run = store.createRun({
      name, config: { model: config, train: null, note: 'random initial weights for scalelab bench serve' },
      params: counts.total, nonEmbeddingParams: counts.nonEmbedding, flopsPerToken: flopsPerToken(config), tokensTarget: 0,
    });
    const model = new GPT(config, { seed: 0 });
    // Where the registry looks for a finished run's weights: <home>/runs/<id>/model.safetensors.
    const sha = saveWeights(path.join(runDir(home, run.id), 'model.safetensors'), model);
    const now = new Date().toISOString();
    store.updateRun(run.id, { status: 'done', startedAt: now, finishedAt: now, tokensSeen: 0, weightsSha256: sha });
    return { home, name };
  } finally {
    store.close();
  }
}

export async function benchServe(opts: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const concurrency = opts.concurrency ?? [1, 8, 32];
  const tokens = opts.tokens ?? 64;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const prompt = opts.prompt ?? DEFAULT_PROMPT;
  const maxBatch = opts.maxBatch ?? 32;
  for (const c of concurrency) if (!Number.isInteger(c) || c < 1) throw new Error(`concurrency must be positive integers, got ${c}`);
  if (opts.threads !== undefined) setThreads(opts.threads);

  const random = opts.model === undefined;
  const config: GPTConfig | null = random ? { ...REFERENCE_CONFIG, ...opts.config } : null;
  const { home, name } = random ? randomModelHome(config!) : { home: resolveHome(opts.home), name: opts.model! };
  let server: RunningServer | undefined;
  try {
    server = await startServer({ home, host: '127.0.0.1', port: 0, maxBatch, maxQueue: 1 << 16 });
    const url = server.url;
    // Load the model (first use) outside the timings, and check it answers.
    const warm = await streamCompletion(url, name, prompt, Math.min(2, tokens), 0, timeoutMs);
    if (warm.status !== 200 || warm.error) throw new Error(`bench serve: the warm-up request failed (status ${warm.status}${warm.error ? `, ${warm.error}` : ''})`);
    const loaded = (await server.registry.loadedModels()).find((m) => m.id === name)!;
    const stats = loaded.scheduler.stats;
    const modelConfig = loaded.decoder.config;

    const rounds: ServeRound[] = [];
    let seed = 1;
    for (const c of concurrency) {
      const requests = opts.requests ?? Math.max(16, 2 * c);
      const before = { steps: stats.steps, tokens: stats.tokens };
      const base = seed;
      seed += requests;
      const { outcomes, wallS } = await drive(requests, c, (i) => streamCompletion(url, name, prompt, tokens, base + i, timeoutMs));
      const good = outcomes.filter((o) => o.status === 200 && !o.error);
      const ttft = good.map((o) => o.ttftMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
      const completion = good.reduce((a, o) => a + o.completionTokens, 0);
      const steps = stats.steps - before.steps;
      rounds.push({
        concurrency: c, requests, completion_tokens: completion, wall_s: wallS, tokens_per_s: completion / wallS,
        ttft_p50_ms: percentile(ttft, 50), ttft_p99_ms: percentile(ttft, 99),
        mean_batch: steps > 0 ? (stats.tokens - before.tokens) / steps : 0, errors: outcomes.length - good.length,
      });
    }

    let load: ServeLoadResult | undefined;
    if (opts.load !== undefined && opts.load > 0) {
      const total = opts.load;
      const lc = opts.loadConcurrency ?? 64;
      const lt = opts.loadTokens ?? 16;
      const statuses: Record<string, number> = {};
      const samples: number[] = [];
      const every = Math.max(1, Math.ceil(total / 10));
      const base = seed;
      const { outcomes, wallS } = await drive(total, lc, (i) => streamCompletion(url, name, prompt, lt, base + i, timeoutMs), (o, finished) => {
        if (o.status !== null) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
        if (finished % every === 0) samples.push(mb(process.memoryUsage().rss));
      });
      const count5xx = outcomes.filter((o) => o.status !== null && o.status >= 500).length;
      const ok = outcomes.filter((o) => o.status === 200 && !o.error);
      const completion = ok.reduce((a, o) => a + o.completionTokens, 0);
      load = {
        requests: total, concurrency: lc, max_tokens: lt, wall_s: wallS, statuses, ok: ok.length,
        server_errors_5xx: count5xx, failed_without_status: outcomes.filter((o) => o.status === null).length,
        completion_tokens: completion, tokens_per_s: completion / wallS,
        rss_samples_mb: samples, rss_end_mb: mb(process.memoryUsage().rss), peak_rss_mb: peakRssMb(),
      };
    }

    return {
      model: name, config: modelConfig, random_weights: random, params: countParams(modelConfig).total,
      threads: getThreads(), kernel: kernelName(), max_batch: maxBatch, max_tokens: tokens,
      prompt_tokens: Buffer.byteLength(prompt, 'utf8'), rounds, load, peak_rss_mb: peakRssMb(),
      rss_note: 'server and client run in one process; peak RSS covers both',
    };
  } finally {
    await server?.close();
    if (random) fs.rmSync(home, { recursive: true, force: true });
  }
}
