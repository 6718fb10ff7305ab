// Replacing a file so that it is either all there or not there: a temporary file beside it,
// written, fsynced, renamed over it, and, where asked, the folder fsynced too, so that the rename
// itself survives a crash. Every file scalelab replaces goes through here: weights and
// checkpoints, artifacts fetched from the database, compressed output, a user's GIF or PNG.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from './errors.js';

export interface AtomicOptions {
  /** Name the temporary file `.<name>.tmp-<pid>-<tag>`, out of a plain `ls` of a user's folder. */
  hidden?: boolean;
  /** A fixed temporary name instead, replaced if an earlier writer left it behind. */
  temp?: string;
  /** Fsync the folder after the rename, so that a crash cannot undo it. */
  syncDir?: boolean;
}

interface Temp {
  tmp: string;
  fd: number;
}

/**
 * By default the temporary file is `<file>.tmp-<pid>-<tag>`: the writer's pid and a random tag,
 * so no two writers (processes, or threads of one) share one, and whoever cleans up can tell
 * whether its writer is still alive (removeStaleTemps in src/train/checkpoint.ts reads that
 * name). Such a name is new, so it is opened exclusively.
 */
function begin(file: string, o: AtomicOptions): Temp {
  if (o.temp !== undefined) return { tmp: o.temp, fd: fs.openSync(o.temp, 'w') };
  const tag = `tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = o.hidden ? path.join(path.dirname(file), `.${path.basename(file)}.${tag}`) : `${file}.${tag}`;
  return { tmp, fd: fs.openSync(tmp, 'wx') };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

function removeQuietly(tmp: string): void {
  try {
    fs.rmSync(tmp, { force: true });
  } catch {
    // nothing more to do: the error that brought us here is the one to report
  }
}

function abandon(t: Temp): void {
  fs.closeSync(t.fd);
  removeQuietly(t.tmp);
}

function finish(t: Temp, file: string, o: AtomicOptions): void {
  try {
    try {
      fs.fsyncSync(t.fd);
    } finally {
      fs.closeSync(t.fd);
    }
    fs.renameSync(t.tmp, file);
  } catch (err) {
    removeQuietly(t.tmp);
    throw err;
  }
  if (!o.syncDir) return;
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

/** Replace `file` with `data` (one buffer, or several in order). Errors are thrown as they are. */
export function writeAtomic(file: string, data: Uint8Array | readonly Uint8Array[], o: AtomicOptions = {}): void {
  const t = begin(file, o);
  try {
    for (const c of data instanceof Uint8Array ? [data] : data) writeAll(t.fd, c);
  } catch (err) {
    abandon(t);
    throw err;
  }
  finish(t, file, o);
}

/**
 * Replace `file` with bytes that arrive over time: `fill` hands each piece to `write`, and
 * throws to give the file up (a failed check), leaving the old one as it was.
 */
export async function writeAtomicFrom(file: string, fill: (write: (bytes: Uint8Array) => void) => Promise<void>, o: AtomicOptions = {}): Promise<void> {
  const t = begin(file, o);
  try {
    await fill((bytes) => writeAll(t.fd, bytes));
  } catch (err) {
    abandon(t);
    throw err;
  }
  finish(t, file, o);
}

const REASONS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/**
 * Write a user's output file (a GIF, a contact sheet) atomically; a path that cannot be written
 * is a user's mistake, thrown as a UsageError naming the path and why.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`cannot write '${file}': ${REASONS.EISDIR}`);
  try {
    writeAtomic(file, bytes, { hidden: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(`cannot write '${file}': ${REASONS[code] ?? (err as Error).message}`);
  }
}
