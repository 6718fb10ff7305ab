// Native kernels against the reference, shared by test/kernels.test.ts and
// test/video-ops.test.ts. Apart from test/helpers.ts, which every test imports: this one loads
// the native addon.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { native, setKernel, setThreads, getThreads, kernelInfo } from '../src/engine/native.js';
import { reference } from '../src/engine/reference.js';
import type { Buf } from '../src/engine/kernels.js';
import { copy64, copy32, assertClose } from './helpers.js';

const defaultThreads = getThreads();
const defaultKernel = kernelInfo().gemm;

/** float32 against float64: |native − reference| ≤ atol·scale + rtol·|reference|. */
const TOL = { rtol: 2e-4, atol: 2e-5 };

/** The instruction sets this CPU runs; after the file's tests, the default kernel and threads are back. */
export function instructionSets(): string[] {
  const isas = ['generic', 'avx2', 'avx512'].filter((k) => setKernel(k));
  setKernel(defaultKernel);
  after(() => {
    setKernel(defaultKernel);
    setThreads(defaultThreads);
  });
  return isas;
}

/** Run fn on native float32 buffers and on float64 copies through the reference. */
export function both(bufs: Buf[], fn: (k: typeof native, b: Buf[]) => number | void): { n: Buf[]; r: Buf[]; nv: unknown; rv: unknown } {
  const n = bufs.map(copy32), r = bufs.map(copy64);
  const nv = fn(native, n);
  const rv = fn(reference, r);
  return { n, r, nv, rv };
}

export function compare(res: { n: Buf[]; r: Buf[] }, which: number[], what: string, scale = 1): void {
  for (const i of which) assertClose(res.n[i], res.r[i], TOL.rtol, TOL.atol * scale, `${what} buffer ${i}`);
}

/** The same call with 1 and 2 threads must agree to the bit. */
export function sameBitsAcrossThreads(bufs: Buf[], fn: (b: Buf[]) => void, what: string): void {
  const outs: Float32Array[][] = [];
  for (const t of [1, 2]) {
    setThreads(t);
    const b = bufs.map(copy32);
    fn(b);
    outs.push(b);
  }
  setThreads(defaultThreads);
  for (let i = 0; i < outs[0].length; i++) {
    assert.deepEqual(Buffer.from(outs[0][i].buffer), Buffer.from(outs[1][i].buffer), `${what}: buffer ${i} differs between 1 and 2 threads`);
  }
}
