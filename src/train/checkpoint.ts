// Checkpoints: everything a run needs to continue bit for bit. One safetensors file per
// checkpoint holds the weights (under the model's own tensor names, so any safetensors reader
// opens them), AdamW's two moment vectors and, for a run that keeps one, the weights' moving
// average (optimizer.ema: the weights to sample with), and in its metadata the step, the
// optimiser step, the data sampler's RNG state and the trainer's running statistics. Files are
// written atomically and verified by SHA-256 on load; the last `keep` are kept.
import fs from 'node:fs';
import path from 'node:path';
import type { GPT } from '../models/gpt.js';
import type { Trainable } from './family.js';
import { isProcessAlive } from '../runs/processes.js';
import type { AdamW } from './optimizer.js';
import { CorruptFileError, readSafetensors, writeSafetensors, type NamedTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'scalelab-checkpoint-1';

/** The trainer's own state, stored as JSON in the checkpoint's metadata. */
export interface TrainerState {
  step: number;
  tokensSeen: number;
  [key: string]: unknown;
}

export interface LoadedCheckpoint {
  file: string;
  step: number;
  state: TrainerState;
  sha256: string;
}

const NAME = /^ckpt-(\d{9})\.safetensors$/;

/** The file name of the checkpoint at `step`: zero-padded, so names sort as steps do. */
export function checkpointName(step: number): string {
  return `ckpt-${String(step).padStart(9, '0')}.safetensors`;
}

export class Checkpoints {
  constructor(readonly dir: string, readonly keep = 3) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Steps with a checkpoint file, newest first. */
  list(): { step: number; file: string }[] {
    return fs.readdirSync(this.dir)
      .map((f) => NAME.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), file: path.join(this.dir, m[0]) }))
      .sort((a, b) => b.step - a.step);
  }

  save(model: Trainable, opt: AdamW, state: TrainerState): string {
    const tensors: NamedTensor[] = [...model.named.values()].map((t) => ({ name: t.name, shape: [...t.shape], data: t.data as Float32Array }));
    tensors.push(
      { name: 'optimizer.m', shape: [opt.m.length], data: opt.m as Float32Array },
      { name: 'optimizer.v', shape: [opt.v.length], data: opt.v as Float32Array },
    );
    if (opt.average) tensors.push({ name: 'optimizer.ema', shape: [opt.average.avg.length], data: opt.average.avg as Float32Array });
    const file = path.join(this.dir, checkpointName(state.step));
    writeSafetensors(file, tensors, {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(model.config),
      optimizer_step: String(opt.step),
      trainer: JSON.stringify(state),
    });
    for (const old of this.list().slice(this.keep)) fs.rmSync(old.file, { force: true });
    return file;
  }

  /** Remove what writers that died mid-write left behind; for the run's trainer, once it holds the run. */
  removeStaleTemps(): string[] {
    return removeStaleTemps(this.dir);
  }

  /**
   * Move every checkpoint aside (`<name>.damaged`), so that a run starting over does not count
   * them, while they stay on disk to be looked at. For a run none of whose checkpoints verifies.
   */
  setAsideDamaged(): string[] {
    return this.list().map(({ file }) => {
      fs.renameSync(file, `${file}.damaged`);
      return `${file}.damaged`;
    });
  }

  /**
   * Restore the newest checkpoint that verifies into model and opt. Corrupt ones are reported
   * through onCorrupt and skipped; returns null when no good checkpoint exists.
   */
  restoreLatest(model: Trainable, opt: AdamW, onCorrupt: (file: string, why: string) => void): LoadedCheckpoint | null {
    for (const { file } of this.list()) {
      try {
        return restore(file, model, opt);
      } catch (err) {
        if (!(err instanceof CorruptFileError)) throw err;
        onCorrupt(file, err.message);
      }
    }
    return null;
  }
}

// `<file>.tmp-<pid>-<tag>`, as writeAtomic (src/atomic-file.ts) names them for writeSafetensors; older
// versions wrote `<file>.tmp-<pid>`.
const TEMP = /\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

/**
 * Remove the temporary files in `dir` whose writer is no longer running on this host. A live
 * writer's file is never touched: it is about to be renamed into place.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (m === null || isProcessAlive(Number(m[1]))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function restore(file: string, model: Trainable, opt: AdamW): LoadedCheckpoint {
  const f = readSafetensors(file);
  if (f.metadata.format !== CHECKPOINT_FORMAT) throw new CorruptFileError(`${file}: not a scalelab checkpoint`);
  if (f.metadata.config !== JSON.stringify(model.config)) {
    throw new CorruptFileError(`${file}: written for model ${f.metadata.config}, not ${JSON.stringify(model.config)}`);
  }
  const take = (name: string, into: Float32Array | Float64Array) => {
    const t = f.tensors.get(name);
    if (!t || t.data.length !== into.length) throw new CorruptFileError(`${file}: tensor ${name} is missing or the wrong size`);
    into.set(t.data);
  };
  for (const t of model.named.values()) take(t.name, t.data);
  take('optimizer.m', opt.m);
  take('optimizer.v', opt.v);
  if (opt.average) take('optimizer.ema', opt.average.avg);
  opt.step = Number(f.metadata.optimizer_step);
  const state = JSON.parse(f.metadata.trainer) as TrainerState;
  return { file, step: state.step, state, sha256: f.sha256 };
}

/** The final weights alone, for serving and sampling: `<run>/model.safetensors`. */
export function saveWeights(file: string, model: Trainable): string {
  const tensors = [...model.named.values()].map((t) => ({ name: t.name, shape: [...t.shape], data: t.data as Float32Array }));
  return writeSafetensors(file, tensors, { format: 'scalelab-weights-1', config: JSON.stringify(model.config) });
}

/**
 * Load weights (from model.safetensors or any checkpoint) into a model of the stored config: a
 * checkpoint's moving average where it keeps one (the weights its run reports and samples with,
 * as its final weights are), else the trained weights.
 */
export function loadWeights<M extends Trainable = GPT>(file: string, make: (config: any) => M): { model: M; sha256: string } {
  const f = readSafetensors(file);
  const model = make(JSON.parse(f.metadata.config));
  for (const t of model.named.values()) {
    const src = f.tensors.get(t.name);
    if (!src || src.data.length !== t.size) throw new CorruptFileError(`${file}: tensor ${t.name} is missing or the wrong size`);
    t.data.set(src.data);
  }
  const ema = f.tensors.get('optimizer.ema');
  if (ema) {
    if (ema.data.length !== model.params.length) throw new CorruptFileError(`${file}: tensor optimizer.ema is the wrong size`);
    model.params.set(ema.data);
  }
  return { model, sha256: f.sha256 };
}
