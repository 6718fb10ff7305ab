// `compress` and `decompress` as library functions: a trained run as a lossless compressor.
// compressor.ts codes the bytes, container.ts wraps them, model.ts finds the model.
import { codingParams, decodeBytes, encodeBytes, sha256Hex, type CodingOptions } from './compressor.js';
import { ContainerError, MAX_LENGTH, readContainer, writeContainer, type CompressedHeader } from './container.js';
import { CorruptStreamError } from './range-coder.js';
import { findModel, type CodingModel } from './model.js';
import { UsageError } from '../errors.js';

export { codingParams, decodeBytes, encodeBytes, type CodingOptions } from './compressor.js';
export { readContainer, writeContainer, ContainerError, type CompressedHeader, type CodingParams } from './container.js';
export { openModel, findModel, type CodingModel } from './model.js';
export { RangeEncoder, RangeDecoder, CorruptStreamError } from './range-coder.js';
export { cumulativeFrequencies, exp64, FREQUENCY_RULE } from './frequencies.js';

/**
 * The fewest bits one coded byte can take: the likeliest byte's frequency is at most
 * 1 + (2^16 − 256) of 2^16 (frequencies.ts), −log2 of which is 0.0056 bits. A header claiming
 * more bytes than its payload could hold is damaged, and refused before decoding starts.
 */
const MAX_BYTES_PER_CODED_BYTE = 1500;

/** `data` compressed with model `m`: a whole container. */
export function compressBytes(data: Uint8Array, m: CodingModel, o: CodingOptions = {}): Uint8Array {
  if (data.length > MAX_LENGTH) throw new RangeError(`inputs up to ${MAX_LENGTH} bytes can be compressed, got ${data.length}`);
  const params = codingParams(m.model, o);
  const payload = data.length === 0 ? new Uint8Array(0) : encodeBytes(m.model, data, params);
  const header: CompressedHeader = {
    model: m.name, weightsSha256: m.sha256, length: data.length, ...params, contentSha256: sha256Hex(data),
  };
  return writeContainer(header, payload);
}

export interface DecompressOptions {
  /** RUN or RUN@STEP to decode with (must have the file's weights hash); default: found by hash. */
  model?: string;
  home?: string;
  /** The model, when the caller already holds it (its hash is still checked). */
  loaded?: CodingModel;
}

/**
 * decompressBytes with the model found first: `o.model` when given (refused unless its weights
 * have the file's hash), else the run of the home whose weights have it. Damaged input is refused
 * before any model is looked for.
 */
export async function decompressFile(file: Uint8Array, o: { model?: string; home?: string } = {}): Promise<ReturnType<typeof decompressBytes>> {
  let header: CompressedHeader, payload: Uint8Array;
  try {
    ({ header, payload } = readContainer(file));
  } catch (err) {
    if (err instanceof ContainerError) throw new UsageError(`the input is ${err.message}`);
    throw err;
  }
  if (header.length === 0 || header.length > MAX_BYTES_PER_CODED_BYTE * (payload.length + 8)) return decompressBytes(file, {});
  return decompressBytes(file, { loaded: await findModel(header.weightsSha256, header.model, { spec: o.model, home: o.home }) });
}

/**
 * The original bytes of a container. A damaged, truncated or foreign file, or a model other than
 * the one it was compressed with, is a UsageError saying which; nothing is returned unless the
 * content matches the hash it was written with.
 */
export function decompressBytes(file: Uint8Array, o: DecompressOptions = {}): { data: Uint8Array; header: CompressedHeader; model: string | null } {
  let header: CompressedHeader, payload: Uint8Array;
  try {
    ({ header, payload } = readContainer(file));
  } catch (err) {
    if (err instanceof ContainerError) throw new UsageError(`the input is ${err.message}`);
    throw err;
  }
  if (header.length === 0) {
    if (payload.length !== 0) throw new UsageError(`the input is damaged (${payload.length} bytes follow the header of an empty file)`);
    if (header.contentSha256 !== sha256Hex(new Uint8Array(0))) throw new UsageError('the input is damaged (the content check failed)');
    return { data: new Uint8Array(0), header, model: null };
  }
  if (header.length > MAX_BYTES_PER_CODED_BYTE * (payload.length + 8)) throw new UsageError('the input is truncated or damaged (its payload is too short for its length)');
  let m: CodingModel;
  if (o.loaded) {
    if (o.loaded.sha256 !== header.weightsSha256) {
      throw new UsageError(`model '${o.loaded.name}' is not the one this file was compressed with ('${header.model}', weights sha256 ${header.weightsSha256.slice(0, 12)}…)`);
    }
    m = o.loaded;
  } else {
    throw new Error('decompressBytes needs the model (loaded); decompressFile finds it by the hash the file records');
  }
  let data: Uint8Array;
  try {
    data = decodeBytes(m.model, payload, header.length, header);
  } catch (err) {
    if (err instanceof CorruptStreamError) throw new UsageError(`the input is damaged (${err.message})`);
    if (err instanceof RangeError) throw new UsageError(`the input cannot be decoded: ${err.message}`);
    throw err;
  }
  if (sha256Hex(data) !== header.contentSha256) throw new UsageError('the input is damaged (the decoded content fails its SHA-256 check)');
  return { data, header, model: m.name };
}
