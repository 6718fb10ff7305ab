// Checking a run folder's weights files against their SHA-256 without loading a model: the final
// `model.safetensors` (against the hash inside it and the one the run store recorded) and every
// checkpoint (against the hash inside it). `scalelab show RUN --verify` reports these.
import fs from 'node:fs';
import path from 'node:path';
import { CorruptFileError, readSafetensors } from './safetensors.js';

export interface FileCheck {
  /** Relative to the run folder: `model.safetensors`, `checkpoints/ckpt-000000200.safetensors`. */
  file: string;
  ok: boolean;
  /** The hash the file carries, when it could be read. */
  sha256: string | null;
  /** What is wrong, when not ok. */
  problem: string | null;
}

const CKPT = /^ckpt-\d{9}\.safetensors$/;

/** Verify one file; `expected` is a hash recorded elsewhere that it must also carry. */
export function checkWeightsFile(dir: string, rel: string, expected: string | null = null): FileCheck {
  const file = path.join(dir, rel);
  try {
    const { sha256 } = readSafetensors(file);
    if (expected !== null && sha256 !== expected) {
      return { file: rel, ok: false, sha256, problem: `its sha256 ${sha256} is not the ${expected} the run store recorded: it was replaced` };
    }
    return { file: rel, ok: true, sha256, problem: null };
  } catch (err) {
    if (err instanceof CorruptFileError) return { file: rel, ok: false, sha256: null, problem: err.message.slice(file.length + 2) };
    const code = (err as NodeJS.ErrnoException).code;
    if (code) return { file: rel, ok: false, sha256: null, problem: `cannot be read (${code})` };
    throw err;
  }
}

/** The final weights (when present) and every checkpoint of a run folder, oldest checkpoint first. */
export function checkRunWeights(dir: string, storedSha256: string | null): FileCheck[] {
  const out: FileCheck[] = [];
  if (fs.existsSync(path.join(dir, 'model.safetensors'))) out.push(checkWeightsFile(dir, 'model.safetensors', storedSha256));
  let names: string[] = [];
  try {
    names = fs.readdirSync(path.join(dir, 'checkpoints')).filter((f) => CKPT.test(f)).sort();
  } catch {
    // no checkpoints folder: nothing to check there
  }
  for (const f of names) out.push(checkWeightsFile(dir, path.join('checkpoints', f)));
  return out;
}
