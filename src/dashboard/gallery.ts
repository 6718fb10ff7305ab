// A video run's gallery: the first prompts of the evaluation set (src/eval/video-prompts.ts),
// each sampled with its first seeds from the run's final weights and from every checkpoint it
// keeps, as PNG contact sheets (a row per seed, the frames left to right). A sheet is sampled in
// a worker thread (gallery-thread.ts) when first asked for and kept in memory, keyed by the
// weights file (its size and mtime), the prompt and the sampler's settings, so a page reload or
// a second page does not sample again; its ETag is that key, so a browser that has the sheet
// gets a 304 without any sampling, even from a restarted dashboard.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fetchMissing, runDir, runFamily, type RunRecord, type Store } from '../runs/index.js';
import { checkpointName } from '../train/checkpoint.js';
import { runCheckpoints } from '../train/run-weights.js';
import { VIDEO_EVAL_PROMPTS, VIDEO_EVAL_SEEDS } from '../eval/video-prompts.js';
import { ApiError } from '../serve/errors.js';
import { ThreadClient } from '../thread.js';
import type { GalleryRequest } from './gallery-thread.js';

export interface GalleryOptions {
  /** The first this many prompts of the evaluation set (default 4). */
  prompts?: number;
  /** Seeds per prompt, the set's first (default 2). */
  seeds?: number;
  /** Euler steps per clip (default 32, as `scalelab video`). */
  steps?: number;
  /** Classifier-free guidance scale (default 3, as `scalelab video`). */
  guidance?: number;
}

export interface GalleryWeights {
  /** −1 for the final weights, else the checkpoint's step. */
  step: number;
  label: string;
}

export interface GalleryView {
  run: string;
  prompts: string[];
  seeds: number[];
  steps: number;
  guidance: number;
  clip: { frames: number; height: number; width: number };
  /** The final weights first (when the run has them), then the kept checkpoints, newest first. */
  weights: GalleryWeights[];
}

/** Sheets kept in memory: a few KB each. */
const CACHE_ENTRIES = 256;

export class Gallery {
  readonly prompts: string[];
  readonly seeds: number[];
  readonly steps: number;
  readonly guidance: number;
  /** Sheets asked of the sampling thread so far: every other answer came from memory. */
  sampled = 0;
  private readonly thread = new ThreadClient<Omit<GalleryRequest, 'id'>, Uint8Array>(new URL('./gallery-thread.js', import.meta.url), null, 'gallery');
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(private readonly store: Store, private readonly home: string, o: GalleryOptions = {}) {
    this.prompts = VIDEO_EVAL_PROMPTS.slice(0, o.prompts ?? 4);
    this.seeds = VIDEO_EVAL_SEEDS.slice(0, o.seeds ?? 2);
    this.steps = o.steps ?? 32;
    this.guidance = o.guidance ?? 3;
  }

  /** What the page shows for a run: 400 for a language model. */
  async view(run: RunRecord): Promise<GalleryView> {
    const cfg = videoConfig(run);
    const weights: GalleryWeights[] = [];
    if (fs.existsSync(this.finalFile(run)) || (await this.store.artifacts.list(run.id)).some((a) => a.name === 'model.safetensors')) {
      weights.push({ step: -1, label: 'final' });
    }
    for (const c of runCheckpoints(this.home, run.id)) weights.push({ step: c.step, label: `step ${c.step}` });
    return {
      run: run.name, prompts: this.prompts, seeds: this.seeds, steps: this.steps, guidance: this.guidance,
      clip: { frames: cfg.frames, height: cfg.height, width: cfg.width }, weights,
    };
  }

  /**
   * The sheet of prompt `prompt` (an index into `prompts`) at `step` (−1: final weights), with
   * its ETag; `etag` alone when it matches `ifNoneMatch`. 400 for a language model or a prompt out
   * of range, 404 for weights the run does not have.
   */
  async image(run: RunRecord, step: number, prompt: number, ifNoneMatch?: string): Promise<{ etag: string; png: Buffer | null }> {
    videoConfig(run);
    if (!Number.isInteger(prompt) || prompt < 0 || prompt >= this.prompts.length) {
      throw new ApiError(400, `Invalid prompt ${prompt}: the gallery has prompts 0 to ${this.prompts.length - 1}.`, 'invalid_request_error', 'prompt', 'invalid_value');
    }
    const file = await this.weightsFile(run, step);
    const st = fs.statSync(file);
    const key = JSON.stringify([file, st.size, st.mtimeMs, this.prompts[prompt], this.seeds, this.steps, this.guidance]);
    const etag = `"${crypto.createHash('sha1').update(key).digest('base64url')}"`;
    if (ifNoneMatch === etag) return { etag, png: null };
    let png = this.cache.get(key);
    if (png) {
      // Most recently used last.
      this.cache.delete(key);
    } else {
      png = this.sample({ file, prompt: this.prompts[prompt], seeds: this.seeds, steps: this.steps, guidance: this.guidance });
      png.catch(() => this.cache.delete(key));
    }
    this.cache.set(key, png);
    while (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return { etag, png: await png };
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  private finalFile(run: RunRecord): string {
    return path.join(runDir(this.home, run.id), 'model.safetensors');
  }

  private async weightsFile(run: RunRecord, step: number): Promise<string> {
    if (step < 0) {
      const file = this.finalFile(run);
      // Trained on another machine: its weights come from the artifact store, verified, once.
      if (!fs.existsSync(file)) await fetchMissing(this.store.artifacts, run.id, runDir(this.home, run.id), (n) => n === 'model.safetensors');
      if (!fs.existsSync(file)) throw new ApiError(404, `Run '${run.name}' has no final weights yet; its checkpoints are in the gallery's list.`, 'invalid_request_error', 'step', 'weights_not_found');
      return file;
    }
    const file = path.join(runDir(this.home, run.id), 'checkpoints', checkpointName(step));
    if (!fs.existsSync(file)) throw new ApiError(404, `Run '${run.name}' keeps no checkpoint at step ${step}.`, 'invalid_request_error', 'step', 'weights_not_found');
    return file;
  }

  private sample(req: Omit<GalleryRequest, 'id'>): Promise<Buffer> {
    if (!this.thread.closed) this.sampled++;
    return this.thread.request(req).then((png) => Buffer.from(png));
  }

}

/** A video run's clip shape from its stored config; a language model is a 400. */
function videoConfig(run: RunRecord): { frames: number; height: number; width: number } {
  if (runFamily(run.config) !== 'dit') {
    throw new ApiError(400, `Run '${run.name}' is a language model; the gallery shows video runs (scalelab train --model dit).`, 'invalid_request_error', 'run', 'not_a_video_run');
  }
  return (run.config as { model: { frames: number; height: number; width: number } }).model;
}
