// The native kernels: the C++ addon built by `npm install` (native/), float32 only.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Kernels } from './kernels.js';
import { applyDefaultWaitPolicy } from './wait-policy.js';

interface Addon extends Omit<Kernels, 'name'> {
  setThreads(n: number): void;
  getThreads(): number;
  kernelInfo(): { gemm: string; kernels: string };
  setKernel(name: string): boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const addonPath = path.resolve(here, '../../native/build/Release/scalelab_native.node');

function load(): Addon {
  // Idle OpenMP threads sleep unless the command or the user chose otherwise (see
  // wait-policy.ts); libgomp reads this once, as the addon loads it.
  applyDefaultWaitPolicy();
  try {
    return createRequire(import.meta.url)(addonPath) as Addon;
  } catch (err) {
    throw new Error(`scalelab: the native kernels are not built (${addonPath}); run \`npm install\` or \`npm run build\` ` +
      `(needs g++ and python3): ${(err as Error).message.split('\n')[0]}`);
  }
}

export const addon: Addon = load();

/** Names SCALELAB_KERNELS accepts: force one kernel family for every kernel of this process. */
export const KERNEL_FAMILIES = ['generic', 'avx2', 'avx512'] as const;

// SCALELAB_KERNELS=generic|avx2|avx512 forces the family at load, as setKernel does (to test,
// for instance, that a file compressed under one family decompresses under another). A name
// this CPU cannot run is refused, with one line and exit code 2, rather than silently replaced:
// the variable is the process's setting, read as the addon loads, before any command runs.
function refuse(message: string): never {
  process.stderr.write(`scalelab: ${message}\n`);
  process.exit(2);
}
const forced = process.env.SCALELAB_KERNELS;
if (forced !== undefined && forced !== '' && forced !== 'auto') {
  if (!(KERNEL_FAMILIES as readonly string[]).includes(forced)) {
    refuse(`SCALELAB_KERNELS must be one of auto, ${KERNEL_FAMILIES.join(', ')}, got '${forced}'`);
  }
  if (!addon.setKernel(forced)) refuse(`SCALELAB_KERNELS=${forced}: this CPU cannot run the ${forced} kernels`);
}

export const native: Kernels = { ...addon, name: 'native' };

/** Threads every native kernel splits its work over (a fixed static split). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`threads must be an integer from 1 to 1024, got ${n}`);
  addon.setThreads(n);
}

export function getThreads(): number {
  return addon.getThreads();
}

/** Which instruction set the GEMM micro-kernel and the other kernels use on this CPU. */
export function kernelInfo(): { gemm: string; kernels: string } {
  return addon.kernelInfo();
}

/** Force "generic", "avx2" or "avx512" for every kernel; false when this CPU cannot run it. */
export function setKernel(name: string): boolean {
  return addon.setKernel(name);
}
