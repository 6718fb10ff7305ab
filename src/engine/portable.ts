// The portable kernels: the native kernels with every op of a decode step swapped for its
// portable build (native/src/portable_impl.h), whose float32 operations and their order are
// fixed, so a decode step gives the same bits on every instruction set (generic, AVX2, and
// AVX-512 CPUs, which run the AVX2 build of these kernels). Compressed files depend on it: the
// decompressing machine must reproduce the compressing one's probabilities exactly.
// linearPackedForward (an FMA chain per output in k order, glibc's exact fmaf in the generic
// build), addForward and packLinear already give the same bits everywhere.
import type { Kernels } from './kernels.js';
import { native } from './native.js';

export const portable: Kernels = {
  ...native,
  name: 'portable',
  layerNormForward: native.layerNormForwardPortable,
  rmsNormForward: native.rmsNormForwardPortable,
  geluForward: native.geluForwardPortable,
  swigluForward: native.swigluForwardPortable,
  ropeForward: native.ropeForwardPortable,
  attentionDecodeBatch: native.attentionDecodeBatchPortable,
};
