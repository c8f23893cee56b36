import type { MessageQueue } from '../route.js';
import { checkAllocateArgs, type AllocateMessageQueueStrategy } from './allocate-message-queue-strategy.js';

/**
 * Only queues of brokers named `<room>@<name>` whose room is in `consumeridcs`, shared in
 * blocks of `⌊M/C⌋` with the remainder dealt one each to the first consumers (upstream
 * `AllocateMessageQueueByMachineRoom`, "Alipay logic room").
 */
export class AllocateMessageQueueByMachineRoom implements AllocateMessageQueueStrategy {
  readonly name = 'MACHINE_ROOM';

  /** @param consumeridcs the machine rooms (IDCs) this group consumes from */
  constructor(public consumeridcs: ReadonlySet<string> = new Set()) {}

  allocate(_group: string, currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
    if (!checkAllocateArgs(currentCID, mqAll, cidAll)) return [];
    const currentIndex = cidAll.indexOf(currentCID);
    const premqAll = mqAll.filter((mq) => {
      const parts = mq.brokerName.split('@');
      return parts.length === 2 && this.consumeridcs.has(parts[0]!);
    });
    const mod = Math.floor(premqAll.length / cidAll.length);
    const rem = premqAll.length % cidAll.length;
    const start = mod * currentIndex;
    const out = premqAll.slice(start, start + mod);
    if (rem > currentIndex) out.push(premqAll[currentIndex + mod * cidAll.length]!);
    return out;
  }
}
