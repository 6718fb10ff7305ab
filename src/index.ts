// The library: everything the CLI does, importable as `import { ... } from 'scalelab'`.
export { Tensor } from './engine/tensor.js';
export { Graph } from './engine/graph.js';
export type { Buf, Kernels } from './engine/kernels.js';
export { reference } from './engine/reference.js';
export { native, setThreads, getThreads, kernelInfo, setKernel } from './engine/native.js';
export * as ops from './engine/ops.js';
export { Rng } from './engine/random.js';
export { GPT, REFERENCE_CONFIG, countParams, flopsPerToken, trainingFlops, validateConfig, type GPTConfig } from './models/gpt.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWConfig } from './train/optimizer.js';
export { trainStep } from './train/step.js';
export { benchTrain, type TrainBenchResult } from './bench/train.js';
export { benchGemm } from './bench/gemm.js';
