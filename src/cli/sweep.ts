// `scalelab sweep run|status|list|rm|verify` and `scalelab worker` (plan: sweep-plan.ts): plan a sweep, queue it, serve it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { existingHome } from '../runs/index.js';
import { MAX_FRESH_EPOCHS } from '../sweep/plan.js';
import { runWorker } from '../sweep/worker.js';
import { sweepStatus } from '../sweep/status.js';
import { verifySweep } from '../sweep/verify.js';
import { removeSweep } from '../sweep/remove.js';
import { jsonReporter, lineReporter, terminalReporter } from '../train/progress.js';
import { positiveInt, numberOption } from '../errors.js';
import { planCommand } from './sweep-plan.js';
import { fmtSeconds, plural, withQueue } from './sweep-format.js';
import { flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/scalelab.js');

function runCommand(): Command {
  return new Command('run')
    .description('train every queued run of a sweep with worker processes')
    .argument('<name>', 'the sweep')
    .option('--workers <n>', 'worker processes', positiveInt('--workers'), 1)
    .addOption(flag('threads', { ...THREADS, help: 'kernel threads per worker (default: cores / workers)' }))
    .option('--lease <seconds>', 'job lease; a dead worker\'s job is taken over after it', numberOption('--lease'), 60)
    .option('--detach', 'keep the sweep going after this terminal closes; logs go to the home folder')
    .addOption(flag('home', HOME))
    .action(async (name, o) => {
      const home = existingHome(o.home);
      await withQueue(home, (q) => q.getSweep(name));
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
        console.log(`sweep ${name}: ${plural(o.workers, 'detached worker')} (${pids.length === 1 ? 'pid' : 'pids'} ${pids.join(', ')}); log in ${logFile}`);
        console.log(`follow it with: scalelab sweep status ${name}`);
        return;
      }
      const codes = await Promise.all(Array.from({ length: o.workers }, () => new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
        c.on('close', resolve);
      })));
      await printStatus(home, name, false);
      if (codes.some((c) => c !== 0)) process.exitCode = 1;
    });
}

async function printStatus(home: string | undefined, name: string, json: boolean): Promise<void> {
  const st = await withQueue(home, (_q, store) => sweepStatus(store, name), true);
  if (json) return console.log(JSON.stringify(st));
  const c = st.counts;
  console.log(`sweep ${name}: ${c.done} done, ${c.running} running, ${c.queued} queued, ${c.failed} failed` +
    (c.queued + c.running > 0 ? (st.etaKnown ? `; about ${fmtSeconds(st.etaSeconds)} left on one worker` : '; ETA once a run has finished') : ''));
  for (const j of st.jobs) {
    const progress = j.tokensTarget ? `${((100 * j.tokensSeen) / j.tokensTarget).toFixed(0)}%` : '-';
    const time = j.wallSeconds !== null ? `  took ${fmtSeconds(j.wallSeconds)}${j.estimatedSeconds ? ` (est. ${fmtSeconds(j.estimatedSeconds)})` : ''}`
      : j.estimatedSeconds ? `  est. ${fmtSeconds(j.estimatedSeconds)}` : '';
    console.log(`  ${String(j.idx).padStart(3)}  ${j.run.padEnd(20)} ${j.status.padEnd(8)} ${progress.padStart(4)}  ` +
      `${j.finalValBpb !== null ? `val ${j.finalValBpb.toFixed(j.metric === 'mse' ? 4 : 3)} ${j.metric}` : ''}${time}${j.error ? `  error: ${j.error}` : ''}`);
  }
  const e = st.estimate;
  if (e) {
    const which = e.jobs === st.jobs.length && e.jobs > 1 ? `all ${e.jobs} jobs` : plural(e.jobs, 'finished job');
    console.log(`${which}: estimated ${fmtSeconds(e.estimatedSeconds)}, ` +
      `took ${fmtSeconds(e.actualSeconds)} (${(e.actualSeconds / e.estimatedSeconds).toFixed(2)}x the estimate)`);
  }
}

function statusCommand(): Command {
  return new Command('status')
    .description('done, running, queued and failed runs of a sweep, with an ETA')
    .argument('<name>', 'the sweep')
    .addOption(flag('home', HOME))
    .option('--json', 'print one JSON object')
    .action((name, o) => printStatus(o.home, name, Boolean(o.json)));
}

