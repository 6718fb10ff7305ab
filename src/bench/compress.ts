// `scalelab bench compress`: scalelab's compressor against the classic ones on one file, in one
// command: rate (bits per byte) and speed both ways, each round trip checked. The classic tools
// are the system's (gzip -9, xz -9e, zstd -19, bzip2 -9, and 7-Zip's PPMd from Debian's 7zip);
// those not installed are named, not silently dropped. The "adjusted" rate counts the model's
// own bytes (float32 weights) as part of the output, as Delétang et al. (2024) report it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { compressBytes, decompressBytes, openModel } from '../compress/index.js';
import { loadCorpus, splitCorpus } from '../data/index.js';
import { getThreads, setThreads } from '../engine/native.js';
import { UsageError } from '../errors.js';

export interface CompressBenchRow {
  name: string;
  compressed: number;
  bpb: number;
  /** With the model's weights counted (scalelab rows only). */
  adjustedBpb: number | null;
  compressKBs: number;
  decompressKBs: number;
}

export interface CompressBenchResult {
  input: string;
  bytes: number;
  threads: number;
  rows: CompressBenchRow[];
  /** Classic compressors not found on this machine. */
  missing: string[];
}

export interface CompressBenchOptions {
  /** Runs to measure (RUN or RUN@STEP); none: the classic compressors alone. */
  models?: string[];
  home?: string;
  /** The file to compress (default: Brown's validation split, the held-out documents). */
  file?: string;
  segment?: number;
  group?: number;
  threads?: number;
  /** Also measure each model alone, without the context mixer, as its own row. */
  alsoAlone?: boolean;
}

interface Classic {
  name: string;
  bins: string[];
  run(bin: string, data: Uint8Array, tmp: string): { packed: Uint8Array; unpack: () => Uint8Array };
}

