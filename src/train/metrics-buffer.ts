// A training run's per-step metrics, held until there are enough to write to the store in one
// go: the loop writes them every `size` steps, and before a checkpoint, a rollback and the end.
import type { MetricRow, Store } from '../runs/index.js';

export class MetricsBuffer {
  private readonly rows: MetricRow[] = [];

  constructor(private readonly store: Store, private readonly runId: string, private readonly size = 50) {}

  push(row: MetricRow): void {
    this.rows.push(row);
  }

  async flushIfFull(): Promise<void> {
    if (this.rows.length >= this.size) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.rows.length) await this.store.logMetrics(this.runId, this.rows.splice(0));
  }
}
