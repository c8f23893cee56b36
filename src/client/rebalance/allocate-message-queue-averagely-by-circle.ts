import type { MessageQueue } from '../route.js';
import { checkAllocateArgs, type AllocateMessageQueueStrategy } from './allocate-message-queue-strategy.js';

/** Queues dealt round-robin: consumer i takes queues j with `j % C == i` (upstream `AllocateMessageQueueAveragelyByCircle`). */
export class AllocateMessageQueueAveragelyByCircle implements AllocateMessageQueueStrategy {
  readonly name = 'AVG_BY_CIRCLE';

  allocate(_group: string, currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
    if (!checkAllocateArgs(currentCID, mqAll, cidAll)) return [];
    const index = cidAll.indexOf(currentCID);
    const out: MessageQueue[] = [];
    for (let i = index; i < mqAll.length; i++) {
      if (i % cidAll.length === index) out.push(mqAll[i]!);
    }
    return out;
  }
}
