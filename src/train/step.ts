// One optimisation step: forward, backward, clip and AdamW. The Graph is reused across steps so
// activation memory is allocated once. The training loop takes a step in its two halves, to look
// at the loss in between (the spike guard) before anything is applied.
import type { Graph } from '../engine/graph.js';
import type { Tensor } from '../engine/tensor.js';
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
  const loss = forwardLoss(model, g, ids, targets, B, T);
  const value = loss.item();
  return { loss: value, gradNorm: backwardAndUpdate(g, opt, loss, lr) };
}

/** The first half of a step: the batch's loss, on a fresh graph, with the gradients zeroed. */
export function forwardLoss(model: GPT, g: Graph, ids: Int32Array, targets: Int32Array, B: number, T: number): Tensor {
  g.reset();
  model.zeroGrad();
  return model.forward(g, ids, B, T, targets).loss!;
}

/** The second half: gradients through the graph forwardLoss built, then AdamW at lr; returns the gradient norm before clipping. */
export function backwardAndUpdate(g: Graph, opt: AdamW, loss: Tensor, lr?: number): number {
  g.backward(loss);
  return opt.update(lr);
}
