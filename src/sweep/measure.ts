// Measuring what a sweep's runs cost on this machine, for estimate.ts: a few steps and forward
// passes of every shape in the plan at the plan's batch and context (small models reach a
// fraction of a big one's FLOP rate, so one benchmark cannot price them all), a real checkpoint
// of the smallest and the largest model, the corpus load and a training thread's start. A DiT's
// step includes drawing its clips, which the generator renders as it goes, and its start the
// rendering of its fixed validation clips.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Graph } from '../engine/graph.js';
import { native } from '../engine/native.js';
import { Rng } from '../engine/random.js';
import { GPT } from '../models/gpt.js';
import { DiT } from '../models/dit.js';
import { loadCorpus, splitCorpus } from '../data/index.js';
import { AdamW } from '../train/optimizer.js';
import { Checkpoints } from '../train/checkpoint.js';
import { backwardAndUpdate, trainStep } from '../train/step.js';
import { ClipBatches, DIT_DEFAULTS } from '../train/dit-train.js';
import type { Trainable } from '../train/family.js';
import { modelConfig, type PlannedRun, type Shape } from './plan.js';
import { ditModelConfig, isDitJob, type DitRunOptions } from './family.js';
import { shapeKey, type MachineCosts, type ShapeCost } from './estimate.js';

const seconds = (t: number) => (performance.now() - t) / 1000;

/** The corpus's split sizes, and how long loading and splitting it took (every run does it again in its own thread). */
export function timedSplit(corpus: string): { trainTokens: number; valTokens: number; seconds: number } {
  const t = performance.now();
  const split = splitCorpus(loadCorpus(corpus), { seed: 0 });
  return { trainTokens: split.train.length, valTokens: split.val.length, seconds: seconds(t) };
}

function measureShape(shape: Shape, ctx: number, batch: number, base: PlannedRun['options']): ShapeCost {
  if (isDitJob(base)) return measureDitShape(shape, base);
  const model = new GPT(modelConfig(shape, ctx, base), { seed: 0 });
  const opt = new AdamW(native, model.params, model.grads, model.decayed);
  const g = new Graph(native), evalGraph = new Graph(native, { training: false });
  const rng = new Rng(0), n = batch * ctx;
  const ids = Int32Array.from({ length: n }, () => rng.int(256)), targets = Int32Array.from({ length: n }, () => rng.int(256));
  trainStep(model, opt, g, ids, targets, batch, ctx); // first step allocates
  const stepSeconds = medianTime(() => trainStep(model, opt, g, ids, targets, batch, ctx));
  const forwardSeconds = medianTime(() => {
    evalGraph.reset();
    model.forward(evalGraph, ids, batch, ctx, targets).loss!.item();
  });
  return { stepSeconds, forwardSeconds };
}

/** A DiT step as a run takes it: its batch of clips drawn, captions dropped and noised, then forward, backward and AdamW. */
function measureDitShape(shape: Shape, base: DitRunOptions): ShapeCost {
  const o = { ...DIT_DEFAULTS, ...base };
  const model = new DiT(ditModelConfig(shape, base), { seed: 0 });
  const opt = new AdamW(native, model.params, model.grads, model.decayed);
  const g = new Graph(native), evalGraph = new Graph(native, { training: false });
  const stream = new ClipBatches(model, o);
  const step = () => {
    const b = stream.next();
    g.reset();
    model.zeroGrad();
    const loss = model.loss(g, b);
    loss.item();
    backwardAndUpdate(g, opt, loss);
  };
  // The clip renderer runs several times slower until the JIT has compiled it (5 ms a clip over
  // the first 50 small clips, under 1 ms after 300): warm it as a run's first steps do.
  stream.skip(Math.ceil(256 / o.batch));
  step(); // first step allocates
  const stepSeconds = medianTime(step);
  const fixed = stream.next();
  const forwardSeconds = medianTime(() => {
    evalGraph.reset();
    model.loss(evalGraph, fixed).item();
  });
  return { stepSeconds, forwardSeconds };
}

/**
 * The median time of fn over at least 3 calls and up to 30 or 0.2 s: a small model's step is a
 * millisecond, and one preemption on a shared machine would multiply the mean of three.
 */
