// Setting a run up to train. The data is loaded first, so that a bad corpus fails before anything
// is written; then the run is created (or the resumed one is used), its folder cleaned of what
// dead writers left, its model and optimiser built and, on resume, its newest good checkpoint
// restored. What comes out is a Session: all the training loop works with, and the one
// TrainingState it moves forward.
import path from 'node:path';
import { Graph } from '../engine/graph.js';
import { streamSeed } from '../engine/random.js';
import { native, setThreads } from '../engine/native.js';
import { GPT, countParams, flopsPerToken, type GPTConfig } from '../models/gpt.js';
import {
  BatchSampler, bitsPerByte, evalBatches, loadCorpus, splitCorpus, summariseSplit,
  type Corpus, type EvalBatch, type SamplerOptions, type SamplerState, type Split,
} from '../data/index.js';
import { mixTraining, parseMix, type Mixture } from '../data/mixture.js';
import { fetchMissing, runDir, type NewRun, type RunClaim, type RunRecord, type Store } from '../runs/index.js';
import { UsageError } from '../errors.js';
import { AdamW, ADAMW_DEFAULTS } from './optimizer.js';
import { Checkpoints, removeStaleTemps } from './checkpoint.js';
import type { Family, Stream, Trainable } from './family.js';
import type { Schedule } from './schedule.js';
import { silentReporter, type Reporter } from './progress.js';
import { initialState, restoreStateWith, type TrainingState } from './state.js';
import type { TrainHooks, TrainOptions } from './train.js';

/** The options every family's training loop reads (the optimiser, schedule, evaluation, checkpoints, guard). */
export type LoopOptions = Pick<TrainOptions,
  'lr' | 'minLrRatio' | 'schedule' | 'warmupSteps' | 'cooldown' | 'weightDecay' | 'clip' | 'evalEvery' | 'checkpointEvery' |
  'keepCheckpoints' | 'spikeFactor' | 'seed' | 'threads' | 'name'> & {
  /** Decay of the weights' moving average (the DiT's --ema); absent or 0: none. */
  ema?: number;
};

/** What a request trains, once its options are known. */
export interface RunPlan {
  o: TrainOptions;
  cfg: GPTConfig;
  /** The run to continue, already claimed by this process; null for a new run. */
  resumed: RunRecord | null;
  /** With resumed: start over from step 0 a run none of whose checkpoints verifies. */
  restart: boolean;
}

export interface Session {
  store: Store;
  claim: RunClaim;
  hooks: TrainHooks;
  reporter: Reporter;
  run: RunRecord;
  /** The run's folder: checkpoints/ and model.safetensors. */
  dir: string;
  o: LoopOptions;
  steps: number;
  /** Tokens per step: bytes for the GPT, patches for the DiT. */
  tokensPerStep: number;
  nonEmbeddingParams: number;
  family: Family;
  model: Trainable;
  opt: AdamW;
  sched: Schedule;
  ckpts: Checkpoints;
  /** The graphs are reused across steps, so activation memory is allocated once. */
  graph: Graph;
  evalGraph: Graph;
  state: TrainingState;
  /** This process's seconds outside training steps, and when it began (performance.now()). */
  seconds: { data: number; eval: number; checkpoint: number; t0: number };
}

/** Record an event at the run's current step, and report it. */
export async function logEvent(s: Session, kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
  await s.store.logEvent(s.run.id, { step: s.state.step, kind, message, data });
  s.reporter.event(kind, message, data);
}

export async function logCorruptCheckpoint(s: Session, file: string, why: string): Promise<void> {
  await logEvent(s, 'checkpoint_corrupt', `${path.basename(file)} failed verification (${why.replace(`${file}: `, '')}); using an older checkpoint`);
}

/** What a family brings to a session: its model and data, and what a new run records. */
export interface FamilySetup {
  family: Family;
  /** The stream a new run starts from. */
  stream: Stream;
  steps: number;
  tokensPerStep: number;
  /** A new run's record, less its name and token target. */
  record: Omit<NewRun, 'name' | 'tokensTarget'>;
  /** Seconds spent loading data. */
  seconds: number;
  /** Events to log once the run is sure to go on (so a refused resume stays one line). */
  announce(s: Session): Promise<void>;
}

/** Everything up to the first step of a GPT run; a resume that cannot go on is refused here, in one line. */
export async function openSession(store: Store, home: string, plan: RunPlan, hooks: TrainHooks, claim: RunClaim, t0: number): Promise<Session> {
  return openFamilySession(store, home, plan, () => gptSetup(plan.o, plan.cfg), hooks, claim, t0);
}

