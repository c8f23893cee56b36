import { createLogger, type Logger } from '../common/logger.js';
import { decodeOffsetMessageId } from '../common/message-id.js';
import { PermName } from '../common/perm.js';
import { masterAddrOf, NAMESPACE_ORDER_TOPIC_CONFIG, selectBrokerAddr, type ClusterInfo, type TopicConfig, type TopicConfigSerializeWrapper, type TopicRouteData } from '../common/route.js';
import { getRetryTopic, isDLQTopic, isRetryTopic, isSystemTopic, RETRY_GROUP_TOPIC_PREFIX, SystemTopic } from '../common/topic.js';
import { MQBrokerError, RemotingError, ResponseCode } from '../remoting/index.js';
import {
  newSubscriptionGroupConfig,
  type ConsumeStats,
  type ConsumerConnection,
  type OffsetWrapper,
  type ProducerConnection,
  type ProducerInfo,
  type SubscriptionGroupConfig,
  type QueueTimeSpan,
  type TimerCheckpointBody,
  type TimerMetricsBody,
  type TopicList,
  type TopicOffset,
  type TopicStatsTable,
} from '../client/admin-bodies.js';
import type { ConsumeMessageDirectlyResult, ConsumerRunningInfo } from '../client/consumer-running-info.js';
import { ClientErrorCode, MQClientError } from '../client/errors.js';
import { Message, type MessageExt } from '../client/message.js';
import type { Producer } from '../client/producer.js';
import type { BrokerStatsData, ConsumeStatsList, GroupForbidden, SendResult, SubscriptionGroupWrapper } from '../client/mq-client-api.js';
import { isPredefinedGroup, isSysConsumerGroup } from '../common/subscription-group.js';
import { MessageConst } from '../common/message-const.js';
import type { MessageRequestModeTable, MessageRequestModeValue } from '../common/message-request-mode.js';
import type { SubscriptionData } from '../common/subscription.js';
import { decodeTraceRecords, DEFAULT_TRACE_TOPIC, type TraceRecord } from '../client/trace/trace-data.js';
import { MQClientAPI } from '../client/mq-client-api.js';
import type { HARuntimeInfo } from '../client/admin-bodies.js';
import { NamesrvAddressList } from '../client/namesrv-list.js';
import { compareMessageQueue, messageQueueKey, type MessageQueue } from '../client/route.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';

export interface AdminOptions {
  /** `host:9876;host2:9876`; defaults to the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  /** Share an MQClientAPI; by default the admin owns one. */
  api?: MQClientAPI;
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** ACL credentials every request is signed with (upstream `AclClientRPCHook`); needed when the broker has authenticationEnabled. */
  sessionCredentials?: SessionCredentials;
  /** Timeout of each request (ms). Default 5000. */
  timeoutMs?: number;
  logger?: Logger;
}

/** Where a topic or group change goes: one broker, or every master of a cluster. */
export type AdminTarget = { brokerAddr: string } | { clusterName: string };

/** A topic to create or update; unset fields take mqadmin's defaults (8 / 8 queues, perm RW). */
export type TopicSpec = Partial<TopicConfig> & { topicName: string };

/** One queue of a reset done the old way (upstream `RollbackStats`). */
export interface RollbackStats {
  brokerName: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  timestampOffset: number;
  rollbackOffset: number;
}

/** Result of resetOffsetByTimestamp: which way it went and the new offsets. */
export type ResetOffsetResult =
  | { mode: 'broker'; offsets: Array<{ mq: MessageQueue; offset: number }> }
  | { mode: 'offsets'; rollbackStats: RollbackStats[] };

/** ConsumerConnection plus how much of it the broker could tell. */
export interface ConsumerConnectionInfo extends ConsumerConnection {
  /** true when only the client ids are known (the broker lacks GET_CONSUMER_CONNECTION_LIST). */
  idsOnly: boolean;
}

/** How far a consumer group is with one message (upstream `TrackType`). */
export const TrackType = {
  CONSUMED: 'CONSUMED',
  CONSUMED_BUT_FILTERED: 'CONSUMED_BUT_FILTERED',
  PULL: 'PULL',
  NOT_CONSUME_YET: 'NOT_CONSUME_YET',
  NOT_ONLINE: 'NOT_ONLINE',
  CONSUME_BROADCASTING: 'CONSUME_BROADCASTING',
  UNKNOWN: 'UNKNOWN',
} as const;
export type TrackTypeValue = (typeof TrackType)[keyof typeof TrackType];

/** One group's standing with a message (upstream `MessageTrack`). */
export interface MessageTrack {
  consumerGroup: string;
  trackType: TrackTypeValue;
  /** Why the type could not be told, when it could not. */
  exceptionDesc?: string;
}

/** Upstream `MessageTrack.toString`. */
export function messageTrackString(t: MessageTrack): string {
  return `MessageTrack [consumerGroup=${t.consumerGroup}, trackType=${t.trackType}, exceptionDesc=${t.exceptionDesc ?? 'null'}]`;
}

/** The group-level line of `consumerProgress` without -g (upstream `GroupConsumeInfo`). */
export interface GroupConsumeInfo {
  group: string;
  /** Online clients; 0 when offline or unknown. */
  count: number;
  /** Lowest MQVersion ordinal among the clients (0 when unknown). */
  version: number;
  consumeType?: string;
  messageModel?: string;
  consumeTps: number;
  diffTotal: number;
}

function isUnsupported(err: unknown): boolean {
  return err instanceof MQBrokerError && err.responseCode === ResponseCode.REQUEST_CODE_NOT_SUPPORTED;
}

/**
 * Administration of a RocketMQ cluster over the wire (upstream `DefaultMQAdminExt`): topics,
 * routes and statistics, clusters, consumer groups and their progress and connections,
 * messages by id or key, offset resets, subscription groups, broker runtime stats. Where a
 * broker lacks a newer request (GET_TOPIC_STATS_INFO, GET_CONSUME_STATS,
 * GET_CONSUMER_CONNECTION_LIST, INVOKE_BROKER_TO_RESET_OFFSET) the same answer is built from the
 * basic offset requests, as far as they allow.
 */
export class Admin {
  readonly api: MQClientAPI;
  readonly namesrv: NamesrvAddressList;
  private readonly ownsApi: boolean;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private started = false;

  constructor(opts: AdminOptions = {}) {
    this.namesrv = new NamesrvAddressList(opts.namesrvAddr ?? process.env.NAMESRV_ADDR);
    this.api = opts.api ?? new MQClientAPI({ serializeType: opts.serializeType, sessionCredentials: opts.sessionCredentials });
    this.ownsApi = !opts.api;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.log = opts.logger ?? createLogger('admin');
  }

  /**
   * Makes the admin usable. A NameServer address is needed by every call that looks up routes or
   * clusters (they fail with NO_NAMESRV_ADDRESS without one); calls naming a broker address do not.
   */
  async start(): Promise<void> {
    this.started = true;
  }

  /** Closes the connections (when the admin owns them). */
  async shutdown(): Promise<void> {
    this.started = false;
    if (this.ownsApi) await this.api.shutdown();
  }

