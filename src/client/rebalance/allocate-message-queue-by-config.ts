import type { MessageQueue } from '../route.js';
import type { AllocateMessageQueueStrategy } from './allocate-message-queue-strategy.js';

/** A fixed list of queues, whatever the group looks like (upstream `AllocateMessageQueueByConfig`). */
export class AllocateMessageQueueByConfig implements AllocateMessageQueueStrategy {
  readonly name = 'CONFIG';

  /** @param messageQueueList the queues this consumer always takes */
  constructor(public messageQueueList: MessageQueue[] = []) {}

  allocate(): MessageQueue[] {
    return [...this.messageQueueList];
  }
}
