// `scalelab emergence`: a task's metrics against training compute across a sweep, or against
// training step across one run's checkpoints, each metric with how abruptly it rises.
import { Command } from 'commander';
import { RunStore, existingHome } from '../runs/index.js';
import { emergenceView, type EmergenceView } from '../eval/emergence.js';
import { describeShape } from '../common/emergence-text.js';
import { numberOption } from '../errors.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';
import { table } from './table.js';

const num = (v: number | null, digits = 3) => (v === null ? '-' : Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(2) : v.toFixed(digits));

export function formatEmergence(v: EmergenceView): string {
  if (v.series.length === 0) return `no results for task '${v.task}' with ${v.shots} shots; run \`scalelab eval\` first`;
  const out = [`${v.task} (${v.taskVersion}, ${v.shots}-shot) against training ${v.axis === 'flops' ? 'FLOPs' : 'step'}`];
  for (const s of v.series) {
    out.push('', `${s.metric} (${s.higherIsBetter ? 'higher' : 'lower'} is better): ${describeShape(s.shape, v.axis)}`);
    out.push(table([v.axis === 'flops' ? 'run' : 'checkpoint', v.axis === 'flops' ? 'FLOPs' : 'step', 'value', '± se', 'n'],
      s.points.map((p) => [p.label, v.axis === 'flops' ? p.x.toExponential(2) : String(p.x), num(p.value), num(p.stderr), String(p.n)]),
      [false, true, true, true, true]));
  }
  return out.join('\n');
}

export function emergenceCommand(): Command {
  return new Command('emergence')
    .description("a task's metrics against training compute (a sweep) or step (a run's checkpoints): exact match beside the continuous metric")
    .requiredOption('--task <name>', 'the task, as evaluated')
    .option('--sweep <name>', "the sweep's runs, against training FLOPs")
    .option('--run <name>', "one run's checkpoints, against training step")
    .option('--shots <k>', 'few-shot count the results were evaluated with', numberOption('--shots', { allowZero: true }), 0)
    .option('--json', 'print JSON')
    .addOption(flag('home', HOME))
    .action(async (o) => {
      const store = RunStore.openForReading(existingHome(o.home));
      try {
        const view = await emergenceView(store, { task: o.task, shots: o.shots, sweep: o.sweep, run: o.run });
        process.stdout.write((o.json ? JSON.stringify(view, null, 2) : formatEmergence(view)) + '\n');
      } finally {
        await store.close();
      }
    });
}