  private check(): void {
    if (!this.started) throw new MQClientError('the admin is not started: call start() first', ClientErrorCode.NOT_STARTED);
  }

  // ---- NameServer ----

  /** Brokers by cluster (GET_BROKER_CLUSTER_INFO). */
  async examineBrokerClusterInfo(): Promise<ClusterInfo> {
    this.check();
    return this.namesrv.invoke((addr) => this.api.getBrokerClusterInfo(addr, this.timeoutMs));
  }

  /** Every topic the NameServer knows (GET_ALL_TOPIC_LIST_FROM_NAMESERVER). */
  async fetchAllTopicList(): Promise<string[]> {
    this.check();
    return this.namesrv.invoke((addr) => this.api.getAllTopicListFromNameServer(addr, this.timeoutMs));
  }

  /** The system topics: each cluster's and broker's own, and a broker's fixed ones (upstream `getSystemTopicList`). */
  async getSystemTopicList(): Promise<string[]> {
    this.check();
    return this.namesrv.invoke((addr) => this.api.getSystemTopicList(addr, this.timeoutMs));
  }

  /** Topics by unit flags (upstream `getUnitTopicList`, `getHasUnitSubTopicList`, `getHasUnitSubUnUnitTopicList`). */
  async getUnitTopicList(which: 'unit' | 'hasUnitSub' | 'hasUnitSubUnUnit', containRetry = false): Promise<string[]> {
    this.check();
    return this.namesrv.invoke((addr) => this.api.getUnitTopicList(addr, which, containRetry, this.timeoutMs));
  }

  /** The route of `topic`; an unknown topic is a NOT_FOUND MQClientError. */
  async examineTopicRouteInfo(topic: string): Promise<TopicRouteData> {
    this.check();
    try {
      return await this.namesrv.invoke((addr) => this.api.getTopicRouteInfoFromNameServer(addr, topic, this.timeoutMs));
    } catch (err) {
      if (err instanceof MQBrokerError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
        throw new MQClientError(`topic ${topic} does not exist: no broker serves it (create it with updateTopic)`, ClientErrorCode.NOT_FOUND, false, { cause: err });
      }
      throw err;
    }
  }

  /** Every NameServer of the list; NO_NAMESRV when there is none. */
  private namesrvAddrs(): readonly string[] {
    if (this.namesrv.list.length === 0) throw new MQClientError('no NameServer address', ClientErrorCode.NO_NAMESRV);
    return this.namesrv.list;
  }

  /** GET_NAMESRV_CONFIG on each NameServer (`addrs`, or all of the list). */
  async getNameServerConfig(addrs?: readonly string[]): Promise<Map<string, Map<string, string>>> {
    this.check();
    const out = new Map<string, Map<string, string>>();
    for (const addr of addrs ?? this.namesrvAddrs()) out.set(addr, await this.api.getNamesrvConfig(addr, this.timeoutMs));
    return out;
  }

  /** UPDATE_NAMESRV_CONFIG on each NameServer (`addrs`, or all of the list); returns their addresses. */
  async updateNameServerConfig(props: ReadonlyMap<string, string>, addrs?: readonly string[]): Promise<readonly string[]> {
    this.check();
    const list = addrs ?? this.namesrvAddrs();
    for (const addr of list) await this.api.updateNamesrvConfig(addr, props, this.timeoutMs);
    return list;
  }

  /** PUT_KV_CONFIG on every NameServer (upstream `createAndUpdateKvConfig`). */
  async createAndUpdateKvConfig(namespace: string, key: string, value: string): Promise<void> {
    this.check();
    for (const ns of this.namesrvAddrs()) await this.api.putKVConfig(ns, namespace, key, value, this.timeoutMs);
  }

  /** DELETE_KV_CONFIG on every NameServer. */
  async deleteKvConfig(namespace: string, key: string): Promise<void> {
    this.check();
    for (const ns of this.namesrvAddrs()) await this.api.deleteKVConfig(ns, namespace, key, this.timeoutMs);
  }

  /**
   * Checks that `brokerName` is a broker some NameServer knows, so that a typo is not reported
   * as "0 topics changed" (upstream answers so, silently).
   */
  async requireBrokerName(brokerName: string): Promise<void> {
    const ci = await this.examineBrokerClusterInfo();
    if (!ci.brokerAddrTable[brokerName]) {
      const known = Object.keys(ci.brokerAddrTable).sort();
      throw new MQClientError(`broker ${brokerName} is not registered with the NameServer; known brokers: ${known.join(', ') || '(none)'}`, ClientErrorCode.NOT_FOUND);
    }
  }

  /** GET_BROKER_CONFIG on one broker. */
  async getBrokerConfig(brokerAddr: string): Promise<Map<string, string>> {
    this.check();
    return this.api.getBrokerConfig(brokerAddr, this.timeoutMs);
  }

  /** UPDATE_BROKER_CONFIG on one broker. */
  async updateBrokerConfig(brokerAddr: string, props: ReadonlyMap<string, string>): Promise<void> {
    this.check();
    await this.api.updateBrokerConfig(brokerAddr, props, this.timeoutMs);
  }

  /** Master addresses of a cluster's brokers (upstream `CommandUtil.fetchMasterAddrByClusterName`). */
  async masterAddrsOfCluster(clusterName: string): Promise<string[]> {
    const ci = await this.examineBrokerClusterInfo();
    const names = ci.clusterAddrTable[clusterName];
    if (!names) throw new MQClientError(`cluster ${clusterName} does not exist; known clusters: ${Object.keys(ci.clusterAddrTable).join(', ') || '(none)'}`, ClientErrorCode.NOT_FOUND);
    const out: string[] = [];
    for (const name of [...names].sort()) {
      const bd = ci.brokerAddrTable[name];
      const addr = bd && masterAddrOf(bd);
      if (addr) out.push(addr);
    }
    return out;
  }

  /** Name of the broker at `brokerAddr`, from the cluster info. */
  async brokerNameOf(brokerAddr: string): Promise<string | undefined> {
    const ci = await this.examineBrokerClusterInfo();
    for (const bd of Object.values(ci.brokerAddrTable)) if (Object.values(bd.brokerAddrs).includes(brokerAddr)) return bd.brokerName;
    return undefined;
  }

  private async targetAddrs(target: AdminTarget): Promise<string[]> {
    return 'brokerAddr' in target ? [target.brokerAddr] : this.masterAddrsOfCluster(target.clusterName);
  }

  // ---- topics ----

