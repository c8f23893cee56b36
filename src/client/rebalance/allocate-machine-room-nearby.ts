import { ClientErrorCode, MQClientError } from '../errors.js';
import type { MessageQueue } from '../route.js';
import { checkAllocateArgs, type AllocateMessageQueueStrategy } from './allocate-message-queue-strategy.js';

/** Tells which machine room a broker's queue and a consumer are in (never empty). */
export interface MachineRoomResolver {
  brokerDeployIn(mq: MessageQueue): string;
  consumerDeployIn(clientId: string): string;
}

/**
 * Machine-room affinity around another strategy (upstream `AllocateMachineRoomNearby`): the
 * queues of a room are shared by that room's consumers only; the queues of a room without any
 * live consumer are shared by every consumer.
 */
export class AllocateMachineRoomNearby implements AllocateMessageQueueStrategy {
  /**
   * @param inner the strategy that shares queues within each set
   * @param resolver machine room of brokers and consumers
   */
  constructor(readonly inner: AllocateMessageQueueStrategy, readonly resolver: MachineRoomResolver) {}

  get name(): string {
    return `MACHINE_ROOM_NEARBY-${this.inner.name}`;
  }

  allocate(group: string, currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
    if (!checkAllocateArgs(currentCID, mqAll, cidAll)) return [];
    const mr2Mq = new Map<string, MessageQueue[]>();
    for (const mq of mqAll) {
      const room = this.resolver.brokerDeployIn(mq);
      if (!room) throw new MQClientError(`Machine room is null for mq ${mq.topic}/${mq.brokerName}/${mq.queueId}`, ClientErrorCode.ARGUMENT_ILLEGAL);
      let list = mr2Mq.get(room);
      if (!list) mr2Mq.set(room, (list = []));
      list.push(mq);
    }
    const mr2c = new Map<string, string[]>();
    for (const cid of cidAll) {
      const room = this.resolver.consumerDeployIn(cid);
      if (!room) throw new MQClientError(`Machine room is null for consumer id ${cid}`, ClientErrorCode.ARGUMENT_ILLEGAL);
      let list = mr2c.get(room);
      if (!list) mr2c.set(room, (list = []));
      list.push(cid);
    }
    const out: MessageQueue[] = [];
    const myRoom = this.resolver.consumerDeployIn(currentCID);
    const mine = mr2Mq.get(myRoom);
    mr2Mq.delete(myRoom);
    if (mine && mine.length > 0) out.push(...this.inner.allocate(group, currentCID, mine, mr2c.get(myRoom) ?? []));
    // Rooms in upstream's TreeMap order: sorted by name.
    for (const room of [...mr2Mq.keys()].sort()) {
      if (!mr2c.has(room)) out.push(...this.inner.allocate(group, currentCID, mr2Mq.get(room)!, cidAll));
    }
    return out;
  }
}
