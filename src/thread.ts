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

/** What a request thread posts for each request: its id, then the response or the error's message. */
export type ThreadReply<R> = { id: number; ok: true; response: R } | { id: number; ok: false; message: string };

/**
 * Requests to a worker thread that answers each with a ThreadReply, one at a time. The thread
 * starts on the first request; one that dies fails what it held, and the next request starts
 * another.
 */
export class ThreadClient<Q, R> {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();
  private shut = false;

  /** `name` says which thread in errors ("the metrics thread exited with code 1"). */
  constructor(private readonly jsFile: URL, private readonly workerData: unknown, private readonly name: string) {}

  /** Closed: every request is refused. */
  get closed(): boolean {
    return this.shut;
  }

  /** Requests sent and not yet answered. */
  get waiting(): number {
    return this.pending.size;
  }

  request(body: Q): Promise<R> {
    if (this.shut) return Promise.reject(new Error('the dashboard is shutting down'));
    const w = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, ...body });
    });
  }

  async close(): Promise<void> {
    this.shut = true;
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new Error('the dashboard is shutting down'));
    this.pending.clear();
    if (w) await w.terminate();
  }

  private start(): Worker {
    const w = startThread(this.jsFile, this.workerData);
    w.on('message', (m: ThreadReply<R>) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.response);
      else p?.reject(new Error(m.message));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the ${this.name} thread exited with code ${code}`)));
    w.unref();
    this.worker = w;
    return w;
  }
}