  /** UPDATE_AND_CREATE_TOPIC on the target brokers; returns their addresses. */
  async createOrUpdateTopic(spec: TopicSpec, target: AdminTarget): Promise<{ config: TopicConfig; brokerAddrs: string[] }> {
    this.check();
    const config: TopicConfig = {
      topicName: spec.topicName,
      readQueueNums: spec.readQueueNums ?? 8,
      writeQueueNums: spec.writeQueueNums ?? 8,
      perm: spec.perm ?? (PermName.PERM_READ | PermName.PERM_WRITE),
      topicFilterType: spec.topicFilterType ?? 'SINGLE_TAG',
      topicSysFlag: spec.topicSysFlag ?? 0,
      order: spec.order ?? false,
    };
    if (spec.attributes) config.attributes = spec.attributes;
    const addrs = await this.targetAddrs(target);
    for (const addr of addrs) await this.api.createTopic(addr, SystemTopic.AUTO_CREATE_TOPIC_KEY, config, this.timeoutMs);
    return { config, brokerAddrs: addrs };
  }

  /**
   * One broker's topics without its system topics (upstream `getUserTopicConfig`): neither those
   * the broker names as its own nor the fixed ones; retry and DLQ topics only with `specialTopic`;
   * none with an invalid perm.
   */
  async getUserTopicConfig(brokerAddr: string, specialTopic: boolean): Promise<TopicConfigSerializeWrapper> {
    this.check();
    const wrapper = await this.api.getAllTopicConfig(brokerAddr, this.timeoutMs);
    const system = new Set(await this.api.getSystemTopicListFromBroker(brokerAddr, this.timeoutMs));
    for (const [name, tc] of Object.entries(wrapper.topicConfigTable)) {
      const drop = system.has(name) || isSystemTopic(name) || (!specialTopic && (isRetryTopic(name) || isDLQTopic(name)))
        || !Number.isInteger(tc.perm) || tc.perm < 0 || tc.perm > 7;
      if (drop) delete wrapper.topicConfigTable[name];
    }
    return wrapper;
  }

  /** One broker's groups without the system and predefined ones (upstream `getUserSubscriptionGroup`). */
  async getUserSubscriptionGroup(brokerAddr: string): Promise<SubscriptionGroupWrapper> {
    this.check();
    const wrapper = await this.api.getAllSubscriptionGroup(brokerAddr, this.timeoutMs);
    for (const name of Object.keys(wrapper.subscriptionGroupTable)) {
      if (isSysConsumerGroup(name) || isPredefinedGroup(name)) delete wrapper.subscriptionGroupTable[name];
    }
    return wrapper;
  }

  /** UPDATE_AND_CREATE_TOPIC_LIST on the target brokers (upstream `createAndUpdateTopicConfigList`); returns their addresses. */
  async createOrUpdateTopicList(configs: readonly TopicConfig[], target: AdminTarget): Promise<string[]> {
    this.check();
    const addrs = await this.targetAddrs(target);
    for (const addr of addrs) await this.api.createTopicList(addr, configs, this.timeoutMs);
    return addrs;
  }

  /**
   * Stores a topic's order configuration (`brokerName:queueNums;…`) in every NameServer's KV
   * namespace ORDER_TOPIC_CONFIG, which routes then carry as `orderTopicConf`.
   */
  async createOrUpdateOrderConf(topic: string, orderConf: string): Promise<void> {
    this.check();
    if (this.namesrv.list.length === 0) await this.namesrv.invoke(async () => undefined);
    for (const ns of this.namesrv.list) await this.api.putKVConfig(ns, NAMESPACE_ORDER_TOPIC_CONFIG, topic, orderConf, this.timeoutMs);
  }

  /** Deletes `topic` from every master of `clusterName`, then from every NameServer. */
  async deleteTopic(topic: string, clusterName: string): Promise<string[]> {
    this.check();
    const addrs = await this.masterAddrsOfCluster(clusterName);
    for (const addr of addrs) await this.api.deleteTopicInBroker(addr, topic, this.timeoutMs);
    for (const ns of this.namesrv.list) await this.api.deleteTopicInNameServer(ns, topic, clusterName, this.timeoutMs);
    return addrs;
  }

  /**
   * Min / max offset of every queue of `topic` (GET_TOPIC_STATS_INFO; from GET_MIN_OFFSET and
   * GET_MAX_OFFSET per queue when a broker lacks it — lastUpdateTimestamp is then 0).
   */
  async examineTopicStats(topic: string): Promise<TopicStatsTable> {
    const route = await this.examineTopicRouteInfo(topic);
    const table: TopicStatsTable = { offsetTable: new Map() };
    for (const bd of route.brokerDatas) {
      const addr = masterAddrOf(bd);
      if (!addr) continue;
      let part: TopicStatsTable;
      try {
        part = await this.api.getTopicStatsInfo(addr, topic, this.timeoutMs);
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        part = { offsetTable: new Map() };
        const qd = route.queueDatas.find((q) => q.brokerName === bd.brokerName);
        const n = qd ? Math.max(qd.readQueueNums, qd.writeQueueNums) : 0;
        const offsets = await Promise.all(Array.from({ length: n }, async (_, queueId): Promise<[MessageQueue, TopicOffset]> => {
          const [minOffset, maxOffset] = await Promise.all([
            this.api.getMinOffset(addr, topic, queueId, this.timeoutMs),
            this.api.getMaxOffset(addr, topic, queueId, this.timeoutMs),
          ]);
          return [{ topic, brokerName: bd.brokerName, queueId }, { minOffset, maxOffset, lastUpdateTimestamp: 0 }];
        }));
        for (const [mq, offset] of offsets) part.offsetTable.set(messageQueueKey(mq), { mq, offset });
      }
      for (const [k, v] of part.offsetTable) table.offsetTable.set(k, v);
      if (part.topicPutTps !== undefined) table.topicPutTps = (table.topicPutTps ?? 0) + part.topicPutTps;
    }
    return table;
  }

  // ---- consumer groups ----

  /** Consumer groups known to the cluster: the owners of `%RETRY%<group>` topics. */
  async fetchConsumerGroups(): Promise<string[]> {
    const topics = await this.fetchAllTopicList();
    return topics.filter(isRetryTopic).map((t) => t.slice(RETRY_GROUP_TOPIC_PREFIX.length)).sort();
  }

  /**
   * The group's progress per queue: broker (max) offset, committed offset, lag. With `topic`,
   * that topic's queues (0 where nothing is committed); without, every topic the group has
   * committed offsets on. Uses GET_CONSUME_STATS, or when a broker lacks it,
   * QUERY_CONSUMER_OFFSET + GET_MAX_OFFSET per queue (over the NameServer's topics).
   */
  async examineConsumeStats(group: string, topic?: string): Promise<ConsumeStats> {
    this.check();
    const stats: ConsumeStats = { offsetTable: new Map(), consumeTps: 0 };
    const add = (part: ConsumeStats): void => {
      for (const [k, v] of part.offsetTable) stats.offsetTable.set(k, v);
      stats.consumeTps += part.consumeTps;
    };
    const topics = topic !== undefined ? [topic] : undefined;
    const routeTopic = topic ?? getRetryTopic(group);
    let route: TopicRouteData | undefined;
    try {
      route = await this.examineTopicRouteInfo(routeTopic);
    } catch (err) {
      if (!(err instanceof MQClientError && err.code === ClientErrorCode.NOT_FOUND) || topic !== undefined) throw err;
    }
    const masters = route ? route.brokerDatas.map((bd) => ({ bd, addr: masterAddrOf(bd) })).filter((m) => m.addr) : [];
    let fallback = masters.length === 0;
    for (const { addr } of masters) {
      try {
        add(await this.api.getConsumeStats(addr!, group, topic, this.timeoutMs));
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        fallback = true;
      }
    }
    if (fallback) add(await this.consumeStatsFromOffsets(group, topics));
    if (stats.offsetTable.size === 0) {
      throw new MQClientError(`consumer group ${group} has no consume progress${topic ? ` on topic ${topic}` : ''}: it never committed an offset`, ClientErrorCode.NOT_FOUND);
    }
    return stats;
  }

