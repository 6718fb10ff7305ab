// Dropping outliers before a fit, by rule or by row, instead of editing the CSV. Every rule is
// matched against the points as given (not what an earlier rule left), so the order of rules does
// not matter, and what was dropped is reported with the rule that dropped it.
//
// The grammar, one rule per --exclude (repeat the flag for more):
//   rows:3,7,10-12      data rows, counted from 1 after the header (comments and blank lines
//                       not counted; for a sweep, its finished runs in the order of its jobs)
//   loss>3.5            FIELD OP NUMBER: FIELD is params, tokens, loss or flops (the labelled
//                       budget, else 6·N·D); OP is <, <=, > or >=
//   top-loss:5          the K points with the largest FIELD; bottom-FIELD:K the K smallest
//                       (ties broken by row, so the same rule drops the same points)
import { UsageError } from '../errors.js';
import { pointCompute, type ScalingPoint } from './points.js';

export type ExcludeRule =
  | { kind: 'rows'; text: string; rows: number[] }
  | { kind: 'compare'; text: string; field: Field; op: Op; value: number }
  | { kind: 'rank'; text: string; field: Field; top: boolean; count: number };

export interface Excluded {
  /** 1-based data row. */
  row: number;
  point: ScalingPoint;
  /** The first rule (as written) that dropped it. */
  rule: string;
}

const FIELDS = ['params', 'tokens', 'loss', 'flops'] as const;
type Field = (typeof FIELDS)[number];
const OPS = ['<=', '>=', '<', '>'] as const;
type Op = (typeof OPS)[number];

const HELP = "use rows:3,7 (data rows from 1), loss>3.5 (params|tokens|loss|flops with < <= > >=) or top-loss:5 / bottom-params:2";

/** Parse one --exclude rule, or throw a one-line UsageError saying what is wrong and what works. */
export function parseExclude(spec: string): ExcludeRule {
  const text = spec.trim();
  const bad = (why: string) => new UsageError(`--exclude '${text}': ${why}; ${HELP}`);
  const rows = /^rows?:(.*)$/i.exec(text);
  if (rows) {
    const out: number[] = [];
    for (const part of rows[1].split(',').map((s) => s.trim())) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!m) throw bad(`'${part}' is not a row number or range such as 10-12`);
      const a = Number(m[1]), b = Number(m[2] ?? m[1]);
      if (a < 1 || b < a || b - a > 1e6) throw bad(`'${part}' is not a range of rows counted from 1`);
      for (let r = a; r <= b; r++) out.push(r);
    }
    return { kind: 'rows', text, rows: out };
  }
  const rank = /^(top|bottom)-([a-z]+):(.*)$/i.exec(text);
  if (rank) {
    const field = checkField(rank[2].toLowerCase(), bad);
    const count = Number(rank[3].trim());
    if (!/^\s*\d+\s*$/.test(rank[3]) || count < 1) throw bad(`'${rank[3]}' is not a positive whole number of points`);
    return { kind: 'rank', text, field, top: rank[1].toLowerCase() === 'top', count };
  }
  const cmp = /^([a-z]+)\s*(<=|>=|<|>)\s*(.*)$/i.exec(text);
  if (cmp) {
    const field = checkField(cmp[1].toLowerCase(), bad);
    const value = Number(cmp[3]);
    if (cmp[3].trim() === '' || !Number.isFinite(value)) throw bad(`'${cmp[3]}' is not a number`);
    return { kind: 'compare', text, field, op: cmp[2] as Op, value };
  }
  throw bad('not a rule');
}

function checkField(name: string, bad: (why: string) => UsageError): Field {
  if (!(FIELDS as readonly string[]).includes(name)) throw bad(`unknown field '${name}'`);
  return name as Field;
}

const valueOf = (p: ScalingPoint, f: Field) => (f === 'flops' ? pointCompute(p) : p[f]);

/** The points no rule drops, and the ones dropped with their row and rule. */
export function applyExcludes(points: readonly ScalingPoint[], rules: readonly ExcludeRule[]): { kept: ScalingPoint[]; excluded: Excluded[] } {
  const dropped = new Map<number, string>(); // index → rule
  for (const rule of rules) {
    for (const i of matches(points, rule)) if (!dropped.has(i)) dropped.set(i, rule.text);
  }
  const kept: ScalingPoint[] = [];
  const excluded: Excluded[] = [];
  points.forEach((point, i) => {
    const rule = dropped.get(i);
    if (rule === undefined) kept.push(point);
    else excluded.push({ row: i + 1, point, rule });
  });
  return { kept, excluded };
}

function matches(points: readonly ScalingPoint[], rule: ExcludeRule): number[] {
  const n = points.length;
  const bad = (why: string) => new UsageError(`--exclude '${rule.text}': ${why}`);
  switch (rule.kind) {
    case 'rows': {
      const out = rule.rows.filter((r) => r > n);
      if (out.length) throw bad(`row ${out[0]} does not exist: there are ${n} rows`);
      return rule.rows.map((r) => r - 1);
    }
    case 'rank': {
      if (rule.count >= n) throw bad(`would drop all ${n} points; give a count below ${n}`);
      const order = points.map((p, i) => i)
        .sort((a, b) => (rule.top ? -1 : 1) * (valueOf(points[a], rule.field) - valueOf(points[b], rule.field)) || a - b);
      return order.slice(0, rule.count);
    }
    case 'compare': {
      const test = { '<': (x: number) => x < rule.value, '<=': (x: number) => x <= rule.value, '>': (x: number) => x > rule.value, '>=': (x: number) => x >= rule.value }[rule.op];
      return points.flatMap((p, i) => (test(valueOf(p, rule.field)) ? [i] : []));
    }
  }
}
