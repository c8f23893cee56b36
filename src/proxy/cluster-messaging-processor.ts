import { hostname } from 'node:os';
import type { Logger } from '../common/logger.js';
import { MQClientAPI } from '../client/mq-client-api.js';
import type { HeartbeatData } from '../client/headers.js';
import { parseLenientJson } from '../common/json.js';
import { MessageConst } from '../common/message-const.js';
import { decodeRecord } from '../common/message-record.js';
import { getProperty } from '../common/properties.js';
import { delayOfLevel, parseDelayLevels, retryDelayLevel } from '../common/delay-level.js';
import { buildSubscription, ExpressionType } from '../common/subscription.js';
import type { TopicRouteData } from '../common/route.js';
import { RequestCode, ResponseCode, SerializeType } from '../remoting/codes.js';
import { createRequest, type RemotingCommand } from '../remoting/command.js';
import type { Connection } from '../remoting/connection.js';
import { encodeSendMessageRequestHeaderV2 } from '../remoting/protocol/index.js';
import { MQBrokerError, RemotingError } from '../remoting/errors.js';
import type { PopAckResult, PopResult, PoppedMessage } from '../broker/pop/pop-message-service.js';
import { decodeExtraInfo, encodeExtraInfo, type ExtraInfo } from '../broker/pop/pop-checkpoint.js';
import { PopRequestCode, PopResponseCode } from '../broker/pop/pop-processors.js';
import { popReceipts } from '../remoting/protocol/pop-message-header.js';
import { decodeRecallHandle } from '../common/recall-handle.js';
import type { GrpcClientChannel } from './grpc-client-channel.js';
import { topicMessageTypeOf } from './local-messaging-processor.js';
import { ReceiptRenewal } from './receipt-renewal.js';
import type {
  EndTransactionCall, GroupView, MessagingProcessor, PopCall, PopFilterExpression, SendOutcome, SendRequest, TopicMessageType, TopicRouteView,
} from './messaging-processor.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';
import type { AclInfo, UserInfo } from '../common/acl-info.js';

export interface ClusterProcessorOptions {
  /** `host:9876;host2:9876`. */
  namesrvAddr: string;
  logger: Logger;
  /** How long routes, topic and group configs are reused, ms. */
  cacheMs?: number;
  /** Largest body the brokers take (their maxMessageSize). */
  maxMessageSize?: number;
  /** Heartbeats to the brokers on behalf of gRPC clients, ms. */
  heartbeatIntervalMs?: number;
  /** How often receipts of auto-renewing consumers are looked at for renewal, ms (upstream 5 s). */
  renewCheckIntervalMs?: number;
  /**
   * Credentials the proxy signs its broker requests with (upstream `DefaultMessagingProcessor`
   * with `innerClientAuthenticationCredentials`), for brokers with authentication on.
   */
  sessionCredentials?: SessionCredentials;
  /** The cluster whose brokers users and ACLs are read from (upstream ProxyConfig `rocketMQClusterName`). */
  rocketMQClusterName?: string;
}

const DEFAULT_GROUP: GroupView = { consumeMessageOrderly: false, retryMaxTimes: 16, consumeEnable: true };
const DEFAULT_DELAY_LEVELS = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';

interface Cached<T> {
  at: number;
  value: T;
}

/**
 * Cluster mode (upstream proxy "cluster" deployment, `ClusterMessagingProcessor`): the proxy is a
 * client of the brokers over Remoting. Routes come from the NameServer; topic message types and
 * group configs from the brokers (GET_ALL_TOPIC_CONFIG, GET_ALL_SUBSCRIPTIONGROUP_CONFIG), cached
 * briefly; sends, POP, acks, transactions and DLQ forwards are the brokers' Remoting requests.
 * The proxy heartbeats to every broker for the producer and consumer groups of its gRPC clients,
 * so transaction check-backs come to it and go on to a client's Telemetry stream.
 *
 * Receipts of auto-renewing (push) consumers are renewed by the proxy while their client lives
 * (ReceiptRenewal). Simplified against upstream: brokers are reached at their master address only.
 */
