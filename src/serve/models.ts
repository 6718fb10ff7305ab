// Which models the server offers and the ones it has loaded. A model id is a run's name or id (its
// final weights; runs whose status is 'done') or `RUN@STEP` (that run's checkpoint at STEP, while
// the checkpoint file exists; any run). STEP is decimal and leading zeros are allowed, so
// `tiny@100`, `tiny@0100` and `tiny@000000100` (as in the file name) are one checkpoint.
//
// Every id is resolved to its weights file before the cache is consulted, so all the ids of one
// file share one load, one Decoder and one Scheduler; the answer names the model by its canonical
// id (run name, `@STEP` without leading zeros). Loaded models live in a byte-bounded LRU
// (model-cache.ts); a file that fails its integrity check is answered with a clear error, logged
// once, and not read again until it changes.
import fs from 'node:fs';
import path from 'node:path';
import { GPT } from '../models/gpt.js';
import { Decoder } from '../models/decode.js';
import { native } from '../engine/native.js';
import { fetchMissing, openStore, RUN_ID_PATTERN, type RunRecord, type Store } from '../runs/index.js';
import { checkpointName, loadWeights } from '../train/checkpoint.js';
import { CorruptFileError } from '../train/safetensors.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { ApiError } from './errors.js';
import { ModelCache } from './model-cache.js';

export interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** The model's context in tokens (bytes), under vLLM's name for it, so clients size prompts to it. */
  max_model_len?: number;
}

export interface LoadedModel {
  id: string;
  created: number;
  ctx: number;
  /** Bytes of the decoder's weights. */
  weightBytes: number;
  decoder: Decoder;
  scheduler: Scheduler;
}

const CKPT = /^ckpt-(\d{9})\.safetensors$/;

/** Default bound on what loaded models hold: 1 GiB. */
export const DEFAULT_MODEL_CACHE_BYTES = 1 << 30;

export interface RegistryOptions {
  /** Bytes loaded models may hold together (weights and KV caches); least recently used ones are dropped beyond. */
  maxBytes?: number;
  /** Where a model that cannot be loaded is reported (default: one line on stderr). */
  log?: (line: string) => void;
}

/**
 * What a loaded model holds: its decoder's weights (each parameter once, plus the packed copy of
 * the tied embedding that is its output head) and the KV caches its scheduler has allocated, at
 * most one per sequence of its largest batch (released caches are recycled, not freed).
 */
export function modelBytes(m: LoadedModel): number {
  const { layers, ctx, dModel } = m.decoder.config;
  const kv = 2 * layers * ctx * dModel * 4;
  return m.weightBytes + m.scheduler.stats.maxBatchSeen * kv;
}

