import { deflateSync, inflateSync } from 'node:zlib';
import { encodeJson, LenientJsonError, parseLenientJson } from './json.js';
import { MASTER_ID } from './topic.js';

/** `encodeJson` lives in json.ts; re-exported so codec users keep one import for both directions. */
export { encodeJson };

/**
 * Wire types of the route registry, shared by the NameServer, the Broker (which registers) and
 * the clients (which read routes). Field names are upstream's JSON names
 * (`remoting/.../protocol/route/*`, `protocol/body/*`, `protocol/DataVersion`, `common/TopicConfig`).
 *
 * This side always writes standard JSON (quoted keys). Java's fastjson writes non-string map
 * keys unquoted (`{0:"ip:port"}`) and object-keyed maps with the object as key, so every decoder
 * here reads through `parseRemotingJson`, which accepts both.
 */

/** KV namespace holding per-topic order configs (upstream `NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`). */
export const NAMESPACE_ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

/** `MQVersion.Version.V5_0_0` ordinal: from it on, compressed register bodies carry topic-queue-mapping data. */
export const VERSION_5_0_0 = 413;

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

/** Version stamp of a broker's topic config table; the NameServer compares it to skip unchanged registrations. */
export interface DataVersion {
  /** 5.x only (controller mode); 0 from 4.x brokers, which omit it. */
  stateVersion: number;
  timestamp: number;
  counter: number;
}

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  /** PermName bits (see perm.ts). */
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  /** 5.x topic attributes, e.g. `{"+message.type":"NORMAL"}`. */
  attributes?: Record<string, string>;
}

export interface TopicConfigSerializeWrapper {
  topicConfigTable: Record<string, TopicConfig>;
  dataVersion: DataVersion;
  /** 5.x static-topic data, kept opaque: this project does not implement static topics. */
  topicQueueMappingInfoMap?: Record<string, unknown>;
  topicQueueMappingDetailMap?: Record<string, unknown>;
  mappingDataVersion?: DataVersion;
}

/** Body of REGISTER_BROKER (103). */
export interface RegisterBrokerBody {
  topicConfigSerializeWrapper: TopicConfigSerializeWrapper;
  filterServerList: string[];
}

/** One broker's queues of a topic. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/** One broker group: its cluster and the addresses of its members by broker id (0 = master). */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId (decimal string) → `ip:port`. */
  brokerAddrs: Record<string, string>;
  /** 5.x: slave-acting-master mode of this broker group; decoders always set it (false when absent). */
  enableActingMaster?: boolean;
  zoneName?: string;
}

/** Body of GET_ROUTEINFO_BY_TOPIC (105). */
export interface TopicRouteData {
  /** `brokerName:queueNum;…`, only when the NameServer runs with `orderMessageEnable`. */
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  /** brokerAddr → filter server addresses; normally empty. */
  filterServerTable: Record<string, string[]>;
  topicQueueMappingByBroker?: Record<string, unknown>;
}

/** Body of GET_BROKER_CLUSTER_INFO (106). */
export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/** The members of one broker group (upstream `BrokerMemberGroup`); empty brokerAddrs for an unknown group. */
export interface BrokerMemberGroup {
  cluster: string;
  brokerName: string;
  /** brokerId (decimal string) → `ip:port`. */
  brokerAddrs: Record<string, string>;
}

/** Body of GET_BROKER_MEMBER_GROUP (901) (upstream `GetBrokerMemberGroupResponseBody`). */
export interface GetBrokerMemberGroupResponseBody {
  brokerMemberGroup: BrokerMemberGroup;
}

/** Body of GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) and GET_TOPICS_BY_CLUSTER (224). */
export interface TopicList {
  topicList: string[];
  brokerAddr?: string;
}

/** Body of GET_KVLIST_BY_NAMESPACE (219) and of the REGISTER_BROKER response. */
export interface KVTable {
  table: Record<string, string>;
}

