import type { Logger } from '../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../common/config-file.js';
import { encodeJson } from '../common/json.js';
import { newDataVersion, nextDataVersion, toDataVersion, type DataVersion } from '../common/route.js';

/** One topic's count (upstream `TimerMetrics.Metric` / `TransactionMetrics.Metric`) and when it last moved. */
export interface TopicCount {
  count: number;
  timeStamp: number;
}

/**
 * A count per topic with a data version, persisted as upstream's fastjson wrappers write them:
 * `{dataVersion, <field>: {topic: {count, timeStamp}}}`. Upstream keeps two such tables,
 * `TimerMetrics` (`timingCount`, config/timermetrics) and `TransactionMetrics`
 * (`transactionCount`, config/transactionMetrics); each here is this class with its field name.
 */
export class TopicCountMetrics {
  readonly counts = new Map<string, TopicCount>();
  dataVersion: DataVersion = newDataVersion();
  /** Changed since the last persist. */
  protected dirty = false;

  constructor(private readonly path: string, protected readonly logger: Logger, private readonly field: string) {}

  load(): void {
    const o = readJsonFile<Record<string, unknown>>(this.path, (m) => this.logger.warn(m));
    if (!o) return;
    const table = o[this.field];
    for (const [topic, m] of Object.entries(typeof table === 'object' && table !== null ? table : {})) {
      if (typeof m !== 'object' || m === null) continue;
      const { count, timeStamp } = m as Record<string, unknown>;
      if (typeof count === 'number' && Number.isFinite(count)) {
        this.counts.set(topic, { count, timeStamp: typeof timeStamp === 'number' ? timeStamp : 0 });
      }
    }
    try {
      this.dataVersion = toDataVersion(o.dataVersion);
    } catch {
      this.logger.warn(`${this.path}: unreadable dataVersion; starting a new one`);
    }
  }

  /** Moves `topic`'s count by `delta` (upstream `addAndGet`); a new data version each time, as upstream. */
  addAndGet(topic: string, delta: number, now: number = Date.now()): number {
    let m = this.counts.get(topic);
    if (!m) this.counts.set(topic, (m = { count: 0, timeStamp: now }));
    this.dataVersion = nextDataVersion(this.dataVersion, now);
    m.timeStamp = now;
    m.count += delta;
    this.dirty = true;
    return m.count;
  }

  countOf(topic: string): number {
    return this.counts.get(topic)?.count ?? 0;
  }

  /** The upstream wrapper's JSON. */
  encode(): Buffer {
    return encodeJson({ dataVersion: this.dataVersion, [this.field]: Object.fromEntries(this.counts) });
  }

  get changed(): boolean {
    return this.dirty;
  }

  persist(): void {
    if (!this.dirty) return;
    writeFileAtomic(this.path, this.encode());
    this.dirty = false;
  }
}
