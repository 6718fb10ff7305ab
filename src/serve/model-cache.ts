// The models a server holds in memory: each loaded once per key (concurrent requests for a key
// share one load), kept in least-recently-used order, and dropped oldest first once what they hold
// passes a byte bound. A model that is busy (a request is decoding with it) is never dropped, and
// neither is the one just loaded, so the bound can be passed while every other model is busy; it is
// enforced again at the next load. A request that already holds a dropped model finishes with it;
// the memory goes back when that request ends.

interface Entry<T> {
  promise: Promise<T>;
  /** Set once the load has succeeded. */
  value?: T;
}

export interface ModelCacheOptions<T> {
  /** Bytes the loaded models may hold together. */
  maxBytes: number;
  /** What a loaded value holds now, in bytes (it may grow, e.g. with KV caches). */
  sizeOf: (value: T) => number;
  /** True while a request is using the value: it is not dropped then. */
  busy: (value: T) => boolean;
}

export class ModelCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Loads started, successful or not (tests count them). */
  loads = 0;
  /** Values dropped to stay under the bound. */
  evictions = 0;

  constructor(private readonly o: ModelCacheOptions<T>) {
    if (!(o.maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${o.maxBytes}`);
  }

  get maxBytes(): number {
    return this.o.maxBytes;
  }

  /** The value for `key`, loading it on first use; a failed load is forgotten so a later call retries. */
  get(key: string, load: () => T): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.promise;
    }
    this.loads++;
    // In the map before the load starts, so a request arriving meanwhile waits for this load.
    const entry = { promise: Promise.resolve() } as Entry<T>;
    this.entries.set(key, entry);
    entry.promise = this.load(key, entry, load);
    return entry.promise;
  }

  private async load(key: string, entry: Entry<T>, load: () => T): Promise<T> {
    try {
      entry.value = load();
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
    this.evict(key);
    return entry.value;
  }

  /** Bytes the loaded values hold now. */
  get bytesHeld(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.value !== undefined) n += this.o.sizeOf(e.value);
    return n;
  }

  /** Loaded values, least recently used first. */
  values(): T[] {
    return [...this.entries.values()].flatMap((e) => (e.value === undefined ? [] : [e.value]));
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Forget everything; returns the values that were loaded. */
  clear(): T[] {
    const out = this.values();
    this.entries.clear();
    return out;
  }

  /** Drop least recently used values, other than `keep` and busy ones, until under the bound. */
  private evict(keep: string): void {
    let held = this.bytesHeld;
    for (const [key, e] of [...this.entries]) {
      if (held <= this.o.maxBytes) return;
      if (key === keep || e.value === undefined || this.o.busy(e.value)) continue;
      held -= this.o.sizeOf(e.value);
      this.entries.delete(key);
      this.evictions++;
    }
  }
}
