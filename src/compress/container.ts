// The compressed file: what a decompressor needs to know besides the coded bytes.
//
//   "SCLZ"                      magic, 4 bytes
//   version                     1 byte (this is version 1)
//   header length n             4 bytes, little-endian
//   header                      n bytes of UTF-8 JSON (CompressedHeader)
//   header check                the first 4 bytes of SHA-256(header): a damaged header is
//                               refused before anything is decoded
//   payload                     the range coder's stream, to the end of the file
//
// The content's own SHA-256 is in the header and checked after decoding, so a damaged payload is
// refused too, never written out as if it were the original.
import { createHash } from 'node:crypto';

export const MAGIC = 'SCLZ';
export const VERSION = 1;
/** Bytes before the header JSON. */
const FIXED = 4 + 1 + 4;
/** The longest input scalelab compresses (2 GiB − 1): a header claiming more is refused. */
export const MAX_LENGTH = 2 ** 31 - 1;
/** A header is a few hundred bytes; anything near this is not one. */
const MAX_HEADER = 1 << 16;

export interface CodingParams {
  /** Bytes per segment: segments are coded independently, each from a fresh context. */
  segment: number;
  /** Segments decoded together (the coded order interleaves them, byte t of each in turn). */
  group: number;
  /** The byte fed before each segment's first byte, standing in for the context it lacks. */
  prefix: number;
  /** How logits become frequencies (frequencies.ts). */
  frequencies: string;
  /** Which kernels computed the logits (engine/portable.ts). */
  kernels: string;
  /** The context model mixed with the language model (predictor.ts); absent: the model alone. */
  mixer?: string;
}

export interface CompressedHeader extends CodingParams {
  /** The model's name as given to compress (RUN or RUN@STEP), for messages. */
  model: string;
  /** The SHA-256 of the model's weights file (its safetensors sha256 field, as the run store records it). */
  weightsSha256: string;
  /** The original length in bytes. */
  length: number;
  /** SHA-256 of the original bytes. */
  contentSha256: string;
}

/** The file is not a scalelab compressed file, or is one that was damaged. */
export class ContainerError extends Error {}

function headerCheck(json: Buffer): Buffer {
  return createHash('sha256').update(json).digest().subarray(0, 4);
}

export function writeContainer(h: CompressedHeader, payload: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  const fixed = Buffer.alloc(FIXED);
  fixed.write(MAGIC, 0, 'latin1');
  fixed.writeUInt8(VERSION, 4);
  fixed.writeUInt32LE(json.length, 5);
  return Buffer.concat([fixed, json, headerCheck(json), payload]);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parse and check a container; the payload is a view into `file`. */
export function readContainer(file: Uint8Array): { header: CompressedHeader; payload: Uint8Array } {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 4 || buf.toString('latin1', 0, 4) !== MAGIC) throw new ContainerError('not a scalelab compressed file (no SCLZ magic)');
  if (buf.length < FIXED) throw new ContainerError('truncated (the header is cut short)');
  const version = buf.readUInt8(4);
  if (version !== VERSION) throw new ContainerError(`written by a format version ${version} this scalelab does not read (it reads ${VERSION})`);
  const n = buf.readUInt32LE(5);
  if (n > MAX_HEADER) throw new ContainerError('damaged (impossible header length)');
  if (buf.length < FIXED + n + 4) throw new ContainerError('truncated (the header is cut short)');
  const json = buf.subarray(FIXED, FIXED + n);
  if (!headerCheck(json).equals(buf.subarray(FIXED + n, FIXED + n + 4))) throw new ContainerError('damaged (the header fails its check)');
  let h: CompressedHeader;
  try {
    h = JSON.parse(json.toString('utf8')) as CompressedHeader;
  } catch {
    throw new ContainerError('damaged (the header is not JSON)');
  }
  const int = (v: unknown, lo: number, hi: number) => Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi;
  const ok = h !== null && typeof h === 'object' && typeof h.model === 'string'
    && typeof h.weightsSha256 === 'string' && HEX64.test(h.weightsSha256)
    && typeof h.contentSha256 === 'string' && HEX64.test(h.contentSha256)
    && int(h.length, 0, MAX_LENGTH) && int(h.segment, 1, 1 << 20) && int(h.group, 1, 1 << 20)
    && int(h.prefix, 0, 255) && typeof h.frequencies === 'string' && typeof h.kernels === 'string'
    && (h.mixer === undefined || typeof h.mixer === 'string');
  if (!ok) throw new ContainerError('damaged (the header lacks a field or has a wrong one)');
  return { header: h, payload: buf.subarray(FIXED + n + 4) };
}
