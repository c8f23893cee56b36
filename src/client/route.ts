import { MASTER_ID } from '../common/topic.js';
import { MQClientError, ClientErrorCode } from './errors.js';
import { parseLenientJsonBuffer } from './lenient-json.js';

/**
 * Route data as the NameServer serves it (upstream `TopicRouteData`, `QueueData`, `BrokerData`,
 * `ClusterInfo`), parsed from fastjson output with either quoted or bare map keys.
 */

/** A queue of a topic on one broker (upstream `MessageQueue`). */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** A stable string key for maps and sets of queues. */
export function messageQueueKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  /** PermName bits (4 R, 2 W, 1 inherit). */
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId (as a decimal string, 0 = master) → `ip:port`. */
  brokerAddrs: Record<string, string>;
  enableActingMaster?: boolean;
  zoneName?: string;
}

export interface TopicRouteData {
  /** `brokerName:queueNums;…` when the NameServer runs with orderMessageEnable. */
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Record<string, string[]>;
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/** The master's address of a broker set, if it has one. */
export function masterAddress(bd: BrokerData): string | undefined {
  return bd.brokerAddrs[String(MASTER_ID)];
}

function bad(what: string): never {
  throw new MQClientError(`malformed ${what} in a response body`, ClientErrorCode.BAD_RESPONSE);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what);
  return v as Record<string, unknown>;
}

function asString(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return bad(what);
}

function asInt(v: unknown, what: string, dflt?: number): number {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    bad(what);
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n)) bad(what);
  return n;
}

function asStringMap(v: unknown, what: string): Record<string, string> {
  const o = asObject(v ?? {}, what);
  const out: Record<string, string> = {};
  for (const k of Object.keys(o)) out[k] = asString(o[k], what);
  return out;
}

export function toQueueData(v: unknown): QueueData {
  const o = asObject(v, 'QueueData');
  return {
    brokerName: asString(o.brokerName, 'QueueData.brokerName'),
    readQueueNums: asInt(o.readQueueNums, 'QueueData.readQueueNums'),
    writeQueueNums: asInt(o.writeQueueNums, 'QueueData.writeQueueNums'),
    perm: asInt(o.perm, 'QueueData.perm'),
    // Up to 4.8 the field was spelled topicSynFlag.
    topicSysFlag: asInt(o.topicSysFlag ?? o.topicSynFlag, 'QueueData.topicSysFlag', 0),
  };
}

export function toBrokerData(v: unknown): BrokerData {
  const o = asObject(v, 'BrokerData');
  const bd: BrokerData = {
    cluster: o.cluster === undefined || o.cluster === null ? '' : asString(o.cluster, 'BrokerData.cluster'),
    brokerName: asString(o.brokerName, 'BrokerData.brokerName'),
    brokerAddrs: asStringMap(o.brokerAddrs, 'BrokerData.brokerAddrs'),
  };
  if (typeof o.enableActingMaster === 'boolean') bd.enableActingMaster = o.enableActingMaster;
  if (typeof o.zoneName === 'string') bd.zoneName = o.zoneName;
  return bd;
}

export function toTopicRouteData(v: unknown): TopicRouteData {
  const o = asObject(v, 'TopicRouteData');
  const queueDatas = o.queueDatas ?? [];
  const brokerDatas = o.brokerDatas ?? [];
  if (!Array.isArray(queueDatas)) bad('TopicRouteData.queueDatas');
  if (!Array.isArray(brokerDatas)) bad('TopicRouteData.brokerDatas');
  const filterServerTable: Record<string, string[]> = {};
  const fst = asObject(o.filterServerTable ?? {}, 'TopicRouteData.filterServerTable');
  for (const k of Object.keys(fst)) {
    const list = fst[k];
    if (!Array.isArray(list)) bad('TopicRouteData.filterServerTable');
    filterServerTable[k] = list.map((x) => asString(x, 'TopicRouteData.filterServerTable'));
  }
  const route: TopicRouteData = {
    queueDatas: queueDatas.map(toQueueData),
    brokerDatas: brokerDatas.map(toBrokerData),
    filterServerTable,
  };
  if (typeof o.orderTopicConf === 'string' && o.orderTopicConf.length > 0) route.orderTopicConf = o.orderTopicConf;
  return route;
}

export function parseTopicRouteData(body: Buffer): TopicRouteData {
  return toTopicRouteData(parseLenientJsonBuffer(body));
}

export function parseClusterInfo(body: Buffer): ClusterInfo {
  return toClusterInfo(parseLenientJsonBuffer(body));
}

export function toClusterInfo(v: unknown): ClusterInfo {
  const o = asObject(v, 'ClusterInfo');
  const brokerAddrTable: Record<string, BrokerData> = {};
  const bat = asObject(o.brokerAddrTable ?? {}, 'ClusterInfo.brokerAddrTable');
  for (const k of Object.keys(bat)) brokerAddrTable[k] = toBrokerData(bat[k]);
  const clusterAddrTable: Record<string, string[]> = {};
  const cat = asObject(o.clusterAddrTable ?? {}, 'ClusterInfo.clusterAddrTable');
  for (const k of Object.keys(cat)) {
    const list = cat[k];
    if (!Array.isArray(list)) bad('ClusterInfo.clusterAddrTable');
    clusterAddrTable[k] = list.map((x) => asString(x, 'ClusterInfo.clusterAddrTable'));
  }
  return { brokerAddrTable, clusterAddrTable };
}

/** Parses a MessageQueue from JSON (a body element, or an object map key turned into text by the lenient parser). */
export function toMessageQueue(v: unknown): MessageQueue {
  const o = asObject(typeof v === 'string' ? JSON.parse(v) : v, 'MessageQueue');
  return {
    topic: asString(o.topic, 'MessageQueue.topic'),
    brokerName: asString(o.brokerName, 'MessageQueue.brokerName'),
    queueId: asInt(o.queueId, 'MessageQueue.queueId'),
  };
}
