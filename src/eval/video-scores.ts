// Scores of many clips: each metric's mean over the clips that it could judge, with the standard
// error of that mean, in the shape the text tasks report (src/eval/metrics.ts, MetricValue).
import type { MetricValue } from './metrics.js';
import { VIDEO_METRICS, type VideoMetric, type VideoReading } from './video-detector.js';

/** Mean and standard error of one metric over the readings that judged it (null values left out). */
export function videoMetric(readings: readonly Pick<VideoReading, 'scores'>[], metric: VideoMetric): MetricValue {
  const xs = readings.map((r) => r.scores[metric]).filter((v): v is number => v !== null);
  const n = xs.length;
  if (n === 0) return { metric, value: NaN, stderr: null, n };
  const m = xs.reduce((a, v) => a + v, 0) / n;
  const variance = n > 1 ? xs.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1) : NaN;
  return { metric, value: m, stderr: n > 1 ? Math.sqrt(variance / n) : null, n };
}

/** Every video metric over a set of readings. */
export function aggregateVideo(readings: readonly Pick<VideoReading, 'scores'>[]): Record<VideoMetric, MetricValue> {
  return Object.fromEntries(VIDEO_METRICS.map((m) => [m, videoMetric(readings, m)])) as Record<VideoMetric, MetricValue>;
}
