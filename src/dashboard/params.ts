// Validation of the dashboard API's path and query parameters. A run or sweep is named in the
// URL and looked up in the store, never on disk; anything outside the naming rules is a 400
// before the store is asked, and a well-formed name the store does not know is a 404. Errors
// come in the API's shape ({"error": {...}}) through the server's error handler.
import { ApiError, badParam } from '../serve/errors.js';
import { RUN_ID_PATTERN } from '../runs/index.js';

/** Sweep names as SweepQueue.createSweep accepts them. */
export const SWEEP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const X_AXES = ['step', 'tokens', 'flops'] as const;
export type XAxis = (typeof X_AXES)[number];

type Query = Record<string, unknown>;

export function runRef(value: unknown): string {
  if (typeof value !== 'string' || !RUN_ID_PATTERN.test(value)) {
    throw badParam('run', `Invalid run id or name '${printable(value)}': use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.`, 'invalid_run');
  }
  return value;
}

export function sweepRef(value: unknown): string {
  if (typeof value !== 'string' || !SWEEP_NAME_PATTERN.test(value)) {
    throw badParam('sweep', `Invalid sweep name '${printable(value)}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`, 'invalid_sweep');
  }
  return value;
}

export function notFound(what: 'run' | 'sweep', name: string): ApiError {
  return new ApiError(404, `No ${what} named '${name}' in this scalelab home.`, 'invalid_request_error', what, `${what}_not_found`);
}

export function xAxis(q: Query): XAxis {
  const v = single(q, 'x') ?? 'step';
  if (!(X_AXES as readonly string[]).includes(v)) throw badParam('x', `Invalid 'x': use one of ${X_AXES.join(', ')}, got '${printable(v)}'.`);
  return v as XAxis;
}

/** A task as `scalelab eval` stored it: any name without control characters (it is only ever a bound parameter). */
export function taskParam(q: Query): string {
  const v = single(q, 'task');
  if (v === undefined) throw badParam('task', "Give 'task': one of the tasks /api/evals lists for this sweep or run.", 'missing_task');
  if (!/^[^\x00-\x1f\x7f]{1,128}$/.test(v)) throw badParam('task', `Invalid task '${printable(v)}': use 1-128 characters, none of them control characters.`);
  return v;
}

/** `sweep=NAME` or `run=NAME`, exactly one of them, checked against the naming rules. */
export function sourceParam(q: Query): { sweep: string } | { run: string } {
  const sweep = single(q, 'sweep'), run = single(q, 'run');
  if (sweep !== undefined && run !== undefined) throw badParam('run', "Give either 'sweep' or 'run', not both.");
  if (sweep !== undefined) return { sweep: sweepRef(sweep) };
  if (run !== undefined) return { run: runRef(run) };
  throw badParam('sweep', "Give 'sweep=NAME' (its runs against training FLOPs) or 'run=NAME' (its checkpoints against step).", 'missing_source');
}

export function intParam(q: Query, key: string, def: number, min: number, max: number): number {
  const v = single(q, key);
  if (v === undefined) return def;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw badParam(key, `Invalid '${key}': use an integer from ${min} to ${max}, got '${printable(v)}'.`);
  return n;
}

export function numParam(q: Query, key: string): number | undefined {
  const v = single(q, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw badParam(key, `Invalid '${key}': use a finite number, got '${printable(v)}'.`);
  return n;
}

export function boolParam(q: Query, key: string): boolean {
  const v = single(q, key);
  if (v === undefined || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw badParam(key, `Invalid '${key}': use 1 or 0, got '${printable(v)}'.`);
}

function single(q: Query, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badParam(key, `Give '${key}' once.`);
  return v;
}

/** Echo user input in a message without letting it break the line or grow the response. */
export function printable(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}