/** A file's identity for remembering a failed load: a rewritten file is tried again. */
function stamp(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The context a run's model was trained with, from its stored config (absent when the config lacks it). */
function contextOf(run: RunRecord): { max_model_len?: number } {
  const ctx = (run.config.model as { ctx?: unknown } | undefined)?.ctx;
  return typeof ctx === 'number' && Number.isSafeInteger(ctx) && ctx > 0 ? { max_model_len: ctx } : {};
}

function unixTime(iso: string | null): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

export class ModelRegistry {
  private store: Store;
  /** Keyed by weights file: every id of one file shares one entry. */
  readonly cache: ModelCache<LoadedModel>;
  /** Files that failed its integrity check, by file: the file's stamp and the answer given. */
  private corrupt = new Map<string, { stamp: string; error: ApiError }>();
  private readonly log: (line: string) => void;

  constructor(readonly home: string, private readonly schedulerOptions: SchedulerOptions = {}, o: RegistryOptions = {}) {
    this.store = openStore(home);
    this.cache = new ModelCache<LoadedModel>({
      maxBytes: o.maxBytes ?? DEFAULT_MODEL_CACHE_BYTES,
      sizeOf: modelBytes,
      busy: (m) => m.scheduler.active > 0,
    });
    this.log = o.log ?? ((line) => process.stderr.write(`scalelab: ${line}\n`));
  }

  private runFolder(run: RunRecord): string | null {
    return RUN_ID_PATTERN.test(run.id) ? path.join(this.home, 'runs', run.id) : null;
  }

  private checkpoints(run: RunRecord): { step: number; file: string }[] {
    const dir = this.runFolder(run);
    if (!dir) return [];
    const ck = path.join(dir, 'checkpoints');
    let names: string[];
    try {
      names = fs.readdirSync(ck);
    } catch {
      return [];
    }
    return names.map((f) => CKPT.exec(f)).filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), file: path.join(ck, m[0]) }))
      .sort((a, b) => a.step - b.step);
  }

  /** Every finished run, then every run's checkpoints as NAME@STEP. */
  async list(): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    const runs = await this.store.listRuns();
    for (const r of runs) {
      // A run trained elsewhere is offered when its weights are in a shared artifact store.
      const remote = this.store.artifacts.kind !== 'run folder' && r.weightsSha256 !== null;
      if (r.status === 'done' && (this.finalWeights(r) || remote)) out.push({ id: r.name, object: 'model', created: unixTime(r.finishedAt ?? r.createdAt), owned_by: 'scalelab', ...contextOf(r) });
    }
    for (const r of runs) {
      for (const c of this.checkpoints(r)) {
        out.push({ id: `${r.name}@${c.step}`, object: 'model', created: unixTime(r.createdAt), owned_by: 'scalelab', ...contextOf(r) });
      }
    }
    return out;
  }

  private finalWeights(run: RunRecord): string | null {
    const dir = this.runFolder(run);
    if (!dir) return null;
    const f = path.join(dir, 'model.safetensors');
    return fs.existsSync(f) ? f : null;
  }

  /** The weights file for a model id and the model's canonical id, or a 404. */
  private async resolve(id: string): Promise<{ file: string; run: RunRecord; canonical: string }> {
    const notFound = () => new ApiError(404, `The model '${id}' does not exist; GET /v1/models lists the models this server offers.`,
      'invalid_request_error', 'model', 'model_not_found');
    const at = id.lastIndexOf('@');
    const name = at >= 0 ? id.slice(0, at) : id;
    const run = name ? await this.store.findRun(name) : undefined;
    if (!run) throw notFound();
    if (at < 0 && run.status === 'done' && !this.finalWeights(run)) {
      // Trained on another machine: its weights come from the artifact store, verified, once.
      const dir = this.runFolder(run);
      if (dir) await fetchMissing(this.store.artifacts, run.id, dir, (n) => n === 'model.safetensors');
    }
    if (at < 0) {
      const file = run.status === 'done' ? this.finalWeights(run) : null;
      if (!file) throw notFound();
      return { file, run, canonical: run.name };
    }
    // Every request resolves its id, so the checkpoint's file is named, not searched for.
    const stepText = id.slice(at + 1), step = Number(stepText), dir = this.runFolder(run);
    if (!/^\d+$/.test(stepText) || !Number.isSafeInteger(step) || !dir) throw notFound();
    const ckpt = checkpointName(step), file = path.join(dir, 'checkpoints', ckpt);
    if (!CKPT.test(ckpt) || !fs.existsSync(file)) throw notFound();
    return { file, run, canonical: `${run.name}@${step}` };
  }

  /** The model for an id, loading it on first use. Throws ApiError: 404 for an unknown id, 500 for corrupt weights. */
  async get(id: string): Promise<LoadedModel> {
    const { file, run, canonical } = await this.resolve(id);
    const bad = this.corrupt.get(file);
    if (bad && bad.stamp === stamp(file)) throw bad.error;
    return this.cache.get(file, () => this.load(file, run, canonical));
  }

  private load(file: string, run: RunRecord, id: string): LoadedModel {
    const before = stamp(file);
    let model: GPT;
    try {
      model = loadWeights(file, (cfg) => new GPT(cfg)).model;
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      throw this.corruptModel(file, run, id, before, err);
    }
    const decoder = new Decoder(model, native);
    const { vocab, dModel } = model.config;
    return {
      id, created: unixTime(run.finishedAt ?? run.createdAt), ctx: model.config.ctx,
      weightBytes: model.params.byteLength + vocab * dModel * 4,
      decoder, scheduler: new Scheduler(decoder, this.schedulerOptions),
    };
  }

  /** Remember, log and describe a weights file that failed its check. */
  private corruptModel(file: string, run: RunRecord, id: string, fileStamp: string, err: CorruptFileError): ApiError {
    const what = path.basename(file);
    const why = err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message;
    const error = new ApiError(500, `The weights of model '${id}' (${what}) failed its integrity check: ${why}. ` +
      `The server's operator can check them with \`scalelab show ${run.name} --verify\` and restore or retrain the run.`,
      'server_error', 'model', 'model_corrupt');
    this.corrupt.set(file, { stamp: fileStamp, error });
    this.log(`cannot serve model '${id}': ${err.message}; check it with \`scalelab show ${run.name} --verify\``);
    return error;
  }

  /** Loaded models, least recently used first (for stats and tests). */
  async loadedModels(): Promise<LoadedModel[]> {
    return this.cache.values();
  }

  async close(): Promise<void> {
    for (const m of this.cache.clear()) m.scheduler.close();
    await this.store.close();
  }
}
