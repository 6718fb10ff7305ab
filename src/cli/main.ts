// The `scalelab` command: one subcommand per file, each a thin wrapper over the library.
import { Command, CommanderError } from 'commander';
import { addStoreOptions } from './store-options.js';
import { benchCommand } from './bench.js';
import { trainCommand } from './train.js';
import { runsCommand, showCommand } from './runs.js';
import { generateCommand } from './generate.js';
import { sweepCommand, workerCommand } from './sweep.js';
import { serveCommand } from './serve.js';
import { dashboardCommand } from './dashboard.js';
import { storeCommand } from './store.js';
import { fitCommand, predictCommand, compareCommand } from './fit.js';
import { emergenceCommand } from './emergence.js';
import { evalCommand } from './eval.js';
import { videoCommand } from './video.js';
import { evalVideoCommand } from './eval-video.js';
import { compressCommand, decompressCommand } from './compress.js';
import { UsageError } from '../errors.js';
import { ShapeError } from '../engine/ops.js';

export function program(): Command {
  const p = new Command('scalelab')
    .description('train GPT families on native CPU kernels and measure how they scale')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  p.addCommand(trainCommand());
  p.addCommand(runsCommand());
  p.addCommand(showCommand());
  p.addCommand(generateCommand());
  p.addCommand(videoCommand());
  p.addCommand(sweepCommand());
  p.addCommand(workerCommand());
  p.addCommand(fitCommand());
  p.addCommand(predictCommand());
  p.addCommand(compareCommand());
  p.addCommand(evalCommand());
  p.addCommand(evalVideoCommand());
  p.addCommand(emergenceCommand());
  p.addCommand(benchCommand());
  p.addCommand(serveCommand());
  p.addCommand(dashboardCommand());
  p.addCommand(compressCommand());
  p.addCommand(decompressCommand());
  p.addCommand(storeCommand());
  // Every command down to `bench dit` and the like: a bad flag is exit 2, not commander's 1.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  p.commands.forEach(override);
  addStoreOptions(p);
  return p;
}

export async function main(argv: string[]): Promise<void> {
  // `scalelab runs | head`: a reader that stops early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its one-line error otherwise.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const line = userErrorLine(err);
    if (line === undefined) throw err;
    process.stderr.write(`${line}\n`);
    process.exitCode = 2;
  }
}

/** The one line a user's mistake is reported as, or undefined for a bug (which keeps its stack trace). */
export function userErrorLine(err: unknown): string | undefined {
  if (err instanceof UsageError || err instanceof ShapeError) return `scalelab: ${err.message}`;
  return undefined;
}
