// `scalelab eval`: tasks on runs, a sweep's runs, their checkpoints, or any OpenAI-compatible
// endpoint; results go into the run store and are printed as a table or JSON.
import { Command } from 'commander';
import { RunStore, existingHome, type RunRecord } from '../runs/index.js';
import { setThreads } from '../engine/native.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { evaluateSubjects, type EvalRow } from '../eval/evaluate.js';
import { runSubjects, type Subject } from '../eval/subjects.js';
import { endpointSubject } from '../eval/endpoint.js';
import { BUILTIN_TASKS, resolveTasks } from '../eval/tasks/index.js';
import { buildPrompt } from '../eval/fewshot.js';
import type { Task } from '../eval/types.js';
import { flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';
import { table } from './table.js';

const DEFAULT_TASKS = 'copy,add2,add3,brown-cloze';

function listTasks(): string {
  return table(['task', 'kind', 'description'], BUILTIN_TASKS.map((t) => [t.name, t.kind, t.description]), [false, false, false]);
}

const num = (v: number | null) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(4));

export function formatRows(rows: readonly EvalRow[]): string {
  return table(['model', 'task', 'shots', 'metric', 'value', '± se', 'n'],
    rows.map((r) => [r.label, r.task, String(r.shots), r.metric, num(r.value), num(r.stderr), String(r.n)]),
    [false, false, true, false, true, true, true]);
}

/** The runs named, or the sweep's runs, each as its subjects (final weights, or every checkpoint). */
async function localSubjects(home: string, store: RunStore, names: string[], sweep: string | undefined, checkpoints: boolean): Promise<Subject[]> {
  const runs: RunRecord[] = await Promise.all(names.map((n) => store.getRun(n)));
  if (sweep !== undefined) {
    await store.sweeps.get(sweep);
    const inSweep = (await Promise.all((await store.runsNamingSweep(sweep)).map((n) => store.getRun(n)))).filter((r) => r.status === 'done');
    if (inSweep.length === 0) throw new UsageError(`sweep '${sweep}' has no finished runs to evaluate yet`);
    runs.push(...inSweep);
  }
  return runs.flatMap((r) => runSubjects(home, r, { checkpoints }));
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate runs (or an OpenAI-compatible endpoint) on tasks; results go into the run store')
    .argument('[runs...]', 'run names or ids')
    .option('--tasks <list>', 'comma-separated task names or .jsonl task files (see --list-tasks)', DEFAULT_TASKS)
    .option('--sweep <name>', "every finished run of the sweep")
    .option('--checkpoints', "each run's checkpoints too (an ability's curve over training)")
    .option('--endpoint <url>', 'an OpenAI-compatible server to evaluate (with --model)')
    .option('--model <id>', 'the model at --endpoint')
    .option('--api-key <key>', 'bearer key for --endpoint (none is sent without it)')
    .option('--concurrency <n>', 'requests in flight at once to --endpoint', positiveInt('--concurrency'), 4)
    .option('--timeout <s>', 'seconds per request to --endpoint', numberOption('--timeout'), 120)
    .option('--retries <n>', 'retries of a request to --endpoint on 429, 5xx, timeouts and dropped connections', numberOption('--retries', { allowZero: true }), 5)
    .option('--context <bytes>', "the endpoint model's context in bytes when its model card does not say", positiveInt('--context'))
    .option('--shots <k>', 'few-shot demonstrations per example', numberOption('--shots', { allowZero: true }), 0)
    .option('--seed <n>', 'seed for drawing demonstrations', numberOption('--seed', { allowZero: true }), 0)
    .option('--limit <n>', 'only the first N examples of each task', positiveInt('--limit'))
    .option('--list-tasks', 'list the built-in tasks and exit')
    .option('--json', 'print JSON')
    .addOption(flag('home', HOME))
    .addOption(flag('threads', THREADS))
    .action(async (names: string[], o) => {
      if (o.listTasks) return void process.stdout.write(listTasks() + '\n');
      if (!Number.isInteger(o.shots)) throw new UsageError(`--shots must be an integer, got '${o.shots}'`);
      if (!Number.isInteger(o.retries)) throw new UsageError(`--retries must be an integer, got '${o.retries}'`);
      if (!Number.isInteger(o.seed)) throw new UsageError(`--seed must be an integer, got '${o.seed}'`);
      if ((o.endpoint === undefined) !== (o.model === undefined)) throw new UsageError('--endpoint and --model go together');
      if (names.length === 0 && o.sweep === undefined && o.endpoint === undefined) {
        throw new UsageError('name runs to evaluate, or give --sweep NAME or --endpoint URL --model ID');
      }
      if (o.threads) setThreads(o.threads);
      const home = existingHome(o.home);
      const store = RunStore.open(home);
      try {
        const tasks: Task[] = resolveTasks(o.tasks, { limit: o.limit });
        // The endpoint first: one that cannot be reached fails before any model is loaded.
        const subjects: Subject[] = o.endpoint === undefined ? [] : [endpointSubject({
          url: o.endpoint, model: o.model, apiKey: o.apiKey, concurrency: o.concurrency, timeoutMs: o.timeout * 1000, maxRetries: o.retries, contextBytes: o.context,
        })];
        subjects.push(...await localSubjects(home, store, names, o.sweep, Boolean(o.checkpoints)));
        const progress = process.stderr.isTTY && !o.json
          ? (s: Subject, t: Task, done: number, total: number) => process.stderr.write(`\r${s.label} ${t.name} ${done}/${total}\x1b[K`)
          : undefined;
        const { rows, skipped, resumed } = await evaluateSubjects(store, subjects, tasks, {
          shots: o.shots, seed: o.seed, prompt: (task) => (ex) => buildPrompt(task, ex, o.shots, o.seed), onProgress: progress,
        });
        if (progress) process.stderr.write('\r\x1b[K');
        for (const s of skipped) process.stderr.write(`scalelab: skipped: ${s.reason}\n`);
        for (const r of resumed) process.stderr.write(`scalelab: ${r.label} ${r.task}: resumed with ${r.examples} of ${r.of} examples already scored\n`);
        process.stdout.write((o.json ? JSON.stringify({ results: rows, skipped, resumed }, null, 2) : formatRows(rows)) + '\n');
      } finally {
        await store.close();
      }
    });
}
