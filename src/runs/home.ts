// Where scalelab keeps its runs. Everything that builds a path from a run id goes through
// runDir, which validates the id first, so an id read from a command line or a database can
// never point outside <home>/runs.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The home directory: `dir` (from --home), else $SCALELAB_HOME, else ./.scalelab; absolute and created. */
export function resolveHome(dir?: string): string {
  const home = chosenHome(dir);
  ensureDir(home, `scalelab home '${home}'`, 'pass another --home DIR or set SCALELAB_HOME');
  return home;
}

/**
 * The home of a command that only reads (runs, show, fit, sweep status, dashboard...): chosen
 * as resolveHome chooses it, but it must exist already. A mistyped --home is an error, not a
 * new empty home left behind.
 */
export function existingHome(dir?: string): string {
  // With a PostgreSQL store the runs live on the server: the home only holds local copies of
  // run files, and a machine that has never trained starts with an empty one.
  if (process.env.SCALELAB_STORE) return resolveHome(dir);
  const home = chosenHome(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(home);
  } catch {
    throw new UsageError(`no scalelab home at ${home}; pass the --home DIR your runs are in (or set SCALELAB_HOME)`);
  }
  if (!stat.isDirectory()) throw new UsageError(`scalelab home '${home}' is not a directory; pass another --home DIR or set SCALELAB_HOME`);
  return home;
}

function chosenHome(dir?: string): string {
  // An empty $SCALELAB_HOME (e.g. `SCALELAB_HOME= scalelab ...`) means unset, not the cwd.
  const chosen = dir ?? (process.env.SCALELAB_HOME || undefined) ?? '.scalelab';
  if (chosen.trim() === '') throw new UsageError(`--home must name a directory, got an empty string`);
  return path.resolve(chosen);
}

/** Throw a UsageError unless `id` is a well-formed run id (letters, digits, '.', '_', '-'; no leading dot). */
export function assertRunId(id: string): void {
  if (typeof id !== 'string' || !RUN_ID_PATTERN.test(id)) {
    throw new UsageError(`bad run id '${String(id)}': use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

/** `<home>/runs/<runId>`, created on demand, for a run's checkpoints and logs. */
export function runDir(home: string, runId: string): string {
  assertRunId(runId);
  const dir = path.join(home, 'runs', runId);
  ensureDir(dir, `run directory '${dir}'`, 'check the permissions of the scalelab home or pass another --home DIR');
  return dir;
}

function ensureDir(dir: string, what: string, fix: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UsageError(`cannot create ${what} (${code}); ${fix}`);
  }
  // mkdirSync with recursive succeeds silently on an existing file in some cases, so check.
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`${what} exists but is not a directory; ${fix}`);
}