  /** GET_CONSUME_STATS rebuilt from QUERY_CONSUMER_OFFSET and GET_MAX_OFFSET, as the broker computes it. */
  private async consumeStatsFromOffsets(group: string, topics?: string[]): Promise<ConsumeStats> {
    const explicit = topics !== undefined;
    const candidates = topics ?? (await this.fetchAllTopicList()).filter((t) => !isDLQTopic(t) && (!isRetryTopic(t) || t === getRetryTopic(group)));
    const stats: ConsumeStats = { offsetTable: new Map(), consumeTps: 0 };
    await Promise.all(candidates.map(async (t) => {
      let route: TopicRouteData;
      try {
        route = await this.examineTopicRouteInfo(t);
      } catch (err) {
        if (explicit) throw err;
        return;
      }
      for (const qd of route.queueDatas) {
        const bd = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
        const addr = bd && masterAddrOf(bd);
        if (!addr) continue;
        const entries = await Promise.all(Array.from({ length: qd.readQueueNums }, async (_, queueId) => {
          const committed = await this.api.queryConsumerOffset(addr, { consumerGroup: group, topic: t, queueId, setZeroIfNotFound: false }, this.timeoutMs);
          if (committed < 0 && !explicit) return undefined;
          const brokerOffset = await this.api.getMaxOffset(addr, t, queueId, this.timeoutMs);
          const consumerOffset = Math.max(0, committed);
          const mq: MessageQueue = { topic: t, brokerName: qd.brokerName, queueId };
          const offset: OffsetWrapper = { brokerOffset, consumerOffset, pullOffset: consumerOffset, lastTimestamp: 0 };
          return { mq, offset };
        }));
        for (const e of entries) if (e) stats.offsetTable.set(messageQueueKey(e.mq), e);
      }
    }));
    return stats;
  }

  /**
   * The group's online clients (GET_CONSUMER_CONNECTION_LIST; when a broker lacks it, only their
   * ids from GET_CONSUMER_LIST_BY_GROUP, `idsOnly`). A group with no client online is NOT_FOUND.
   */
  async examineConsumerConnectionInfo(group: string, brokerAddr?: string): Promise<ConsumerConnectionInfo> {
    this.check();
    const addrs = brokerAddr ? [brokerAddr] : await this.groupBrokerAddrs(group);
    let lastErr: unknown;
    for (const addr of addrs) {
      try {
        const cc = await this.api.getConsumerConnectionList(addr, group, this.timeoutMs);
        return { ...cc, idsOnly: false };
      } catch (err) {
        if (err instanceof MQBrokerError && err.responseCode === ResponseCode.CONSUMER_NOT_ONLINE) {
          lastErr = new MQClientError(`consumer group ${group} is not online (no client connected to ${addr})`, ClientErrorCode.NOT_FOUND, false, { cause: err });
          continue;
        }
        if (!isUnsupported(err)) throw err;
      }
      try {
        const ids = await this.api.getConsumerIdListByGroup(addr, group, this.timeoutMs);
        return {
          connectionSet: ids.map((clientId) => ({ clientId, clientAddr: '', language: '', version: 0 })),
          subscriptionTable: new Map(),
          idsOnly: true,
        };
      } catch (err) {
        if (err instanceof MQBrokerError && err.responseCode === ResponseCode.SYSTEM_ERROR) {
          lastErr = new MQClientError(`consumer group ${group} is not online (no client connected to ${addr})`, ClientErrorCode.NOT_FOUND, false, { cause: err });
          continue;
        }
        throw err;
      }
    }
    throw lastErr ?? new MQClientError(`consumer group ${group} is not online: no broker serves its retry topic ${getRetryTopic(group)}`, ClientErrorCode.NOT_FOUND);
  }

  /**
   * One client's report on its consumer of `group` (GET_CONSUMER_RUNNING_INFO, relayed by the
   * first broker serving the group's retry topic, as upstream): settings, subscriptions, every
   * queue it holds and its speed per topic. `jstack` adds the client's stack report.
   */
  async getConsumerRunningInfo(group: string, clientId: string, jstack = false): Promise<ConsumerRunningInfo> {
    this.check();
    const [addr] = await this.groupBrokerAddrs(group);
    if (!addr) throw new MQClientError(`no broker serves consumer group ${group}`, ClientErrorCode.NO_BROKER_ADDRESS);
    return this.api.getConsumerRunningInfo(addr, group, clientId, jstack, this.timeoutMs);
  }

  /**
   * Pushes the message `msgId` of `topic` (an offset or a unique id) to the listener of one
   * client of `group` (CONSUME_MESSAGE_DIRECTLY through the broker that stores it), outside
   * normal delivery: nothing is committed or retried. Returns what the listener made of it.
   */
  async consumeMessageDirectly(group: string, clientId: string, topic: string, msgId: string): Promise<ConsumeMessageDirectlyResult> {
    const m = await this.queryMessageById(topic, msgId);
    const decoded = decodeOffsetMessageId(m.offsetMsgId);
    return this.api.consumeMessageDirectly(decoded.address, group, clientId, topic, m.offsetMsgId, m.brokerName, this.timeoutMs);
  }

  /** Masters of the brokers serving the group (through its retry topic's route), else every master. */
  private async groupBrokerAddrs(group: string): Promise<string[]> {
    try {
      const route = await this.examineTopicRouteInfo(getRetryTopic(group));
      const addrs = route.brokerDatas.map(masterAddrOf).filter((a): a is string => !!a);
      if (addrs.length > 0) return addrs;
    } catch (err) {
      if (!(err instanceof MQClientError && err.code === ClientErrorCode.NOT_FOUND)) throw err;
    }
    const ci = await this.examineBrokerClusterInfo();
    return Object.values(ci.brokerAddrTable).map(masterAddrOf).filter((a): a is string => !!a);
  }

  /** The producer group's connections on the first master serving `topic` (GET_PRODUCER_CONNECTION_LIST). */
  async examineProducerConnectionInfo(group: string, topic: string): Promise<ProducerConnection> {
    const route = await this.examineTopicRouteInfo(topic);
    const addr = route.brokerDatas.map(masterAddrOf).find((a) => !!a);
    if (!addr) throw new MQClientError(`topic ${topic} has no master broker`, ClientErrorCode.NO_BROKER_ADDRESS);
    return this.api.getProducerConnectionList(addr, group, this.timeoutMs);
  }

