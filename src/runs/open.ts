// Which store a process uses: the SQLite database of its home (the default, nothing to set up),
// or the PostgreSQL server named by --store / $SCALELAB_STORE, which many machines share. And
// where run files go beyond the run folder (--artifacts / $SCALELAB_ARTIFACTS): 'db' (the
// default with PostgreSQL: what a worker with nothing but the URL needs), 'run' (the run folder
// only, the default with SQLite), or a directory every machine mounts.
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DirectoryArtifacts, RunFolderArtifacts, type Artifacts } from './artifacts.js';
import type { Store } from './interface.js';
import { PgRunStore } from './pg/store.js';
import { RunStore } from './store.js';

/** The PostgreSQL URL this process stores into, or undefined for the home's SQLite database. */
export function storeUrl(): string | undefined {
  return process.env.SCALELAB_STORE || undefined;
}

function chosenArtifacts(pg: boolean): Artifacts | 'db' {
  const a = process.env.SCALELAB_ARTIFACTS || (pg ? 'db' : 'run');
  if (a === 'run') return new RunFolderArtifacts();
  if (a === 'db') {
    if (!pg) throw new UsageError('--artifacts db keeps run files in a PostgreSQL store; give one with --store postgres://… or use a shared directory');
    return 'db';
  }
  return new DirectoryArtifacts(path.resolve(a));
}

/**
 * The store of this process, opened: PostgreSQL when a URL is set, else `<home>/scalelab.db`.
 * With `reading`, a home without a database reads as empty and nothing is created. A PostgreSQL
 * server that cannot be reached fails the first call with one line (a UsageError).
 */
export function openStore(home: string, o: { reading?: boolean } = {}): Store {
  const url = storeUrl();
  if (url !== undefined) {
    const a = chosenArtifacts(true);
    return PgRunStore.open(url, a === 'db' ? undefined : a);
  }
  const a = chosenArtifacts(false) as Artifacts;
  return o.reading ? RunStore.openForReading(home, a) : RunStore.open(home, a);
}
