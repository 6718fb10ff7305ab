// Which model codes a file: named by the user for compress (RUN or RUN@STEP), found by the
// SHA-256 of its weights for decompress. The hash is the sha256 field that scalelab writes into
// every safetensors file it saves (over the header and the data) and that the run store records
// for a run's final weights; loading a file checks it.
import fs from 'node:fs';
import path from 'node:path';
import { GPT } from '../models/gpt.js';
import { openStore, existingHome, runDir, type RunRecord, type Store } from '../runs/index.js';
import { checkpointName, loadWeights } from '../train/checkpoint.js';
import { CorruptFileError } from '../train/safetensors.js';
import { UsageError } from '../errors.js';

export interface CodingModel {
  /** RUN or RUN@STEP, as written into compressed files. */
  name: string;
  file: string;
  sha256: string;
  model: GPT;
}

const CKPT = /^ckpt-(\d{9})\.safetensors$/;

function load(file: string, name: string): CodingModel {
  try {
    const { model, sha256 } = loadWeights(file, (cfg) => new GPT(cfg));
    return { name, file, sha256, model };
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    throw new UsageError(`the weights of model '${name}' failed their integrity check (${err.message}); ` +
      `\`scalelab show ${name.split('@')[0]} --verify\` checks the run's files`);
  }
}

async function withStore<T>(home: string | undefined, f: (store: Store, home: string) => Promise<T>): Promise<T> {
  const h = existingHome(home);
  const store = openStore(h, { reading: true });
  try {
    return await f(store, h);
  } finally {
    await store.close();
  }
}

/** The weights file of RUN (its final weights) or RUN@STEP (that checkpoint). */
async function weightsFile(store: Store, home: string, spec: string): Promise<{ run: RunRecord; file: string; name: string }> {
  const at = spec.lastIndexOf('@');
  const runName = at >= 0 ? spec.slice(0, at) : spec;
  const run = await store.findRun(runName);
  if (!run) throw new UsageError(`no run '${runName}' in ${home}; \`scalelab runs\` lists them (or pass --home)`);
  const dir = runDir(home, run.id);
  if (at < 0) {
    const file = path.join(dir, 'model.safetensors');
    if (!fs.existsSync(file)) throw new UsageError(`run '${run.name}' has no final weights yet; name a checkpoint as ${run.name}@STEP, or let it finish`);
    return { run, file, name: run.name };
  }
  const stepText = spec.slice(at + 1), step = Number(stepText);
  if (!/^\d+$/.test(stepText) || !Number.isSafeInteger(step)) throw new UsageError(`'${spec}': the step after @ must be a whole number`);
  const file = path.join(dir, 'checkpoints', checkpointName(step));
  if (!fs.existsSync(file)) throw new UsageError(`run '${run.name}' has no checkpoint at step ${step}`);
  return { run, file, name: `${run.name}@${step}` };
}

/** Load the model RUN or RUN@STEP of the home. */
export async function openModel(spec: string, home?: string): Promise<CodingModel> {
  const { file, name } = await withStore(home, (store, h) => weightsFile(store, h, spec));
  return load(file, name);
}

/** The sha256 field of a safetensors file's header, without reading its data (null if unreadable). */
export function weightsFileSha(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const len = Buffer.alloc(8);
    if (fs.readSync(fd, len, 0, 8, 0) !== 8) return null;
    const n = Number(len.readBigUInt64LE(0));
    if (n > 1 << 24) return null;
    const head = Buffer.alloc(n);
    if (fs.readSync(fd, head, 0, n, 8) !== n) return null;
    const sha = (JSON.parse(head.toString('utf8')) as { __metadata__?: { sha256?: unknown } }).__metadata__?.sha256;
    return typeof sha === 'string' ? sha : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The model a compressed file names: `spec` when given (refused unless its weights have the
 * file's hash), else the run whose final weights, or one of whose checkpoints, have that hash.
 */
export async function findModel(sha256: string, recordedName: string, o: { spec?: string; home?: string } = {}): Promise<CodingModel> {
  if (o.spec !== undefined) {
    const m = await openModel(o.spec, o.home);
    if (m.sha256 !== sha256) {
      throw new UsageError(`model '${m.name}' is not the one this file was compressed with ('${recordedName}', weights sha256 ${sha256.slice(0, 12)}…; ` +
        `'${m.name}' has ${m.sha256.slice(0, 12)}…); pass the right --model or leave it out to find it by hash`);
    }
    return m;
  }
  const found = await withStore(o.home, async (store, home) => {
    const runs = await store.listRuns();
    for (const r of runs) {
      const file = path.join(runDir(home, r.id), 'model.safetensors');
      if (r.weightsSha256 === sha256 && fs.existsSync(file)) return { file, name: r.name };
    }
    for (const r of runs) {
      const dir = path.join(runDir(home, r.id), 'checkpoints');
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const f of names) {
        const m = CKPT.exec(f);
        if (m && weightsFileSha(path.join(dir, f)) === sha256) return { file: path.join(dir, f), name: `${r.name}@${Number(m[1])}` };
      }
    }
    return { home, file: null as string | null };
  });
  if (found.file === null) {
    throw new UsageError(`this file was compressed with model '${recordedName}' (weights sha256 ${sha256.slice(0, 12)}…), ` +
      `which is not in the scalelab home ${(found as { home: string }).home}; pass --home where that run is, or --model`);
  }
  const m = load(found.file, found.name!);
  if (m.sha256 !== sha256) throw new UsageError(`model '${m.name}' changed on disk since the store recorded it; its weights no longer match the file's hash`);
  return m;
}
