// The serving benchmark: the real server (src/serve/) on 127.0.0.1, port 0, driven by streaming
// requests to /v1/completions from a client in its own thread (serve-client.ts). Rounds at
// several concurrencies report total generated tokens/s and time-to-first-token percentiles, and
// the decoder's own step times at the same batch sizes, the ceiling the rounds approach; a load
// mode sends N requests at a fixed concurrency and counts HTTP statuses (any 5xx is a failure).
// Without a model id it serves a GPT with random initial weights (the reference shape unless
// overridden) from a temporary home, removed at the end.
//
// Server and client run in one process, so peak RSS (process.resourceUsage().maxRSS) covers both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GPT, REFERENCE_CONFIG, countParams, flopsPerToken, type GPTConfig } from '../models/gpt.js';
import { getThreads, kernelInfo, setThreads } from '../engine/native.js';
import { openStore, existingHome, runDir } from '../runs/index.js';
import { saveWeights } from '../train/checkpoint.js';
import { startServer, type RunningServer } from '../serve/server.js';
import type { Decoder } from '../models/decode.js';
import { startThread } from '../thread.js';
import { UsageError } from '../errors.js';
import { streamCompletion, type ClientJob, type ClientResult } from './serve-client.js';

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
  /** Kernel threads of the server; default: all cores but one, which the client thread uses. */
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
  /** Average milliseconds per step inside Decoder.step (prefill steps included); the rest of wall time is the server's and the client's. */
  decode_ms_per_step: number;
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

/** The decoder alone, no HTTP: one step over `batch` sequences, best of several timings. */
export interface DecodeStepTiming {
  batch: number;
  step_ms: number;
  tokens_per_s: number;
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
  /** Decode steps without the server at the rounds' batch sizes: the ceiling the rounds approach. */
  decoder: DecodeStepTiming[];
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

/** Run a client job in its own thread; resolves with its result. */
function runClientThread(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const w = startThread(new URL('./serve-client-thread.js', import.meta.url), job);
    w.once('message', (r: ClientResult) => {
      resolve(r);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`bench serve: the client thread exited (${code}) without a result`)));
  });
}

/**
 * Time Decoder.step alone for each batch size: sequences holding the prompt, then
 * `tokens` one-token steps (the rounds' request shape), best of 3 passes.
 */
function timeDecoder(decoder: Decoder, batches: number[], promptTokens: number, tokens: number): DecodeStepTiming[] {
  const out: DecodeStepTiming[] = [];
  const steps = Math.max(1, Math.min(tokens, decoder.config.ctx - promptTokens));
  for (const batch of batches) {
    let best = Infinity;
    for (let pass = 0; pass < 3; pass++) {
      const caches = Array.from({ length: batch }, () => decoder.newCache());
      try {
        decoder.step(caches.map((cache) => ({ cache, tokens: Array.from({ length: promptTokens }, (_, i) => 32 + (i % 64)), logits: 'last' as const })));
        const t0 = performance.now();
        for (let s = 0; s < steps; s++) decoder.step(caches.map((cache) => ({ cache, tokens: [32 + (s % 64)], logits: 'last' as const })));
        best = Math.min(best, (performance.now() - t0) / steps);
      } finally {
        for (const c of caches) decoder.release(c);
      }
    }
    out.push({ batch, step_ms: best, tokens_per_s: (batch * 1000) / best });
  }
  return out;
}

/** A temporary home with one finished run of `config` holding random initial weights. */
async function randomModelHome(config: GPTConfig): Promise<{ home: string; name: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-serve-'));
  const store = openStore(home);
  try {
    const counts = countParams(config);
    const name = 'bench-serve';
    const run = await store.createRun({
      name, config: { model: config, train: null, note: 'random initial weights for scalelab bench serve' },
      params: counts.total, nonEmbeddingParams: counts.nonEmbedding, flopsPerToken: flopsPerToken(config), tokensTarget: 0,
    });
    const model = new GPT(config, { seed: 0 });
    // Where the registry looks for a finished run's weights: <home>/runs/<id>/model.safetensors.
    const sha = saveWeights(path.join(runDir(home, run.id), 'model.safetensors'), model);
    const now = new Date().toISOString();
    await store.updateRun(run.id, { status: 'done', startedAt: now, finishedAt: now, tokensSeen: 0, weightsSha256: sha });
    return { home, name };
  } finally {
    await store.close();
  }
}

