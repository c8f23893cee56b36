import type { Logger } from '../../common/logger.js';
import { TopicCountMetrics } from '../topic-count-metrics.js';

/**
 * Per real topic, how many half messages are open (upstream `TransactionMetrics`, persisted as
 * `config/transactionMetrics` by `TransactionMetricsFlushService` every
 * transactionMetricFlushInterval and at shutdown): +1 when a half is stored, −1 when it is
 * committed, rolled back or discarded after transactionCheckMax checks.
 */
export class TransactionMetrics extends TopicCountMetrics {
  constructor(path: string, logger: Logger) {
    super(path, logger, 'transactionCount');
  }
}
