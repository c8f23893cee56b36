import type { SubscriptionData } from '../common/subscription.js';
import { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../common/subscription-group.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { messageQueueKey, toMessageQueue, type MessageQueue } from './route.js';
import type { HARuntimeInfo } from '../common/ha-runtime-info.js';

/**
 * JSON bodies of the admin requests (upstream `remoting/protocol/body/*`), as the client reads
 * them. Maps keyed by MessageQueue arrive from Java with the object itself as key; the lenient
 * parser turns such a key into its JSON text, which `toMessageQueue` reads back. Every decoder
 * accepts numbers written as strings and ignores fields it does not know.
 */

type Obj = Record<string, unknown>;

function bad(what: string): never {
  throw new MQClientError(`malformed ${what} in a response body`, ClientErrorCode.BAD_RESPONSE);
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what);
  return v as Obj;
}

function num(v: unknown, dflt = 0): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : dflt;
}

function str(v: unknown, dflt = ''): string {
  return v === undefined || v === null ? dflt : String(v);
}

/** Entries of a MessageQueue-keyed map, sorted as upstream sorts queues. */
export function mqEntries(v: unknown, what: string): Array<[MessageQueue, Obj | number]> {
  if (v === undefined || v === null) return [];
  const out: Array<[MessageQueue, Obj | number]> = [];
  for (const [k, val] of Object.entries(obj(v, what))) {
    let mq: MessageQueue;
    try {
      mq = toMessageQueue(k);
    } catch {
      bad(`${what} key ${k}`);
    }
    out.push([mq, typeof val === 'object' && val !== null ? (val as Obj) : num(val)]);
  }
  return out;
}

/** Min / max offset of one queue (upstream `TopicOffset`). */
export interface TopicOffset {
  minOffset: number;
  maxOffset: number;
  /** Store time of the last message, 0 when unknown. */
  lastUpdateTimestamp: number;
}

/** GET_TOPIC_STATS_INFO body (upstream `TopicStatsTable`). */
export interface TopicStatsTable {
  /** `messageQueueKey` → queue and its offsets. */
  offsetTable: Map<string, { mq: MessageQueue; offset: TopicOffset }>;
  topicPutTps?: number;
}

export function decodeTopicStatsTable(o: Obj): TopicStatsTable {
  const offsetTable = new Map<string, { mq: MessageQueue; offset: TopicOffset }>();
  for (const [mq, v] of mqEntries(o.offsetTable, 'TopicStatsTable.offsetTable')) {
    const t = typeof v === 'number' ? {} : v;
    offsetTable.set(messageQueueKey(mq), { mq, offset: { minOffset: num(t.minOffset), maxOffset: num(t.maxOffset), lastUpdateTimestamp: num(t.lastUpdateTimestamp) } });
  }
  const table: TopicStatsTable = { offsetTable };
  if (o.topicPutTps !== undefined) table.topicPutTps = num(o.topicPutTps);
  return table;
}

/** One queue's consumption progress (upstream `OffsetWrapper`). */
export interface OffsetWrapper {
  /** Next offset the broker will write (max offset). */
  brokerOffset: number;
  /** The group's committed offset. */
  consumerOffset: number;
  /** 5.x: highest offset pulled (≥ consumerOffset); equal to consumerOffset when unknown. */
  pullOffset: number;
  /** Store time of the last consumed message, 0 when unknown. */
  lastTimestamp: number;
}

/** GET_CONSUME_STATS body (upstream `ConsumeStats`). */
export interface ConsumeStats {
  offsetTable: Map<string, { mq: MessageQueue; offset: OffsetWrapper }>;
  consumeTps: number;
}

export function decodeConsumeStats(o: Obj): ConsumeStats {
  const offsetTable = new Map<string, { mq: MessageQueue; offset: OffsetWrapper }>();
  for (const [mq, v] of mqEntries(o.offsetTable, 'ConsumeStats.offsetTable')) {
    const t = typeof v === 'number' ? {} : v;
    const consumerOffset = num(t.consumerOffset);
    offsetTable.set(messageQueueKey(mq), {
      mq,
      offset: { brokerOffset: num(t.brokerOffset), consumerOffset, pullOffset: num(t.pullOffset, consumerOffset), lastTimestamp: num(t.lastTimestamp) },
    });
  }
  return { offsetTable, consumeTps: num(o.consumeTps) };
}

