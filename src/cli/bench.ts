// `scalelab bench`: training throughput of the reference GPT, or SGEMM GFLOP/s with --gemm.
import { Command } from 'commander';
import { benchTrain } from '../bench/train.js';
import { benchGemm } from '../bench/gemm.js';
import { benchServe } from '../bench/serve.js';
import { benchDashboard } from '../bench/dashboard.js';
import { compressBenchCommand } from './compress.js';
import { REFERENCE_CONFIG, validateConfig } from '../models/gpt.js';
import { positiveInt, UsageError } from '../errors.js';
import { MODEL_OPTIONS as M, TRAIN_OPTIONS, variantsOf } from '../train/options.js';
import { positiveInteger, withDefault } from '../option.js';
import { addFlags, flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';
import { evalBenchCommand } from './bench-eval.js';
import { ditBenchCommand } from './bench-dit.js';

/** The model `bench` trains: the reference GPT unless told otherwise. */
const r = REFERENCE_CONFIG;
const BENCH_OPTIONS = {
  layers: withDefault(M.layers, r.layers),
  dModel: withDefault(M.dModel, r.dModel),
  heads: withDefault(M.heads, r.heads),
  ctx: { ...withDefault(M.ctx, r.ctx), help: 'context length' },
  vocab: positiveInteger({ help: 'vocabulary size', default: r.vocab }),
  norm: M.norm,
  mlp: M.mlp,
  pos: M.pos,
  batch: TRAIN_OPTIONS.batch,
  steps: positiveInteger({ help: 'timed steps', default: 10 }),
  warmup: positiveInteger({ help: 'untimed steps first', default: 3 }),
  threads: THREADS,
};

export function benchCommand(): Command {
  return addFlags(new Command('bench')
    .description('train the reference GPT on random tokens and report tokens/s, GFLOP/s and peak memory'), BENCH_OPTIONS)
    .option('--gemm', 'measure SGEMM GFLOP/s on square sizes 256 to 2048 instead')
    .option('--profile', 'time every kernel and print where a step goes')
    .option('--json', 'print one JSON object')
    .addCommand(serveBenchCommand())
    .addCommand(dashboardBenchCommand())
    .addCommand(evalBenchCommand())
    .addCommand(compressBenchCommand())
    .addCommand(ditBenchCommand())
    .action((o) => {
      if (o.gemm) {
        const res = benchGemm({ threads: o.threads });
        if (o.json) return console.log(JSON.stringify(res));
        console.log(`sgemm  kernel=${res.kernel} threads=${res.threads}`);
        for (const row of res.rows) console.log(`  ${String(row.size).padStart(5)}³  ${row.gflops.toFixed(1).padStart(7)} GFLOP/s  ${row.ms.toFixed(2)} ms`);
        return;
      }
      if (o.dModel % o.heads !== 0) throw new UsageError(`--heads (${o.heads}) must divide --d-model (${o.dModel})`);
      if (o.pos === 'rope' && (o.dModel / o.heads) % 2 !== 0) throw new UsageError('--pos rope needs an even head dimension (--d-model / --heads)');
      // Only the variants that differ from GPT-2's appear in the config.
      const res = benchTrain({
        config: { layers: o.layers, dModel: o.dModel, heads: o.heads, ctx: o.ctx, vocab: o.vocab, ...variantsOf(o) },
        batch: o.batch, steps: o.steps, warmup: o.warmup, threads: o.threads, profile: o.profile,
      });
      if (o.json) return console.log(JSON.stringify(res));
      const c = res.config;
      const v = [c.norm, c.mlp, c.pos].filter(Boolean).map((x) => ` ${x}`).join('');
      console.log(`scalelab bench: GPT layers=${c.layers} d_model=${c.dModel} heads=${c.heads} ctx=${c.ctx} vocab=${c.vocab}${v} batch=${res.batch}`);
      console.log(`  params          ${res.params.toLocaleString('en-US')} (${res.non_embedding_params.toLocaleString('en-US')} non-embedding)`);
      console.log(`  tokens/s        ${res.tokens_per_s.toFixed(0)}`);
      console.log(`  ms/step         ${res.step_ms.toFixed(1)}`);
      console.log(`  GFLOP/s         ${res.gflops.toFixed(1)}`);
      console.log(`  peak RSS        ${res.peak_rss_mb.toFixed(0)} MB`);
      console.log(`  threads         ${res.threads}`);
      console.log(`  kernel          ${res.kernel}`);
      if (res.profile) {
        console.log('  time per step by kernel:');
        for (const p of res.profile) console.log(`    ${p.kernel.padEnd(20)} ${p.ms_per_step.toFixed(1).padStart(8)} ms  ${String(p.calls_per_step).padStart(4)} call${p.calls_per_step === 1 ? '' : 's'}`);
      }
    });
}

function positiveList(flag: string) {
  const one = positiveInt(flag);
  return (v: string): number[] => v.split(',').map((x) => one(x.trim()));
}

/** `scalelab bench serve`: the OpenAI-compatible server under concurrent streaming load. */
function serveBenchCommand(): Command {
  return new Command('serve')
    .description('serve the reference GPT (random weights) on 127.0.0.1 and report tokens/s and time-to-first-token at several concurrencies, or run a load with --load')
    .option('--model <id>', 'serve this model of --home instead of the random reference model')
    .addOption(flag('home', { ...HOME, help: 'scalelab home holding --model (default: $SCALELAB_HOME or ./.scalelab)' }))
    .addOption(flag('layers', { ...M.layers, default: undefined, help: 'transformer blocks of the random model (default: the reference model\'s)' }))
    .addOption(flag('dModel', { ...M.dModel, default: undefined, help: 'width of the random model' }))
    .addOption(flag('heads', { ...M.heads, default: undefined, help: 'attention heads of the random model' }))
    .option('--concurrency <list>', 'comma-separated concurrencies (default 1,8,32; with --load one number, default 64)', positiveList('--concurrency'))
    .option('--tokens <n>', 'max_tokens per request (default 64; 16 with --load)', positiveInt('--tokens'))
    .option('--requests <n>', 'requests per concurrency round (default max(16, 2 x concurrency))', positiveInt('--requests'))
    .option('--load <n>', 'instead of the rounds, send N requests and count HTTP statuses (5xx are failures)', positiveInt('--load'))
    .option('--max-batch <n>', 'sequences decoded together by the server', positiveInt('--max-batch'), 32)
    .option('--timeout <s>', 'per-request timeout in seconds', positiveInt('--timeout'), 120)
    .addOption(flag('threads', { ...THREADS, help: 'kernel threads of the server (default: all cores but one, left to the client)' }))
    .option('--json', 'print one JSON object')
    .action(async (_o, cmd: Command) => {
      // The parent `bench` also knows --json, --threads, --layers, --d-model and --heads and may
      // have consumed them; its shape options have defaults, so a shape counts only when given.
      const o = cmd.optsWithGlobals();
      const given = (key: string) => cmd.getOptionValueSourceWithGlobals(key) === 'cli' ? o[key] as number : undefined;
      if (o.home !== undefined && o.model === undefined) throw new UsageError('--home is only used with --model');
      const shape = { layers: given('layers'), dModel: given('dModel'), heads: given('heads') };
      if (o.model !== undefined && Object.values(shape).some((v) => v !== undefined)) throw new UsageError('--layers, --d-model and --heads shape the random model; not with --model');
      const config = { ...REFERENCE_CONFIG, ...Object.fromEntries(Object.entries(shape).filter(([, v]) => v !== undefined)) };
      try {
        validateConfig(config);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const conc: number[] | undefined = o.concurrency;
      if (o.load !== undefined && conc !== undefined && conc.length !== 1) throw new UsageError('--load takes one --concurrency value');
      const res = await benchServe({
        home: o.home, model: o.model, config: o.model === undefined ? config : undefined, threads: o.threads, maxBatch: o.maxBatch, timeoutMs: o.timeout * 1000, requests: o.requests,
        ...(o.load !== undefined
          ? { concurrency: [], load: o.load, loadConcurrency: conc?.[0] ?? 64, loadTokens: o.tokens ?? 16 }
          : { concurrency: conc ?? [1, 8, 32], tokens: o.tokens ?? 64 }),
      });
      if (o.json) return console.log(JSON.stringify(res));
      const c = res.config;
      const reference = c !== null && (['layers', 'dModel', 'heads'] as const).every((k) => c[k] === REFERENCE_CONFIG[k]);
      console.log(`scalelab bench serve: ${res.random_weights ? `${reference ? 'reference' : 'random'} GPT, random weights` : `model ${res.model}`}` +
        (c ? ` (layers=${c.layers} d_model=${c.dModel} heads=${c.heads} ctx=${c.ctx} vocab=${c.vocab})` : '') +
        ` max_batch=${res.max_batch} threads=${res.threads} kernel=${res.kernel}`);
      if (res.rounds.length > 0) {
        console.log(`  prompt ${res.prompt_tokens} tokens, max_tokens ${res.max_tokens}, streaming /v1/completions`);
        console.log('  concurrency  requests   tokens/s   TTFT p50   TTFT p99  mean batch  decode/step  errors');
        for (const r of res.rounds) {
          console.log(`  ${String(r.concurrency).padStart(11)}  ${String(r.requests).padStart(8)}  ${r.tokens_per_s.toFixed(0).padStart(9)}` +
            `  ${r.ttft_p50_ms.toFixed(1).padStart(6)} ms  ${r.ttft_p99_ms.toFixed(1).padStart(6)} ms  ${r.mean_batch.toFixed(1).padStart(10)}` +
            `  ${r.decode_ms_per_step.toFixed(2).padStart(8)} ms  ${String(r.errors).padStart(6)}`);
        }
        const first = res.rounds[0], last = res.rounds[res.rounds.length - 1];
        if (res.rounds.length > 1) console.log(`  tokens/s at ${last.concurrency} / at ${first.concurrency}: ${(last.tokens_per_s / first.tokens_per_s).toFixed(1)}x`);
        const d = res.decoder;
        console.log(`  decoder alone (no HTTP), batch ${d.map((t) => t.batch).join(' / ')}: ${d.map((t) => `${t.step_ms.toFixed(2)} ms`).join(' / ')} per step = ` +
          `${d.map((t) => t.tokens_per_s.toFixed(0)).join(' / ')} tok/s` + (d.length > 1 ? ` (${(d[d.length - 1].tokens_per_s / d[0].tokens_per_s).toFixed(1)}x)` : ''));
      }
      if (res.load) {
        const l = res.load;
        console.log(`  load: ${l.requests} requests at concurrency ${l.concurrency}, max_tokens ${l.max_tokens}, ${l.wall_s.toFixed(1)} s`);
        console.log(`    statuses        ${Object.entries(l.statuses).map(([k, n]) => `${k}: ${n}`).join(', ') || 'none'}`);
        console.log(`    5xx             ${l.server_errors_5xx}`);
        console.log(`    no status       ${l.failed_without_status} (timeouts, broken streams)`);
        console.log(`    tokens/s        ${l.tokens_per_s.toFixed(0)}`);
        console.log(`    RSS during load ${l.rss_samples_mb.map((x) => x.toFixed(0)).join(' ')} MB; at end ${l.rss_end_mb.toFixed(0)} MB`);
      }
      console.log(`  peak RSS        ${res.peak_rss_mb.toFixed(0)} MB (server and client in one process)`);
    });
}

function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be a non-negative integer, got '${v}'`);
    return n;
  };
}

/** `scalelab bench dashboard`: the page's load time and smoothness with many runs and one very long one. */
function dashboardBenchCommand(): Command {
  return new Command('dashboard')
    .description('fill a temporary home with 1,000 runs x 1,000 points and one run of 1,000,000, serve the dashboard, and time it in headless Chromium')
    .option('--runs <n>', 'runs of --points points each', positiveInt('--runs'), 1000)
    .option('--points <n>', 'metric points per run', positiveInt('--points'), 1000)
    .option('--big <n>', 'points of the one long run (0 skips it)', nonNegativeInt('--big'), 1_000_000)
    .option('--loads <n>', 'page loads timed (the first is cold)', positiveInt('--loads'), 5)
    .option('--chromium <path>', 'the Chromium binary', '/usr/bin/chromium')
    .option('--json', 'print one JSON object')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals();
      const res = await benchDashboard({
        runs: o.runs, points: o.points, bigPoints: o.big, loads: o.loads, chromium: o.chromium,
        log: o.json ? undefined : (line) => process.stderr.write(`  ${line}\n`),
      });
      if (o.json) return console.log(JSON.stringify(res));
      const ms = (v: number) => `${v.toFixed(0).padStart(6)} ms`;
      const med = (f: (t: typeof res.loads[number]) => number) => {
        const v = res.loads.map(f).sort((a, b) => a - b);
        return v[Math.floor((v.length - 1) / 2)];
      };
      const task = (v: number) => (v === 0 ? '   < 50 ms' : `${v.toFixed(0).padStart(6)} ms`);
      console.log(`scalelab bench dashboard: ${res.runs} runs x ${res.points_per_run} points` +
        `${res.big_run_points ? ` + 1 run x ${res.big_run_points.toLocaleString('en-US')} points` : ''} (seeded in ${res.seed_s.toFixed(1)} s); ` +
        `Chromium ${res.chromium} headless, ${res.viewport}`);
      console.log(`  page interactive (table + curves)  ${ms(res.interactive_median_ms)} median of ${res.loads.length}` +
        ` (${res.loads.map((t) => t.interactive_ms.toFixed(0)).join(', ')} ms; goal < ${res.goal_ms} ms: ${res.interactive_median_ms < res.goal_ms ? 'met' : 'NOT met'})`);
      console.log(`  runs table rendered                ${ms(med((t) => t.table_ms))} median`);
      console.log(`  first curves drawn                 ${ms(med((t) => t.curves_ms))} median`);
      console.log(`  longest main-thread task           ${task(Math.max(...res.loads.map((t) => t.longest_task_ms)))} (any load)`);
      console.log(`  longest gap between frames         ${ms(Math.max(...res.loads.map((t) => t.longest_frame_gap_ms)))} (any load)`);
      if (res.big) {
        const b = res.big;
        console.log(`  long run: page interactive         ${ms(b.interactive_ms)} (its metrics request ${b.metrics_request_ms.toFixed(0)} ms; ${b.points_drawn} points drawn)`);
        console.log(`  long run: server downsampling      ${ms(b.server_uncached_ms)} uncached, in a worker thread (cached after)`);
        console.log(`  long run: longest task / frame gap ${task(b.longest_task_ms)} / ${b.longest_frame_gap_ms.toFixed(0)} ms`);
        console.log(`  long run: zoom to 1% at full res.  ${ms(b.zoom_ms)} (longest task ${task(b.zoom_longest_task_ms).trim()}, frame gap ${b.zoom_longest_frame_gap_ms.toFixed(0)} ms)`);
      }
      console.log(`  EMA + min/max decimation, 1M pts   ${ms(res.client_1m_ms)} (in the page)`);
      console.log(`  load average ${res.load_average.map((x) => x.toFixed(2)).join(' ')} on ${res.cpus} cores (another process may share them)`);
    });
}