/** A body that cannot be decoded; `code` is stable for callers that map it to a response code. */
export class RouteDataError extends Error {
  readonly code = 'ROUTE_DATA_INVALID';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RouteDataError';
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

/**
 * `parseLenientJson` (standard JSON and fastjson's unquoted and object map keys) for route
 * bodies: malformed text is a RouteDataError, like every other undecodable body here.
 */
export function parseRemotingJson(input: Buffer | string): unknown {
  try {
    return parseLenientJson(input);
  } catch (err) {
    if (err instanceof LenientJsonError) throw new RouteDataError(`invalid JSON body at offset ${err.position}: ${err.reason}`, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Lenient field readers: fastjson coerces scalars, so "4" and 4 are both a valid int.

type Obj = Record<string, unknown>;

/**
 * Assigns a key that came off the wire. Topic names may legally be `__proto__`, which a plain
 * assignment would turn into a prototype change instead of a property.
 */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function asObject(v: unknown, what: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RouteDataError(`${what} must be a JSON object`);
  return v as Obj;
}

function optObject(v: unknown, what: string): Obj | undefined {
  return v === undefined || v === null ? undefined : asObject(v, what);
}

function num(v: unknown, what: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new RouteDataError(`${what} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function str(v: unknown, what: string, dflt?: string): string {
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw new RouteDataError(`${what} is missing`);
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new RouteDataError(`${what} must be a string`);
}

function bool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  return String(v).toLowerCase() === 'true';
}

function stringList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RouteDataError(`${what} must be a JSON array`);
  return v.map((x, i) => str(x, `${what}[${i}]`));
}

function stringMap(v: unknown, what: string): Record<string, string> {
  const o = optObject(v, what);
  const out: Record<string, string> = {};
  if (!o) return out;
  for (const k of Object.keys(o)) {
    if (o[k] !== null && o[k] !== undefined) setOwn(out, k, str(o[k], `${what}.${k}`));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DataVersion

export function newDataVersion(now: number = Date.now()): DataVersion {
  return { stateVersion: 0, timestamp: now, counter: 0 };
}

/** The next version after `dv` (upstream `DataVersion.nextVersion`). */
export function nextDataVersion(dv: DataVersion, now: number = Date.now(), stateVersion = 0): DataVersion {
  return { stateVersion, timestamp: now, counter: dv.counter + 1 };
}

/** Upstream `DataVersion.equals`: all three fields. */
export function dataVersionEquals(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  if (!a || !b) return a === b;
  return a.stateVersion === b.stateVersion && a.timestamp === b.timestamp && a.counter === b.counter;
}

/** Reads a DataVersion; a missing one is all zeroes, as upstream's namesrv fills in for an empty body. */
export function toDataVersion(raw: unknown): DataVersion {
  const o = optObject(raw, 'dataVersion');
  if (!o) return { stateVersion: 0, timestamp: 0, counter: 0 };
  return {
    stateVersion: num(o.stateVersion, 'dataVersion.stateVersion', 0),
    timestamp: num(o.timestamp, 'dataVersion.timestamp', 0),
    counter: num(o.counter, 'dataVersion.counter', 0),
  };
}

export function decodeDataVersion(body: Buffer): DataVersion {
  return toDataVersion(parseRemotingJson(body));
}

// ---------------------------------------------------------------------------------------------
// TopicConfig

function toFilterType(v: unknown): TopicFilterType {
  const s = str(v, 'topicFilterType', 'SINGLE_TAG');
  if (s !== 'SINGLE_TAG' && s !== 'MULTI_TAG') throw new RouteDataError(`topicFilterType must be SINGLE_TAG or MULTI_TAG, got ${s}`);
  return s;
}

/** Reads a TopicConfig with upstream's defaults (16 queues, perm RW, SINGLE_TAG). */
export function toTopicConfig(raw: unknown, nameFallback?: string): TopicConfig {
  const o = asObject(raw, 'topicConfig');
  const tc: TopicConfig = {
    topicName: str(o.topicName, 'topicConfig.topicName', nameFallback),
    readQueueNums: num(o.readQueueNums, 'topicConfig.readQueueNums', 16),
    writeQueueNums: num(o.writeQueueNums, 'topicConfig.writeQueueNums', 16),
    perm: num(o.perm, 'topicConfig.perm', 6),
    topicFilterType: toFilterType(o.topicFilterType),
    topicSysFlag: num(o.topicSysFlag, 'topicConfig.topicSysFlag', 0),
    order: bool(o.order, false),
  };
  if (o.attributes !== undefined && o.attributes !== null) tc.attributes = stringMap(o.attributes, 'topicConfig.attributes');
  return tc;
}

/**
 * Upstream `TopicConfig.encode()`, the per-topic text of the compressed register body:
 * `name read write perm filterType attributesJson`. sysFlag and order are not carried.
 */
export function encodeTopicConfigText(tc: TopicConfig): string {
  return `${tc.topicName} ${tc.readQueueNums} ${tc.writeQueueNums} ${tc.perm} ${tc.topicFilterType} ${JSON.stringify(tc.attributes ?? {})}`;
}

/** Upstream `TopicConfig.decode(String)`; unreadable attributes are dropped, as upstream does. */
export function decodeTopicConfigText(text: string): TopicConfig {
  const parts = text.split(' ');
  if (parts.length < 5) throw new RouteDataError(`topic config "${text}" has ${parts.length} fields, expected at least 5`);
  const int = (i: number, what: string): number => {
    const p = parts[i] as string;
    if (!/^-?\d+$/.test(p)) throw new RouteDataError(`topic config "${text}": ${what} "${p}" is not an integer`);
    return Number(p);
  };
  const tc: TopicConfig = {
    topicName: parts[0] as string,
    readQueueNums: int(1, 'readQueueNums'),
    writeQueueNums: int(2, 'writeQueueNums'),
    perm: int(3, 'perm'),
    topicFilterType: toFilterType(parts[4]),
    topicSysFlag: 0,
    order: false,
  };
  if (parts.length >= 6) {
    try {
      // Attribute values may contain spaces; rejoin what split() took apart.
      tc.attributes = stringMap(parseRemotingJson(parts.slice(5).join(' ')), 'attributes');
    } catch {
      tc.attributes = {};
    }
  }
  return tc;
}

// ---------------------------------------------------------------------------------------------
// RegisterBrokerBody

/** Reads a TopicConfigSerializeWrapper (also the GET_ALL_TOPIC_CONFIG body); a missing dataVersion is all zeroes. */
export function toTopicConfigSerializeWrapper(raw: unknown): TopicConfigSerializeWrapper {
  const o = optObject(raw, 'topicConfigSerializeWrapper') ?? {};
  const table = optObject(o.topicConfigTable, 'topicConfigTable') ?? {};
  const topicConfigTable: Record<string, TopicConfig> = {};
  for (const name of Object.keys(table)) setOwn(topicConfigTable, name, toTopicConfig(table[name], name));
  const w: TopicConfigSerializeWrapper = { topicConfigTable, dataVersion: toDataVersion(o.dataVersion) };
  const info = optObject(o.topicQueueMappingInfoMap, 'topicQueueMappingInfoMap');
  if (info) w.topicQueueMappingInfoMap = info;
  const detail = optObject(o.topicQueueMappingDetailMap, 'topicQueueMappingDetailMap');
  if (detail) w.topicQueueMappingDetailMap = detail;
  if (o.mappingDataVersion !== undefined && o.mappingDataVersion !== null) w.mappingDataVersion = toDataVersion(o.mappingDataVersion);
  return w;
}

/** Largest inflated register body accepted: bounds the memory a small hostile body can claim. */
export const MAX_INFLATED_REGISTER_BODY = 64 * 1024 * 1024;

/**
 * Decodes a REGISTER_BROKER body. `compressed` selects upstream's zlib form (§5.4 of the facts
 * sheet): `int len + DataVersion JSON`, `int n` × (`int len + topic text`), `int len +
 * filterServerList JSON`, then (5.x brokers) `int n` × (`int len + TopicQueueMappingInfo JSON`).
 * The trailing mapping section is read whenever bytes remain, so 4.x and 5.x forms both decode.
 */
export function decodeRegisterBrokerBody(body: Buffer, compressed: boolean): RegisterBrokerBody {
  if (!compressed) {
    const o = asObject(parseRemotingJson(body), 'RegisterBrokerBody');
    return {
      topicConfigSerializeWrapper: toTopicConfigSerializeWrapper(o.topicConfigSerializeWrapper),
      filterServerList: stringList(o.filterServerList, 'filterServerList'),
    };
  }
  let data: Buffer;
  try {
    data = inflateSync(body, { maxOutputLength: MAX_INFLATED_REGISTER_BODY });
  } catch (err) {
    throw new RouteDataError(`compressed register body does not inflate: ${(err as Error).message}`);
  }
  let pos = 0;
  const readInt = (what: string): number => {
    if (pos + 4 > data.length) throw new RouteDataError(`compressed register body ends before ${what}`);
    const v = data.readInt32BE(pos);
    pos += 4;
    return v;
  };
  const readChunk = (what: string): Buffer => {
    const len = readInt(`the length of ${what}`);
    if (len < 0 || pos + len > data.length) throw new RouteDataError(`compressed register body: ${what} length ${len} exceeds the data`);
    const b = data.subarray(pos, pos + len);
    pos += len;
    return b;
  };
  const dataVersion = toDataVersion(parseRemotingJson(readChunk('dataVersion')));
  const topicCount = readInt('the topic count');
  if (topicCount < 0) throw new RouteDataError(`compressed register body: negative topic count ${topicCount}`);
  const topicConfigTable: Record<string, TopicConfig> = {};
  for (let i = 0; i < topicCount; i++) {
    const tc = decodeTopicConfigText(readChunk(`topic config #${i}`).toString('utf8'));
    setOwn(topicConfigTable, tc.topicName, tc);
  }
  const filterServerList = stringList(parseRemotingJson(readChunk('filterServerList')), 'filterServerList');
  const wrapper: TopicConfigSerializeWrapper = { topicConfigTable, dataVersion };
  if (pos < data.length) {
    const n = readInt('the topic queue mapping count');
    const info: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const m = asObject(parseRemotingJson(readChunk(`topic queue mapping #${i}`)), 'TopicQueueMappingInfo');
      setOwn(info, str(m.topic, 'TopicQueueMappingInfo.topic'), m);
    }
    wrapper.topicQueueMappingInfoMap = info;
  }
  return { topicConfigSerializeWrapper: wrapper, filterServerList };
}

/** Encodes a REGISTER_BROKER body, JSON or upstream's compressed form (see decodeRegisterBrokerBody). */
export function encodeRegisterBrokerBody(body: RegisterBrokerBody, compressed = false): Buffer {
  if (!compressed) return encodeJson(body);
  const parts: Buffer[] = [];
  const chunk = (b: Buffer): void => {
    parts.push(int32(b.length), b);
  };
  chunk(encodeJson(body.topicConfigSerializeWrapper.dataVersion));
  const topics = Object.values(body.topicConfigSerializeWrapper.topicConfigTable);
  parts.push(int32(topics.length));
  for (const tc of topics) chunk(Buffer.from(encodeTopicConfigText(tc), 'utf8'));
  chunk(encodeJson(body.filterServerList));
  const mappings = Object.values(body.topicConfigSerializeWrapper.topicQueueMappingInfoMap ?? {});
  parts.push(int32(mappings.length));
  for (const m of mappings) chunk(encodeJson(m));
  // Upstream deflates with Deflater.BEST_COMPRESSION.
  return deflateSync(Buffer.concat(parts), { level: 9 });
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Route, cluster, lists

/** Reads a QueueData; `topicSynFlag` is the spelling of brokers and namesrvs up to 4.8. */
export function toQueueData(raw: unknown): QueueData {
  const o = asObject(raw, 'queueData');
  return {
    brokerName: str(o.brokerName, 'queueData.brokerName'),
    readQueueNums: num(o.readQueueNums, 'queueData.readQueueNums', 0),
    writeQueueNums: num(o.writeQueueNums, 'queueData.writeQueueNums', 0),
    perm: num(o.perm, 'queueData.perm', 0),
    topicSysFlag: num(o.topicSysFlag ?? o.topicSynFlag, 'queueData.topicSysFlag', 0),
  };
}

export function toBrokerData(raw: unknown): BrokerData {
  const o = asObject(raw, 'brokerData');
  const bd: BrokerData = {
    cluster: str(o.cluster, 'brokerData.cluster', ''),
    brokerName: str(o.brokerName, 'brokerData.brokerName'),
    brokerAddrs: stringMap(o.brokerAddrs, 'brokerData.brokerAddrs'),
    enableActingMaster: bool(o.enableActingMaster, false),
  };
  if (typeof o.zoneName === 'string') bd.zoneName = o.zoneName;
  return bd;
}

export function decodeTopicRouteData(body: Buffer): TopicRouteData {
  const o = asObject(parseRemotingJson(body), 'TopicRouteData');
  const route: TopicRouteData = {
    queueDatas: Array.isArray(o.queueDatas) ? o.queueDatas.map(toQueueData) : [],
    brokerDatas: Array.isArray(o.brokerDatas) ? o.brokerDatas.map(toBrokerData) : [],
    filterServerTable: {},
  };
  const fst = optObject(o.filterServerTable, 'filterServerTable') ?? {};
  for (const addr of Object.keys(fst)) setOwn(route.filterServerTable, addr, stringList(fst[addr], `filterServerTable.${addr}`));
  if (typeof o.orderTopicConf === 'string') route.orderTopicConf = o.orderTopicConf;
  const mapping = optObject(o.topicQueueMappingByBroker, 'topicQueueMappingByBroker');
  if (mapping) route.topicQueueMappingByBroker = mapping;
  return route;
}

export function decodeClusterInfo(body: Buffer): ClusterInfo {
  const o = asObject(parseRemotingJson(body), 'ClusterInfo');
  const brokers = optObject(o.brokerAddrTable, 'brokerAddrTable') ?? {};
  const clusters = optObject(o.clusterAddrTable, 'clusterAddrTable') ?? {};
  const info: ClusterInfo = { brokerAddrTable: {}, clusterAddrTable: {} };
  for (const name of Object.keys(brokers)) setOwn(info.brokerAddrTable, name, toBrokerData(brokers[name]));
  for (const c of Object.keys(clusters)) setOwn(info.clusterAddrTable, c, stringList(clusters[c], `clusterAddrTable.${c}`));
  return info;
}

export function decodeTopicList(body: Buffer): TopicList {
  const o = asObject(parseRemotingJson(body), 'TopicList');
  const list: TopicList = { topicList: stringList(o.topicList, 'topicList') };
  if (typeof o.brokerAddr === 'string') list.brokerAddr = o.brokerAddr;
  return list;
}

export function decodeKVTable(body: Buffer): KVTable {
  const o = asObject(parseRemotingJson(body), 'KVTable');
  return { table: stringMap(o.table, 'table') };
}

/** The master's address of a broker group, if it has one online. */
export function masterAddrOf(bd: BrokerData): string | undefined {
  return bd.brokerAddrs[String(MASTER_ID)];
}

/** Upstream `BrokerData.selectBrokerAddr`: the master, else a random member. */
export function selectBrokerAddr(bd: BrokerData, random: () => number = Math.random): string | undefined {
  const master = masterAddrOf(bd);
  if (master !== undefined) return master;
  const addrs = Object.values(bd.brokerAddrs);
  if (addrs.length === 0) return undefined;
  return addrs[Math.floor(random() * addrs.length) % addrs.length];
}
