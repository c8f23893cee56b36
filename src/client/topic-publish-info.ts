import { isReadable, isWriteable } from '../common/perm.js';
import { javaCompare } from '../common/java.js';
import { masterAddrOf, type TopicRouteData } from '../common/route.js';
import type { MessageQueue } from './route.js';
import { internText } from '../remoting/codec.js';

/**
 * What a producer knows about a topic (upstream `TopicPublishInfo`): the write queues of the
 * master brokers, the address of each broker, and a round-robin cursor.
 */
export class TopicPublishInfo {
  private sendWhichQueue: number;
  /** The broker of a route with one master (the usual case), so that a send needs no Map lookup. */
  private readonly soleBrokerName: string | undefined;
  private readonly soleBrokerAddr: string | undefined;
  private readonly queueCount: number;
  private readonly topic: string;
  /**
   * The queues are 0..n-1 of the sole broker: the next queue is then made from its id, without
   * reading the list and its entries. A producer of many topics sends each to a route last used
   * thousands of sends ago, so every object of it read is a cache miss; this leaves one.
   */
  private readonly plainQueues: boolean;

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
    const [sole] = brokerAddrs;
    if (brokerAddrs.size === 1 && sole) [this.soleBrokerName, this.soleBrokerAddr] = sole;
    this.queueCount = messageQueueList.length;
    this.topic = messageQueueList[0]?.topic ?? '';
    this.plainQueues = this.soleBrokerName !== undefined
      && messageQueueList.every((mq, i) => mq.queueId === i && mq.brokerName === this.soleBrokerName && mq.topic === this.topic);
  }

  ok(): boolean {
    return this.queueCount > 0;
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
    const n = this.queueCount;
    if (n === 0) throw new Error('selectOneMessageQueue on a topic without queues');
    if (available === undefined && lastBrokerName === undefined) {
      const i = this.nextIndex() % n;
      return this.plainQueues ? { topic: this.topic, brokerName: this.soleBrokerName!, queueId: i } : this.messageQueueList[i]!;
    }
    const list = this.messageQueueList;
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
    return brokerName === this.soleBrokerName ? this.soleBrokerAddr : this.brokerAddrs.get(brokerName);
  }
}

/*
 * Broker names and addresses are interned here and below: each route is parsed from its own
 * JSON, so otherwise a producer of 1,000 topics holds 1,000 copies of the same name, and every
 * send compares characters of a copy that is cold in the CPU cache (the connection table's key,
 * the queue's broker name) instead of comparing two references.
 */
function masterAddrTable(route: TopicRouteData): Map<string, string> {
  const out = new Map<string, string>();
  for (const bd of route.brokerDatas) {
    const addr = masterAddrOf(bd);
    if (addr) out.set(internText(bd.brokerName), internText(addr));
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
      const brokerName = internText(item.slice(0, sep));
      const nums = Number(item.slice(sep + 1));
      if (!Number.isInteger(nums)) continue;
      for (let i = 0; i < nums; i++) list.push({ topic, brokerName, queueId: i });
    }
  } else {
    const qds = [...route.queueDatas].sort((a, b) => javaCompare(a.brokerName, b.brokerName));
    for (const qd of qds) {
      if (!isWriteable(qd.perm) || !addrs.has(qd.brokerName)) continue;
      const brokerName = internText(qd.brokerName);
      for (let i = 0; i < qd.writeQueueNums; i++) list.push({ topic, brokerName, queueId: i });
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
