// The data layer: corpora, the byte tokenizer, the train/validation split, batch sampling and
// reference statistics.
export { loadCorpus, type Corpus, type CorpusOptions, type Document } from './corpus.js';
export { untagBrown, brownDir, brownFiles } from './brown.js';
export { VOCAB, encode, decode, StreamDecoder } from './tokenizer.js';
export { splitCorpus, DOC_SEPARATOR, type Split, type SplitOptions } from './split.js';
export { BatchSampler, evalBatches, type Batch, type EvalBatch, type SamplerOptions, type SamplerState } from './batches.js';
export { unigramEntropyBits, unigramDivergenceBits, bitsPerByte } from './stats.js';
export { invalidUtf8Offset } from './utf8.js';
export { summariseSplit, MIN_VAL_BYTES, MAX_DIVERGENCE_BITS, type SplitSummary } from './split-summary.js';
