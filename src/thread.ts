// Worker threads for work that must not hold up an event loop: the dashboard's slow reads and
// fits, the serving benchmark's client.
import { Worker } from 'node:worker_threads';

/**
 * A worker running `file` (a sibling module given as its .js URL). Under tsx (tests, development)
 * the module is the .ts beside it, and a worker does not inherit tsx's loader on Node 20, so it
 * registers the loader before importing the module.
 */
export function startThread(jsFile: URL, workerData: unknown): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(jsFile, { workerData });
  const ts = jsFile.href.replace(/\.js$/, '.ts');
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`, { eval: true, workerData });
}
