// `scalelab sweep plan|run|status|list` and `scalelab worker`: plan a sweep, queue it, serve it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { RunStore, resolveHome } from '../runs/index.js';
import { SweepQueue } from '../sweep/queue.js';
import { planSweep, parseShape, estimateSeconds, trainingTokens, MAX_FRESH_EPOCHS, LR_SCALINGS, type PlannedRun } from '../sweep/plan.js';
import { runWorker } from '../sweep/worker.js';
import { sweepStatus } from '../sweep/status.js';
import { verifySweep } from '../sweep/verify.js';
import { jsonReporter, lineReporter, terminalReporter } from '../train/progress.js';
import { benchTrain } from '../bench/train.js';
import { VOCAB } from '../data/index.js';
import { NORMS, MLPS, POSITIONS } from '../models/gpt.js';
import { TRAIN_DEFAULTS } from '../train/train.js';
import { UsageError, positiveInt, numberOption } from '../errors.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/scalelab.js');

function list<T>(name: string, parse: (s: string) => T) {
  return (value: string): T[] => {
    const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
    if (parts.length === 0) throw new UsageError(`${name} needs a comma-separated list, got '${value}'`);
    return parts.map(parse);
  };
}

function withQueue<T>(home: string | undefined, fn: (q: SweepQueue, s: RunStore) => T): T {
  const store = RunStore.open(resolveHome(home));
  try {
    return fn(new SweepQueue(store), store);
  } finally {
    store.close();
  }
}

const fmtSeconds = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

/** Training FLOPs per second this machine sustains, from a short benchmark of a mid-sized model. */
function measuredFlopsPerSecond(ctx: number, batch: number): number {
  const r = benchTrain({ config: { layers: 4, dModel: 128, heads: 2, ctx, vocab: VOCAB }, batch, steps: 2, warmup: 1 });
  return r.gflops * 1e9;
}

function planCommand(): Command {
  return new Command('plan')
    .description('plan an isoFLOP sweep (--flops) or an N×D grid (--models, --tokens) and store it under a name')
    .argument('<name>', 'a name for the sweep')
    .option('--flops <list>', 'compute budgets in FLOPs, e.g. 1e12,3e12,1e13', list('--flops', numberOption('--flops')))
    .option('--sizes <n>', 'model sizes per budget', positiveInt('--sizes'), 4)
    .option('--tokens-per-param <r>', 'centre each budget\'s sizes where D = r·N (Chinchilla: 20; byte-level Brown fits put it in the hundreds)', numberOption('--tokens-per-param'), 20)
    .option('--models <list>', 'grid: model shapes LAYERSxD_MODEL, e.g. 2x64,4x128', list('--models', parseShape))
    .option('--tokens <list>', 'grid: token counts, e.g. 1e6,4e6', list('--tokens', numberOption('--tokens')))
    .option('--corpus <spec>', "'brown' or a UTF-8 text file or folder", TRAIN_DEFAULTS.corpus)
    .option('--ctx <n>', 'context length', positiveInt('--ctx'), TRAIN_DEFAULTS.ctx)
    .option('--batch <n>', 'sequences per step', positiveInt('--batch'), TRAIN_DEFAULTS.batch)
    .option('--lr <x>', 'peak learning rate (at d_model 128 with --lr-scaling width)', numberOption('--lr'), TRAIN_DEFAULTS.lr)
    .addOption(new Option('--lr-scaling <rule>', 'constant: --lr for every size; width: --lr · 128 / d_model (μP)').choices([...LR_SCALINGS]).default('constant'))
    .option('--seed <n>', 'random seed', numberOption('--seed', { allowZero: true }), 0)
    .option('--eval-tokens <n>', 'held-out tokens per validation', numberOption('--eval-tokens'), TRAIN_DEFAULTS.evalTokens)
    .option('--checkpoint-every <steps>', 'checkpoint every this many steps', positiveInt('--checkpoint-every'), TRAIN_DEFAULTS.checkpointEvery)
    .addOption(new Option('--norm <kind>', 'normalisation of every run').choices([...NORMS]).default('layernorm'))
    .addOption(new Option('--mlp <kind>', 'MLP of every run').choices([...MLPS]).default('gelu'))
    .addOption(new Option('--pos <kind>', 'positions of every run').choices([...POSITIONS]).default('learned'))
    .option('--no-estimate', 'skip the short benchmark behind the wall-time estimates')
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .option('--json', 'print the plan as JSON')
    .action((name, o) => {
      const runs = planSweep({
        flops: o.flops, sizes: o.sizes, tokensPerParam: o.tokensPerParam, models: o.models, tokens: o.tokens, ctx: o.ctx, batch: o.batch, lrScaling: o.lrScaling,
        base: { corpus: o.corpus, lr: o.lr, seed: o.seed, evalTokens: o.evalTokens, checkpointEvery: o.checkpointEvery, norm: o.norm, mlp: o.mlp, pos: o.pos },
      });
      const trainTokens = trainingTokens(o.corpus);
      const epochs = (r: PlannedRun) => r.tokens / trainTokens;
      const rate = o.estimate ? measuredFlopsPerSecond(o.ctx, o.batch) : null;
      const est = (r: PlannedRun) => (rate ? estimateSeconds(r, o.ctx, rate) : null);
      withQueue(o.home, (q) => q.createSweep(name, { flops: o.flops ?? null, sizes: o.sizes, models: o.models ?? null, tokens: o.tokens ?? null,
        ctx: o.ctx, batch: o.batch, corpus: o.corpus, lr: o.lr, lrScaling: o.lrScaling, tokensPerParam: o.tokensPerParam, seed: o.seed, norm: o.norm, mlp: o.mlp, pos: o.pos, flopsPerSecond: rate },
      runs.map((r, i) => ({ options: r.options, runName: `${name}-${String(i).padStart(3, '0')}`, estimatedSeconds: est(r) }))));
      if (o.json) {
        return console.log(JSON.stringify({ sweep: name, train_tokens: trainTokens, runs: runs.map((r, i) => ({ idx: i, ...r.shape, params: r.params,
          non_embedding_params: r.nonEmbeddingParams, tokens: r.tokens, epochs: epochs(r), lr: r.options.lr, flops: r.flops, budget: r.budget, estimated_seconds: est(r) })) }));
      }
      console.log(`sweep ${name}: ${runs.length} runs on ${o.corpus} (${trainTokens.toLocaleString('en-US')} training tokens), ctx ${o.ctx}, batch ${o.batch}`);
      console.log('  #  shape       params  non-emb      tokens  epochs   FLOPs(6ND)   budget       lr   est. time');
      let total = 0;
      runs.forEach((r, i) => {
        const e = est(r);
        total += e ?? 0;
        console.log(`${String(i).padStart(3)}  ${`${r.shape.layers}x${r.shape.dModel}h${r.shape.heads}`.padEnd(10)} ${r.params.toLocaleString('en-US').padStart(8)} ` +
          `${r.nonEmbeddingParams.toLocaleString('en-US').padStart(8)} ${r.tokens.toLocaleString('en-US').padStart(11)} ${epochs(r).toFixed(1).padStart(7)}  ${r.flops.toExponential(2).padStart(10)}  ` +
          `${r.budget ? r.budget.toExponential(1) : '-'.padStart(7)}  ${r.options.lr!.toExponential(1).padStart(7)}   ${e === null ? '-' : fmtSeconds(e)}`);
      });
      const repeated = runs.filter((r) => epochs(r) > MAX_FRESH_EPOCHS).length;
      if (repeated) {
        console.log(`warning: ${repeated} run(s) pass over the training data more than ${MAX_FRESH_EPOCHS} times; repeated tokens are worth less than fresh ones, ` +
          'so a law fitted here will not transfer to runs with more unique data (lower the budgets or use a bigger corpus)');
      }
      if (rate) console.log(`estimated total ${fmtSeconds(total)} on one worker (this machine trains at ${(rate / 1e9).toFixed(1)} GFLOP/s)`);
      console.log(`run it with: scalelab sweep run ${name}`);
    });
}

