// Training options are declared once (src/train/options.ts): `scalelab train`'s flags, their
// defaults and errors, `sweep plan`'s and `bench`'s shared flags, and the check `train()` makes for
// library callers all follow from that table, so they cannot drift apart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { program } from '../src/cli/main.js';
import { flag } from '../src/cli/flags.js';
import { TRAIN_OPTIONS, TRAIN_DEFAULTS, MODEL_OPTIONS, checkOptions, type TrainOptions } from '../src/train/options.js';
import { train } from '../src/train/train.js';
import { UsageError } from '../src/errors.js';

const command = (...names: string[]): Command => names.reduce((c: Command, n) => c.commands.find((s) => s.name() === n)!, program());

/** The error a command line stops with before any command runs (a flag's parser throws). */
async function cliError(...args: string[]): Promise<Error> {
  try {
    await program().parseAsync(args, { from: 'user' });
  } catch (err) {
    return err as Error;
  }
  assert.fail(`${args.join(' ')} was accepted`);
}

function libraryError(values: Partial<TrainOptions>): Error {
  try {
    checkOptions({ ...TRAIN_DEFAULTS, ...values } as TrainOptions);
  } catch (err) {
    return err as Error;
  }
  assert.fail(`${JSON.stringify(values)} was accepted`);
}

// --mix has a parser too, but takes text; test/mixture.test.ts holds its flag and library to the same words.
const numeric = Object.entries(TRAIN_OPTIONS).filter(([name, o]) => o.parser !== undefined && name !== 'mix');

describe('training options, declared once', () => {
  it('train --help lists every declared option, with the default train() uses', () => {
    const train = command('train');
    for (const [name, o] of Object.entries(TRAIN_OPTIONS)) {
      const f = train.options.find((x) => x.flags === flag(name, o).flags);
      assert.ok(f, `train has no ${flag(name, o).flags}`);
      assert.equal(f.description, o.help);
      assert.equal(f.defaultValue, (TRAIN_DEFAULTS as Record<string, unknown>)[name], name);
      assert.deepEqual(f.argChoices, o.choices, name);
    }
  });

  it('sweep plan and bench take the model flags train takes', () => {
    for (const cmd of [command('sweep', 'plan'), command('bench')]) {
      for (const name of ['norm', 'mlp', 'pos', 'ctx'] as const) {
        const f = cmd.options.find((x) => x.long === flag(name, MODEL_OPTIONS[name]).long);
        assert.ok(f, `${cmd.name()} has no --${name}`);
        assert.deepEqual(f.argChoices, MODEL_OPTIONS[name].choices);
        assert.equal(f.defaultValue, TRAIN_DEFAULTS[name]);
      }
    }
  });

  for (const [name, o] of numeric) {
    const long = flag(name, o).long!;
    it(`${long} and train({ ${name} }) refuse -1 in the same words`, async () => {
      const cli = await cliError('train', long, '-1');
      const lib = libraryError({ [name]: -1 });
      assert.ok(cli instanceof UsageError && lib instanceof UsageError);
      const what = lib.message.match(new RegExp(`^${name} (must be .*), got -1$`))?.[1];
      assert.ok(what, lib.message);
      assert.equal(cli.message, `${long} ${what}, got '-1'`);
    });
  }

  it('train() refuses what the flags refuse, naming the option', () => {
    const cases: [Partial<TrainOptions>, RegExp][] = [
      [{ layers: 1.5 }, /^layers must be a positive integer, got 1\.5$/],
      [{ tokens: Infinity }, /^tokens must be a positive number, got Infinity$/],
      [{ lr: NaN }, /^lr must be a positive number, got NaN$/],
      [{ schedule: 'linear' as 'wsd' }, /^schedule must be one of cosine, wsd, got linear$/],
      [{ norm: 'batchnorm' as 'rmsnorm' }, /^norm must be one of layernorm, rmsnorm, got batchnorm$/],
      [{ threads: 0 }, /^threads must be a positive integer, got 0$/],
      [{ corpus: 5 as unknown as string }, /^corpus must be a string, got 5$/],
      [{ dModel: 30, heads: 4 }, /^heads \(4\) must divide d_model \(30\)$/],
      [{ dModel: 30, heads: 2, pos: 'rope' }, /^rope needs an even head dimension, got d_model \/ heads = 15$/],
    ];
    for (const [values, message] of cases) {
      const err = libraryError(values);
      assert.ok(err instanceof UsageError, `${JSON.stringify(values)}: ${err}`);
      assert.match(err.message, message);
    }
    // What the table does not declare (a sweep's name on its runs) is let through.
    checkOptions({ ...TRAIN_DEFAULTS, sweep: 'a' } as TrainOptions);
  });

  it('train() refuses a bad thread count as a usage error, before any run is recorded', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-options-'));
    try {
      await assert.rejects(train({ layers: 1, dModel: 16, heads: 2, ctx: 8, tokens: 64, threads: 0 }, { home }),
        (e: Error) => e instanceof UsageError && /threads must be a positive integer, got 0/.test(e.message));
      assert.ok(!fs.existsSync(path.join(home, 'runs')) || fs.readdirSync(path.join(home, 'runs')).length === 0);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
