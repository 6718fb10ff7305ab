// Fits a sweep's law off the main thread: a bootstrap takes seconds, and the server's event loop
// must keep streaming metrics and answering the page meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { lawView, type VerifyPoint } from './law-view.js';
import type { Metric, SweepPoint } from '../sweep/points.js';

export interface LawThreadData { sweep: string; metric: Metric; points: SweepPoint[]; verify: VerifyPoint[]; resamples: number }

const d = workerData as LawThreadData;
try {
  parentPort!.postMessage({ ok: true, view: lawView(d.sweep, d.points, d.verify, { resamples: d.resamples, metric: d.metric }) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
