// `scalelab bench eval`: examples per second of tasks scored batched against one at a time.
import { Command } from 'commander';
import { benchEval } from '../bench/eval.js';
import { buildPrompt } from '../eval/fewshot.js';
import { resolveTasks } from '../eval/tasks/index.js';
import { RunStore, existingHome } from '../runs/index.js';
import { loadRunWeights, runWeightsFile } from '../train/run-weights.js';
import { UsageError, numberOption, positiveInt } from '../errors.js';
import { flag } from './flags.js';
import { HOME, THREADS } from './shared-options.js';
import { table } from './table.js';

export function evalBenchCommand(): Command {
  return new Command('eval')
    .description('score tasks with requests batched and one example at a time, on the reference GPT (random weights) or --model RUN, and compare')
    .option('--model <run>', 'a run of --home instead of the random reference model')
    .addOption(flag('home', { ...HOME, help: 'scalelab home holding --model (default: $SCALELAB_HOME or ./.scalelab)' }))
    .option('--tasks <list>', 'tasks to score', 'brown-cloze,add3')
    .option('--limit <n>', 'examples per task', positiveInt('--limit'), 200)
    .option('--shots <k>', 'few-shot demonstrations per example', numberOption('--shots', { allowZero: true }), 0)
    .addOption(flag('threads', THREADS))
    .option('--json', 'print one JSON object')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals();
      if (!Number.isInteger(o.shots)) throw new UsageError(`--shots must be an integer, got '${o.shots}'`);
      let model;
      if (o.model !== undefined) {
        const home = existingHome(o.home);
        const store = RunStore.openForReading(home);
        try {
          const run = await store.getRun(o.model);
          const file = runWeightsFile(home, run.id);
          if (!file) throw new UsageError(`run '${run.name}' has no weights yet; train it first`);
          model = loadRunWeights(file, run.name).model;
        } finally {
          await store.close();
        }
      }
      const res = await benchEval({
        model, tasks: resolveTasks(o.tasks), limit: o.limit, threads: o.threads,
        prompt: (task) => (ex) => buildPrompt(task, ex, o.shots, 0),
      });
      if (o.json) return console.log(JSON.stringify(res));
      console.log(`scalelab bench eval: ${o.model ?? 'reference GPT (random weights)'}, ${(res.params / 1e6).toFixed(2)}M params, kernels=${res.kernel} threads=${res.threads}, ${o.shots}-shot`);
      console.log(table(['task', 'examples', 'batched ex/s', 'one at a time ex/s', 'speedup', 'same metrics'],
        res.rows.map((r) => [r.task, String(r.examples), r.batched_examples_per_s.toFixed(1), r.single_examples_per_s.toFixed(1), `${r.speedup.toFixed(2)}x`, r.identical ? 'yes' : 'NO']),
        [false, true, true, true, true, false]));
    });
}
