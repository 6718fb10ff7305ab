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
// Procedural video clips with captions (the video model's data) and their pictures.
export { ClipStream, clipFromCaption, generateClip, renderScene, stackClips, trainClipSeed, validationClipSeed, validationClips, type Clip, type ClipBatch, type ClipTruth, type ObjectTruth } from './clips.js';
export { CAPTION_LENGTH, CAPTION_VOCAB, PAD_ID, decodeCaption, encodeCaption, parseCaption, writeCaption, type Caption, type CaptionObject } from './clip-caption.js';
export { CLIP_DEFAULTS, COLOURS, MAX_OBJECTS, MOTIONS, PALETTE, PALETTE_NAMES, SHAPES, checkClipConfig, clipGeometry, clipLength, type ClipConfig, type ClipGeometry, type Colour, type Motion, type PaletteName, type Shape as ClipShape } from './clip-world.js';
export { barFits, drawScene, fold, type Rect, type Scene, type SceneObject } from './clip-scene.js';
export { clipGif, contactSheet, decodeClipGif, labelledSheet, readClipGif, writeClipGif, writeContactSheet, writeLabelledSheet, type GifFrames, type GifOptions, type SheetGroup, type SheetOptions, type SheetRow } from './clip-images.js';
export { writeFileAtomic } from '../atomic-file.js';