function exec(bin: string, args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync(bin, args, { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr.toString().trim().split('\n')[0]}`);
  return r.stdout;
}

/** A streaming tool: `bin ARGS -c` reads stdin, `bin -d -c` restores. */
const stream = (name: string, bin: string, level: string[]): Classic => ({
  name, bins: [bin],
  run: (b, data) => {
    const packed = exec(b, [...level, '-c'], data);
    return { packed, unpack: () => exec(b, ['-d', '-c'], packed) };
  },
});

const CLASSICS: Classic[] = [
  stream('gzip -9', 'gzip', ['-9', '-n']),
  stream('xz -9e', 'xz', ['-9e']),
  stream('zstd -19', 'zstd', ['-19', '-q']),
  stream('bzip2 -9', 'bzip2', ['-9']),
  {
    name: '7z PPMd', bins: ['7zz', '7z', '7za'],
    run: (b, data, tmp) => {
      const src = path.join(tmp, 'input'), arc = path.join(tmp, 'input.7z');
      fs.writeFileSync(src, data);
      exec(b, ['a', '-bd', '-bso0', '-t7z', '-m0=PPMd', '-mx=9', arc, src]);
      const packed = fs.readFileSync(arc);
      return { packed, unpack: () => exec(b, ['e', '-bd', '-so', arc]) };
    },
  },
];

function found(bin: string): boolean {
  const r = spawnSync(bin, ['--help'], { stdio: 'ignore' });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT');
}

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function benchCompress(o: CompressBenchOptions = {}): Promise<CompressBenchResult> {
  if (o.threads !== undefined) setThreads(o.threads);
  let data: Uint8Array, input: string;
  if (o.file !== undefined) {
    if (!fs.existsSync(o.file)) throw new UsageError(`no such file: '${o.file}'`);
    data = fs.readFileSync(o.file);
    input = o.file;
  } else {
    data = splitCorpus(loadCorpus('brown'), { seed: 0 }).val;
    input = "Brown's validation split";
  }
  if (data.length === 0) throw new UsageError(`'${input}' is empty: there is nothing to measure`);
  const n = data.length, kbs = (s: number) => n / 1000 / s, rows: CompressBenchRow[] = [], missing: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scalelab-bench-compress-'));
  try {
    for (const c of CLASSICS) {
      const bin = c.bins.find(found);
      if (!bin) {
        missing.push(`${c.name} (${c.bins.join(' / ')})`);
        continue;
      }
      let r!: ReturnType<Classic['run']>, back!: Uint8Array;
      const tc = seconds(() => { r = c.run(bin, data, tmp); });
      const td = seconds(() => { back = r.unpack(); });
      if (Buffer.compare(Buffer.from(back), Buffer.from(data)) !== 0) throw new Error(`${c.name}: the round trip changed the data`);
      rows.push({ name: c.name, compressed: r.packed.length, bpb: (r.packed.length * 8) / n, adjustedBpb: null, compressKBs: kbs(tc), decompressKBs: kbs(td) });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  for (const spec of o.models ?? []) {
    const m = await openModel(spec, o.home);
    for (const contextMix of o.alsoAlone ? [false, true] : [true]) {
      let packed!: Uint8Array, back!: Uint8Array;
      const tc = seconds(() => { packed = compressBytes(data, m, { segment: o.segment, group: o.group, contextMix }); });
      const td = seconds(() => { back = decompressBytes(packed, { loaded: m }).data; });
      if (Buffer.compare(Buffer.from(back), Buffer.from(data)) !== 0) throw new Error(`${m.name}: the round trip changed the data`);
      const { layers, dModel } = m.model.config;
      rows.push({
        name: `scalelab ${m.name} (${layers}×${dModel}, ${(m.model.params.length / 1e6).toFixed(2)}M${contextMix ? '' : ', model alone'})`, compressed: packed.length,
        bpb: (packed.length * 8) / n, adjustedBpb: ((packed.length + m.model.params.length * 4) * 8) / n,
        compressKBs: kbs(tc), decompressKBs: kbs(td),
      });
    }
  }
  return { input, bytes: n, threads: getThreads(), rows, missing };
}

/** The result as a table, then rate against compression speed as a text chart. */
export function formatCompressBench(r: CompressBenchResult): string {
  const lines = [`${r.input}: ${r.bytes} bytes, ${r.threads} threads`, ''];
  const head = ['', 'compressor', 'bytes', 'bpb', 'adjusted', 'compress KB/s', 'decompress KB/s'];
  const body = r.rows.map((x, i) => [String.fromCharCode(65 + i), x.name, String(x.compressed), x.bpb.toFixed(3),
    x.adjustedBpb === null ? '-' : x.adjustedBpb.toFixed(3), x.compressKBs.toFixed(1), x.decompressKBs.toFixed(1)]);
  const w = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const row = (cells: string[]) => cells.map((s, c) => (c <= 1 ? s.padEnd(w[c]) : s.padStart(w[c]))).join('  ');
  lines.push(row(head), ...body.map(row));
  if (r.missing.length) lines.push('', `not installed (left out): ${r.missing.join(', ')}`);
  if (r.rows.length > 1) lines.push('', ...chart(r.rows));
  return lines.join('\n');
}

/** bpb (down) against compression speed (across, log scale), each compressor by its letter. */
function chart(rows: CompressBenchRow[]): string[] {
  const W = 56, H = 12;
  const xs = rows.map((x) => Math.log10(Math.max(x.compressKBs, 1e-3))), ys = rows.map((x) => x.bpb);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const grid = Array.from({ length: H }, () => Array<string>(W).fill(' '));
  rows.forEach((_, i) => {
    const c = x1 > x0 ? Math.round(((xs[i] - x0) / (x1 - x0)) * (W - 1)) : 0;
    const r = y1 > y0 ? Math.round(((ys[i] - y0) / (y1 - y0)) * (H - 1)) : 0;
    grid[r][c] = String.fromCharCode(65 + i);
  });
  const out = ['rate (bpb, lower is better) against compression speed (KB/s, log scale)'];
  grid.forEach((g, r) => {
    const label = r === 0 ? y0.toFixed(2) : r === H - 1 ? y1.toFixed(2) : '';
    out.push(`${label.padStart(6)} |${g.join('')}`);
  });
  out.push(`${''.padStart(6)} +${'-'.repeat(W)}`);
  const lo = (10 ** x0).toFixed(1), hi = (10 ** x1).toFixed(1);
  out.push(`${''.padStart(8)}${lo}${hi.padStart(W - lo.length)}`);
  return out;
}