  /** Group lines for `consumerProgress` without a group: one per consumer group of the cluster. */
  async examineGroupConsumeInfos(): Promise<GroupConsumeInfo[]> {
    const groups = await this.fetchConsumerGroups();
    const out: GroupConsumeInfo[] = [];
    for (const group of groups) {
      const info: GroupConsumeInfo = { group, count: 0, version: 0, consumeTps: 0, diffTotal: 0 };
      try {
        const cs = await this.examineConsumeStats(group);
        info.consumeTps = cs.consumeTps;
        for (const { offset } of cs.offsetTable.values()) info.diffTotal += offset.brokerOffset - offset.consumerOffset;
      } catch (err) {
        this.log.debug(`consume stats of ${group}: ${(err as Error).message}`);
      }
      try {
        const cc = await this.examineConsumerConnectionInfo(group);
        info.count = cc.connectionSet.length;
        if (cc.consumeType) info.consumeType = cc.consumeType;
        if (cc.messageModel) info.messageModel = cc.messageModel;
        const versions = cc.connectionSet.map((c) => c.version).filter((v) => v > 0);
        info.version = versions.length > 0 ? Math.min(...versions) : 0;
      } catch (err) {
        this.log.debug(`connections of ${group}: ${(err as Error).message}`);
      }
      out.push(info);
    }
    // As upstream GroupConsumeInfo.compareTo: most clients first, then largest lag.
    return out.sort((a, b) => (b.count - a.count) || (b.diffTotal - a.diffTotal));
  }

  // ---- messages ----

  /** The message stored under an offset message id (VIEW_MESSAGE_BY_ID on the broker the id names). */
  async viewMessage(offsetMsgId: string): Promise<MessageExt> {
    this.check();
    let decoded;
    try {
      decoded = decodeOffsetMessageId(offsetMsgId);
    } catch (err) {
      throw new MQClientError((err as Error).message, ClientErrorCode.ARGUMENT_ILLEGAL, false, { cause: err });
    }
    try {
      return await this.api.viewMessage(decoded.address, decoded.commitLogOffset, this.timeoutMs);
    } catch (err) {
      if (err instanceof MQBrokerError) {
        throw new MQClientError(`message ${offsetMsgId} not found on broker ${decoded.address}: ${err.remark ?? err.message}`, ClientErrorCode.NOT_FOUND, false, { cause: err });
      }
      throw err;
    }
  }

  /**
   * A message of `topic` by id (upstream `queryMessage(topic, msgId)`): an offset message id is
   * read where it points; otherwise the id is taken as a client id (UNIQ_KEY) and looked up in
   * the brokers' index (QUERY_MESSAGE).
   */
  async queryMessageById(topic: string, msgId: string): Promise<MessageExt> {
    this.check();
    let offsetErr: unknown;
    try {
      return await this.viewMessage(msgId);
    } catch (err) {
      if (err instanceof RemotingError) throw err;
      offsetErr = err;
    }
    const found = await this.queryMessagesOfTopic(topic, msgId, 32, 0, Number.MAX_SAFE_INTEGER, true);
    const hit = found.find((m) => m.msgId === msgId);
    if (hit) return hit;
    throw new MQClientError(`message ${msgId} of topic ${topic} not found (${(offsetErr as Error).message})`, ClientErrorCode.NOT_FOUND);
  }

  /**
   * Every stored copy of the message with client id (UNIQ_KEY) `msgId` (upstream
   * `queryMessageByUniqKey`: a resent message has several), oldest first.
   */
  async queryMessageByUniqKey(topic: string, msgId: string, maxNum = 32): Promise<MessageExt[]> {
    this.check();
    const found = await this.queryMessagesOfTopic(topic, msgId, maxNum, 0, Number.MAX_SAFE_INTEGER, true);
    return found.filter((m) => m.msgId === msgId).sort((a, b) => a.storeTimestamp - b.storeTimestamp);
  }

  /** Clusters of the brokers serving `topic` (upstream `getTopicClusterList`). */
  async getTopicClusterList(topic: string): Promise<string[]> {
    const route = await this.examineTopicRouteInfo(topic);
    const ci = await this.examineBrokerClusterInfo();
    const names = new Set(route.brokerDatas.map((bd) => bd.brokerName));
    return Object.entries(ci.clusterAddrTable).filter(([, brokers]) => brokers.some((b) => names.has(b))).map(([c]) => c).sort();
  }

  /** Messages of `topic` indexed under business key `key` (QUERY_MESSAGE on every master). */
  async queryMessageByKey(topic: string, key: string, maxNum = 64, beginTimestamp = 0, endTimestamp = Number.MAX_SAFE_INTEGER): Promise<MessageExt[]> {
    this.check();
    const found = await this.queryMessagesOfTopic(topic, key, maxNum, beginTimestamp, endTimestamp, false);
    // The index matches by hash: keep only messages that carry the key.
    return found.filter((m) => m.keys.includes(key));
  }

  /**
   * Sends a stored message again (mqadmin `queryMsgById -s`). A message read from a retry or
   * dead-letter topic goes back to its original topic (RETRY_TOPIC), so a DLQ entry can be
   * replayed to its consumers once the cause is fixed.
   */
  async resendMessageById(topic: string, msgId: string, producer: Producer): Promise<SendResult> {
    const m = await this.queryMessageById(topic, msgId);
    const original = m.propertyMap.get(MessageConst.RETRY_TOPIC);
    const target = (isDLQTopic(m.topic) || isRetryTopic(m.topic)) && original ? original : m.topic;
    const msg = new Message(target, m.body, { flag: m.flag });
    for (const [k, v] of m.propertyMap) {
      if (k === MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX || k === MessageConst.RETRY_TOPIC || k === MessageConst.DELAY_TIME_LEVEL || k === MessageConst.CLUSTER) continue;
      msg.properties.set(k, v);
    }
    return producer.send(msg);
  }

  /**
   * The trace of a message (upstream `QueryMsgTraceByIdSubCommand`): trace messages are indexed
   * by the ids they describe, so a query by key on the trace topic finds them.
   */
  async queryTraceByMsgId(msgId: string, traceTopic = DEFAULT_TRACE_TOPIC): Promise<TraceRecord[]> {
    this.check();
    const found = await this.queryMessagesOfTopic(traceTopic, msgId, 64, 0, Number.MAX_SAFE_INTEGER, false);
    const records = found.flatMap((m) => decodeTraceRecords(m.body.toString('utf8')));
    return records.filter((r) => r.msgId === msgId).sort((a, b) => traceTime(a) - traceTime(b));
  }