function medianTime(fn: () => void): number {
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 || (times.length < 30 && performance.now() - t0 < 200)) {
    const t = performance.now();
    fn();
    times.push(seconds(t));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function timeCheckpoint(shape: Shape, ctx: number, base: PlannedRun['options'], dir: string): { params: number; seconds: number } {
  const model: Trainable = isDitJob(base) ? new DiT(ditModelConfig(shape, base), { seed: 0 }) : new GPT(modelConfig(shape, ctx, base), { seed: 0 });
  const opt = new AdamW(native, model.params, model.grads, model.decayed);
  const ckpts = new Checkpoints(dir, 1);
  const t = performance.now();
  ckpts.save(model, opt, { step: 0, tokensSeen: 0 });
  return { params: model.params.length, seconds: seconds(t) };
}

/**
 * Seconds before a run's first step, measured as a run spends them: a fresh thread that loads the
 * training modules and then the corpus (each run's thread parses it anew; in a thread on a busy
 * machine that took several times what it takes in this process).
 */
async function runStart(data: { corpus: string } | { dit: Omit<DitRunOptions, 'model'> }, fallback: number): Promise<number> {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const trainModule = new URL(`../train/train.${ext}`, import.meta.url).href, dataModule = new URL(`../data/index.${ext}`, import.meta.url).href;
  const ditModule = new URL(`../train/dit-train.${ext}`, import.meta.url).href;
  // A GPT run loads and splits its corpus; a DiT run renders its fixed validation clips.
  const load = 'corpus' in data
    ? `import(${JSON.stringify(dataModule)})).then((d) => { d.splitCorpus(d.loadCorpus(${JSON.stringify(data.corpus)}), { seed: 0 });`
    : `import(${JSON.stringify(ditModule)})).then((d) => { const o = { ...d.DIT_DEFAULTS, ...${JSON.stringify(data.dit)} }; d.validationBatches(d.ditConfig(o), o.evalClips, o.batch);`;
  const t = performance.now();
  const w = new Worker(`import(${JSON.stringify(trainModule)}).then(() => ${load}
    require('node:worker_threads').parentPort.postMessage(0);
  })`, { eval: true });
  try {
    await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', () => reject(new Error('the probe thread exited')));
    });
    return seconds(t);
  } catch {
    return fallback; // a loader that cannot start such a thread (tests under a TypeScript loader)
  } finally {
    await w.terminate();
  }
}

/** A GPT plan's costs (ctx, corpus and its split as timedSplit measured it), or a DiT plan's (its clips are in each run's options). */
export type MeasureOptions = { ctx: number; batch: number; corpus: string; corpusSeconds: number; valTokens: number } | { dit: true };

export async function measureCosts(runs: PlannedRun[], o: MeasureOptions): Promise<MachineCosts> {
  const ctx = 'dit' in o ? 0 : o.ctx, batch = 'dit' in o ? 0 : o.batch; // a DiT's batch and clips are in its options
  const shapes: Record<string, ShapeCost> = {};
  for (const r of runs) shapes[shapeKey(r.shape)] ??= measureShape(r.shape, ctx, batch, r.options);
  const bySize = [...runs].sort((a, b) => a.params - b.params);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-estimate-'));
  try {
    const small = timeCheckpoint(bySize[0].shape, ctx, bySize[0].options, path.join(dir, 'a'));
    const big = timeCheckpoint(bySize[bySize.length - 1].shape, ctx, bySize[bySize.length - 1].options, path.join(dir, 'b'));
    const perParam = big.params > small.params ? Math.max(0, (big.seconds - small.seconds) / (big.params - small.params)) : small.seconds / small.params;
    const fixed = Math.max(0, small.seconds - perParam * small.params);
    if ('dit' in o) {
      const { model: _m, sweep: _s, ...dit } = runs[0].options as DitRunOptions;
      return { shapes, checkpoint: { fixed, perParam }, startupSeconds: await runStart({ dit }, 0.5), valTokens: 0 };
    }
    return { shapes, checkpoint: { fixed, perParam }, startupSeconds: await runStart({ corpus: o.corpus }, o.corpusSeconds + 0.3), valTokens: o.valTokens };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
