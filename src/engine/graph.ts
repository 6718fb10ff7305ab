// A Graph is one forward/backward pass: the tape of backward closures, the arena that
// activations and their gradients live in, and the kernels (native float32 or reference) that
// every op calls. Training reuses one Graph: `reset()` rewinds the tape and the arena, so after
// the first step no activation memory is allocated again.
import type { Buf, Kernels } from './kernels.js';
import { Tensor } from './tensor.js';

export type DType = 'f32' | 'f64';

/**
 * Bump allocator over typed arrays for activations and saved state. A training step asks for the
 * same sizes in the same order every time, so after the first step `reset()` rewinds into
 * chunks that already fit and nothing is allocated again.
 */
class Arena {
  private chunks: Buf[] = [];
  private chunk = 0;
  private offset = 0;

  constructor(private readonly make: (n: number) => Buf) {}

  alloc(n: number): Buf {
    let c = this.chunks[this.chunk];
    while (!c || this.offset + n > c.length) {
      if (c) this.chunk++;
      if (this.chunk >= this.chunks.length) this.chunks.push(this.make(Math.max(n, CHUNK)));
      c = this.chunks[this.chunk];
      this.offset = 0;
    }
    const view = c.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }

  reset(): void {
    this.chunk = 0;
    this.offset = 0;
  }

  get capacity(): number {
    return this.chunks.reduce((a, c) => a + c.length, 0);
  }
}

/** Elements per arena chunk: big enough that the tail wasted per chunk is small. */
const CHUNK = 1 << 22;

/**
 * Gradient buffers of activations, recycled by size. An activation's gradient is only needed
 * until the backward of the op that produced it has run, so backward hands it back here and
 * the next op's gradient reuses it: the gradients alive at once are a few layers' worth, not
 * the whole network's.
 */
class GradPool {
  private free = new Map<number, Buf[]>();
  private owned = new WeakSet<Buf>();

  constructor(private readonly make: (n: number) => Buf) {}

  zeros(n: number): Buf {
    const b = this.free.get(n)?.pop();
    if (b) {
      b.fill(0);
      return b;
    }
    const fresh = this.make(n);
    this.owned.add(fresh);
    return fresh;
  }

  /** Return a buffer this pool made; others (parameter gradients, adopted buffers) are ignored. */
  release(b: Buf): void {
    if (!this.owned.has(b)) return;
    let list = this.free.get(b.length);
    if (!list) this.free.set(b.length, (list = []));
    list.push(b);
  }

  get capacity(): number {
    let n = 0;
    for (const [size, list] of this.free) n += size * list.length;
    return n;
  }
}

export class Graph {
  readonly dtype: DType;
  /** When false, ops record nothing: inference without the tape or saved activations. */
  readonly training: boolean;
  private tape: (() => void)[] = [];
  private arena: Arena;
  private grads: GradPool;
  /** Activations whose gradients came from the pool this pass, released by reset(). */
  private pooled: Tensor[] = [];

  constructor(readonly kernels: Kernels, opts: { dtype?: DType; training?: boolean } = {}) {
    this.dtype = opts.dtype ?? 'f32';
    this.training = opts.training ?? true;
    if (this.dtype === 'f64' && kernels.name === 'native') throw new Error('Graph: native kernels are float32 only');
    const make = this.dtype === 'f32' ? (n: number) => new Float32Array(n) : (n: number) => new Float64Array(n);
    this.arena = new Arena(make);
    this.grads = new GradPool(make);
  }

  /** Uninitialised scratch from the arena (valid until reset). */
  alloc(n: number): Buf {
    return this.arena.alloc(n);
  }

  zeros(n: number): Buf {
    const b = this.arena.alloc(n);
    b.fill(0);
    return b;
  }

  /** A new activation tensor whose data the caller's kernel will fill. */
  output(shape: number[], inputs: (Tensor | null)[], name = ''): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const requiresGrad = this.training && inputs.some((t) => t !== null && t.requiresGrad);
    return new Tensor(this.alloc(size), shape, requiresGrad, name);
  }

  /** The gradient buffer of t, created zeroed on first use. */
  gradOf(t: Tensor): Buf {
    if (!t.grad) {
      t.grad = this.grads.zeros(t.size);
      this.pooled.push(t);
    }
    return t.grad;
  }

  /**
   * Record a backward closure when any input needs a gradient. Once it has run, out's gradient
   * has been passed on to the inputs and goes back to the pool (unless out is the tensor
   * backward started from, whose gradient the caller may still read).
   */
  record(out: Tensor, backward: () => void): void {
    if (!out.requiresGrad) return;
    this.tape.push(() => {
      backward();
      if (out !== this.root && out.grad) {
        this.grads.release(out.grad);
        out.grad = null;
      }
    });
  }

  private root: Tensor | null = null;

  /**
   * Run the tape in reverse from `out`, seeded with d(out) = 1 for a scalar loss or with `seed`
   * (a vector-Jacobian product, as the gradient checks use).
   */
  backward(out: Tensor, seed?: Buf): void {
    if (!out.requiresGrad) throw new Error('backward: the output does not depend on anything that needs a gradient');
    if (!seed && out.size !== 1) throw new Error(`backward: a non-scalar output [${out.shape}] needs a seed gradient`);
    if (seed && seed.length !== out.size) throw new Error(`backward: seed has ${seed.length} elements, output ${out.size}`);
    const grad = this.gradOf(out);
    if (seed) grad.set(seed);
    else grad[0] = 1;
    this.root = out;
    for (let i = this.tape.length - 1; i >= 0; i--) this.tape[i]();
    this.tape = [];
    this.root = null;
  }

  /** Forget the tape and rewind the arena; tensors from the last pass become invalid. */
  reset(): void {
    this.tape = [];
    this.arena.reset();
    for (const t of this.pooled) {
      if (t.grad) this.grads.release(t.grad);
      t.grad = null;
    }
    this.pooled = [];
  }

  /** Elements held for activations and saved state, and for activation gradients. */
  get memory(): { activations: number; gradients: number } {
    return { activations: this.arena.capacity, gradients: this.grads.capacity };
  }
}
