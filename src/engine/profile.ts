// Wraps a kernel set so every call is timed: where a training step spends its time, per kernel.
import type { Kernels } from './kernels.js';

export interface KernelProfile {
  kernels: Kernels;
  /** Milliseconds and calls per kernel since creation or the last clear(). */
  report(): { kernel: string; ms: number; calls: number }[];
  clear(): void;
}

export function profiled(inner: Kernels): KernelProfile {
  const ms = new Map<string, number>(), calls = new Map<string, number>();
  const wrapped: Record<string, unknown> = { name: inner.name };
  for (const [key, fn] of Object.entries(inner)) {
    if (typeof fn !== 'function') continue;
    wrapped[key] = (...args: unknown[]) => {
      const t0 = process.hrtime.bigint();
      const r = (fn as (...a: unknown[]) => unknown)(...args);
      ms.set(key, (ms.get(key) ?? 0) + Number(process.hrtime.bigint() - t0) / 1e6);
      calls.set(key, (calls.get(key) ?? 0) + 1);
      return r;
    };
  }
  return {
    kernels: wrapped as unknown as Kernels,
    report: () => [...ms].map(([kernel, t]) => ({ kernel, ms: t, calls: calls.get(kernel)! })).sort((a, b) => b.ms - a.ms),
    clear: () => { ms.clear(); calls.clear(); },
  };
}
