// A build's fingerprint: a SHA-256 over the files it is made from and the facts about the toolchain
// that change its output. A build whose stamp holds the fingerprint of the current inputs is up to
// date, so `npm install` and npx (which installs this folder into its cache) skip it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Every file under `entry` (a file or a folder), as paths relative to `root`, sorted. */
function filesUnder(root, entry) {
  const full = path.join(root, entry);
  if (!fs.statSync(full).isDirectory()) return [entry];
  return fs.readdirSync(full).sort().flatMap((name) => filesUnder(root, path.join(entry, name)));
}

/** The fingerprint of the files under `entries` (relative to `root`) and of `facts`. */
export function fingerprint(root, entries, facts) {
  const hash = createHash('sha256');
  for (const file of entries.flatMap((entry) => filesUnder(root, entry))) {
    // Names go in with the contents, so renaming or moving a file changes the fingerprint.
    hash.update(`${file.split(path.sep).join('/')}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  hash.update(JSON.stringify(facts));
  return hash.digest('hex');
}

/** The fingerprint recorded in `file`, or null when there is none. */
export function readStamp(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Records `value` in `file` through a temporary file and a rename, so a reader sees the old or the new. */
export function writeStamp(file, value) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${value}\n`);
  fs.renameSync(tmp, file);
}
