// Planning a sweep: which models to train on how many tokens. Two designs:
//  - isoFLOP (Chinchilla approach 2): for each compute budget C, several model sizes N around
//    the expected optimum, each trained on D = C / 6N tokens;
//  - an explicit N × D grid.
// Model sizes come from a fixed ladder of shapes, so every sweep on this machine shares them.
import { countParams, flopsPerToken, type GPTConfig } from '../models/gpt.js';
import { VOCAB } from '../data/index.js';
import { UsageError } from '../errors.js';
import type { TrainOptions } from '../train/train.js';

export interface Shape {
  layers: number;
  dModel: number;
  heads: number;
}

/** Shapes from 25k to 85M non-embedding parameters; head width 32 to 64, depth growing with width. */
export const LADDER: Shape[] = [
  { layers: 2, dModel: 32, heads: 2 },
  { layers: 2, dModel: 48, heads: 2 },
  { layers: 2, dModel: 64, heads: 2 },
  { layers: 3, dModel: 96, heads: 3 },
  { layers: 4, dModel: 128, heads: 4 },
  { layers: 4, dModel: 192, heads: 4 },
  { layers: 4, dModel: 256, heads: 4 },
  { layers: 6, dModel: 384, heads: 6 },
  { layers: 8, dModel: 512, heads: 8 },
  { layers: 12, dModel: 768, heads: 12 },
];

export interface PlanOptions {
  /** isoFLOP budgets in FLOPs (C = 6·N·D). */
  flops?: number[];
  /** Model sizes per budget. */
  sizes?: number;
  /** Explicit grid: shapes (as "LxD", e.g. "4x128") × token counts. */
  models?: Shape[];
  tokens?: number[];
  ctx: number;
  batch: number;
  /** Fixed training options for every run (corpus, lr, seed ...). */
  base: Partial<TrainOptions>;
}

export interface PlannedRun {
  shape: Shape;
  params: number;
  nonEmbeddingParams: number;
  tokens: number;
  /** 6·N·D with N non-embedding. */
  flops: number;
  /** The budget this run belongs to (isoFLOP), or null in a grid. */
  budget: number | null;
  options: Partial<TrainOptions>;
}

export function parseShape(s: string): Shape {
  const m = /^(\d+)x(\d+)(?:h(\d+))?$/.exec(s.trim());
  if (!m) throw new UsageError(`bad model shape '${s}': write LAYERSxD_MODEL, e.g. 4x128 (optionally 4x128h4 for heads)`);
  const layers = Number(m[1]), dModel = Number(m[2]);
  // Default heads: 64 wide where the width allows, else 32 wide, else one head.
  const heads = m[3] ? Number(m[3]) : dModel % 64 === 0 ? dModel / 64 : dModel % 32 === 0 ? dModel / 32 : 1;
  if (layers < 1 || dModel < 1 || heads < 1 || dModel % heads !== 0) {
    throw new UsageError(`bad model shape '${s}': layers and d_model must be positive and heads must divide d_model`);
  }
  return { layers, dModel, heads };
}

function config(shape: Shape, ctx: number, base: Partial<TrainOptions> = {}): GPTConfig {
  return { ...shape, ctx, vocab: VOCAB, norm: base.norm, mlp: base.mlp, pos: base.pos };
}

function planned(shape: Shape, tokens: number, budget: number | null, o: PlanOptions): PlannedRun {
  const counts = countParams(config(shape, o.ctx, o.base));
  const perStep = o.batch * o.ctx;
  const steps = Math.max(1, Math.round(tokens / perStep));
  const D = steps * perStep;
  return {
    shape, params: counts.total, nonEmbeddingParams: counts.nonEmbedding, tokens: D, flops: 6 * counts.nonEmbedding * D, budget,
    // Warm up for at most a tenth of a short run, so every run reaches its peak learning rate.
    options: { warmupSteps: Math.min(50, Math.ceil(steps / 10)), ...o.base, ...shape, ctx: o.ctx, batch: o.batch, tokens: D },
  };
}

/** The runs of a sweep, in the order they will be queued (cheapest first). */
export function planSweep(o: PlanOptions): PlannedRun[] {
  const runs: PlannedRun[] = [];
  if (o.flops?.length) {
    const k = o.sizes ?? 4;
    if (!Number.isInteger(k) || k < 2) throw new UsageError(`--sizes must be an integer of at least 2, got ${k}`);
    for (const C of o.flops) {
      // Centre the sizes on the Chinchilla rule of thumb D ≈ 20·N, i.e. N ≈ √(C / 120).
      const guess = Math.sqrt(C / 120);
      const byDistance = [...LADDER].sort((a, b) =>
        Math.abs(Math.log(countParams(config(a, o.ctx, o.base)).nonEmbedding / guess)) - Math.abs(Math.log(countParams(config(b, o.ctx, o.base)).nonEmbedding / guess)));
      const chosen = byDistance.slice(0, k).sort((a, b) => a.dModel - b.dModel);
      for (const shape of chosen) {
        const N = countParams(config(shape, o.ctx, o.base)).nonEmbedding;
        runs.push(planned(shape, C / (6 * N), C, o));
      }
    }
  } else if (o.models?.length && o.tokens?.length) {
    for (const shape of o.models) for (const D of o.tokens) runs.push(planned(shape, D, null, o));
  } else {
    throw new UsageError('give compute budgets (--flops 1e12,3e12) or a grid (--models 2x64,4x128 --tokens 1e6,4e6)');
  }
  for (const r of runs) {
    if (r.tokens < 20 * o.batch * o.ctx) {
      throw new UsageError(`${r.shape.layers}x${r.shape.dModel} would train for only ${r.tokens} tokens (under 20 steps); raise the budget or use smaller --batch/--ctx`);
    }
  }
  return runs.sort((a, b) => a.flops - b.flops);
}

/** Estimated seconds for a run from a measured rate of training FLOPs per second on this machine. */
export function estimateSeconds(run: PlannedRun, ctx: number, flopsPerSecond: number): number {
  return (flopsPerToken(config(run.shape, ctx, run.options)) * run.tokens) / flopsPerSecond;
}
