// An option declared once: its type and check (a zod schema), its default, and how a command line
// spells it (flag, argument, help). A library function checks what it is given against the
// schemas of a table of these; src/cli/flags.ts turns the same table into commander options, so
// a flag's name, help, default and one-line error come from the declaration too.
import { z } from 'zod';
import { numberOption, positiveInt } from './errors.js';

export interface Option<T = unknown, D extends T | undefined = T | undefined> {
  /** The value's type and check; its error reads `must be …`, to follow the option's name. */
  schema: z.ZodType<T>;
  default: D;
  help: string;
  /** The flag's argument as help shows it ('<n>'); none for a switch. */
  arg?: string;
  /** The flag's name when it is not the option's name in kebab case ('warmup' for warmupSteps). */
  flag?: string;
  /** Reads the flag's text; fails with a line that names the flag and quotes the text. */
  parser?: (flag: string) => (text: string) => T;
  /** The only values the flag takes (listed in help, checked by commander). */
  choices?: readonly string[];
}

/** Options by name. */
export type OptionTable = Record<string, Option<any, any>>;

type ValueOf<O> = O extends Option<infer T, any> ? T : never;
type WithDefault<T extends OptionTable> = { [K in keyof T]: undefined extends T[K]['default'] ? never : K }[keyof T];
/** The values a table declares: an option with a default is always there, one without may be missing. */
export type OptionValues<T extends OptionTable> = { [K in WithDefault<T>]: ValueOf<T[K]> } & { [K in Exclude<keyof T, WithDefault<T>>]?: ValueOf<T[K]> };

interface Spec<D> {
  help: string;
  default?: D;
  arg?: string;
  flag?: string;
}

const must = (what: string) => ({ error: `must be ${what}` });

function declare<T, D extends T | undefined>(schema: z.ZodType<T>, spec: Spec<D>, arg: string | undefined, extra: Partial<Option<T, D>> = {}): Option<T, D> {
  return { arg, ...spec, default: spec.default as D, schema, ...extra };
}

export function positiveInteger<D extends number | undefined = undefined>(spec: Spec<D>): Option<number, D> {
  const m = must('a positive integer');
  return declare(z.number(m).int(m).min(1, m), spec, '<n>', { parser: positiveInt });
}

export function positiveNumber<D extends number | undefined = undefined>(spec: Spec<D>): Option<number, D> {
  const m = must('a positive number');
  return declare(z.number(m).positive(m), spec, '<x>', { parser: (flag) => numberOption(flag) });
}

export function nonNegativeNumber<D extends number | undefined = undefined>(spec: Spec<D>): Option<number, D> {
  const m = must('a non-negative number');
  return declare(z.number(m).min(0, m), spec, '<x>', { parser: (flag) => numberOption(flag, { allowZero: true }) });
}

export function choice<const C extends readonly string[], D extends C[number] | undefined = undefined>(values: C, spec: Spec<D>): Option<C[number], D> {
  const schema = z.enum(values as unknown as [C[number], ...C[number][]], must(`one of ${values.join(', ')}`)) as unknown as z.ZodType<C[number]>;
  return declare(schema, spec, '<kind>', { choices: values });
}

export function text<D extends string | undefined = undefined>(spec: Spec<D> & { arg: string }): Option<string, D> {
  return declare(z.string(must('a string')), spec, spec.arg);
}

/** A switch: on when given. */
export function toggle(spec: Spec<undefined>): Option<boolean, undefined> {
  return declare(z.boolean(must('true or false')), spec, undefined);
}

/** The same option with another default (a command whose reference differs). */
export function withDefault<T, D extends T>(o: Option<T, any>, value: D): Option<T, D> {
  return { ...o, default: value };
}

/** Some options of a table, in the order asked for. */
export function pick<T extends OptionTable, K extends keyof T>(table: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, table[k]])) as Pick<T, K>;
}

/** The defaults of a table, in its order. */
export function defaultsOf<T extends OptionTable>(table: T): { [K in WithDefault<T>]: ValueOf<T[K]> } {
  return Object.fromEntries(Object.entries(table).filter(([, o]) => o.default !== undefined).map(([k, o]) => [k, o.default])) as never;
}

/** One schema for a whole table: options with a default must be there, the others may be missing. */
export function schemaOf<T extends OptionTable>(table: T): z.ZodType<OptionValues<T>> {
  const shape = Object.fromEntries(Object.entries(table).map(([k, o]) => [k, o.default === undefined ? o.schema.optional() : o.schema]));
  return z.object(shape) as unknown as z.ZodType<OptionValues<T>>;
}

/**
 * What is wrong with these values, as one line naming the option (`layers must be a positive
 * integer, got -3`), or null when nothing is. Keys the table does not declare are let through.
 */
export function problemWith<T extends OptionTable>(schema: z.ZodType<OptionValues<T>>, values: object): string | null {
  const r = schema.safeParse(values);
  if (r.success) return null;
  const issue = r.error.issues[0];
  const key = issue.path[0];
  if (key === undefined) return issue.message;
  return `${String(key)} ${issue.message}, got ${String((values as Record<PropertyKey, unknown>)[key])}`;
}