export class ClusterMessagingProcessor implements MessagingProcessor {
  private readonly api: MQClientAPI;
  private readonly logger: Logger;
  private readonly namesrvs: string[];
  private readonly cacheMs: number;
  private readonly routes = new Map<string, Cached<TopicRouteData>>();
  private readonly topicConfigs = new Map<string, Cached<Record<string, { attributes?: Record<string, string> }>>>();
  private groupConfigs?: Cached<Record<string, Partial<GroupView>>>;
  /** brokerName → master address. */
  private readonly brokerAddrs = new Map<string, string>();
  /** clusterName → its brokers' names, from the last cluster info. */
  private readonly clusterBrokers = new Map<string, string[]>();
  private readonly producers = new Map<string, Set<GrpcClientChannel>>();
  private readonly consumers = new Map<string, { channels: Set<GrpcClientChannel>; subscriptions: Array<{ topic: string; filter: PopFilterExpression }> }>();
  private readonly clientId = `${hostname()}@proxy@${process.pid}`;
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly delayLevelsMs: readonly number[] = parseDelayLevels(DEFAULT_DELAY_LEVELS);
  private clientAlive: (clientId: string) => boolean = () => false;
  private readonly renewal: ReceiptRenewal;

  constructor(private readonly opts: ClusterProcessorOptions) {
    this.logger = opts.logger;
    this.namesrvs = opts.namesrvAddr.split(';').map((s) => s.trim()).filter(Boolean);
    if (this.namesrvs.length === 0) throw new Error('mqproxy needs a NameServer address: -n host:9876');
    this.cacheMs = opts.cacheMs ?? 3000;
    this.api = new MQClientAPI({ language: 'JAVA', sessionCredentials: opts.sessionCredentials });
    this.api.registerRequestHandler(RequestCode.CHECK_TRANSACTION_STATE, (req, conn) => this.onCheckTransaction(req, conn));
    this.renewal = new ReceiptRenewal({
      change: (b, g, t, info, ms) => this.brokerChangeInvisibleTime(b, g, t, info, ms),
      // The group's default retry policy (upstream `CustomizedRetryPolicy`): a consume retry's delay level.
      retryDelay: (reconsumeTimes) => delayOfLevel(this.delayLevelsMs, retryDelayLevel(reconsumeTimes)),
      clientAlive: () => this.clientAlive,
      logger: this.logger,
      checkIntervalMs: opts.renewCheckIntervalMs,
    });
  }

  async start(): Promise<void> {
    await this.refreshBrokers().catch((err: Error) => this.logger.warn(`no cluster info from ${this.namesrvs.join(';')} yet: ${err.message}`));
    this.heartbeatTimer = setInterval(() => void this.heartbeatAll(), this.opts.heartbeatIntervalMs ?? 10_000);
    this.heartbeatTimer.unref();
    this.renewal.start();
  }

  async shutdown(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.renewal.stop();
    await this.api.shutdown();
  }

  // ---- metadata ----