export async function benchServe(opts: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const concurrency = opts.concurrency ?? [1, 8, 32];
  const tokens = opts.tokens ?? 64;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const prompt = opts.prompt ?? DEFAULT_PROMPT;
  const maxBatch = opts.maxBatch ?? 32;
  for (const c of concurrency) if (!Number.isInteger(c) || c < 1) throw new Error(`concurrency must be positive integers, got ${c}`);
  // The client thread keeps a core to itself; kernels get the rest (on 2 cores, 1), unless told.
  setThreads(opts.threads ?? Math.max(1, os.availableParallelism() - 1));

  const random = opts.model === undefined;
  const config: GPTConfig | null = random ? { ...REFERENCE_CONFIG, ...opts.config } : null;
  const { home, name } = random ? await randomModelHome(config!) : { home: existingHome(opts.home), name: opts.model! };
  let server: RunningServer | undefined;
  try {
    server = await startServer({ home, host: '127.0.0.1', port: 0, maxBatch, maxQueue: 1 << 16 });
    const url = server.url;
    // Load the model (first use) outside the timings, and check it answers.
    const warm = await streamCompletion(url, name, prompt, Math.min(2, tokens), 0, timeoutMs);
    if (warm.status === 404) throw new UsageError(`bench serve: no model '${name}' in ${home}; \`scalelab runs\` lists the finished runs`);
    if (warm.status !== 200 || warm.error) throw new Error(`bench serve: the warm-up request failed (status ${warm.status}${warm.error ? `, ${warm.error}` : ''})`);
    const loaded = await server.registry.get(name);
    const stats = loaded.scheduler.stats;
    const modelConfig = loaded.decoder.config;

    const rounds: ServeRound[] = [];
    let seed = 1;
    for (const c of concurrency) {
      const requests = opts.requests ?? Math.max(16, 2 * c);
      const before = { steps: stats.steps, tokens: stats.tokens, stepMs: stats.stepMs };
      const base = seed;
      seed += requests;
      const { outcomes, wallS } = await runClientThread({
        url, model: name, prompt, maxTokens: tokens, firstSeed: base, timeoutMs, total: requests, concurrency: c, rssEvery: 0,
      });
      const good = outcomes.filter((o) => o.status === 200 && !o.error);
      const ttft = good.map((o) => o.ttftMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
      const completion = good.reduce((a, o) => a + o.completionTokens, 0);
      const steps = stats.steps - before.steps;
      rounds.push({
        concurrency: c, requests, completion_tokens: completion, wall_s: wallS, tokens_per_s: completion / wallS,
        ttft_p50_ms: percentile(ttft, 50), ttft_p99_ms: percentile(ttft, 99),
        mean_batch: steps > 0 ? (stats.tokens - before.tokens) / steps : 0,
        decode_ms_per_step: steps > 0 ? (stats.stepMs - before.stepMs) / steps : 0, errors: outcomes.length - good.length,
      });
    }

    // The scheduler is idle between the rounds and the load, so the decoder is free to time.
    const promptTokens = Math.max(1, Math.min(Buffer.byteLength(prompt, 'utf8'), modelConfig.ctx - 1));
    const decoderTimings = timeDecoder(loaded.decoder, concurrency.map((c) => Math.min(c, maxBatch)), promptTokens, tokens);

    let load: ServeLoadResult | undefined;
    if (opts.load !== undefined && opts.load > 0) {
      const total = opts.load;
      const lc = opts.loadConcurrency ?? 64;
      const lt = opts.loadTokens ?? 16;
      const { outcomes, wallS, rssSamplesMb } = await runClientThread({
        url, model: name, prompt, maxTokens: lt, firstSeed: seed, timeoutMs, total, concurrency: lc, rssEvery: Math.max(1, Math.ceil(total / 10)),
      });
      const statuses: Record<string, number> = {};
      for (const o of outcomes) if (o.status !== null) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
      const count5xx = outcomes.filter((o) => o.status !== null && o.status >= 500).length;
      const ok = outcomes.filter((o) => o.status === 200 && !o.error);
      const completion = ok.reduce((a, o) => a + o.completionTokens, 0);
      load = {
        requests: total, concurrency: lc, max_tokens: lt, wall_s: wallS, statuses, ok: ok.length,
        server_errors_5xx: count5xx, failed_without_status: outcomes.filter((o) => o.status === null).length,
        completion_tokens: completion, tokens_per_s: completion / wallS,
        rss_samples_mb: rssSamplesMb, rss_end_mb: mb(process.memoryUsage().rss), peak_rss_mb: peakRssMb(),
      };
    }

    return {
      model: name, config: modelConfig, random_weights: random, params: countParams(modelConfig).total,
      threads: getThreads(), kernel: kernelName(), max_batch: maxBatch, max_tokens: tokens,
      prompt_tokens: Buffer.byteLength(prompt, 'utf8'), rounds, decoder: decoderTimings, load, peak_rss_mb: peakRssMb(),
      rss_note: 'server and client (its own thread) run in one process; peak RSS covers both',
    };
  } finally {
    await server?.close();
    if (random) fs.rmSync(home, { recursive: true, force: true });
  }
}
