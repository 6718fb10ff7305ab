// Declared options (src/option.ts) as commander flags: `--d-model <n>` for dModel, with the
// declaration's help, default and one-line error, and the parsed values back under the
// declaration's names.
import { Option as Flag, type Command } from 'commander';
import type { Option, OptionTable, OptionValues } from '../option.js';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The commander option for one declared option. */
export function flag(name: string, o: Option<any, any>): Flag {
  const long = `--${o.flag ?? kebab(name)}`;
  const f = new Flag(o.arg ? `${long} ${o.arg}` : long, o.help);
  if (o.choices) f.choices(o.choices);
  else if (o.parser) f.argParser(o.parser(long));
  if (o.default !== undefined) f.default(o.default);
  return f;
}

/** Add a table's options to a command, in the table's order. */
export function addFlags(cmd: Command, table: OptionTable): Command {
  for (const [name, o] of Object.entries(table)) cmd.addOption(flag(name, o));
  return cmd;
}

/** The values commander parsed for a table's options, under the table's names. */
export function flagValues<T extends OptionTable>(table: T, parsed: Record<string, unknown>): OptionValues<T> {
  return Object.fromEntries(Object.entries(table).map(([name, o]) => [name, parsed[flag(name, o).attributeName()]])) as OptionValues<T>;
}