function listCommand(): Command {
  return new Command('list')
    .description('every sweep in the store')
    .addOption(flag('home', HOME))
    .action((o) => withQueue(o.home, async (q) => {
      const sweeps = await q.listSweeps();
      if (sweeps.length === 0) return console.log('no sweeps yet: plan one with `scalelab sweep plan NAME --flops 1e12,3e12,1e13`');
      for (const s of sweeps) {
        const c = await q.counts(s.name);
        console.log(`${s.name.padEnd(20)} ${c.done} done, ${c.running} running, ${c.queued} queued, ${c.failed} failed  (${s.createdAt.slice(0, 16).replace('T', ' ')})`);
      }
    }, true));
}

function rmCommand(): Command {
  return new Command('rm')
    .description('delete a sweep, its queue and its runs (with their folders); --keep-runs keeps the runs')
    .argument('<name>', 'the sweep')
    .option('--keep-runs', 'keep the sweep\'s runs (and verify runs) in the store as plain runs')
    .option('--force', 'delete it even while a worker is training one of its jobs (that worker stops at its next heartbeat)')
    .addOption(flag('home', HOME))
    .action(async (name, o) => {
      const home = existingHome(o.home);
      const r = await withQueue(home, (_q, store) => removeSweep(store, home, name, { force: Boolean(o.force), keepRuns: Boolean(o.keepRuns) }));
      console.log(`deleted sweep ${name} (${plural(r.jobs, 'job')}); ` + (o.keepRuns
        ? `kept ${plural(r.keptRuns.length, 'run')}${r.keptRuns.length ? `: ${r.keptRuns.join(', ')}` : ''}`
        : r.deletedRuns.length ? `deleted ${plural(r.deletedRuns.length, 'run')} with ${r.deletedRuns.length === 1 ? 'its folder' : 'their folders'}` : 'it had no runs yet'));
    });
}

function verifyCommand(): Command {
  return new Command('verify')
    .description('fit the sweep, train the compute-optimal run it predicts at --flops, and compare predicted with measured')
    .argument('<name>', 'the sweep')
    .requiredOption('--flops <c>', 'the budget to predict and train, e.g. 4x the largest in the sweep', numberOption('--flops'))
    .option('--resamples <n>', 'bootstrap resamples', positiveInt('--resamples'), 1000)
    .addOption(flag('threads', THREADS))
    .addOption(flag('home', HOME))
    .option('--json', 'print one JSON object at the end (progress as JSON lines)')
    .action(async (name, o) => {
      const reporter = o.json ? jsonReporter() : process.stderr.isTTY ? terminalReporter() : lineReporter();
      if (o.threads) (await import('../engine/native.js')).setThreads(o.threads);
      const say = o.json ? () => {} : (line: string) => console.log(line);
      const r = await verifySweep(name, o.flops, {
        home: o.home, resamples: o.resamples, hooks: { reporter },
        onPlan: (p) => {
          say(`verify ${name} at C = ${o.flops.toExponential(2)} (${p.extrapolation.toFixed(1)}x the largest fitted budget):`);
          say(`  law's optimum N ${p.optimalParams.toExponential(2)}; training ${p.shape.layers}x${p.shape.dModel} (N ${p.params.toLocaleString('en-US')}) on ` +
            `${p.tokens.toLocaleString('en-US')} tokens as ${p.run}`);
          say(`  predicted ${p.predicted.toFixed(4)} bpb [${p.interval[0].toFixed(4)}, ${p.interval[1].toFixed(4)}]`);
          if (p.epochs > Math.max(p.fittedEpochs, MAX_FRESH_EPOCHS)) {
            say(`  warning: this run makes ${p.epochs.toFixed(1)} passes over the training data, the fitted runs at most ${p.fittedEpochs.toFixed(1)}; ` +
              'the law knows nothing of repeated data, so expect the measured loss above the prediction');
          }
        },
      });
      if (o.json) return console.log(JSON.stringify({ type: 'verify', ...r }));
      console.log(`  measured ${r.measured.toFixed(4)} bpb: ${(100 * r.relativeError).toFixed(2)}% ${r.relativeError >= 0 ? 'above' : 'below'} the prediction`);
    });
}

export function sweepCommand(): Command {
  const c = new Command('sweep').description('plan, run, follow and verify sweeps of training runs');
  for (const sub of [planCommand(), runCommand(), statusCommand(), listCommand(), rmCommand(), verifyCommand()]) c.addCommand(sub.exitOverride());
  return c;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('serve the sweep queue: claim a job, train it, repeat until nothing is left')
    .option('--sweep <name>', 'serve only this sweep')
    .option('--lease <seconds>', 'job lease in seconds', numberOption('--lease'), 60)
    .addOption(flag('threads', { ...THREADS, help: 'kernel threads' }))
    .addOption(flag('home', HOME))
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
      console.log(`${who}: finished ${plural(n, 'job')}`);
    });
}
