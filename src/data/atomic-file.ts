// Writing a user's output file (a GIF, a contact sheet) so that it is either all there or not
// there: a temporary file beside it, fsynced, renamed over it. A path that cannot be written is a
// user's mistake, said in one line.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** Write `bytes` to `file` atomically; throws UsageError naming the path and why it cannot be written. */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`cannot write '${file}': ${REASONS.EISDIR}`);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // the temporary file was never made (its folder is missing or not a folder)
    }
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(`cannot write '${file}': ${REASONS[code] ?? (err as Error).message}`);
  }
}
