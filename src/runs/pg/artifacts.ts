// A run's files (checkpoints, final weights) kept in the PostgreSQL store, so that a worker or a
// server on another machine, with nothing but the database URL, can load what another wrote.
// A file goes in as chunks of CHUNK_BYTES in one transaction, with its SHA-256; it comes out
// written to a temporary file, checked against that SHA-256, and renamed into place, so a
// reader never sees a partial or damaged copy.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomicFrom } from '../../atomic-file.js';
import type { ArtifactInfo, Artifacts } from '../artifacts.js';
import type { PgConnection } from './connection.js';

const CHUNK_BYTES = 4 << 20;

export class PgArtifacts implements Artifacts {
  readonly kind = 'database';
  readonly #c: PgConnection;

  constructor(c: PgConnection) {
    this.#c = c;
  }

  async put(runId: string, name: string, file: string): Promise<ArtifactInfo> {
    const bytes = fs.readFileSync(file);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    await this.#c.tx(async (t) => {
      await t.query('DELETE FROM artifacts WHERE run_id = $1 AND name = $2', [runId, name]); // chunks cascade
      await t.query('INSERT INTO artifacts (run_id, name, size, sha256, chunks, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [runId, name, bytes.length, sha256, chunks, new Date().toISOString()]);
      for (let i = 0; i < chunks; i++) {
        await t.query('INSERT INTO artifact_chunks (run_id, name, idx, data) VALUES ($1, $2, $3, $4)',
          [runId, name, i, bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)]);
      }
    });
    return { name, size: bytes.length, sha256 };
  }

  async list(runId: string): Promise<ArtifactInfo[]> {
    const r = await this.#c.query('SELECT name, size, sha256 FROM artifacts WHERE run_id = $1 ORDER BY name', [runId]);
    return r.rows.map((x) => ({ name: x.name, size: x.size, sha256: x.sha256 }));
  }

  async get(runId: string, name: string, file: string): Promise<boolean> {
    const head = (await this.#c.query('SELECT size, sha256, chunks FROM artifacts WHERE run_id = $1 AND name = $2', [runId, name])).rows[0];
    if (!head) return false;
    const hash = crypto.createHash('sha256');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await writeAtomicFrom(file, async (write) => {
      let size = 0;
      // One chunk per query: memory stays at a chunk, whatever the file's size.
      for (let i = 0; i < head.chunks; i++) {
        const c = (await this.#c.query<{ data: Buffer }>('SELECT data FROM artifact_chunks WHERE run_id = $1 AND name = $2 AND idx = $3', [runId, name, i])).rows[0];
        if (!c) throw new Error(`artifact ${name} of run ${runId} is missing chunk ${i}`);
        hash.update(c.data);
        write(c.data);
        size += c.data.length;
      }
      const sha256 = hash.digest('hex');
      if (size !== head.size || sha256 !== head.sha256) {
        throw new Error(`artifact ${name} of run ${runId} failed verification: sha256 ${sha256} (${size} bytes), expected ${head.sha256} (${head.size} bytes)`);
      }
    }, { temp: `${file}.fetch-${process.pid}.tmp` });
    return true;
  }

  async remove(runId: string, names: readonly string[]): Promise<void> {
    if (names.length) await this.#c.query('DELETE FROM artifacts WHERE run_id = $1 AND name = ANY($2::text[])', [runId, names]);
  }
}
