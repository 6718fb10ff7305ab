// The kernel contract: every op of the engine reduces to these functions. Two implementations
// exist: `reference` (plain TypeScript, generic over float32/float64, obviously correct) and
// `native` (the C++ addon, float32 only, fast). Tests hold the second to the first.
//
// Conventions, shared by both:
// - All tensors are row-major and flat; shapes are passed as integers.
// - Forward kernels overwrite their outputs. Backward kernels ACCUMULATE (+=) into gradient
//   buffers, so a tensor used twice (the tied embedding) simply receives both contributions.
// - Integer inputs (token ids, targets) are Int32Array and are range-checked before the call.

import type { KernelOps } from './kernel-ops.js';

export type Buf = Float32Array | Float64Array;

/** Outputs per panel of a packed linear weight (see Kernels.packLinear). */
export const PACK_PANEL = 16;

/** Floats a packed [O,K] weight takes: whole panels of PACK_PANEL outputs. */
export function packedLinearLength(K: number, O: number): number {
  return Math.ceil(O / PACK_PANEL) * PACK_PANEL * K;
}

/**
 * Every kernel, declared once in native/ops.js: the interface below is generated from those
 * declarations (src/engine/kernel-ops.ts), as are the native bindings that check each argument.
 */
export interface Kernels extends KernelOps {
  readonly name: string;
}