  private async nameServerCall<T>(fn: (addr: string) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const addr of this.namesrvs) {
      try {
        return await fn(addr);
      } catch (err) {
        last = err;
        if (err instanceof MQBrokerError) throw err;
      }
    }
    throw last;
  }

  private async refreshBrokers(): Promise<void> {
    const info = await this.nameServerCall((a) => this.api.getBrokerClusterInfo(a));
    for (const b of Object.values(info.brokerAddrTable)) {
      const master = b.brokerAddrs['0'];
      if (master) this.brokerAddrs.set(b.brokerName, master);
    }
    this.clusterBrokers.clear();
    for (const [cluster, names] of Object.entries(info.clusterAddrTable)) this.clusterBrokers.set(cluster, names);
  }

  /**
   * The master of one broker of the cluster, picked at random (upstream
   * `ClusterMetadataService.findOneBroker(rocketMQClusterName)`); undefined when it has none.
   */
  private async oneBrokerOfCluster(): Promise<string | undefined> {
    await this.refreshBrokers();
    const cluster = this.opts.rocketMQClusterName ?? 'DefaultCluster';
    const addrs = (this.clusterBrokers.get(cluster) ?? []).map((n) => this.brokerAddrs.get(n)).filter((a): a is string => a !== undefined);
    return addrs.length === 0 ? undefined : addrs[Math.floor(Math.random() * addrs.length)];
  }

  /**
   * A user of the brokers' ACL 2.0 store (AUTH_GET_USER, upstream `ClusterUserCacheLoader`),
   * undefined when it has none or the cluster has no broker.
   */
  async fetchUser(username: string): Promise<UserInfo | undefined> {
    const addr = await this.oneBrokerOfCluster();
    return addr === undefined ? undefined : this.api.getUser(addr, username, 3000);
  }

  /** The ACL of `User:<name>` (AUTH_GET_ACL, upstream `ClusterAclCacheLoader`). */
  async fetchAcl(subject: string): Promise<AclInfo | undefined> {
    const addr = await this.oneBrokerOfCluster();
    return addr === undefined ? undefined : this.api.getAcl(addr, subject, 3000);
  }

  private async brokerAddr(brokerName: string): Promise<string> {
    let addr = this.brokerAddrs.get(brokerName);
    if (!addr) {
      await this.refreshBrokers();
      addr = this.brokerAddrs.get(brokerName);
    }
    if (!addr) throw new MQBrokerError(ResponseCode.SYSTEM_ERROR, `broker ${brokerName} is not registered with the NameServer`, brokerName);
    return addr;
  }

  private async routeData(topic: string): Promise<TopicRouteData | undefined> {
    const c = this.routes.get(topic);
    if (c && Date.now() - c.at < this.cacheMs) return c.value;
    try {
      const r = await this.nameServerCall((a) => this.api.getTopicRouteInfoFromNameServer(a, topic));
      for (const b of r.brokerDatas) {
        const master = b.brokerAddrs['0'];
        if (master) this.brokerAddrs.set(b.brokerName, master);
      }
      if (this.routes.size > 10_000) this.routes.clear();
      this.routes.set(topic, { at: Date.now(), value: r });
      return r;
    } catch (err) {
      if (err instanceof MQBrokerError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
        this.routes.delete(topic);
        return undefined;
      }
      throw err;
    }
  }

  private async topicMessageType(brokerAddr: string, topic: string): Promise<TopicMessageType | undefined> {
    let c = this.topicConfigs.get(brokerAddr);
    if (!c || Date.now() - c.at >= this.cacheMs || !(topic in c.value)) {
      const w = await this.api.getAllTopicConfig(brokerAddr);
      c = { at: Date.now(), value: w.topicConfigTable as Record<string, { attributes?: Record<string, string> }> };
      this.topicConfigs.set(brokerAddr, c);
    }
    return topicMessageTypeOf(c.value[topic]?.attributes);
  }

  async topicRoute(topic: string): Promise<TopicRouteView | undefined> {
    const r = await this.routeData(topic);
    if (!r) return undefined;
    const brokers = r.queueDatas.filter((q) => this.brokerAddrs.has(q.brokerName)).map((q) => ({
      brokerName: q.brokerName, readQueueNums: q.readQueueNums, writeQueueNums: q.writeQueueNums, perm: q.perm,
    }));
    let messageType: TopicMessageType | undefined;
    if (brokers.length > 0) {
      messageType = await this.topicMessageType(this.brokerAddrs.get(brokers[0]!.brokerName)!, topic).catch(() => undefined);
    }
    return { topic, messageType, brokers };
  }

  async groupConfig(group: string): Promise<GroupView | undefined> {
    const c = this.groupConfigs;
    if (!c || Date.now() - c.at >= this.cacheMs || !(group in c.value)) {
      const addr = [...this.brokerAddrs.values()][0];
      if (addr) {
        try {
          const res = await this.api.remoting.invoke(addr, createRequest(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG), 3000);
          if (res.code === ResponseCode.SUCCESS && res.body) {
            const o = parseLenientJson(res.body) as { subscriptionGroupTable?: Record<string, Partial<GroupView>> };
            this.groupConfigs = { at: Date.now(), value: o.subscriptionGroupTable ?? {} };
          }
        } catch (err) {
          this.logger.warn(`reading the group configs from ${addr} failed: ${(err as Error).message}`);
        }
      }
    }
    // A group the brokers do not know yet is auto-created on its first pop, or refused there.
    const g = this.groupConfigs?.value[group];
    return { ...DEFAULT_GROUP, ...(g ? { consumeMessageOrderly: g.consumeMessageOrderly === true, retryMaxTimes: Number(g.retryMaxTimes ?? 16), consumeEnable: g.consumeEnable !== false } : {}) };
  }

  maxMessageSize(): number {
    return this.opts.maxMessageSize ?? 4 * 1024 * 1024;
  }

  timerEnabled(): boolean {
    return true;
  }

  delayLevels(): readonly number[] {
    return this.delayLevelsMs;
  }

  // ---- requests ----

  /** Invokes a broker request; a connection failure becomes SYSTEM_ERROR rather than a throw. */
  private async invoke(brokerName: string, cmd: RemotingCommand, timeoutMs = 3000): Promise<RemotingCommand> {
    const addr = await this.brokerAddr(brokerName);
    try {
      return await this.api.remoting.invoke(addr, cmd, timeoutMs);
    } catch (err) {
      if (err instanceof RemotingError) {
        return { ...cmd, code: ResponseCode.SYSTEM_ERROR, remark: `broker ${brokerName} (${addr}) did not answer: ${err.message}`, flag: 1 };
      }
      throw err;
    }
  }

  async sendMessage(req: SendRequest): Promise<SendOutcome> {
    const cmd = createRequest(RequestCode.SEND_MESSAGE_V2, {
      extFields: encodeSendMessageRequestHeaderV2({
        producerGroup: req.producerGroup, topic: req.topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: req.queueId,
        sysFlag: req.sysFlag, bornTimestamp: req.bornTimestamp, flag: 0, properties: req.properties, reconsumeTimes: 0, brokerName: req.brokerName,
      }),
      body: req.body,
    });
    const res = await this.invoke(req.brokerName, cmd);
    const f = res.extFields ?? {};
    return { code: res.code, remark: res.remark, msgId: f.msgId, queueOffset: f.queueOffset !== undefined ? Number(f.queueOffset) : undefined, recallHandle: f.recallHandle };
  }

  async endTransaction(brokerName: string, call: EndTransactionCall): Promise<{ code: number; remark?: string }> {
    const res = await this.invoke(brokerName, createRequest(RequestCode.END_TRANSACTION, {
      extFields: {
        producerGroup: call.producerGroup, tranStateTableOffset: call.tranStateTableOffset, commitLogOffset: call.commitLogOffset,
        commitOrRollback: call.commitOrRollback, fromTransactionCheck: call.fromTransactionCheck, msgId: call.msgId, transactionId: call.transactionId,
      },
    }));
    return { code: res.code, remark: res.remark };
  }

  async recallMessage(topic: string, recallHandle: string): Promise<{ code: number; remark?: string; messageId?: string }> {
    let brokerName: string;
    try {
      brokerName = decodeRecallHandle(recallHandle).brokerName;
    } catch (err) {
      return { code: ResponseCode.ILLEGAL_OPERATION, remark: (err as Error).message };
    }
    const res = await this.invoke(brokerName, createRequest(RequestCode.RECALL_MESSAGE, { extFields: { topic, recallHandle, producerGroup: topic } }));
    return { code: res.code, remark: res.remark, messageId: res.extFields?.msgId };
  }

  async popMessage(brokerName: string, call: PopCall): Promise<PopResult> {
    // JSON headers: the binary (ROCKETMQ) header has 16 bits for the request code, POP's do not fit (as upstream).
    const res = await this.invoke(brokerName, createRequest(PopRequestCode.POP_MESSAGE, {
      serializeType: SerializeType.JSON,
      extFields: {
        consumerGroup: call.group, topic: call.topic, queueId: -1, maxMsgNums: call.maxMsgNums, invisibleTime: call.invisibleTime,
        pollTime: call.pollTime, bornTime: Date.now(), initMode: 1, expType: call.filter.type === 'SQL92' ? ExpressionType.SQL92 : ExpressionType.TAG,
        exp: call.filter.expression, order: call.order, maxAttempts: call.maxAttempts,
        ...(call.attemptId !== undefined ? { attemptId: call.attemptId } : {}),
      },
    }), call.pollTime + 3000);
    if (res.code === PopResponseCode.POLLING_TIMEOUT) return { status: 'NO_MESSAGE' };
    if (res.code === PopResponseCode.POLLING_FULL) return { status: 'POLLING_FULL' };
    if (res.code !== ResponseCode.SUCCESS) return { status: 'ERROR', code: res.code, remark: res.remark ?? `pop failed with code ${res.code}` };
    const body = res.body ?? Buffer.alloc(0);
    const records: Array<{ record: Buffer; ext: ReturnType<typeof decodeRecord> }> = [];
    for (let pos = 0; pos + 4 <= body.length;) {
      const size = body.readInt32BE(pos);
      const record = body.subarray(pos, pos + size);
      pos += size;
      records.push({ record, ext: decodeRecord(record) });
    }
    // Receipts as upstream's client builds them from the response header; a FIFO message's
    // earlier deliveries come from orderCountInfo, any other's from its reconsume times.
    let receipts;
    try {
      receipts = popReceipts(res.extFields ?? {}, records.map((r) => r.ext), brokerName, call.order);
    } catch (err) {
      return { status: 'ERROR', code: ResponseCode.SYSTEM_ERROR, remark: `broker ${brokerName} answered a POP the proxy cannot read: ${(err as Error).message}` };
    }
    const messages: PoppedMessage[] = [];
    records.forEach(({ record, ext }, i) => {
      const info = decodeExtraInfo(receipts[i]!.extraInfo.split(' '));
      if (!info) return;
      messages.push({
        record, realTopic: ext.topic, queueId: info.queueId, queueOffset: info.queueOffset, commitLogOffset: ext.commitLogOffset,
        deliveryAttempt: (receipts[i]!.consumedTimes ?? ext.reconsumeTimes) + 1, extraInfo: info,
      });
    });
    if (call.renewFor !== undefined) {
      for (const m of messages) this.renewal.track(brokerName, call.group, call.topic, call.renewFor, m.extraInfo, m.deliveryAttempt - 1);
    }
    return messages.length > 0 ? { status: 'FOUND', messages } : { status: 'NO_MESSAGE' };
  }

  private ackHeader(group: string, topic: string, info: ExtraInfo): Record<string, string | number> {
    return { consumerGroup: group, topic, queueId: info.queueId, extraInfo: encodeExtraInfo(info), offset: info.queueOffset };
  }

  async ackMessage(brokerName: string, group: string, topic: string, info: ExtraInfo): Promise<PopAckResult> {
    const newest = await this.renewal.take(brokerName, group, topic, info);
    const res = await this.invoke(brokerName, createRequest(PopRequestCode.ACK_MESSAGE, { serializeType: SerializeType.JSON, extFields: this.ackHeader(group, topic, newest) }));
    if (res.code === ResponseCode.SUCCESS) return { status: 'OK' };
    if (res.code === ResponseCode.NO_MESSAGE) return { status: 'EXPIRED', remark: res.remark ?? 'the receipt handle has expired' };
    return { status: 'ERROR', remark: res.remark ?? `ack failed with code ${res.code}` };
  }

  async changeInvisibleTime(brokerName: string, group: string, topic: string, info: ExtraInfo, invisibleTime: number): Promise<PopAckResult> {
    return this.brokerChangeInvisibleTime(brokerName, group, topic, await this.renewal.take(brokerName, group, topic, info), invisibleTime);
  }

  private async brokerChangeInvisibleTime(brokerName: string, group: string, topic: string, info: ExtraInfo, invisibleTime: number): Promise<PopAckResult> {
    const res = await this.invoke(brokerName, createRequest(PopRequestCode.CHANGE_MESSAGE_INVISIBLETIME, {
      serializeType: SerializeType.JSON,
      extFields: { ...this.ackHeader(group, topic, info), invisibleTime },
    }));
    if (res.code === ResponseCode.NO_MESSAGE) return { status: 'EXPIRED', remark: res.remark ?? 'the receipt handle has expired' };
    if (res.code !== ResponseCode.SUCCESS) return { status: 'ERROR', remark: res.remark ?? `change invisible time failed with code ${res.code}` };
    const f = res.extFields ?? {};
    return {
      status: 'OK',
      extraInfo: { ...info, ckQueueOffset: info.queueOffset, popTime: Number(f.popTime), invisibleTime: Number(f.invisibleTime), reviveQid: Number(f.reviveQid ?? info.reviveQid) },
    };
  }

  removeReceiptHandle(brokerName: string, group: string, topic: string, info: ExtraInfo): Promise<ExtraInfo> {
    return this.renewal.take(brokerName, group, topic, info);
  }

  async forwardToDeadLetterQueue(brokerName: string, group: string, commitLogOffset: number, originTopic: string, originMsgId: string): Promise<{ code: number; remark?: string }> {
    const res = await this.invoke(brokerName, createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      extFields: { offset: commitLogOffset, group, delayLevel: -1, originMsgId, originTopic, maxReconsumeTimes: 0 },
    }));
    return { code: res.code, remark: res.remark };
  }

  // ---- clients ----

  registerProducer(channel: GrpcClientChannel, group: string): void {
    let set = this.producers.get(group);
    if (!set) this.producers.set(group, (set = new Set()));
    const fresh = !set.has(channel);
    set.add(channel);
    if (fresh) void this.heartbeatAll();
  }

  registerConsumer(channel: GrpcClientChannel, group: string, _type: 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY', subscriptions: Array<{ topic: string; filter: PopFilterExpression }>): void {
    let c = this.consumers.get(group);
    if (!c) this.consumers.set(group, (c = { channels: new Set(), subscriptions }));
    c.subscriptions = subscriptions;
    const fresh = !c.channels.has(channel);
    c.channels.add(channel);
    if (fresh) void this.heartbeatAll();
  }

  unregisterClient(channel: GrpcClientChannel, producerGroups: string[], consumerGroup?: string): void {
    const gone: Array<{ producerGroup?: string; consumerGroup?: string }> = [];
    for (const g of producerGroups) {
      const set = this.producers.get(g);
      if (set?.delete(channel) && set.size === 0) {
        this.producers.delete(g);
        gone.push({ producerGroup: g });
      }
    }
    if (consumerGroup) {
      const c = this.consumers.get(consumerGroup);
      if (c?.channels.delete(channel) && c.channels.size === 0) {
        this.consumers.delete(consumerGroup);
        gone.push({ consumerGroup });
      }
    }
    for (const addr of new Set(this.brokerAddrs.values())) {
      for (const g of gone) void this.api.unregisterClient(addr, this.clientId, g.producerGroup, g.consumerGroup).catch(() => undefined);
    }
  }

  setClientAlive(fn: (clientId: string) => boolean): void {
    this.clientAlive = fn;
  }

  /** One heartbeat per broker with every group of the proxy's clients (upstream proxy `ClientActivity` + `ProducerManager`). */
  private async heartbeatAll(): Promise<void> {
    if (this.producers.size === 0 && this.consumers.size === 0) return;
    const data: HeartbeatData = {
      clientID: this.clientId,
      producerDataSet: [...this.producers.keys()].map((groupName) => ({ groupName })),
      consumerDataSet: [...this.consumers].map(([groupName, c]) => ({
        groupName, consumeType: 'CONSUME_ACTIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', unitMode: false,
        subscriptionDataSet: c.subscriptions.map((s) => buildSubscription(s.topic, s.filter.expression, s.filter.type === 'SQL92' ? ExpressionType.SQL92 : ExpressionType.TAG, 0)),
      })),
    } as HeartbeatData;
    if (this.brokerAddrs.size === 0) await this.refreshBrokers().catch(() => undefined);
    await Promise.all([...new Set(this.brokerAddrs.values())].map((addr) => this.api.sendHeartbeat(addr, data).catch((err: Error) => {
      this.logger.warn(`heartbeat to broker ${addr} failed: ${err.message}`);
    })));
  }

  /** A broker checks back an open transaction: pass it to a live producer of its group. */
  private onCheckTransaction(req: RemotingCommand, _conn: Connection): null {
    try {
      const group = req.body ? getProperty(decodeRecord(req.body).properties, MessageConst.PRODUCER_GROUP) : undefined;
      const channel = group ? [...(this.producers.get(group) ?? [])].find((c) => !c.isClosed && c.stream) : undefined;
      if (!channel) {
        this.logger.warn(`transaction check for group ${group ?? '(none)'} dropped: no live gRPC producer of it`);
        return null;
      }
      channel.invokeOneway(req);
    } catch (err) {
      this.logger.warn(`transaction check failed: ${(err as Error).message}`);
    }
    return null;
  }
}
