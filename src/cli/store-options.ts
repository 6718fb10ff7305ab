// --store and --artifacts, on every command: they choose the run store (the home's SQLite file,
// or a PostgreSQL server many machines share) and where run files go. They travel as
// $SCALELAB_STORE and $SCALELAB_ARTIFACTS, so the worker processes, training threads and
// dashboard threads a command starts use the same store.
import { Option, type Command } from 'commander';

const STORE = 'the run store: postgres://USER[:PASSWORD]@HOST[:PORT]/DB shared by many machines (default: $SCALELAB_STORE, else the home\'s SQLite file)';
const ARTIFACTS = 'where checkpoints and weights are kept beyond the run folder: db (the PostgreSQL store; its default), run (the run folder only; SQLite\'s default) or a shared DIR (default: $SCALELAB_ARTIFACTS)';

/** Give every command (and subcommand) --store and --artifacts, applied before its action runs. */
export function addStoreOptions(program: Command): void {
  const visit = (c: Command) => {
    for (const sub of c.commands) {
      if (sub.commands.length === 0) {
        sub.addOption(new Option('--store <url>', STORE));
        sub.addOption(new Option('--artifacts <where>', ARTIFACTS));
      }
      visit(sub);
    }
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    const o = action.opts() as { store?: string; artifacts?: string };
    if (o.store !== undefined) process.env.SCALELAB_STORE = o.store;
    if (o.artifacts !== undefined) process.env.SCALELAB_ARTIFACTS = o.artifacts;
  });
}
