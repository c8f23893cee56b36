import type { Logger } from '../../common/logger.js';
import { SYSTEM_TOPIC_PREFIX } from '../../common/topic.js';
import { TopicCountMetrics } from '../topic-count-metrics.js';

/** Light message queue topics (upstream `MixAll.LMQ_PREFIX`): kept by `cleanMetrics`, as upstream. */
const LMQ_PREFIX = '%LMQ%';

/**
 * Per real topic, how many timer messages are pending (upstream `TimerMetrics`, persisted as
 * `config/timermetrics`): +1 when a timer is filed (a rolled one again), −1 when it is delivered
 * or rolled, −1 when a delete marker (a recall) is filed. GET_TIMER_METRICS answers with
 * `encode()`, upstream's `TimerMetricsSerializeWrapper` JSON. Upstream's timer distribution
 * (`timingDistribution`, for its metrics exporter) is never serialized and is not kept here.
 */
export class TimerMetrics extends TopicCountMetrics {
  constructor(path: string, logger: Logger) {
    super(path, logger, 'timingCount');
  }

  /** The topic is gone (upstream `removeTimingCount`, on DELETE_TOPIC_IN_BROKER). */
  removeTimingCount(topic: string): void {
    if (this.counts.delete(topic)) this.dirty = true;
  }

  /** Drops the counts of topics the broker no longer has, except system and LMQ topics (upstream `cleanMetrics`). */
  cleanMetrics(topics: ReadonlySet<string>): void {
    for (const topic of [...this.counts.keys()]) {
      if (topic.startsWith(SYSTEM_TOPIC_PREFIX) || topic.startsWith(LMQ_PREFIX) || topics.has(topic)) continue;
      this.counts.delete(topic);
      this.dirty = true;
      this.logger.info(`clean timer metrics of ${topic}: not in the topic config`);
    }
  }
}