/** One client connection as the broker sees it (upstream `Connection`). */
export interface ClientConnection {
  clientId: string;
  clientAddr: string;
  language: string;
  /** MQVersion ordinal. */
  version: number;
}

/** GET_CONSUMER_CONNECTION_LIST body (upstream `ConsumerConnection`). */
export interface ConsumerConnection {
  connectionSet: ClientConnection[];
  subscriptionTable: Map<string, SubscriptionData>;
  consumeType?: string;
  messageModel?: string;
  consumeFromWhere?: string;
}

function decodeConnections(v: unknown): ClientConnection[] {
  if (!Array.isArray(v)) return [];
  return v.map((c) => {
    const o = obj(c, 'Connection');
    return { clientId: str(o.clientId), clientAddr: str(o.clientAddr), language: str(o.language), version: num(o.version) };
  });
}

/** A SubscriptionData object; `topic` when it names none. */
export function decodeSubscriptionData(sd: Obj, topic: string): SubscriptionData {
  return {
    topic: str(sd.topic, topic),
    subString: str(sd.subString, '*'),
    tagsSet: Array.isArray(sd.tagsSet) ? sd.tagsSet.map((t) => str(t)) : [],
    codeSet: Array.isArray(sd.codeSet) ? sd.codeSet.map((c) => num(c)) : [],
    subVersion: num(sd.subVersion),
    classFilterMode: sd.classFilterMode === true,
    expressionType: str(sd.expressionType, 'TAG'),
  };
}

export function decodeConsumerConnection(o: Obj): ConsumerConnection {
  const subscriptionTable = new Map<string, SubscriptionData>();
  if (o.subscriptionTable !== undefined && o.subscriptionTable !== null) {
    for (const [topic, s] of Object.entries(obj(o.subscriptionTable, 'ConsumerConnection.subscriptionTable'))) {
      subscriptionTable.set(topic, decodeSubscriptionData(obj(s, 'SubscriptionData'), topic));
    }
  }
  const cc: ConsumerConnection = { connectionSet: decodeConnections(o.connectionSet), subscriptionTable };
  if (o.consumeType !== undefined) cc.consumeType = str(o.consumeType);
  if (o.messageModel !== undefined) cc.messageModel = str(o.messageModel);
  if (o.consumeFromWhere !== undefined) cc.consumeFromWhere = str(o.consumeFromWhere);
  return cc;
}

/** GET_PRODUCER_CONNECTION_LIST body (upstream `ProducerConnection`). */
export interface ProducerConnection {
  connectionSet: ClientConnection[];
}

export function decodeProducerConnection(o: Obj): ProducerConnection {
  return { connectionSet: decodeConnections(o.connectionSet) };
}

/** INVOKE_BROKER_TO_RESET_OFFSET body (upstream `ResetOffsetBody`): the offset each queue was reset to. */
export function decodeResetOffsetBody(o: Obj): Map<string, { mq: MessageQueue; offset: number }> {
  const out = new Map<string, { mq: MessageQueue; offset: number }>();
  for (const [mq, v] of mqEntries(o.offsetTable, 'ResetOffsetBody.offsetTable')) out.set(messageQueueKey(mq), { mq, offset: typeof v === 'number' ? v : num(v.offset) });
  return out;
}

/** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP body (upstream `SubscriptionGroupConfig`). */
export { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../common/subscription-group.js';

/** GET_SUBSCRIPTIONGROUP_CONFIG body (upstream `SubscriptionGroupConfig`): the fields given over upstream's defaults. */
export function decodeSubscriptionGroupConfig(o: Obj): SubscriptionGroupConfig {
  const name = str(o.groupName);
  if (!name) bad('SubscriptionGroupConfig.groupName');
  const d = newSubscriptionGroupConfig(name);
  const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : dflt);
  const cfg: SubscriptionGroupConfig = {
    groupName: name,
    consumeEnable: bool(o.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: bool(o.consumeFromMinEnable, d.consumeFromMinEnable),
    consumeBroadcastEnable: bool(o.consumeBroadcastEnable, d.consumeBroadcastEnable),
    consumeMessageOrderly: bool(o.consumeMessageOrderly, d.consumeMessageOrderly),
    retryQueueNums: num(o.retryQueueNums, d.retryQueueNums),
    retryMaxTimes: num(o.retryMaxTimes, d.retryMaxTimes),
    brokerId: num(o.brokerId, d.brokerId),
    whichBrokerWhenConsumeSlowly: num(o.whichBrokerWhenConsumeSlowly, d.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable, d.notifyConsumerIdsChangedEnable),
  };
  if (o.groupSysFlag !== undefined) cfg.groupSysFlag = num(o.groupSysFlag);
  if (o.consumeTimeoutMinute !== undefined) cfg.consumeTimeoutMinute = num(o.consumeTimeoutMinute);
  if (o.groupRetryPolicy !== undefined) cfg.groupRetryPolicy = o.groupRetryPolicy;
  if (typeof o.attributes === 'object' && o.attributes !== null) {
    cfg.attributes = Object.fromEntries(Object.entries(o.attributes as Obj).map(([k, v]) => [k, str(v)]));
  }
  return cfg;
}

/** QUERY_TOPICS_BY_CONSUMER body (upstream `TopicList`): topic names, and the broker that answered. */
export interface TopicList {
  topicList: string[];
  brokerAddr?: string;
}

export function decodeTopicList(o: Obj): TopicList {
  if (!Array.isArray(o.topicList)) bad('TopicList.topicList');
  const out: TopicList = { topicList: (o.topicList as unknown[]).map((t) => str(t)) };
  if (o.brokerAddr !== undefined && o.brokerAddr !== null) out.brokerAddr = str(o.brokerAddr);
  return out;
}

/** One queue's entry of QUERY_CONSUME_TIME_SPAN (upstream `QueueTimeSpan`); times in ms, -1 when unknown. */
export interface QueueTimeSpan {
  messageQueue: MessageQueue;
  minTimeStamp: number;
  maxTimeStamp: number;
  consumeTimeStamp: number;
  /** How long the group's next message has waited; 0 when it is caught up. */
  delayTime: number;
}

export function decodeQueryConsumeTimeSpanBody(o: Obj): QueueTimeSpan[] {
  const list = o.consumeTimeSpanSet;
  if (!Array.isArray(list)) bad('QueryConsumeTimeSpanBody.consumeTimeSpanSet');
  return (list as unknown[]).map((e) => {
    const t = obj(e, 'QueueTimeSpan');
    const mq = obj(t.messageQueue, 'QueueTimeSpan.messageQueue');
    return {
      messageQueue: { topic: str(mq.topic), brokerName: str(mq.brokerName), queueId: num(mq.queueId) },
      minTimeStamp: num(t.minTimeStamp), maxTimeStamp: num(t.maxTimeStamp), consumeTimeStamp: num(t.consumeTimeStamp), delayTime: num(t.delayTime),
    };
  });
}

/** One live producer in GET_ALL_PRODUCER_INFO (upstream `ProducerInfo`). */
export interface ProducerInfo {
  clientId: string;
  /** As Java prints a socket address: `/host:port`. */
  remoteIP: string;
  language: string;
  version: number;
  lastUpdateTimestamp: number;
}

/** GET_ALL_PRODUCER_INFO body (upstream `ProducerTableInfo`): group → its live producers. */
export function decodeProducerTableInfo(o: Obj): Map<string, ProducerInfo[]> {
  const out = new Map<string, ProducerInfo[]>();
  if (o.data === undefined || o.data === null) return out;
  for (const [group, list] of Object.entries(obj(o.data, 'ProducerTableInfo.data'))) {
    out.set(group, (Array.isArray(list) ? list : []).map((e) => {
      const p = obj(e, 'ProducerInfo');
      return { clientId: str(p.clientId), remoteIP: str(p.remoteIP), language: str(p.language), version: num(p.version), lastUpdateTimestamp: num(p.lastUpdateTimestamp) };
    }));
  }
  return out;
}

/** Upstream `ProducerInfo.toString`. */
export function producerInfoString(p: ProducerInfo): string {
  return `clientId=${p.clientId},remoteIP=${p.remoteIP}, language=${p.language}, version=${p.version}, lastUpdateTimestamp=${p.lastUpdateTimestamp}`;
}

/** A DataVersion as bodies carry it. */
export interface DataVersionBody {
  stateVersion: number;
  timestamp: number;
  counter: number;
}

function dataVersionOf(v: unknown): DataVersionBody {
  const o = v === undefined || v === null ? {} : obj(v, 'dataVersion');
  return { stateVersion: num(o.stateVersion), timestamp: num(o.timestamp), counter: num(o.counter) };
}

/** GET_TIMER_CHECK_POINT body (upstream `TimerCheckpoint.encode`): longs, big-endian. */
export interface TimerCheckpointBody {
  /** Timers due before this time are delivered. */
  lastReadTimeMs: number;
  /** TimerLog position the persisted wheel covers. */
  lastTimerLogFlushPos: number;
  /** Next entry of the timer topic's queue to file. */
  lastTimerQueueOffset: number;
  masterTimerQueueOffset: number;
  dataVersion: DataVersionBody;
}

/** Upstream `TimerCheckpoint.decode`: 32 bytes, or 56 with the data version. */
export function decodeTimerCheckpoint(body: Buffer): TimerCheckpointBody {
  if (body.length < 32) bad('timer checkpoint (shorter than 32 bytes)');
  const long = (pos: number): number => Number(body.readBigInt64BE(pos));
  return {
    lastReadTimeMs: long(0), lastTimerLogFlushPos: long(8), lastTimerQueueOffset: long(16), masterTimerQueueOffset: long(24),
    dataVersion: body.length >= 56 ? { stateVersion: long(32), timestamp: long(40), counter: long(48) } : { stateVersion: 0, timestamp: 0, counter: 0 },
  };
}

/** GET_TIMER_METRICS body (upstream `TimerMetrics.TimerMetricsSerializeWrapper`): per topic, timers pending and when that last moved. */
export interface TimerMetricsBody {
  timingCount: Map<string, { count: number; timeStamp: number }>;
  dataVersion: DataVersionBody;
}

export function decodeTimerMetrics(o: Obj): TimerMetricsBody {
  const timingCount = new Map<string, { count: number; timeStamp: number }>();
  const table = o.timingCount === undefined || o.timingCount === null ? {} : obj(o.timingCount, 'timingCount');
  for (const [topic, v] of Object.entries(table)) {
    const m = obj(v, `timingCount of ${topic}`);
    timingCount.set(topic, { count: num(m.count), timeStamp: num(m.timeStamp) });
  }
  return { timingCount, dataVersion: dataVersionOf(o.dataVersion) };
}

export type { HAConnectionRuntimeInfo, HARuntimeInfo } from '../common/ha-runtime-info.js';

/** Reads an HARuntimeInfo, numbers and flags defaulting as upstream's fields do. */
export function decodeHARuntimeInfo(o: Record<string, unknown>): HARuntimeInfo {
  const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);
  const c = (o.haClientRuntimeInfo ?? {}) as Record<string, unknown>;
  return {
    master: o.master === true,
    masterCommitLogMaxOffset: num(o.masterCommitLogMaxOffset),
    inSyncSlaveNums: num(o.inSyncSlaveNums),
    haConnectionInfo: (Array.isArray(o.haConnectionInfo) ? o.haConnectionInfo as Array<Record<string, unknown>> : []).map((x) => ({
      addr: String(x.addr ?? ''), slaveAckOffset: num(x.slaveAckOffset), diff: num(x.diff), inSync: x.inSync === true,
      transferredByteInSecond: num(x.transferredByteInSecond), transferFromWhere: num(x.transferFromWhere),
    })),
    haClientRuntimeInfo: {
      masterAddr: String(c.masterAddr ?? ''), transferredByteInSecond: num(c.transferredByteInSecond), maxOffset: num(c.maxOffset),
      lastReadTimestamp: num(c.lastReadTimestamp), lastWriteTimestamp: num(c.lastWriteTimestamp), masterFlushOffset: num(c.masterFlushOffset),
      activated: c.activated === true,
    },
  };
}