  /**
   * Each group consuming the message's topic and how far it is with the message (upstream
   * `messageTrackDetail`): the groups the topic's first broker names (QUERY_TOPIC_CONSUME_BY_WHO);
   * a group with no client online is NOT_ONLINE, a pull group PULL; a push group has CONSUMED it
   * when its committed offset on the message's queue (of the broker that stores it) is past the
   * message, CONSUMED_BUT_FILTERED when its subscription's tags leave the message out, else
   * NOT_CONSUME_YET. A group whose state cannot be read is UNKNOWN with the reason.
   */
  async messageTrackDetail(msg: MessageExt): Promise<MessageTrack[]> {
    this.check();
    const groups = await this.queryTopicConsumeByWho(msg.topic);
    const out: MessageTrack[] = [];
    for (const group of groups) {
      const mt: MessageTrack = { consumerGroup: group, trackType: TrackType.UNKNOWN };
      out.push(mt);
      let cc: ConsumerConnectionInfo;
      try {
        cc = await this.examineConsumerConnectionInfo(group);
      } catch (err) {
        const broker = err instanceof MQBrokerError ? err : (err as Error).cause instanceof MQBrokerError ? (err as Error).cause as MQBrokerError : undefined;
        if (err instanceof MQClientError && err.code === ClientErrorCode.NOT_FOUND) mt.trackType = TrackType.NOT_ONLINE;
        mt.exceptionDesc = broker ? `CODE:${broker.responseCode} DESC:${broker.remark ?? ''}` : (err as Error).message;
        continue;
      }
      if (cc.consumeType === 'CONSUME_ACTIVELY') {
        mt.trackType = TrackType.PULL;
        continue;
      }
      if (cc.messageModel === 'BROADCASTING') {
        // Broadcast consumers keep their offsets to themselves (upstream: BROADCAST_CONSUMPTION).
        mt.trackType = TrackType.CONSUME_BROADCASTING;
        continue;
      }
      let consumed: boolean;
      try {
        consumed = await this.consumed(msg, group);
      } catch (err) {
        mt.exceptionDesc = (err as Error).message;
        continue;
      }
      if (!consumed) {
        mt.trackType = TrackType.NOT_CONSUME_YET;
        continue;
      }
      mt.trackType = TrackType.CONSUMED;
      const sub = cc.subscriptionTable.get(msg.topic);
      if (sub && sub.tagsSet.length > 0 && !sub.tagsSet.includes('*') && !(msg.tags !== undefined && sub.tagsSet.includes(msg.tags))) {
        mt.trackType = TrackType.CONSUMED_BUT_FILTERED;
      }
    }
    return out;
  }

  /** Whether `group` committed past the message on its queue of the broker that stores it (upstream `consumed`). */
  private async consumed(msg: MessageExt, group: string): Promise<boolean> {
    const stats = await this.examineConsumeStats(group);
    const ci = await this.examineBrokerClusterInfo();
    for (const { mq, offset } of stats.offsetTable.values()) {
      if (mq.topic !== msg.topic || mq.queueId !== msg.queueId) continue;
      const master = ci.brokerAddrTable[mq.brokerName]?.brokerAddrs['0'];
      if (master !== undefined && master === msg.storeHost && offset.consumerOffset > msg.queueOffset) return true;
    }
    return false;
  }

  /**
   * The trace records of a message with the host that wrote each (the trace message's born host),
   * in the order the trace messages are found (upstream `QueryMsgTraceByIdSubCommand`, `TraceView`):
   * a query by key on the trace topic.
   */
  async queryTraceViews(msgId: string, traceTopic = DEFAULT_TRACE_TOPIC, maxNum = 64, begin = 0, end = Number.MAX_SAFE_INTEGER): Promise<Array<{ record: TraceRecord; clientHost: string }>> {
    this.check();
    const found = await this.queryMessagesOfTopic(traceTopic, msgId, maxNum, begin, end, false);
    return found.flatMap((m) => decodeTraceRecords(m.body.toString('utf8')).filter((r) => r.msgId === msgId).map((record) => ({ record, clientHost: hostOnly(m.bornHost) })));
  }

  /** A KV config entry of the first NameServer that has it (upstream `getKVConfig`); undefined when none has. */
  async getKvConfig(namespace: string, key: string): Promise<string | undefined> {
    this.check();
    return this.namesrv.invoke((addr) => this.api.getKVConfig(addr, namespace, key, this.timeoutMs));
  }

  private async queryMessagesOfTopic(topic: string, key: string, maxNum: number, begin: number, end: number, unique: boolean): Promise<MessageExt[]> {
    const route = await this.examineTopicRouteInfo(topic);
    const out: MessageExt[] = [];
    for (const bd of route.brokerDatas) {
      const addr = masterAddrOf(bd);
      if (!addr) continue;
      const msgs = await this.api.queryMessage(addr, topic, key, maxNum, begin, end, unique);
      for (const m of msgs) {
        m.brokerName = bd.brokerName;
        out.push(m);
      }
    }
    return out;
  }

  // ---- offsets ----

  /**
   * Moves the group's offsets of `topic` to the first message stored at or after `timestamp`
   * (upstream `resetOffsetByTimestamp`). The broker does it and tells the online clients
   * (INVOKE_BROKER_TO_RESET_OFFSET); when the broker lacks that request or no client is
   * online, the offsets are rewritten directly (UPDATE_CONSUMER_OFFSET, upstream's "old" way —
   * clients online then keep their own offsets). Without `force`, offsets only move back.
   */
  async resetOffsetByTimestamp(topic: string, group: string, timestamp: number, force = true): Promise<ResetOffsetResult> {
    this.check();
    const route = await this.examineTopicRouteInfo(topic);
    const offsets: Array<{ mq: MessageQueue; offset: number }> = [];
    let old = false;
    for (const bd of route.brokerDatas) {
      const addr = masterAddrOf(bd);
      if (!addr) continue;
      try {
        const table = await this.api.invokeBrokerToResetOffset(addr, topic, group, timestamp, force, undefined, this.timeoutMs);
        offsets.push(...table.values());
      } catch (err) {
        if (isUnsupported(err) || (err instanceof MQBrokerError && err.responseCode === ResponseCode.CONSUMER_NOT_ONLINE)) {
          old = true;
          break;
        }
        throw err;
      }
    }
    if (!old) return { mode: 'broker', offsets: offsets.sort((a, b) => compareMessageQueue(a.mq, b.mq)) };
    return { mode: 'offsets', rollbackStats: await this.resetOffsetByTimestampOld(route, topic, group, timestamp, force) };
  }

