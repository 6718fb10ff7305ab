// A run's weights on disk: which file holds them, and loading it with a one-line error when it
// fails its integrity check.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { GPT } from '../models/gpt.js';
import { runDir } from '../runs/index.js';
import { Checkpoints, loadWeights } from './checkpoint.js';
import { CorruptFileError } from './safetensors.js';

/** The run's final weights, or its newest checkpoint while it has none. */
export function runWeightsFile(home: string, runId: string): string | null {
  const dir = runDir(home, runId);
  const final = path.join(dir, 'model.safetensors');
  if (fs.existsSync(final)) return final;
  return runCheckpoints(home, runId)[0]?.file ?? null;
}

/** The run's checkpoints, newest first (none when it has no checkpoint folder). */
export function runCheckpoints(home: string, runId: string): { step: number; file: string }[] {
  const dir = path.join(runDir(home, runId), 'checkpoints');
  return fs.existsSync(dir) ? new Checkpoints(dir).list() : [];
}

/** Load weights; a file that fails its check is the user's to repair: one line saying how. */
export function loadRunWeights(file: string, runName: string): { model: GPT; sha256: string } {
  try {
    return loadWeights(file, (cfg) => {
      // A video model's weights read as a DiT (src/train/dit-family.ts), never as a GPT.
      if ('frames' in cfg) throw new UsageError(`run '${runName}' is a video model (DiT); \`scalelab video ${runName} --prompt ...\` samples it`);
      return new GPT(cfg);
    });
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    throw new UsageError(`the weights of run '${runName}' failed their integrity check (${err.message}); ` +
      `\`scalelab show ${runName} --verify\` checks every file of the run; restore the file from a copy or train the run again`);
  }
}
