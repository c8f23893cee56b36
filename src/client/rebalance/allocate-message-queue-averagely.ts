import type { MessageQueue } from '../route.js';
import { checkAllocateArgs, type AllocateMessageQueueStrategy } from './allocate-message-queue-strategy.js';

/**
 * Consecutive blocks of queues, the first `N % C` consumers taking one more (upstream
 * `AllocateMessageQueueAveragely`, the default): 8 queues over 3 consumers ⇒ 3, 3, 2.
 */
export class AllocateMessageQueueAveragely implements AllocateMessageQueueStrategy {
  readonly name = 'AVG';

  allocate(_group: string, currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
    if (!checkAllocateArgs(currentCID, mqAll, cidAll)) return [];
    const index = cidAll.indexOf(currentCID);
    const n = mqAll.length;
    const c = cidAll.length;
    const mod = n % c;
    const averageSize = n <= c ? 1 : mod > 0 && index < mod ? Math.floor(n / c) + 1 : Math.floor(n / c);
    const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
    const range = Math.min(averageSize, n - startIndex);
    const out: MessageQueue[] = [];
    for (let i = 0; i < range; i++) out.push(mqAll[startIndex + i]!);
    return out;
  }
}