/**
 * Everything up to the first step, for any family. The data is loaded first (setup), so that bad
 * data fails before anything is written; then the run is created or the resumed one restored.
 */
export async function openFamilySession(store: Store, home: string, plan: { o: LoopOptions; resumed: RunRecord | null; restart: boolean },
  setup: () => FamilySetup, hooks: TrainHooks, claim: RunClaim, t0: number): Promise<Session> {
  const { o } = plan;
  if (o.threads !== undefined) setThreads(o.threads);
  const f = setup();
  const run = plan.resumed ?? await createRun(store, claim, o, f.record, f.steps * f.tokensPerStep);
  const dir = runDir(home, run.id);
  const ckpts = new Checkpoints(path.join(dir, 'checkpoints'), o.keepCheckpoints);
  // This process holds the run now: what dead writers left half-written can go.
  removeStaleTemps(dir);
  ckpts.removeStaleTemps();
  const s: Session = {
    store, claim, hooks, reporter: hooks.reporter ?? silentReporter, run, dir, o,
    steps: f.steps, tokensPerStep: f.tokensPerStep, nonEmbeddingParams: f.record.nonEmbeddingParams ?? 0,
    family: f.family, ...buildTrainer(o, f.family.model, f.steps), ckpts,
    state: initialState(f.stream, run.trainSeconds ?? 0),
    seconds: { data: f.seconds, eval: 0, checkpoint: 0, t0 },
  };
  if (plan.resumed) {
    // Checkpoints another machine wrote come from the artifact store first; each is verified on the way.
    const fetched = await fetchMissing(store.artifacts, run.id, dir, (n) => n.startsWith('checkpoints/'));
    if (fetched.length) await logEvent(s, 'fetch', `fetched ${fetched.length} checkpoint(s) from the ${store.artifacts.kind}`, { files: fetched });
    await restoreCheckpoint(s, plan.restart);
  }
  await f.announce(s);
  await s.store.updateRun(s.run.id, { status: 'running', startedAt: s.run.startedAt ?? new Date().toISOString() });
  return s;
}

/** The byte-level GPT on a corpus: the family `scalelab train` trains by default. */
function gptSetup(o: TrainOptions, cfg: GPTConfig): FamilySetup {
  const data = loadData(o);
  const tokensPerStep = o.batch * o.ctx;
  const steps = Math.ceil(o.tokens / tokensPerStep);
  const model = new GPT(cfg, { seed: streamSeed(o.seed, 'weights') });
  const counts = countParams(cfg);
  const { threads: _t, ...stored } = o;
  const family: Family = {
    model, metric: 'bpb',
    loss: (g, batch) => {
      const { ids, targets } = batch as { ids: Int32Array; targets: Int32Array };
      return model.forward(g, ids, o.batch, o.ctx, targets).loss!;
    },
    validate: (g) => validateBpb(model, g, data.evals, o.ctx),
    restoreStream: (state) => BatchSampler.restore(data.trainTokens, data.samplerOpts, state as SamplerState),
  };
  return {
    family, stream: data.sampler, steps, tokensPerStep, seconds: data.seconds,
    record: { config: { model: cfg, train: stored }, params: counts.total, nonEmbeddingParams: counts.nonEmbedding, flopsPerToken: flopsPerToken(cfg) },
    announce: (s) => announce(s, data.corpus, data.split, data.mixture),
  };
}

/** Validation bits per byte over the held-out batches. */
function validateBpb(model: GPT, g: Graph, evals: EvalBatch[], ctx: number): number {
  let nats = 0, n = 0;
  for (const b of evals) {
    g.reset();
    const B = b.ids.length / ctx;
    const { loss } = model.forward(g, b.ids, B, ctx, b.targets);
    nats += loss!.item() * b.ids.length;
    n += b.ids.length;
  }
  return bitsPerByte(nats / n);
}

