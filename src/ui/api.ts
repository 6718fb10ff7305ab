// The dashboard API as the page sees it. The shapes are the server's own types (type-only
// imports, erased when compiled), so a change on one side is a compile error on the other.
export type { RunSummary } from '../dashboard/runs.js';
export type { SweepSummary, SweepDetail } from '../dashboard/sweeps.js';
export type { MetricColumns, MetricKey, MetricsResponse } from '../dashboard/metrics.js';
export type { LawView, BudgetGroup, VerifyPoint } from '../dashboard/law-view.js';
export type { SweepStatus } from '../sweep/status.js';
export type { EmergenceView, EmergenceSeries, EmergencePoint } from '../eval/emergence.js';
export type { EvalTask, EvalTasks } from '../dashboard/emergence.js';
export type { GalleryView, GalleryWeights } from '../dashboard/gallery.js';

/** GET a JSON resource; a non-2xx answer throws with the API's error message. */
export async function getJSON<T>(url: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(url, { signal, headers: { accept: 'application/json' } });
  const body = await r.json().catch(() => null) as { error?: { message?: string } } | null;
  if (!r.ok) throw new Error(body?.error?.message ?? `${r.status} ${r.statusText}`);
  return body as T;
}

/** The key the server put into this page; the API under /v1 answers only requests that carry it. */
export function apiKeyHeader(): Record<string, string> {
  const key = document.querySelector<HTMLMetaElement>('meta[name="scalelab-key"]')?.content;
  return key ? { authorization: `Bearer ${key}` } : {};
}
