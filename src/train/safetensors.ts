// safetensors (the Hugging Face format), read and written by hand because it is tiny: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian bytes. Any safetensors reader opens what this writes.
//
// scalelab adds one thing inside the format's own metadata: `sha256`, over the header (without
// that field) and the data, so a flipped byte anywhere that changes meaning is caught on load.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { writeAtomic } from '../atomic-file.js';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class CorruptFileError extends Error {}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function hashOf(headerJson: string, chunks: Uint8Array[]): string {
  const h = createHash('sha256').update(headerJson);
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Write tensors and string metadata to `file` atomically: a temporary file in the same folder,
 * fsynced, renamed over the target, and the folder fsynced, so a crash at any moment leaves
 * either the old file or the new one, never half of one. Returns the file's sha256 field.
 */
export function writeSafetensors(file: string, tensors: NamedTensor[], metadata: Record<string, string> = {}): string {
  const entries: Record<string, HeaderEntry> = {};
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${t.name} has shape [${t.shape}] but ${t.data.length} values`);
    entries[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const chunks = tensors.map((t) => bytesOf(t.data));
  const unsigned = JSON.stringify({ __metadata__: metadata, ...entries });
  const sha256 = hashOf(unsigned, chunks);
  let header = JSON.stringify({ __metadata__: { ...metadata, sha256 }, ...entries });
  header += ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  writeAtomic(file, [prefix, headerBytes, ...chunks], { syncDir: true });
  return sha256;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, NamedTensor>;
  sha256: string;
}

/** Read and verify a file written by writeSafetensors; throws CorruptFileError on any mismatch. */
export function readSafetensors(file: string): SafetensorsFile {
  const buf = fs.readFileSync(file);
  const bad = (why: string): never => {
    throw new CorruptFileError(`${file}: ${why}`);
  };
  if (buf.length < 8) bad('too short to be safetensors');
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) bad('header length runs past the end of the file');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    return bad('header is not valid JSON');
  }
  const meta = { ...((header.__metadata__ ?? {}) as Record<string, string>) };
  const sha256 = meta.sha256;
  if (typeof sha256 !== 'string') bad('no sha256 in the metadata');
  delete meta.sha256;
  const data = buf.subarray(8 + n);
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [string, HeaderEntry][];
  const unsigned = JSON.stringify({ __metadata__: meta, ...Object.fromEntries(entries) });
  if (hashOf(unsigned, [data]) !== sha256) bad('sha256 mismatch: the file is corrupt');
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of entries) {
    const [b, end] = e.data_offsets;
    if (e.dtype !== 'F32') bad(`tensor ${name} has dtype ${e.dtype}; only F32 is supported`);
    if (!(b >= 0 && end <= data.length && (end - b) % 4 === 0)) bad(`tensor ${name} has bad offsets`);
    // Copy into an aligned buffer: the data section need not be 4-byte aligned in memory.
    const values = new Float32Array((end - b) / 4);
    bytesOf(values).set(data.subarray(b, end));
    tensors.set(name, { name, shape: e.shape, data: values });
  }
  return { metadata: meta, tensors, sha256 };
}
