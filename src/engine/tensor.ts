// A tensor is a flat typed array that TypeScript owns, a shape, and (when it needs one) a
// gradient buffer of the same size. Kernels only ever see the flat arrays.
import type { Buf } from './kernels.js';

export class Tensor {
  grad: Buf | null = null;

  constructor(
    readonly data: Buf,
    readonly shape: readonly number[],
    readonly requiresGrad = false,
    readonly name = '',
  ) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`Tensor ${name}: shape [${shape}] needs ${size} elements, got ${data.length}`);
  }

  get size(): number {
    return this.data.length;
  }

  /** Last dimension; rows() × cols() = size. */
  cols(): number {
    return this.shape.length === 0 ? 1 : this.shape[this.shape.length - 1];
  }

  rows(): number {
    return this.size / Math.max(1, this.cols());
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor ${this.name} has ${this.size} elements, not 1`);
    return this.data[0];
  }
}

export function shapeStr(t: Tensor): string {
  return `[${t.shape.join(',')}]`;
}
