import { isReadable, isWriteable } from '../common/perm.js';
import { javaCompare } from '../common/java.js';
import { masterAddrOf, type TopicRouteData } from '../common/route.js';
import type { MessageQueue } from './route.js';

/**
 * What a producer knows about a topic (upstream `TopicPublishInfo`): the write queues of the
 * master brokers, the address of each broker, and a round-robin cursor.
 */
export class TopicPublishInfo {
  private sendWhichQueue: number;

  constructor(
    readonly messageQueueList: readonly MessageQueue[],
    /** brokerName → master address. */
    readonly brokerAddrs: ReadonlyMap<string, string>,
    readonly route: TopicRouteData,
    /** false when the queues come from the TBW102 template because the topic has no route yet. */
    readonly haveTopicRouterInfo: boolean,
    readonly orderTopic = false,
    /** Cursor start; upstream starts each thread at a random position. */
    startIndex = Math.floor(Math.random() * 0x7fffffff),
  ) {
    this.sendWhichQueue = startIndex;
  }

  ok(): boolean {
    return this.messageQueueList.length > 0;
  }

  /** Next queue in round-robin order. */
  selectOneMessageQueue(): MessageQueue;
  /**
   * Next queue in round-robin order that is not on `lastBrokerName` (the broker that just failed),
   * or simply the next queue when every queue is on that broker.
   */
  selectOneMessageQueue(lastBrokerName: string | undefined): MessageQueue;
  selectOneMessageQueue(lastBrokerName: string | undefined, available: (brokerName: string) => boolean): MessageQueue;
  selectOneMessageQueue(lastBrokerName?: string, available?: (brokerName: string) => boolean): MessageQueue {
    const list = this.messageQueueList;
    const n = list.length;
    if (n === 0) throw new Error('selectOneMessageQueue on a topic without queues');
    if (available) {
      // Latency fault tolerance: the next queue on an available broker other than the last one.
      for (let i = 0; i < n; i++) {
        const mq = list[this.nextIndex() % n]!;
        if (mq.brokerName !== lastBrokerName && available(mq.brokerName)) return mq;
      }
    }
    if (lastBrokerName !== undefined) {
      for (let i = 0; i < n; i++) {
        const mq = list[this.nextIndex() % n]!;
        if (mq.brokerName !== lastBrokerName) return mq;
      }
    }
    return list[this.nextIndex() % n]!;
  }

  private nextIndex(): number {
    const i = this.sendWhichQueue;
    this.sendWhichQueue = i >= 0x7ffffffe ? 0 : i + 1;
    return i;
  }

  brokerAddr(brokerName: string): string | undefined {
    return this.brokerAddrs.get(brokerName);
  }
}

function masterAddrTable(route: TopicRouteData): Map<string, string> {
  const out = new Map<string, string>();
  for (const bd of route.brokerDatas) {
    const addr = masterAddrOf(bd);
    if (addr) out.set(bd.brokerName, addr);
  }
  return out;
}

/**
 * Route → publish info, as upstream's `MQClientInstance.topicRouteData2TopicPublishInfo`: with
 * `orderTopicConf`, the queues it lists; otherwise, for each QueueData with the write bit whose
 * broker has a master, queues 0..writeQueueNums-1, QueueData sorted by broker name.
 */
export function topicRouteData2TopicPublishInfo(topic: string, route: TopicRouteData, haveTopicRouterInfo = true, startIndex?: number): TopicPublishInfo {
  const addrs = masterAddrTable(route);
  const list: MessageQueue[] = [];
  let orderTopic = false;
  if (route.orderTopicConf) {
    orderTopic = true;
    for (const item of route.orderTopicConf.split(';')) {
      const sep = item.lastIndexOf(':');
      if (sep <= 0) continue;
      const brokerName = item.slice(0, sep);
      const nums = Number(item.slice(sep + 1));
      if (!Number.isInteger(nums)) continue;
      for (let i = 0; i < nums; i++) list.push({ topic, brokerName, queueId: i });
    }
  } else {
    const qds = [...route.queueDatas].sort((a, b) => javaCompare(a.brokerName, b.brokerName));
    for (const qd of qds) {
      if (!isWriteable(qd.perm) || !addrs.has(qd.brokerName)) continue;
      for (let i = 0; i < qd.writeQueueNums; i++) list.push({ topic, brokerName: qd.brokerName, queueId: i });
    }
  }
  return new TopicPublishInfo(list, addrs, route, haveTopicRouterInfo, orderTopic, startIndex);
}

/**
 * The TBW102 template route adapted for a topic that has no route yet (upstream
 * `updateTopicRouteInfoFromNameServer(topic, isDefault=true, …)`): every QueueData gets
 * min(defaultTopicQueueNums, readQueueNums) read and write queues.
 */
export function adaptDefaultTopicRoute(route: TopicRouteData, defaultTopicQueueNums: number): TopicRouteData {
  return {
    ...route,
    queueDatas: route.queueDatas.map((qd) => {
      const n = Math.min(defaultTopicQueueNums, qd.readQueueNums);
      return { ...qd, readQueueNums: n, writeQueueNums: n };
    }),
  };
}

/** Route → the queues a consumer may read (upstream `topicRouteData2TopicSubscribeInfo`). */
export function topicRouteData2TopicSubscribeInfo(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const qd of route.queueDatas) {
    if (!isReadable(qd.perm)) continue;
    for (let i = 0; i < qd.readQueueNums; i++) out.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return out;
}
