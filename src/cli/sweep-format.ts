// Helpers shared by the sweep commands: formatting, list options, the store.
import { UsageError } from '../errors.js';
import { openStore, existingHome, resolveHome, type Store } from '../runs/index.js';
import { SweepQueue } from '../sweep/queue.js';

/** `reading`: the command only reads, so a home that does not exist is refused, not created. */
export async function withQueue<T>(home: string | undefined, fn: (q: SweepQueue, s: Store) => Promise<T>, reading = false): Promise<T> {
  const store = reading ? openStore(existingHome(home), { reading: true }) : openStore(resolveHome(home));
  try {
    return await fn(new SweepQueue(store), store);
  } finally {
    await store.close();
  }
}

export const fmtSeconds = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(s < 10 ? 1 : 0)} s`);

/** "1 run", "3 runs". */
export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function list<T>(name: string, parse: (s: string) => T) {
  return (value: string): T[] => {
    const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
    if (parts.length === 0) throw new UsageError(`${name} needs a comma-separated list, got '${value}'`);
    return parts.map(parse);
  };
}
