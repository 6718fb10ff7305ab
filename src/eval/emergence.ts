// Emergence: a metric against training compute (across a sweep's runs) or against training step
// (across one run's checkpoints), and whether it rises abruptly or smoothly.
//
// "Abrupt" is measured, not eyeballed: of the metric's whole rise from its first point to its
// best, how much happens between two neighbouring points. Under exact match an ability often
// looks abrupt (most of the rise in one step of compute) while the log-probability of the same
// answers rises steadily (Schaeffer et al. 2023); printing both makes that visible.
import { UsageError } from '../errors.js';
import type { EvalResult, Store } from '../runs/index.js';

export interface EmergencePoint {
  /** Run name, or `NAME@STEP`. */
  label: string;
  /** Training FLOPs (sweep view) or step (checkpoint view). */
  x: number;
  value: number | null;
  stderr: number | null;
  n: number;
}

export interface EmergenceSeries {
  metric: string;
  /** Whether larger values are better (false for edit distance and bits per byte). */
  higherIsBetter: boolean;
  points: EmergencePoint[];
  shape: Shape;
}

export interface Shape {
  /** The largest share of the rise (first point to best) between two neighbouring points, null with fewer than 3 points or no rise. */
  largestJump: number | null;
  /** Between which x values that jump happens. */
  between: [number, number] | null;
  verdict: 'abrupt' | 'smooth' | 'flat' | 'too few points';
}

/** Share of the rise in one interval above which an ability counts as appearing abruptly. */
export const ABRUPT_SHARE = 0.5;

export const LOWER_IS_BETTER = (metric: string) => metric === 'edit_distance' || metric === 'bpb' || metric.startsWith('bpb:');

/**
 * Describe how a metric rises along x (points sorted by x). `logX`: measure the x spacing in
 * decades (compute), else linearly (steps). An interval is abrupt when it holds more than half of
 * the rise and at least 1.5 times the rise its width would carry if the metric rose evenly along x, so
 * unevenly spaced points do not make a steady rise look sudden.
 */
export function shapeOf(points: readonly EmergencePoint[], higherIsBetter: boolean, logX = true): Shape {
  const vals = points.filter((p) => p.value !== null && Number.isFinite(p.value));
  if (vals.length < 3) return { largestJump: null, between: null, verdict: 'too few points' };
  const v = vals.map((p) => (higherIsBetter ? p.value! : -p.value!));
  const top = v.indexOf(Math.max(...v));
  const rise = v[top] - v[0];
  // A rise within the noise of its two ends is no rise.
  const noise = Math.hypot(vals[0].stderr ?? 0, vals[top].stderr ?? 0);
  if (!(rise > 2 * noise) || rise <= 0) return { largestJump: null, between: null, verdict: 'flat' };
  const xs = vals.map((p) => (logX ? Math.log10(p.x) : p.x));
  const span = xs[xs.length - 1] - xs[0];
  let best = 0, at = 0;
  for (let i = 0; i + 1 < v.length; i++) {
    const jump = (v[i + 1] - v[i]) / rise;
    if (jump > best) [best, at] = [jump, i];
  }
  const width = span > 0 ? (xs[at + 1] - xs[at]) / span : 1;
  const verdict = best > ABRUPT_SHARE && best >= 1.5 * width ? 'abrupt' : 'smooth';
  return { largestJump: best, between: [vals[at].x, vals[at + 1].x], verdict };
}

/**
 * One series per metric from stored results, x taken from `xOf` (undefined drops the result),
 * points sorted by x. Metrics come in the order the results first name them.
 */
export function emergenceSeries(results: readonly EvalResult[], xOf: (r: EvalResult) => { x: number; label: string } | undefined, logX = true): EmergenceSeries[] {
  const byMetric = new Map<string, EmergencePoint[]>();
  for (const r of results) {
    const at = xOf(r);
    if (!at) continue;
    const list = byMetric.get(r.metric) ?? [];
    list.push({ label: at.label, x: at.x, value: r.value, stderr: r.stderr, n: r.n });
    byMetric.set(r.metric, list);
  }
  return [...byMetric].map(([metric, points]) => {
    points.sort((a, b) => a.x - b.x);
    const higherIsBetter = !LOWER_IS_BETTER(metric);
    return { metric, higherIsBetter, points, shape: shapeOf(points, higherIsBetter, logX) };
  });
}

export interface EmergenceQuery {
  task: string;
  shots: number;
  /** Across a sweep's runs, against training FLOPs. */
  sweep?: string;
  /** Across one run's checkpoints (and its final weights), against training step. */
  run?: string;
}

export interface EmergenceView {
  task: string;
  taskVersion: string | null;
  shots: number;
  axis: 'flops' | 'step';
  series: EmergenceSeries[];
}

/**
 * The emergence view from stored results. Only one version of a task is compared: the one most
 * recently evaluated (results of older versions scored different examples).
 */
export async function emergenceView(store: Store, q: EmergenceQuery): Promise<EmergenceView> {
  if ((q.sweep === undefined) === (q.run === undefined)) throw new UsageError('emergence needs either --sweep NAME or --run NAME');
  let results: EvalResult[];
  let xOf: (r: EvalResult) => { x: number; label: string } | undefined;
  if (q.sweep !== undefined) {
    await store.sweeps.get(q.sweep);
    const runs = await Promise.all((await store.runsNamingSweep(q.sweep)).map((name) => store.getRun(name)));
    const byId = new Map(runs.map((r) => [r.id, r]));
    results = (await store.evals.results({ subjects: runs.map((r) => r.id), task: q.task })).filter((r) => r.step === -1);
    xOf = (r) => {
      const run = byId.get(r.subject)!;
      return run.flops > 0 ? { x: run.flops, label: run.name } : undefined;
    };
  } else {
    const run = await store.getRun(q.run!);
    const last = (await store.series.span(run.id))?.last ?? 0;
    results = await store.evals.results({ subjects: [run.id], task: q.task });
    xOf = (r) => (r.step === -1 ? { x: last, label: run.name } : { x: r.step, label: `${run.name}@${r.step}` });
  }
  results = results.filter((r) => r.shots === q.shots);
  const newest = results.reduce<EvalResult | undefined>((a, r) => (!a || r.createdAt > a.createdAt ? r : a), undefined);
  const version = newest?.taskVersion ?? null;
  results = results.filter((r) => r.taskVersion === version);
  if (q.run !== undefined) {
    // Final weights sit at the last step; a checkpoint at that same step is the same weights.
    const steps = new Set(results.filter((r) => r.step >= 0).map((r) => `${r.step}`));
    const last = (await store.series.span((await store.getRun(q.run)).id))?.last;
    if (last !== undefined && steps.has(`${last}`)) results = results.filter((r) => r.step !== -1);
  }
  return { task: q.task, taskVersion: version, shots: q.shots, axis: q.sweep !== undefined ? 'flops' : 'step', series: emergenceSeries(results, xOf, q.sweep !== undefined) };
}
