// Where a run's files live beyond its own folder: nowhere (the default: the run folder is the only
// copy, as on one machine), a directory every machine mounts, or the database of a PostgreSQL
// store (pg/artifacts.ts). Training writes its files in the run folder as always and then puts
// them here; a process that resumes or serves a run it did not write fetches them first. Names
// are paths inside the run folder ('model.safetensors', 'checkpoints/ckpt-000000040.safetensors');
// every copy is checked against its SHA-256 before it is renamed into place.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { assertRunId } from './home.js';

export interface ArtifactInfo { name: string; size: number; sha256: string }

export interface Artifacts {
  /** 'run folder', 'shared directory' or 'database': for messages. */
  readonly kind: string;
  /** Keep a copy of `file` as the run's artifact `name` (replacing an older one). */
  put(runId: string, name: string, file: string): Promise<ArtifactInfo>;
  /** The run's artifacts. */
  list(runId: string): Promise<ArtifactInfo[]>;
  /** Write artifact `name` to `file`, verified; false when there is none of that name. */
  get(runId: string, name: string, file: string): Promise<boolean>;
  remove(runId: string, names: readonly string[]): Promise<void>;
}

/** The default: the run folder holds the only copy, so there is nothing to put or fetch. */
export class RunFolderArtifacts implements Artifacts {
  readonly kind = 'run folder';
  async put(_runId: string, name: string, file: string): Promise<ArtifactInfo> {
    // Nothing to copy, so nothing hashed either: the training loop calls this at every checkpoint.
    return { name, size: fs.statSync(file).size, sha256: '' };
  }
  async list(): Promise<ArtifactInfo[]> {
    return [];
  }
  async get(): Promise<boolean> {
    return false;
  }
  async remove(): Promise<void> {}
}

/** A directory every worker mounts: `<dir>/<run id>/<name>`, each beside `<name>.sha256`. */
export class DirectoryArtifacts implements Artifacts {
  readonly kind = 'shared directory';
  constructor(readonly dir: string) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new UsageError(`cannot use ${dir} for artifacts (${(err as NodeJS.ErrnoException).code}); pass another --artifacts DIR`);
    }
  }

  private where(runId: string, name: string): string {
    assertRunId(runId);
    const file = path.resolve(this.dir, runId, name);
    if (!file.startsWith(path.resolve(this.dir, runId) + path.sep)) throw new Error(`bad artifact name '${name}'`);
    return file;
  }

  async put(runId: string, name: string, file: string): Promise<ArtifactInfo> {
    const to = this.where(runId, name);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const sha256 = sha256File(file);
    const tmp = `${to}.put-${process.pid}.tmp`;
    fs.copyFileSync(file, tmp);
    fs.writeFileSync(`${to}.sha256`, sha256);
    fs.renameSync(tmp, to);
    return { name, size: fs.statSync(to).size, sha256 };
  }

  async list(runId: string): Promise<ArtifactInfo[]> {
    const root = path.join(this.dir, runId);
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }))
      .filter((n) => n.endsWith('.sha256'))
      .map((n) => n.slice(0, -'.sha256'.length))
      .filter((n) => fs.existsSync(path.join(root, n)))
      .map((n) => ({ name: n, size: fs.statSync(path.join(root, n)).size, sha256: fs.readFileSync(path.join(root, `${n}.sha256`), 'utf8').trim() }));
  }

  async get(runId: string, name: string, file: string): Promise<boolean> {
    const from = this.where(runId, name);
    if (!fs.existsSync(from)) return false;
    const expected = fs.readFileSync(`${from}.sha256`, 'utf8').trim();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.fetch-${process.pid}.tmp`;
    fs.copyFileSync(from, tmp);
    const got = sha256File(tmp);
    if (got !== expected) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`artifact ${name} of run ${runId} failed verification: sha256 ${got}, expected ${expected}`);
    }
    fs.renameSync(tmp, file);
    return true;
  }

  async remove(runId: string, names: readonly string[]): Promise<void> {
    for (const n of names) for (const f of [this.where(runId, n), `${this.where(runId, n)}.sha256`]) fs.rmSync(f, { force: true });
  }
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Fetch into the run folder `dir` every artifact of the run that the folder lacks or holds a
 * different copy of (a checkpoint another worker wrote); returns the names fetched.
 */
export async function fetchMissing(artifacts: Artifacts, runId: string, dir: string, only?: (name: string) => boolean): Promise<string[]> {
  const fetched: string[] = [];
  for (const a of await artifacts.list(runId)) {
    if (only && !only(a.name)) continue;
    const file = path.join(dir, a.name);
    if (fs.existsSync(file) && fs.statSync(file).size === a.size && sha256File(file) === a.sha256) continue;
    if (await artifacts.get(runId, a.name, file)) fetched.push(a.name);
  }
  return fetched;
}
