// Axis and scale settings every chart shares.
import { tick } from './format.js';
import type { UPlot } from './uplot.js';

/** An axis; on a log scale with our own ticks, since uPlot's count up from the range's minimum. */
export function axis(label: string, log = false): UPlot.Axis {
  return {
    label, stroke: '#555', grid: { stroke: '#eee', width: 1 }, ticks: { stroke: '#ddd', width: 1 }, size: 54,
    values: (_u, vals) => vals.map((v) => (v === null ? '' : tick(v))),
    ...(log && { splits: (_u: UPlot, _i: number, min: number, max: number) => logTicks(min, max), filter: (_u: UPlot, splits: number[]) => splits }),
  };
}

/** A log scale around the data, widened by `factor` on each side; uPlot's own snaps to whole decades. */
export function padded(factor: number): UPlot.Scale.Range {
  return (_u, min, max) => (min === null || max === null || !(min > 0) || !(max > 0) ? [1, 10] : [min / factor, max * factor]);
}

/**
 * Round tick values for a log axis from min to max: powers of ten over many decades, 1-2-5 over a
 * few, and evenly spaced round numbers within one (a loss from 1.8 to 2.6 gets 1.8, 2, 2.2, ...).
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0 && max > min)) return [];
  const span = Math.log10(max / min);
  if (span < 1) return linearTicks(min, max, 5);
  const mantissas = span > 4 ? [1] : span > 2 ? [1, 3] : [1, 2, 5];
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= min && v <= max) out.push(v);
    }
  }
  return out;
}

function linearTicks(min: number, max: number, count: number): number[] {
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  // Counted in whole steps: adding 0.2 repeatedly drifts past an end that should be included.
  for (let i = Math.ceil(min / step - 1e-9); i <= Math.floor(max / step + 1e-9); i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}
