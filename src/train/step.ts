// One optimisation step: forward, backward, clip and AdamW. The Graph is reused across steps so
// activation memory is allocated once.
import type { Graph } from '../engine/graph.js';
import type { GPT } from '../models/gpt.js';
import type { AdamW } from './optimizer.js';

export interface StepResult {
  /** Mean cross-entropy of the batch, in nats. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export function trainStep(model: GPT, opt: AdamW, g: Graph, ids: Int32Array, targets: Int32Array,
  B: number, T: number, lr?: number): StepResult {
  g.reset();
  model.zeroGrad();
  const { loss } = model.forward(g, ids, B, T, targets);
  const value = loss!.item();
  g.backward(loss!);
  const gradNorm = opt.update(lr);
  return { loss: value, gradNorm };
}
