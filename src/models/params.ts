// Parameters as every model here stores them: one flat buffer (and one for gradients) with a
// named tensor view per parameter, initialised in layout order from one seeded stream. Each
// model declares its layout (ParamSpec[]); this allocates and initialises it.
import type { Buf } from '../engine/kernels.js';
import { Tensor } from '../engine/tensor.js';
import { Rng } from '../engine/random.js';

/** One parameter tensor as it is stored (its name is its key in safetensors checkpoints). */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** Weight decay applies to matrices, not to biases and norm gains. */
  decay: boolean;
  /** 'normal' with this standard deviation, or a constant. */
  init: { std: number } | { value: number };
}

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export interface Parameters {
  params: Buf;
  grads: Buf;
  /** params[0, decayed) are weight-decayed (the decayed specs come first); the rest are not. */
  decayed: number;
  named: Map<string, Tensor>;
}

/** Allocate the specs in order, each tensor a view into params with its gradient a view into grads. */
export function allocateParams(specs: readonly ParamSpec[], opts: { seed?: number; dtype?: 'f32' | 'f64' } = {}): Parameters {
  const total = specs.reduce((a, s) => a + sizeOf(s.shape), 0);
  const Arr = opts.dtype === 'f64' ? Float64Array : Float32Array;
  const params = new Arr(total), grads = new Arr(total);
  const named = new Map<string, Tensor>();
  const rng = new Rng(opts.seed ?? 0);
  let offset = 0, decayed = 0;
  for (const s of specs) {
    const n = sizeOf(s.shape);
    const data = params.subarray(offset, offset + n);
    if ('std' in s.init) for (let i = 0; i < n; i++) data[i] = rng.normal() * s.init.std;
    else data.fill(s.init.value);
    const t = new Tensor(data, s.shape, true, s.name);
    t.grad = grads.subarray(offset, offset + n);
    named.set(s.name, t);
    offset += n;
    if (s.decay) decayed = offset;
  }
  return { params, grads, decayed, named };
}
