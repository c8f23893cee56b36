import type { Logger } from '../../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../../common/config-file.js';
import { encodeJson } from '../../common/json.js';
import { newDataVersion, nextDataVersion, toDataVersion, type DataVersion } from '../../common/route.js';

/** One topic's count (upstream `TransactionMetrics.Metric`): open half messages, and when the count last moved. */
export interface TransactionMetric {
  count: number;
  timeStamp: number;
}

/**
 * Per real topic, how many half messages are open (upstream `TransactionMetrics`, persisted as
 * `config/transactionMetrics` by `TransactionMetricsFlushService` every
 * transactionMetricFlushInterval and at shutdown): +1 when a half is stored, −1 when it is
 * committed, rolled back or discarded after transactionCheckMax checks.
 */
export class TransactionMetrics {
  readonly transactionCount = new Map<string, TransactionMetric>();
  dataVersion: DataVersion = newDataVersion();
  private dirty = false;

  constructor(private readonly path: string, private readonly logger: Logger) {}

  load(): void {
    const o = readJsonFile<{ transactionCount?: Record<string, unknown>; dataVersion?: unknown }>(this.path, (m) => this.logger.warn(m));
    if (!o) return;
    for (const [topic, m] of Object.entries(o.transactionCount ?? {})) {
      if (typeof m !== 'object' || m === null) continue;
      const { count, timeStamp } = m as Record<string, unknown>;
      if (typeof count === 'number' && Number.isFinite(count)) {
        this.transactionCount.set(topic, { count, timeStamp: typeof timeStamp === 'number' ? timeStamp : 0 });
      }
    }
    try {
      this.dataVersion = toDataVersion(o.dataVersion);
    } catch {
      this.logger.warn(`${this.path}: unreadable dataVersion; starting a new one`);
    }
  }

  /** Moves `topic`'s count by `delta` (upstream `addAndGet`), with a new data version. */
  addAndGet(topic: string, delta: number, now: number = Date.now()): number {
    let m = this.transactionCount.get(topic);
    if (!m) this.transactionCount.set(topic, (m = { count: 0, timeStamp: now }));
    this.dataVersion = nextDataVersion(this.dataVersion, now);
    m.timeStamp = now;
    m.count += delta;
    this.dirty = true;
    return m.count;
  }

  /** Open half messages of `topic` (upstream `getTransactionCount`). */
  countOf(topic: string): number {
    return this.transactionCount.get(topic)?.count ?? 0;
  }

  /** Upstream's `TransactionMetricsSerializeWrapper` as fastjson writes it: `{dataVersion, transactionCount: {topic: {count, timeStamp}}}`. */
  encode(): Buffer {
    return encodeJson({ dataVersion: this.dataVersion, transactionCount: Object.fromEntries(this.transactionCount) });
  }

  persist(): void {
    if (!this.dirty) return;
    writeFileAtomic(this.path, this.encode());
    this.dirty = false;
  }
}