  private async resetOffsetByTimestampOld(route: TopicRouteData, topic: string, group: string, timestamp: number, force: boolean): Promise<RollbackStats[]> {
    const out: RollbackStats[] = [];
    for (const qd of [...route.queueDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0))) {
      const bd = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
      const addr = bd && masterAddrOf(bd);
      if (!addr) continue;
      for (let queueId = 0; queueId < qd.readQueueNums; queueId++) {
        const [brokerOffset, committed, searched] = await Promise.all([
          this.api.getMaxOffset(addr, topic, queueId, this.timeoutMs),
          this.api.queryConsumerOffset(addr, { consumerGroup: group, topic, queueId, setZeroIfNotFound: false }, this.timeoutMs),
          // −1 (skipAccumulatedMessage) stands for the max offset, as on the broker.
          timestamp === -1 ? -1 : this.api.searchOffset(addr, topic, queueId, timestamp, undefined, this.timeoutMs),
        ]);
        const consumerOffset = Math.max(0, committed);
        const timestampOffset = searched === -1 ? brokerOffset : searched;
        const rollbackOffset = force || timestampOffset <= consumerOffset ? timestampOffset : consumerOffset;
        await this.api.updateConsumerOffset(addr, { consumerGroup: group, topic, queueId, commitOffset: rollbackOffset }, this.timeoutMs);
        out.push({ brokerName: qd.brokerName, queueId, brokerOffset, consumerOffset, timestampOffset, rollbackOffset });
      }
    }
    return out;
  }

  // ---- brokers and subscription groups ----

  /** The broker's runtime statistics (GET_BROKER_RUNTIME_INFO). */
  /** The replication state of a broker (mqadmin haStatus). */
  async getBrokerHAStatus(brokerAddr: string): Promise<HARuntimeInfo> {
    this.check();
    return this.api.getBrokerHAStatus(brokerAddr, this.timeoutMs);
  }

  async fetchBrokerRuntimeStats(brokerAddr: string): Promise<Record<string, string>> {
    this.check();
    return this.api.getBrokerRuntimeInfo(brokerAddr, this.timeoutMs);
  }

  /**
   * The in-memory offsets on `topic` of each online consumer of `group` (upstream
   * `getConsumeStatus`, asked through the first broker of the topic's route); `clientAddr` (a
   * client id) asks only that one.
   */
  async getConsumeStatus(topic: string, group: string, clientAddr?: string): Promise<Map<string, Map<string, { mq: MessageQueue; offset: number }>>> {
    const route = await this.examineTopicRouteInfo(topic);
    for (const bd of route.brokerDatas) {
      const addr = masterAddrOf(bd) ?? Object.values(bd.brokerAddrs)[0];
      if (addr) return this.api.invokeBrokerToGetConsumerStatus(addr, topic, group, clientAddr, this.timeoutMs);
    }
    throw new MQClientError(`topic ${topic} has no broker in its route`, ClientErrorCode.NOT_FOUND);
  }

  /** One statistics item of one broker (VIEW_BROKER_STATS_DATA), e.g. TOPIC_PUT_NUMS of a topic. */
  async viewBrokerStatsData(brokerAddr: string, statsName: string, statsKey: string): Promise<BrokerStatsData> {
    this.check();
    return this.api.viewBrokerStatsData(brokerAddr, statsName, statsKey, this.timeoutMs);
  }

  /** The groups consuming `topic`, as the first broker of its route knows them (upstream's choice). */
  async queryTopicConsumeByWho(topic: string): Promise<string[]> {
    const route = await this.examineTopicRouteInfo(topic);
    for (const bd of route.brokerDatas) {
      const addr = masterAddrOf(bd) ?? Object.values(bd.brokerAddrs)[0];
      if (addr) return this.api.queryTopicConsumeByWho(addr, topic, this.timeoutMs);
    }
    return [];
  }

  /** Every live producer on one broker, by group (upstream `getAllProducerInfo`, GET_ALL_PRODUCER_INFO). */
  async getAllProducerInfo(brokerAddr: string): Promise<Map<string, ProducerInfo[]>> {
    this.check();
    return this.api.getAllProducerInfo(brokerAddr, this.timeoutMs);
  }

  /** Every group's progress on one broker (GET_BROKER_CONSUME_STATS); `isOrder`: order topics only. */
  async fetchConsumeStatsInBroker(brokerAddr: string, isOrder: boolean, timeoutMs = this.timeoutMs): Promise<ConsumeStatsList> {
    this.check();
    return this.api.getBrokerConsumeStats(brokerAddr, isOrder, timeoutMs);
  }

  /**
   * A store maintenance request on `target` (a broker, or every broker of a cluster), or on every
   * broker of every cluster when none is given, as upstream's cleanExpiredConsumerQueue /
   * deleteExpiredCommitLog / cleanUnusedTopic (and their ByAddr forms). Returns the brokers asked.
   */
  async storeMaintenance(kind: 'cleanExpiredConsumeQueue' | 'deleteExpiredCommitLog' | 'cleanUnusedTopic', target?: AdminTarget): Promise<string[]> {
    this.check();
    let addrs: string[];
    if (target && 'brokerAddr' in target) addrs = [target.brokerAddr];
    else if (target) addrs = await this.brokerAddrsOfCluster(target.clusterName);
    else {
      const ci = await this.examineBrokerClusterInfo();
      addrs = [];
      for (const cluster of Object.keys(ci.clusterAddrTable).sort()) addrs.push(...await this.brokerAddrsOfCluster(cluster));
    }
    for (const addr of addrs) {
      await this.api[kind](addr, this.timeoutMs);
      this.log.warn(`${kind} on target broker=${addr} done`);
    }
    return addrs;
  }

  /** Every broker address (masters and slaves) of a cluster, sorted by broker name then id. */
  async brokerAddrsOfCluster(clusterName: string): Promise<string[]> {
    const ci = await this.examineBrokerClusterInfo();
    const names = ci.clusterAddrTable[clusterName];
    if (!names) throw new MQClientError(`cluster ${clusterName} does not exist`, ClientErrorCode.NOT_FOUND);
    const out: string[] = [];
    for (const name of [...names].sort()) {
      const bd = ci.brokerAddrTable[name];
      if (!bd) continue;
      for (const id of Object.keys(bd.brokerAddrs).sort((a, b) => Number(a) - Number(b))) out.push(bd.brokerAddrs[id]!);
    }
    return out;
  }

  /** One topic's config on one broker (upstream `examineTopicConfig`, GET_TOPIC_CONFIG). */
  async examineTopicConfig(brokerAddr: string, topic: string): Promise<TopicConfig> {
    this.check();
    return this.api.getTopicConfig(brokerAddr, topic, this.timeoutMs);
  }

  /** One group's config on one broker (upstream `examineSubscriptionGroupConfig`, GET_SUBSCRIPTIONGROUP_CONFIG). */
  async examineSubscriptionGroupConfig(brokerAddr: string, group: string): Promise<SubscriptionGroupConfig> {
    this.check();
    return this.api.getSubscriptionGroupConfig(brokerAddr, group, this.timeoutMs);
  }

  /**
   * The topics a group has committed offsets on, over every broker of its retry topic (upstream
   * `queryTopicsByConsumer`, QUERY_TOPICS_BY_CONSUMER), sorted.
   */
  async queryTopicsByConsumer(group: string): Promise<TopicList> {
    this.check();
    const route = await this.examineTopicRouteInfo(getRetryTopic(group));
    const topics = new Set<string>();
    for (const bd of route.brokerDatas) {
      const addr = selectBrokerAddr(bd);
      if (addr) for (const t of (await this.api.queryTopicsByConsumer(addr, group, this.timeoutMs)).topicList) topics.add(t);
    }
    return { topicList: [...topics].sort() };
  }

  /** The online group's subscription to `topic`, from the first broker of the topic (upstream `querySubscription`); undefined when none. */
  async querySubscription(group: string, topic: string): Promise<SubscriptionData | undefined> {
    this.check();
    const route = await this.examineTopicRouteInfo(topic);
    for (const bd of route.brokerDatas) {
      const addr = selectBrokerAddr(bd);
      if (addr) return this.api.querySubscriptionByConsumer(addr, group, topic, this.timeoutMs);
    }
    return undefined;
  }

  /** Per queue of `topic` on every broker, its time span and the group's place in it (upstream `queryConsumeTimeSpan`). */
  async queryConsumeTimeSpan(topic: string, group: string): Promise<QueueTimeSpan[]> {
    this.check();
    const route = await this.examineTopicRouteInfo(topic);
    const out: QueueTimeSpan[] = [];
    for (const bd of route.brokerDatas) {
      const addr = selectBrokerAddr(bd);
      if (addr) out.push(...await this.api.queryConsumeTimeSpan(addr, topic, group, this.timeoutMs));
    }
    return out;
  }

  /** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP on the target brokers. */
  async createOrUpdateSubscriptionGroup(config: Partial<SubscriptionGroupConfig> & { groupName: string }, target: AdminTarget): Promise<{ config: SubscriptionGroupConfig; brokerAddrs: string[] }> {
    this.check();
    const full = newSubscriptionGroupConfig(config.groupName, config);
    const addrs = await this.targetAddrs(target);
    for (const addr of addrs) await this.api.createSubscriptionGroup(addr, full, this.timeoutMs);
    return { config: full, brokerAddrs: addrs };
  }

  /** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST on the target brokers (upstream `createAndUpdateSubscriptionGroupConfigList`); returns their addresses. */
  async createOrUpdateSubscriptionGroupList(configs: readonly SubscriptionGroupConfig[], target: AdminTarget): Promise<string[]> {
    this.check();
    const addrs = await this.targetAddrs(target);
    for (const addr of addrs) await this.api.createSubscriptionGroupList(addr, configs, this.timeoutMs);
    return addrs;
  }

  /** DELETE_SUBSCRIPTIONGROUP on the target brokers; with a cluster, also its retry and DLQ topics. */
  async deleteSubscriptionGroup(groupName: string, target: AdminTarget, cleanOffset = false): Promise<string[]> {
    this.check();
    const addrs = await this.targetAddrs(target);
    for (const addr of addrs) await this.api.deleteSubscriptionGroup(addr, groupName, cleanOffset, this.timeoutMs);
    return addrs;
  }

  /**
   * SET_MESSAGE_REQUEST_MODE on the target brokers (upstream `DefaultMQAdminExt.setMessageRequestMode`,
   * as SetConsumeModeSubCommand runs it): a group's consumers with clientRebalance=false then PULL
   * or POP the topic. With one broker its failure is thrown; over a cluster, as upstream, each
   * master is tried and its failure reported in the result.
   */
  async setMessageRequestMode(topic: string, consumerGroup: string, mode: MessageRequestModeValue, popShareQueueNum: number,
    target: AdminTarget): Promise<Array<{ brokerAddr: string; error?: Error }>> {
    this.check();
    const body = { topic, consumerGroup, mode, popShareQueueNum };
    if ('brokerAddr' in target) {
      await this.api.setMessageRequestMode(target.brokerAddr, body, this.timeoutMs);
      return [{ brokerAddr: target.brokerAddr }];
    }
    const out: Array<{ brokerAddr: string; error?: Error }> = [];
    for (const addr of await this.masterAddrsOfCluster(target.clusterName)) {
      try {
        await this.api.setMessageRequestMode(addr, body, this.timeoutMs);
        out.push({ brokerAddr: addr });
      } catch (err) {
        out.push({ brokerAddr: addr, error: err as Error });
      }
    }
    return out;
  }

  /**
   * Forbids (`readable` false) or allows (true) `group` to pull `topic` on one broker, or with
   * `readable` undefined only reads it (upstream `updateAndGetGroupReadForbidden`). Push consumers
   * of a forbidden group get NO_PERMISSION for the topic's pulls.
   */
  async updateAndGetGroupReadForbidden(brokerAddr: string, group: string, topic: string, readable?: boolean): Promise<GroupForbidden> {
    this.check();
    return this.api.updateAndGetGroupForbidden(brokerAddr, group, topic, readable, this.timeoutMs);
  }

  /**
   * Per queue of `topic` on one broker, the lowest committed offset of every group but
   * `filterGroups`, Infinity where `compareGroup` is behind it (upstream `queryCorrectionOffset`).
   */
  async queryCorrectionOffset(brokerAddr: string, topic: string, compareGroup: string, filterGroups: readonly string[] = []): Promise<Map<number, number>> {
    this.check();
    return this.api.queryCorrectionOffset(brokerAddr, topic, compareGroup, filterGroups, this.timeoutMs);
  }

  /**
   * Puts a half message back so its transaction is checked again, from a check count of 0
   * (upstream `resumeCheckHalfMessage`): also one given up after transactionCheckMax checks.
   * As upstream, `msgId` is the half's offset message id (which names its broker) or a client
   * id (UNIQ_KEY) looked up in `topic` (the half topic, RMQ_SYS_TRANS_HALF_TOPIC, holds halves),
   * whose stored copy's offset id is sent.
   */
  async resumeCheckHalfMessage(topic: string, msgId: string): Promise<void> {
    this.check();
    let offsetMsgId = msgId;
    let address: string;
    try {
      address = decodeOffsetMessageId(msgId).address;
    } catch {
      offsetMsgId = (await this.queryMessageById(topic, msgId)).offsetMsgId;
      address = decodeOffsetMessageId(offsetMsgId).address;
    }
    await this.api.resumeCheckHalfMessage(address, topic, offsetMsgId, this.timeoutMs);
  }

  /**
   * The timer store's checkpoint on one broker (GET_TIMER_CHECK_POINT, upstream
   * `BrokerOuterAPI.getTimerCheckPoint`): how far it has delivered and filed.
   */
  async getTimerCheckPoint(brokerAddr: string): Promise<TimerCheckpointBody> {
    this.check();
    return this.api.getTimerCheckPoint(brokerAddr, this.timeoutMs);
  }

  /** Timer messages pending per topic on one broker (GET_TIMER_METRICS, upstream `BrokerOuterAPI.getTimerMetrics`). */
  async getTimerMetrics(brokerAddr: string): Promise<TimerMetricsBody> {
    this.check();
    return this.api.getTimerMetrics(brokerAddr, this.timeoutMs);
  }

  /** GET_ALL_MESSAGE_REQUEST_MODE of one broker: topic → group → mode. */
  async getAllMessageRequestMode(brokerAddr: string): Promise<MessageRequestModeTable> {
    this.check();
    return this.api.getAllMessageRequestMode(brokerAddr, this.timeoutMs);
  }
}

/** Upstream `MessageExt.getBornHostString`: the address without its port. */
function hostOnly(addr: string): string {
  const i = addr.lastIndexOf(':');
  return (i > 0 ? addr.slice(0, i) : addr).replace(/^\//, '');
}

function traceTime(r: TraceRecord): number {
  return r.timestamp;
}
