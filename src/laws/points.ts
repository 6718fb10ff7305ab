// Observed training runs, the input to every fit, and the CSV reader for them.
//
// A point is one finished (or evaluated) run: its parameter count N, the tokens D it trained on,
// and its final loss L (nats or bits per byte; any positive loss, the fits are unit-free). The
// optional `flops` is the run's compute budget as the experimenter labelled it; isoFLOP grouping
// uses it when present (a nominal 1e18 budget whose runs land at 0.97e18 … 1.03e18 then groups
// exactly) and falls back to 6·N·D otherwise.
import fs from 'node:fs';
import { UsageError } from '../errors.js';
import { trainingCompute } from '../common/compute.js';

export interface ScalingPoint {
  /** Model parameters N. */
  params: number;
  /** Training tokens D. */
  tokens: number;
  /** Final loss L. */
  loss: number;
  /** Compute budget C in FLOPs, if labelled; otherwise 6·N·D is used. */
  flops?: number;
}

/** A point's training compute: the FLOPs it records, else C = 6·N·D. */
export function pointCompute(p: ScalingPoint): number {
  return p.flops ?? trainingCompute(p.params, p.tokens);
}

const REQUIRED = ['params', 'tokens', 'loss'] as const;

/**
 * Read points from a CSV file whose header names `params`, `tokens` and `loss` (any order, any
 * case; extra columns ignored; an optional `flops` column is kept). Blank lines and lines starting
 * with `#` are skipped. Values must be finite positive numbers (1e9 and 1.5E+10 welcome).
 */
export function readPointsCsv(file: string): ScalingPoint[] {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read points file ${file}${code ? ` (${code})` : ''}; pass a CSV with columns params,tokens,loss`);
  }
  return parsePointsCsv(decodeText(raw, file), file);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The file as text, or a one-line refusal that shows none of its bytes (a binary file's bytes
 *  would drive the user's terminal). A CSV holds no control characters but tab, CR and LF. */
function decodeText(raw: Buffer, file: string): string {
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    throw new UsageError(`points file ${file} is not a text CSV (it is not UTF-8); pass a CSV with columns params,tokens,loss`);
  }
  const control = text.search(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
  if (control >= 0) {
    const code = text.charCodeAt(control).toString(16).padStart(2, '0');
    throw new UsageError(`points file ${file} is not a text CSV (control byte 0x${code} at character ${control}); pass a CSV with columns params,tokens,loss`);
  }
  return text;
}

/** A cell as error messages show it: control and non-printing characters escaped, long cells cut,
 *  so whatever a file holds cannot reach the terminal as anything but plain text. */
export function shownCell(cell: string): string {
  const escaped = JSON.stringify(cell).slice(1, -1).replace(/[\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 40 ? `${escaped.slice(0, 40)}…` : escaped;
}

/** Parse CSV text (see `readPointsCsv`); `source` names the file in error messages. */
export function parsePointsCsv(text: string, source = 'CSV'): ScalingPoint[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerLine = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!isSkippable(lines[i])) { headerLine = i; break; }
  }
  if (headerLine < 0) {
    throw new UsageError(`${source} is empty; it needs a header line params,tokens,loss and one row per run`);
  }
  const header = splitRow(lines[headerLine]).map((h) => h.toLowerCase());
  const col: Record<string, number> = {};
  for (const name of [...REQUIRED, 'flops']) {
    const idx = header.indexOf(name);
    if (idx >= 0) col[name] = idx;
  }
  const missing = REQUIRED.filter((name) => !(name in col));
  if (missing.length > 0) {
    throw new UsageError(
      `${source}:${headerLine + 1}: header is missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
      `(found ${header.map((h) => `'${shownCell(h)}'`).join(', ')}); the header must name params, tokens and loss`,
    );
  }

  const points: ScalingPoint[] = [];
  for (let i = headerLine + 1; i < lines.length; i++) {
    if (isSkippable(lines[i])) continue;
    const cells = splitRow(lines[i]);
    const lineNo = i + 1;
    const value = (name: string): number => {
      const raw = cells[col[name]];
      if (raw === undefined || raw === '') {
        throw new UsageError(`${source}:${lineNo}: ${name} is missing (the row has ${cells.length} of ${header.length} columns); fill it in or delete the row`);
      }
      const v = Number(raw);
      if (!Number.isFinite(v) || v <= 0) {
        throw new UsageError(`${source}:${lineNo}: ${name} must be a finite positive number, got '${shownCell(raw)}'`);
      }
      return v;
    };
    const p: ScalingPoint = { params: value('params'), tokens: value('tokens'), loss: value('loss') };
    if ('flops' in col && (cells[col.flops] ?? '') !== '') p.flops = value('flops');
    points.push(p);
  }
  if (points.length === 0) {
    throw new UsageError(`${source} has a header but no data rows; add one row per run with params,tokens,loss`);
  }
  return points;
}

function isSkippable(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** Split one CSV row; double-quoted cells may contain commas ("" is an escaped quote). */
function splitRow(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur.trim()); cur = ''; }
    else cur += c;
  }
  out.push(cur.trim());
  return out;
}