function runCommand(): Command {
  return new Command('run')
    .description('train every queued run of a sweep with worker processes')
    .argument('<name>', 'the sweep')
    .option('--workers <n>', 'worker processes', positiveInt('--workers'), 1)
    .option('--threads <n>', 'kernel threads per worker (default: cores / workers)', positiveInt('--threads'))
    .option('--lease <seconds>', 'job lease; a dead worker\'s job is taken over after it', numberOption('--lease'), 60)
    .option('--detach', 'keep the sweep going after this terminal closes; logs go to the home folder')
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .action(async (name, o) => {
      const home = resolveHome(o.home);
      withQueue(home, (q) => q.getSweep(name));
      const threads = o.threads ?? Math.max(1, Math.floor((await import('node:os')).availableParallelism() / o.workers));
      const args = [bin, 'worker', '--sweep', name, '--lease', String(o.lease), '--threads', String(threads), '--home', home];
      if (o.detach) {
        const logFile = path.join(home, `sweep-${name}.log`);
        const pids: number[] = [];
        for (let i = 0; i < o.workers; i++) {
          const fd = fs.openSync(logFile, 'a');
          const c = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd] });
          c.unref();
          pids.push(c.pid!);
        }
        console.log(`sweep ${name}: ${o.workers} detached worker(s) (pids ${pids.join(', ')}); log in ${logFile}`);
        console.log(`follow it with: scalelab sweep status ${name}`);
        return;
      }
      const codes = await Promise.all(Array.from({ length: o.workers }, () => new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
        c.on('close', resolve);
      })));
      printStatus(home, name, false);
      if (codes.some((c) => c !== 0)) process.exitCode = 1;
    });
}

