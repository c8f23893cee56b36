import type { Logger } from '../../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../../common/config-file.js';
import { encodeJson } from '../../common/json.js';
import { newDataVersion, nextDataVersion, toDataVersion, type DataVersion } from '../../common/route.js';
import { SYSTEM_TOPIC_PREFIX } from '../../common/topic.js';

/** One topic's count (upstream `TimerMetrics.Metric`): timers pending for it, and when the count last moved. */
export interface TimerMetric {
  count: number;
  timeStamp: number;
}

/** Light message queue topics (upstream `MixAll.LMQ_PREFIX`): kept by `cleanMetrics`, as upstream. */
const LMQ_PREFIX = '%LMQ%';

/**
 * Per real topic, how many timer messages are pending (upstream `TimerMetrics`, persisted as
 * `config/timermetrics`): +1 when a timer is filed (a rolled one again), −1 when it is delivered
 * or rolled, −1 when a delete marker (a recall) is filed. GET_TIMER_METRICS answers with
 * `encode()`, upstream's `TimerMetricsSerializeWrapper` JSON. Upstream's timer distribution
 * (`timingDistribution`, for its metrics exporter) is never serialized and is not kept here.
 */
export class TimerMetrics {
  readonly timingCount = new Map<string, TimerMetric>();
  dataVersion: DataVersion = newDataVersion();
  /** Changed since the last persist. */
  private dirty = false;

  constructor(private readonly path: string, private readonly logger: Logger) {}

  load(): void {
    const o = readJsonFile<{ timingCount?: Record<string, unknown>; dataVersion?: unknown }>(this.path, (m) => this.logger.warn(m));
    if (!o) return;
    for (const [topic, m] of Object.entries(o.timingCount ?? {})) {
      if (typeof m !== 'object' || m === null) continue;
      const { count, timeStamp } = m as Record<string, unknown>;
      if (typeof count === 'number' && Number.isFinite(count)) {
        this.timingCount.set(topic, { count, timeStamp: typeof timeStamp === 'number' ? timeStamp : 0 });
      }
    }
    try {
      this.dataVersion = toDataVersion(o.dataVersion);
    } catch {
      this.logger.warn(`${this.path}: unreadable dataVersion; starting a new one`);
    }
  }

  /** Moves `topic`'s count by `delta` (upstream `addAndGet`); a new data version each time, as upstream. */
  add(topic: string, delta: number, now: number = Date.now()): number {
    let m = this.timingCount.get(topic);
    if (!m) this.timingCount.set(topic, (m = { count: 0, timeStamp: now }));
    this.dataVersion = nextDataVersion(this.dataVersion, now);
    m.timeStamp = now;
    m.count += delta;
    this.dirty = true;
    return m.count;
  }

  /** Pending timer messages of `topic` (upstream `getTimingCount(topic)`). */
  timingCountOf(topic: string): number {
    return this.timingCount.get(topic)?.count ?? 0;
  }

  /** The topic is gone (upstream `removeTimingCount`, on DELETE_TOPIC_IN_BROKER). */
  removeTimingCount(topic: string): void {
    if (this.timingCount.delete(topic)) this.dirty = true;
  }

  /** Drops the counts of topics the broker no longer has, except system and LMQ topics (upstream `cleanMetrics`). */
  cleanMetrics(topics: ReadonlySet<string>): void {
    for (const topic of [...this.timingCount.keys()]) {
      if (topic.startsWith(SYSTEM_TOPIC_PREFIX) || topic.startsWith(LMQ_PREFIX) || topics.has(topic)) continue;
      this.timingCount.delete(topic);
      this.dirty = true;
      this.logger.info(`clean timer metrics of ${topic}: not in the topic config`);
    }
  }

  /** Upstream's `TimerMetricsSerializeWrapper` as fastjson writes it: `{dataVersion, timingCount: {topic: {count, timeStamp}}}`. */
  encode(): Buffer {
    return encodeJson({ dataVersion: this.dataVersion, timingCount: Object.fromEntries(this.timingCount) });
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
