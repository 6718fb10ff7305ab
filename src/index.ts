// The library: everything the CLI does, importable as `import { ... } from 'scalelab'`.
export { Tensor } from './engine/tensor.js';
export { Graph } from './engine/graph.js';
export type { Buf, Kernels } from './engine/kernels.js';
export { reference } from './engine/reference.js';
export { native, setThreads, getThreads, kernelInfo, setKernel } from './engine/native.js';
export * as ops from './engine/ops.js';
export { Rng } from './engine/random.js';
export { GPT, REFERENCE_CONFIG, countParams, flopsPerToken, trainingFlops, validateConfig, swigluHidden, variant, NORMS, MLPS, POSITIONS, type GPTConfig, type NormKind, type MlpKind, type PosKind } from './models/gpt.js';
export {
  DiT, sampleClips, flowBatch, logitNormal, flopsPerPatch, tokensPerClip, patchValues, clipValues, validateDiTConfig,
  countParams as countDiTParams, trainingFlops as ditTrainingFlops, type DiTConfig, type FlowBatch, type SampleOptions,
} from './models/dit.js';
export { trainDit, DIT_OPTIONS, DIT_DEFAULTS, VAL_TIMES, validationBatches, type DitOptions, type DitRequest } from './train/dit-train.js';
export { sampleVideo, loadVideoRun, type VideoOptions, type VideoResult } from './train/video.js';
export type { Family, Stream, Trainable } from './train/family.js';
export { AdamW, ADAMW_DEFAULTS, type AdamWConfig } from './train/optimizer.js';
export { trainStep } from './train/step.js';
export { benchTrain, type TrainBenchResult } from './bench/train.js';
export { benchGemm } from './bench/gemm.js';
export { benchServe, type ServeBenchOptions, type ServeBenchResult, type ServeRound, type ServeLoadResult } from './bench/serve.js';
export { train, TRAIN_DEFAULTS, type TrainOptions, type TrainResult } from './train/train.js';
export { learningRate, type Schedule } from './train/schedule.js';
export { Checkpoints, saveWeights, loadWeights } from './train/checkpoint.js';
export { readSafetensors, writeSafetensors } from './train/safetensors.js';
export { generate, sampleToken } from './models/sample.js';
export * from './data/index.js';
export * from './runs/index.js';
export { UsageError } from './errors.js';
export * from './sweep/index.js';
export * from './serve/index.js';
export * from './laws/index.js';
export * from './eval/index.js';
export { benchEval, type EvalBenchResult } from './bench/eval.js';
export { fitLaw, predictWithInterval, type LawReport } from './laws/report.js';
export { compareToBaseline, equivalentCompute, verdict, type CompareResult } from './laws/compare.js';
export * from './dashboard/index.js';
export { benchDashboard } from './bench/dashboard.js';
export {
  compressBytes, decompressBytes, decompressFile, openModel, findModel, encodeBytes, decodeBytes, codingParams,
  readContainer, writeContainer, ContainerError, RangeEncoder, RangeDecoder, CorruptStreamError, cumulativeFrequencies, exp64, FREQUENCY_RULE,
  type CodingModel, type CodingOptions, type CompressedHeader, type CodingParams, type DecompressOptions,
} from './compress/index.js';
export { portable } from './engine/portable.js';
export { benchCompress, formatCompressBench, type CompressBenchResult, type CompressBenchRow } from './bench/compress.js';
