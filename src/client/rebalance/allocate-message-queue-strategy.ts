import { ClientErrorCode, MQClientError } from '../errors.js';
import type { MessageQueue } from '../route.js';

/**
 * How a consumer group shares a topic's queues (upstream `AllocateMessageQueueStrategy`).
 * Every member runs the same strategy over the same sorted inputs and takes its own share, so
 * the group agrees on an assignment without talking to each other.
 */
export interface AllocateMessageQueueStrategy {
  /** Upstream's strategy name (`AVG`, `AVG_BY_CIRCLE`, …), shown in logs. */
  readonly name: string;
  /**
   * The queues `currentCID` should consume.
   * @param consumerGroup the group (for messages only)
   * @param currentCID this consumer's client id
   * @param mqAll every queue of the topic, sorted (topic, brokerName, queueId)
   * @param cidAll every client id of the group, sorted
   */
  allocate(consumerGroup: string, currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[];
}

/**
 * Upstream `AbstractAllocateMessageQueueStrategy.check`: empty inputs are a caller error; a
 * consumer missing from `cidAll` (the broker has not seen its heartbeat yet) gets nothing.
 */
export function checkAllocateArgs(currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): boolean {
  if (!currentCID) throw new MQClientError('currentCID is empty', ClientErrorCode.ARGUMENT_ILLEGAL);
  if (mqAll.length === 0) throw new MQClientError('mqAll is null or mqAll empty', ClientErrorCode.ARGUMENT_ILLEGAL);
  if (cidAll.length === 0) throw new MQClientError('cidAll is null or cidAll empty', ClientErrorCode.ARGUMENT_ILLEGAL);
  return cidAll.includes(currentCID);
}
