// A Graph is one forward/backward pass: the tape of backward closures, the arena that
// activations and their gradients live in, and the kernels (native float32 or reference) that
// every op calls. Training reuses one Graph: `reset()` rewinds the tape and the arena, so after
// the first step no activation memory is allocated again.
import type { Buf, Kernels } from './kernels.js';
import { Tensor } from './tensor.js';

export type DType = 'f32' | 'f64';

/** Bump allocator over typed arrays; rewound, not freed, between steps. */
class Arena {
  private chunks: Buf[] = [];
  private chunk = 0;
  private offset = 0;
  private used = 0;
  private peak = 0;

  constructor(private readonly make: (n: number) => Buf) {}

  alloc(n: number): Buf {
    for (;;) {
      const c = this.chunks[this.chunk];
      if (c && this.offset + n <= c.length) {
        const view = c.subarray(this.offset, this.offset + n);
        this.offset += n;
        this.used += n;
        this.peak = Math.max(this.peak, this.used);
        return view;
      }
      if (this.chunk + 1 < this.chunks.length) {
        this.chunk++;
        this.offset = 0;
      } else {
        this.chunks.push(this.make(Math.max(n, 1 << 20)));
        this.chunk = this.chunks.length - 1;
        this.offset = 0;
      }
    }
  }

  /** Rewind; when a step needed several chunks, replace them by one of the peak size. */
  reset(): void {
    if (this.chunks.length > 1) this.chunks = [this.make(this.peak)];
    this.chunk = 0;
    this.offset = 0;
    this.used = 0;
  }

  get capacity(): number {
    return this.chunks.reduce((a, c) => a + c.length, 0);
  }
}

export class Graph {
  readonly dtype: DType;
  /** When false, ops record nothing: inference without the tape or saved activations. */
  readonly training: boolean;
  private tape: (() => void)[] = [];
  private arena: Arena;

  constructor(readonly kernels: Kernels, opts: { dtype?: DType; training?: boolean } = {}) {
    this.dtype = opts.dtype ?? 'f32';
    this.training = opts.training ?? true;
    if (this.dtype === 'f64' && kernels.name === 'native') throw new Error('Graph: native kernels are float32 only');
    this.arena = new Arena(this.dtype === 'f32' ? (n) => new Float32Array(n) : (n) => new Float64Array(n));
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
    if (!t.grad) t.grad = this.zeros(t.size);
    return t.grad;
  }

  /** Record a backward closure when any input needs a gradient. */
  record(out: Tensor, backward: () => void): void {
    if (out.requiresGrad) this.tape.push(backward);
  }

  /** Seed d(loss)/d(loss) = 1 and run the tape in reverse. */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new Error(`backward: the loss must be a scalar, got shape [${loss.shape}]`);
    if (!loss.requiresGrad) throw new Error('backward: the loss does not depend on any parameter');
    this.gradOf(loss)[0] = 1;
    for (let i = this.tape.length - 1; i >= 0; i--) this.tape[i]();
    this.tape = [];
  }

  /** Forget the tape and rewind the arena; tensors from the last pass become invalid. */
  reset(): void {
    this.tape = [];
    this.arena.reset();
  }

  /** Elements the arena holds (activations, saved state and activation gradients). */
  get arenaElements(): number {
    return this.arena.capacity;
  }
}