function loadData(o: TrainOptions) {
  const t = performance.now();
  const corpus = loadCorpus(o.corpus, { skipNonText: o.skipNonText });
  const split = splitCorpus(corpus, { seed: 0 });
  // A mixture adds task text to the training half only; rebuilt from the seed, it is the same
  // bytes on every resume. Validation stays pure corpus.
  const mixture = o.mix ? mixTraining(split.train, parseMix(o.mix), streamSeed(o.seed, 'mixture')) : null;
  const trainTokens = mixture?.tokens ?? split.train;
  const samplerOpts: SamplerOptions = { batch: o.batch, ctx: o.ctx, seed: streamSeed(o.seed, 'batches') };
  const sampler = new BatchSampler(trainTokens, samplerOpts);
  const evals = evalBatches(split.val, o.batch, o.ctx, o.evalTokens);
  return { corpus, split, mixture, trainTokens, samplerOpts, sampler, evals, seconds: (performance.now() - t) / 1000 };
}

/** A new run in the store, claimed by this process. */
async function createRun(store: Store, claim: RunClaim, o: LoopOptions, record: FamilySetup['record'], tokensTarget: number): Promise<RunRecord> {
  const run = await store.createRun({ name: o.name, ...record, tokensTarget });
  await claim.take(run);
  return run;
}

/** The optimiser and learning-rate schedule of a model at its initial weights, and the graphs to run it on. */
function buildTrainer(o: LoopOptions, model: Trainable, steps: number) {
  const opt = new AdamW(native, model.params, model.grads, model.decayed,
    { ...ADAMW_DEFAULTS, lr: o.lr, weightDecay: o.weightDecay, clip: o.clip, ema: o.ema ?? 0 });
  const sched: Schedule = { kind: o.schedule, lr: o.lr, minLr: o.lr * o.minLrRatio, warmupSteps: o.warmupSteps, totalSteps: steps, cooldown: o.cooldown };
  return { model, opt, sched, graph: new Graph(native), evalGraph: new Graph(native, { training: false }) };
}

/**
 * Continue from the newest checkpoint that verifies. A run all of whose checkpoints are damaged
 * starts over only when asked (`restart`): silently starting over would throw its progress away.
 */
async function restoreCheckpoint(s: Session, restart: boolean): Promise<void> {
  const { run, ckpts } = s;
  // The damaged ones are logged once it is clear the run goes on; a refusal is one line.
  const corrupt: [string, string][] = [];
  const loaded = ckpts.restoreLatest(s.model, s.opt, (file, why) => corrupt.push([file, why]));
  if (loaded && restart) {
    throw new UsageError(`run '${run.name}' has a good checkpoint at step ${loaded.step}; resume it without --restart`);
  }
  if (!loaded && corrupt.length > 0 && !restart) {
    throw new UsageError(`every checkpoint of run '${run.name}' is damaged (${corrupt.length} failed verification, ` +
      `the newest: ${corrupt[0][1].replace(`${corrupt[0][0]}: `, '')}); ` +
      `\`scalelab train --resume ${run.name} --restart\` starts it over from step 0`);
  }
  const t = s.claim.tookOverFrom;
  if (t) await logEvent(s, 'takeover', `took the run over from pid ${t.pid} on ${t.host}, which is no longer running`, { pid: t.pid, host: t.host });
  for (const [file, why] of corrupt) await logCorruptCheckpoint(s, file, why);
  if (loaded) {
    restoreStateWith(s.state, loaded.state, s.family.restoreStream);
    await logEvent(s, 'resume', `resumed from step ${s.state.step}`, { checkpoint: path.basename(loaded.file) });
  } else {
    const damaged = ckpts.setAsideDamaged();
    await logEvent(s, 'resume', damaged.length > 0
      ? `starting over from step 0 as asked; ${damaged.length} damaged checkpoint(s) renamed to *.damaged`
      : 'no checkpoint yet; starting from step 0');
  }
}

/** The split, printed once the run is sure to go on (so a refused resume stays one line). */
async function announce(s: Session, corpus: Corpus, split: Split, mixture: Mixture | null): Promise<void> {
  const summary = summariseSplit(corpus, split);
  await logEvent(s, 'split', summary.message, summary.data);
  if (mixture) {
    const n = mixture.tokens.length;
    const shares = Object.entries(mixture.taskBytes).map(([t, b]) => `${t} ${(100 * b / n).toFixed(1)}%`).join(', ');
    await logEvent(s, 'mixture', `training stream of ${n} bytes: corpus ${(100 * mixture.corpusBytes / n).toFixed(1)}%, ${shares} (${mixture.blocks} blocks of task text); validation is corpus only`,
      { bytes: n, corpusBytes: mixture.corpusBytes, taskBytes: mixture.taskBytes, blocks: mixture.blocks });
  }
  for (const w of summary.warnings) await logEvent(s, 'warning', w);
}
