// Which models the server offers and the ones it has loaded. A model id is a run's name (its
// final weights; runs whose status is 'done') or `NAME@STEP` (that run's checkpoint at STEP, while
// the checkpoint file exists; any run). Each model is loaded once, on first use, and shared by
// every request through one Decoder and one Scheduler.
import fs from 'node:fs';
import path from 'node:path';
import { GPT } from '../models/gpt.js';
import { Decoder } from '../models/decode.js';
import { native } from '../engine/native.js';
import { RunStore, RUN_ID_PATTERN, type RunRecord } from '../runs/index.js';
import { loadWeights } from '../train/checkpoint.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { ApiError } from './errors.js';

export interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface LoadedModel {
  id: string;
  created: number;
  ctx: number;
  decoder: Decoder;
  scheduler: Scheduler;
}

const CKPT = /^ckpt-(\d{9})\.safetensors$/;

function unixTime(iso: string | null): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

export class ModelRegistry {
  private store: RunStore;
  private loaded = new Map<string, Promise<LoadedModel>>();

  constructor(readonly home: string, private readonly schedulerOptions: SchedulerOptions = {}) {
    this.store = RunStore.open(home);
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
  list(): ModelInfo[] {
    const out: ModelInfo[] = [];
    const runs = this.store.listRuns();
    for (const r of runs) {
      if (r.status === 'done' && this.finalWeights(r)) out.push({ id: r.name, object: 'model', created: unixTime(r.finishedAt ?? r.createdAt), owned_by: 'scalelab' });
    }
    for (const r of runs) {
      for (const c of this.checkpoints(r)) {
        out.push({ id: `${r.name}@${c.step}`, object: 'model', created: unixTime(r.createdAt), owned_by: 'scalelab' });
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

  /** The weights file for a model id, or a 404. */
  private resolve(id: string): { file: string; run: RunRecord } {
    const notFound = () => new ApiError(404, `The model '${id}' does not exist; GET /v1/models lists the models this server offers.`,
      'invalid_request_error', 'model', 'model_not_found');
    const at = id.lastIndexOf('@');
    const name = at >= 0 ? id.slice(0, at) : id;
    const run = name ? this.store.findRun(name) : undefined;
    if (!run) throw notFound();
    if (at < 0) {
      const file = run.status === 'done' ? this.finalWeights(run) : null;
      if (!file) throw notFound();
      return { file, run };
    }
    const stepText = id.slice(at + 1);
    if (!/^\d+$/.test(stepText)) throw notFound();
    const ck = this.checkpoints(run).find((c) => c.step === Number(stepText));
    if (!ck) throw notFound();
    return { file: ck.file, run };
  }

  /** The model for an id, loading it on first use. Throws ApiError 404 for an unknown id. */
  get(id: string): Promise<LoadedModel> {
    const cached = this.loaded.get(id);
    if (cached) return cached;
    const { file, run } = this.resolve(id);
    const p = (async () => {
      try {
        const model = loadWeights(file, (cfg) => new GPT(cfg)).model;
        const decoder = new Decoder(model, native);
        return { id, created: unixTime(run.finishedAt ?? run.createdAt), ctx: model.config.ctx, decoder, scheduler: new Scheduler(decoder, this.schedulerOptions) };
      } catch (err) {
        // Forget a failed load (a checkpoint being rotated, a disk hiccup) so a later request retries.
        this.loaded.delete(id);
        throw err;
      }
    })();
    this.loaded.set(id, p);
    return p;
  }

  /** Loaded models (for stats and tests). */
  async loadedModels(): Promise<LoadedModel[]> {
    const out: LoadedModel[] = [];
    for (const p of this.loaded.values()) {
      try {
        out.push(await p);
      } catch {
        // not loaded
      }
    }
    return out;
  }

  close(): void {
    for (const p of this.loaded.values()) p.then((m) => m.scheduler.close(), () => {});
    this.store.close();
  }
}