function printStatus(home: string | undefined, name: string, json: boolean): void {
  const st = withQueue(home, (_q, store) => sweepStatus(store, name));
  if (json) return console.log(JSON.stringify(st));
  const c = st.counts;
  console.log(`sweep ${name}: ${c.done} done, ${c.running} running, ${c.queued} queued, ${c.failed} failed` +
    (c.queued + c.running > 0 ? (st.etaKnown ? `; about ${fmtSeconds(st.etaSeconds)} left on one worker` : '; ETA once a run has finished') : ''));
  for (const j of st.jobs) {
    const progress = j.tokensTarget ? `${((100 * j.tokensSeen) / j.tokensTarget).toFixed(0)}%` : '-';
    console.log(`  ${String(j.idx).padStart(3)}  ${j.run.padEnd(20)} ${j.status.padEnd(8)} ${progress.padStart(4)}  ` +
      `${j.finalValBpb !== null ? `val ${j.finalValBpb.toFixed(3)} bpb` : ''}${j.error ? `  error: ${j.error}` : ''}`);
  }
}

function statusCommand(): Command {
  return new Command('status')
    .description('done, running, queued and failed runs of a sweep, with an ETA')
    .argument('<name>', 'the sweep')
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .option('--json', 'print one JSON object')
    .action((name, o) => printStatus(o.home, name, Boolean(o.json)));
}

function listCommand(): Command {
  return new Command('list')
    .description('every sweep in the store')
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .action((o) => withQueue(o.home, (q) => {
      const sweeps = q.listSweeps();
      if (sweeps.length === 0) return console.log('no sweeps yet: plan one with `scalelab sweep plan NAME --flops 1e12,3e12,1e13`');
      for (const s of sweeps) {
        const c = q.counts(s.name);
        console.log(`${s.name.padEnd(20)} ${c.done} done, ${c.running} running, ${c.queued} queued, ${c.failed} failed  (${s.createdAt.slice(0, 16).replace('T', ' ')})`);
      }
    }));
}

function verifyCommand(): Command {
  return new Command('verify')
    .description('fit the sweep, train the compute-optimal run it predicts at --flops, and compare predicted with measured')
    .argument('<name>', 'the sweep')
    .requiredOption('--flops <c>', 'the budget to predict and train, e.g. 4x the largest in the sweep', numberOption('--flops'))
    .option('--resamples <n>', 'bootstrap resamples', positiveInt('--resamples'), 1000)
    .option('--threads <n>', 'kernel threads (default: all cores)', positiveInt('--threads'))
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .option('--json', 'print one JSON object at the end (progress as JSON lines)')
    .action(async (name, o) => {
      const reporter = o.json ? jsonReporter() : process.stderr.isTTY ? terminalReporter() : lineReporter();
      if (o.threads) (await import('../engine/native.js')).setThreads(o.threads);
      const r = await verifySweep(name, o.flops, { home: o.home, resamples: o.resamples, hooks: { reporter } });
      if (o.json) return console.log(JSON.stringify({ type: 'verify', ...r }));
      console.log(`verify ${name} at C = ${o.flops.toExponential(2)} (${r.extrapolation.toFixed(1)}x the largest fitted budget):`);
      console.log(`  law's optimum N ${r.optimalParams.toExponential(2)}; trained ${r.shape.layers}x${r.shape.dModel} (N ${r.params.toLocaleString('en-US')}) on ${r.tokens.toLocaleString('en-US')} tokens as ${r.run}`);
      console.log(`  predicted ${r.predicted.toFixed(4)} bpb [${r.interval[0].toFixed(4)}, ${r.interval[1].toFixed(4)}], measured ${r.measured.toFixed(4)} bpb: ` +
        `${(100 * r.relativeError).toFixed(2)}% ${r.relativeError >= 0 ? 'above' : 'below'} the prediction`);
      if (r.epochs > Math.max(r.fittedEpochs, MAX_FRESH_EPOCHS)) {
        console.log(`  warning: this run made ${r.epochs.toFixed(1)} passes over the training data, the fitted runs at most ${r.fittedEpochs.toFixed(1)}; ` +
          'the law knows nothing of repeated data, so expect the measured loss above the prediction');
      }
    });
}

export function sweepCommand(): Command {
  const c = new Command('sweep').description('plan, run, follow and verify sweeps of training runs');
  for (const sub of [planCommand(), runCommand(), statusCommand(), listCommand(), verifyCommand()]) c.addCommand(sub.exitOverride());
  return c;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('serve the sweep queue: claim a job, train it, repeat until nothing is left')
    .option('--sweep <name>', 'serve only this sweep')
    .option('--lease <seconds>', 'job lease in seconds', numberOption('--lease'), 60)
    .option('--threads <n>', 'kernel threads', positiveInt('--threads'))
    .option('--home <dir>', 'the scalelab home (default: $SCALELAB_HOME or ./.scalelab)')
    .action(async (o) => {
      let stop = false;
      const onSignal = () => {
        if (stop) process.exit(130);
        stop = true;
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const who = `worker ${process.pid}`;
      const n = await runWorker({ home: o.home, sweep: o.sweep, leaseSeconds: o.lease, threads: o.threads,
        log: (line) => console.log(`${who}: ${line}`), shouldStop: () => stop });
      console.log(`${who}: finished ${n} job(s)`);
    });
}
