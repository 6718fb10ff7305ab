// What the training loop needs from a model family (the byte-level GPT, the video DiT): a model
// whose parameters live in one buffer, the data stream its batches come from, the loss of a batch
// and a validation figure. The loop, checkpoints, resume, spike guard and run store are the same
// for every family; only this differs.
import type { Buf } from '../engine/kernels.js';
import type { Graph } from '../engine/graph.js';
import type { Tensor } from '../engine/tensor.js';

/** A model as training sees it: one parameter buffer, one gradient buffer, named views. */
export interface Trainable {
  readonly params: Buf;
  readonly grads: Buf;
  /** params[0, decayed) are weight-decayed; the rest are not. */
  readonly decayed: number;
  /** Every parameter tensor under its checkpoint name. */
  readonly named: Map<string, Tensor>;
  /** Stored with every checkpoint, which is refused by a model of another config. */
  readonly config: object;
  zeroGrad(): void;
}

/** Where batches come from. Its state is all a checkpoint needs to continue the stream exactly. */
export interface Stream {
  next(): unknown;
  /** Draw and discard n batches (the spike guard skips the data that led to a spike). */
  skip(n: number): void;
  state(): unknown;
}

export interface Family {
  readonly model: Trainable;
  /** The loss of a batch the stream drew, built on g (reset, gradients zeroed, by the caller). */
  loss(g: Graph, batch: unknown): Tensor;
  /** The validation figure stored in the run's val column: lower is better, comparable across runs. */
  validate(g: Graph): number;
  /** The stream a checkpoint's record describes; a record of other data is refused (UsageError). */
  restoreStream(saved: unknown): Stream;
  /** How the validation figure reads ('bpb', 'mse'); the store's column keeps its name val_bpb. */
  readonly metric: 'bpb' | 'mse';
}
