// `scalelab store copy --from DIR --to postgres://…`: move a home into a PostgreSQL store.
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { copyHome, existingHome, PgRunStore } from '../runs/index.js';

export function storeCommand(): Command {
  const store = new Command('store').description('the run store itself: copy a home into PostgreSQL');
  store.addCommand(new Command('copy')
    .description('copy a home (runs, metrics, events, sweeps, evaluation results and run files) into a PostgreSQL store, then check counts and hashes')
    .requiredOption('--from <dir>', 'the scalelab home to copy (its SQLite store and run folders)')
    .requiredOption('--to <url>', 'the PostgreSQL store: postgres://USER[:PASSWORD]@HOST[:PORT]/DB')
    .action(async (o) => {
      if (!/^postgres(ql)?:/.test(o.to)) throw new UsageError(`--to must be a postgres:// URL, got '${o.to}'`);
      const from = existingHome(o.from);
      const to = PgRunStore.open(o.to);
      try {
        const r = await copyHome(from, to);
        console.log(`copied ${r.runs} runs (${r.skippedRuns} already there), ${r.metricRows} metric rows, ${r.events} events, ` +
          `${r.sweeps} sweeps (${r.jobs} jobs), ${r.evalResults} evaluation results, ${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB); ` +
          'checked: metric rows, events and files by SHA-256, jobs and results by count');
      } finally {
        await to.close();
      }
    }));
  return store;
}
