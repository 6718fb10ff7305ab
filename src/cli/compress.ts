// `scalelab compress --model RUN[@STEP] IN OUT` and `scalelab decompress IN OUT`: a trained run
// as a lossless compressor (src/compress/). `-` is stdin or stdout. The output is written to a
// temporary file and renamed into place, so a failure leaves nothing half-written.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { writeAtomic } from '../atomic-file.js';
import { compressBytes, decompressFile, openModel } from '../compress/index.js';
import { MAX_LENGTH } from '../compress/container.js';
import { benchCompress, formatCompressBench } from '../bench/compress.js';
import { UsageError, positiveInt } from '../errors.js';
import { flag } from './flags.js';
import { HOME } from './shared-options.js';

/** Inputs above this are refused: the whole input is held in memory. */
const MAX_INPUT = MAX_LENGTH;

export function readInput(file: string): Uint8Array {
  try {
    if (file === '-') return fs.readFileSync(0);
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new UsageError(`'${file}' is a directory; give a file (or - for stdin)`);
    if (st.size > MAX_INPUT) throw new UsageError(`'${file}' is ${st.size} bytes; scalelab compresses inputs up to 2 GiB`);
    return fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UsageError(`no such file: '${file}'`);
    if (e.code === 'EACCES') throw new UsageError(`cannot read '${file}': permission denied`);
    throw err;
  }
}

/** Write all of `data` to OUT (a temp file renamed into place) or to stdout for `-`. */
export function writeOutput(file: string, data: Uint8Array): void {
  if (file === '-') {
    let off = 0;
    while (off < data.length) off += fs.writeSync(1, data, off, data.length - off);
    return;
  }
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new UsageError(`cannot write '${file}': no folder ${dir}`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`'${file}' is a directory; give a file name (or - for stdout)`);
  try {
    writeAtomic(file, data);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'ENOSPC') throw new UsageError(`cannot write '${file}': ${e.code}`);
    throw err;
  }
}

export function compressCommand(): Command {
  return new Command('compress')
    .description("compress a file losslessly with a trained run's model (range coding on its next-byte probabilities)")
    .argument('<in>', 'file to compress, or - for stdin')
    .argument('<out>', 'compressed file to write, or - for stdout')
    .requiredOption('--model <run>', 'RUN (its final weights) or RUN@STEP (a checkpoint)')
    .option('--segment <bytes>', "bytes per independently coded segment, at most the model's context (default: the context); longer: better rate", positiveInt('--segment'))
    .option('--group <n>', 'segments decoded together (default: what 512 MB of caches hold, at most 256)', positiveInt('--group'))
    .option('--no-context-mix', 'code with the model alone, without context models of the bytes coded so far')
    .addOption(flag('home', HOME))
    .action(async (input: string, output: string, o: { model: string; segment?: number; group?: number; contextMix: boolean; home?: string }) => {
      const data = readInput(input);
      const m = await openModel(o.model, o.home);
      let out: Uint8Array;
      try {
        out = compressBytes(data, m, { segment: o.segment, group: o.group, contextMix: o.contextMix });
      } catch (err) {
        if (err instanceof RangeError) throw new UsageError(err.message);
        throw err;
      }
      writeOutput(output, out);
      if (output !== '-') {
        const bpb = data.length ? ((out.length * 8) / data.length).toFixed(3) : '-';
        process.stderr.write(`${input}: ${data.length} → ${out.length} bytes (${bpb} bits per byte) with ${m.name}\n`);
      }
    });
}

export function decompressCommand(): Command {
  return new Command('decompress')
    .description('restore a file made by `scalelab compress` (the model is found by its weights hash)')
    .argument('<in>', 'compressed file, or - for stdin')
    .argument('<out>', 'file to write, or - for stdout')
    .option('--model <run>', 'RUN or RUN@STEP to decode with (default: the run whose weights have the hash the file records)')
    .addOption(flag('home', HOME))
    .action(async (input: string, output: string, o: { model?: string; home?: string }) => {
      const file = readInput(input);
      const { data } = await decompressFile(file, { model: o.model, home: o.home });
      writeOutput(output, data);
    });
}

/** `scalelab bench compress [--model RUN]... [FILE]` (registered under `bench`). */
export function compressBenchCommand(): Command {
  return new Command('compress')
    .description("rate (bits per byte) and speed both ways of scalelab's compressor and of gzip, xz, zstd, bzip2 and 7-Zip PPMd on one file (default: Brown's validation split)")
    .argument('[file]', "the file to compress (default: Brown's held-out documents)")
    .option('--model <run>', 'RUN or RUN@STEP to measure (repeat for several)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--segment <bytes>', 'bytes per segment (default: the context)', positiveInt('--segment'))
    .option('--group <n>', 'segments decoded together', positiveInt('--group'))
    .option('--threads <n>', 'kernel threads (default: all cores)', positiveInt('--threads'))
    .option('--also-alone', 'also measure each model alone, without the context mixer')
    .option('--json', 'print one JSON object')
    .addOption(flag('home', HOME))
    .action(async (file: string | undefined, o: { model?: string[]; segment?: number; group?: number; threads?: number; alsoAlone?: boolean; json?: boolean; home?: string }) => {
      let res;
      try {
        res = await benchCompress({ models: o.model, home: o.home, file, segment: o.segment, group: o.group, threads: o.threads, alsoAlone: o.alsoAlone });
      } catch (err) {
        if (err instanceof RangeError) throw new UsageError(err.message);
        throw err;
      }
      console.log(o.json ? JSON.stringify(res) : formatCompressBench(res));
    });
}
