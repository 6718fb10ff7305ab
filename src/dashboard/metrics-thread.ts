// Reads and downsamples long runs off the main thread (metrics.ts), one request at a time, on
// its own connection to the store.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../runs/index.js';
import { runMetrics, type MetricsQuery, type MetricsResponse } from './metrics.js';
import type { ThreadReply } from '../thread.js';

export interface MetricsRequest { id: number; runId: string; query: MetricsQuery }

const store = openStore((workerData as { home: string }).home);
parentPort!.on('message', async (m: MetricsRequest | 'close') => {
  if (m === 'close') {
    await store.close();
    parentPort!.close();
    return;
  }
  let reply: ThreadReply<MetricsResponse>;
  try {
    reply = { id: m.id, ok: true, response: await runMetrics(store, m.runId, m.query) };
  } catch (err) {
    reply = { id: m.id, ok: false, message: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
