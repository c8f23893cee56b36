import type { Logger } from '../common/logger.js';
import type { SubscriptionData } from '../common/subscription.js';
import { buildPullSysFlag, PullSysFlag } from '../common/sysflag.js';
import { validateGroup } from '../common/topic.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { MessageModel, type ConsumerData } from './headers.js';
import type { MQClientAPI, PullResult } from './mq-client-api.js';
import { MQClientInstance } from './mq-client-instance.js';
import { defaultLocalOffsetStoreDir, LocalFileOffsetStore, RemoteBrokerOffsetStore, type OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import type { AllocateMessageQueueStrategy } from './rebalance/index.js';
import type { PopProcessQueue } from './pop-process-queue.js';
import { RebalanceImpl, type ConsumeFromWhereValue, type MessageModelValue, type PopRequest, type PullRequest, type RebalanceConfig } from './rebalance-impl.js';
import { messageQueueKey, type MessageQueue } from './route.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';

// What the PushConsumer and the LitePullConsumer share: settings, the client instance, the
// offset store, heartbeats, background tasks, the pull request and the rebalance hooks.

/** Settings every consumer here takes (each adds its own); names and defaults are upstream's. */
export interface ConsumerOptions {
  /** Consumer group: offsets are committed per group; its members share the queues (CLUSTERING, or a lite pull consumer's subscribe mode). */
  group: string;
  /**
   * Client namespace (upstream `ClientConfig.namespace`): the group and every topic are
   * `<namespace>%<name>` on the wire (retry topic `%RETRY%<namespace>%<group>`; system topics
   * excepted); received messages and the queues the consumer reports name the plain topic.
   * Consumers of other namespaces never see these messages. Default none.
   */
  namespace?: string;
  /** `host:9876;host2:9876`; defaults to the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  /**
   * CLUSTERING (default: each message to one member of the group) or BROADCASTING (to every
   * member; offsets in a local file).
   */
  messageModel?: MessageModelValue;
  /** Where a queue without a committed offset starts (§12.3). Default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhereValue;
  /** For CONSUME_FROM_TIMESTAMP: ms since the epoch, or upstream's `yyyyMMddHHmmss`. Default: 30 minutes ago. */
  consumeTimestamp?: number | string;
  /** How the group shares queues. Default AllocateMessageQueueAveragely. */
  allocateMessageQueueStrategy?: AllocateMessageQueueStrategy;
  /** A queue is not pulled while it holds this many messages not yet consumed (or polled). Default 1000. */
  pullThresholdForQueue?: number;
  /** … or this many MiB of bodies. Default 100. */
  pullThresholdSizeForQueue?: number;
  /** RPC timeout of a pull the broker may hold (ms). Default 30000. */
  consumerTimeoutMillisWhenSuspend?: number;
  /** Pause after a failed pull (ms). Default 1000. */
  pullTimeDelayMillsWhenException?: number;
  /** Offsets are persisted this often (ms). Default 5000. */
  persistConsumerOffsetInterval?: number;
  /** Heartbeats go to every broker this often (ms). Default 30000. */
  heartbeatBrokerInterval?: number;
  /** Rebalance period (ms); membership changes also rebalance at once. Default 20000. */
  rebalanceInterval?: number;
  /** Route refresh period (ms). Default 30000. */
  pollNameServerInterval?: number;
  /** BROADCASTING offsets live under `<dir>/<clientId>/<group>/offsets.json`. Default `~/.rocketmq_offsets`. */
  localOffsetStoreDir?: string;
  /** Share an MQClientAPI (NOTIFY_CONSUMER_IDS_CHANGED still reaches this consumer); by default it owns one. */
  api?: MQClientAPI;
  /** Request header serialization. Default ROCKETMQ (binary). */
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** ACL credentials every request is signed with (upstream `AclClientRPCHook`); needed when the broker has authenticationEnabled. */
  sessionCredentials?: SessionCredentials;
  /** IP part of the client id. Default: this machine's first non-internal IPv4 address. */
  clientIP?: string;
  /** Client id instance part; two consumers of one group in one process need different ones (the default is unique). */
  instanceName?: string;
  /** Default: a child of the process logger named after the consumer (push-consumer, lite-pull-consumer). */
  logger?: Logger;
}

/** The settings of ConsumerOptions with a default, as every consumer resolves them. */
export type ConsumerSettings = Required<Pick<ConsumerOptions,
  'pullThresholdForQueue' | 'pullThresholdSizeForQueue' | 'consumerTimeoutMillisWhenSuspend' | 'pullTimeDelayMillsWhenException' |
  'persistConsumerOffsetInterval' | 'heartbeatBrokerInterval' | 'localOffsetStoreDir'>>;

/** ConsumerOptions' settings with their defaults filled in. */
export function consumerSettings(opts: ConsumerOptions): ConsumerSettings {
  return {
    pullThresholdForQueue: opts.pullThresholdForQueue ?? 1000,
    pullThresholdSizeForQueue: opts.pullThresholdSizeForQueue ?? 100,
    consumerTimeoutMillisWhenSuspend: opts.consumerTimeoutMillisWhenSuspend ?? 30_000,
    pullTimeDelayMillsWhenException: opts.pullTimeDelayMillsWhenException ?? 1000,
    persistConsumerOffsetInterval: opts.persistConsumerOffsetInterval ?? 5000,
    heartbeatBrokerInterval: opts.heartbeatBrokerInterval ?? 30_000,
    localOffsetStoreDir: opts.localOffsetStoreDir ?? defaultLocalOffsetStoreDir(),
  };
}

/** Upstream `MixAll.DEFAULT_CONSUMER_GROUP`: the group of a consumer built without one, refused at start. */
export const DEFAULT_CONSUMER_GROUP = 'DEFAULT_CONSUMER';

/**
 * Throws ARGUMENT_ILLEGAL unless `group` is a valid consumer group name (upstream checkConfig of
 * every consumer): a valid name, and not DEFAULT_CONSUMER, which upstream keeps for consumers
 * left without a group so that two applications do not share one by accident.
 */
export function checkGroup(group: string): void {
  const problem = validateGroup(group);
  if (problem) throw new MQClientError(problem, ClientErrorCode.ARGUMENT_ILLEGAL);
  if (group === DEFAULT_CONSUMER_GROUP) {
    throw new MQClientError(`consumerGroup can not equal ${DEFAULT_CONSUMER_GROUP}, please specify another one.`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
}

/** Throws ARGUMENT_ILLEGAL unless `value` is an integer in [min, max] (upstream checkConfig's "Out of range" checks). */
export function checkRange(name: string, value: number, min: number, max: number): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new MQClientError(`${name} out of range [${min}, ${max}], got ${value}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
}

/**
 * A pull the broker may hold for `brokerSuspendMaxTimeMillis` must be given at least as long
 * before the client gives up on it, or every idle long poll ends in a client timeout (upstream
 * DefaultLitePullConsumerImpl.checkConfig; the push consumer's hold is a constant there).
 */
export function checkSuspendTimeouts(s: { consumerTimeoutMillisWhenSuspend: number; brokerSuspendMaxTimeMillis: number }): void {
  if (s.consumerTimeoutMillisWhenSuspend < s.brokerSuspendMaxTimeMillis) {
    throw new MQClientError('Long polling mode, the consumer consumerTimeoutMillisWhenSuspend must greater than brokerSuspendMaxTimeMillis, ' +
      `got ${s.consumerTimeoutMillisWhenSuspend} < ${s.brokerSuspendMaxTimeMillis}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
}

/** Throws ARGUMENT_ILLEGAL for the first numeric setting that is not positive, except those named in `exempt`. */
export function checkPositiveSettings(settings: object, ...exempt: string[]): void {
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === 'number' && !exempt.includes(k) && !(v > 0)) throw new MQClientError(`${k} must be positive, got ${v}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
}

/** The offset store of consumer `group`, which exists once the consumer started (NOT_STARTED before). */
export function startedOffsetStore(store: OffsetStore | undefined, group: string): OffsetStore {
  if (!store) throw new MQClientError(`consumer ${group} is not started`, ClientErrorCode.NOT_STARTED);
  return store;
}

/** Upstream's `consumeTimestamp` text: `yyyyMMddHHmmss`, local time. */
export function parseConsumeTimestamp(v: number | string | undefined, now = Date.now()): number {
  if (v === undefined) return now - 30 * 60_000;
  if (typeof v === 'number') return v;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v.trim());
  if (!m) throw new MQClientError(`consumeTimestamp "${v}" is not yyyyMMddHHmmss`, ClientErrorCode.ARGUMENT_ILLEGAL);
  return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!).getTime();
}

/** The consumer's own MQClientInstance, from the client part of its options. */
export function newClientInstance(opts: ConsumerOptions): MQClientInstance {
  return new MQClientInstance({
    namesrvAddr: opts.namesrvAddr, api: opts.api, serializeType: opts.serializeType, sessionCredentials: opts.sessionCredentials, clientIP: opts.clientIP,
    instanceName: opts.instanceName, pollNameServerInterval: opts.pollNameServerInterval, logger: opts.logger,
  });
}

/** Calls `fn` with the master address of `mq`'s broker, loading the route once when it is not known. */
export async function withMasterBroker<T>(client: MQClientInstance, mq: MessageQueue, fn: (addr: string) => Promise<T>): Promise<T> {
  let addr = client.findBrokerAddressInPublish(mq.brokerName);
  if (!addr) {
    await client.updateTopicRoute(mq.topic);
    addr = client.findBrokerAddressInPublish(mq.brokerName);
  }
  if (!addr) throw new MQClientError(`broker ${mq.brokerName} has no master address in the route of topic ${mq.topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
  return fn(addr);
}

/**
 * Calls `fn` with the address that keeps `mq`'s consumer offsets: the master, or a slave while
 * the master is gone (upstream `RemoteBrokerOffsetStore` finds it with
 * findBrokerAddressInSubscribe(MASTER_ID, false)): offsets committed then are kept by the slave,
 * and the consumer's own table goes to the master again once it is back.
 */
export async function withOffsetBroker<T>(client: MQClientInstance, mq: MessageQueue, fn: (addr: string) => Promise<T>): Promise<T> {
  return fn((await subscribeBroker(client, mq, 0)).addr);
}

/**
 * The member of `mq`'s broker to read from (`brokerId`, else the master, else any: upstream
 * findBrokerAddressInSubscribe), loading the route once when none is known.
 */
async function subscribeBroker(client: MQClientInstance, mq: MessageQueue, brokerId: number): Promise<{ addr: string; slave: boolean }> {
  let b = client.findBrokerInSubscribe(mq.brokerName, brokerId);
  if (!b) {
    await client.updateTopicRoute(mq.topic);
    b = client.findBrokerInSubscribe(mq.brokerName, brokerId);
  }
  if (!b) throw new MQClientError(`broker ${mq.brokerName} has no address in the route of topic ${mq.topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
  return b;
}

/** The group's offsets: on the brokers (CLUSTERING) or in a local file (BROADCASTING); not loaded yet. */
export function newOffsetStore(client: MQClientInstance, group: string, messageModel: MessageModelValue, localOffsetStoreDir: string, log: Logger): OffsetStore {
  if (messageModel !== MessageModel.CLUSTERING) return new LocalFileOffsetStore(localOffsetStoreDir, client.clientId, group, log);
  return new RemoteBrokerOffsetStore({
    queryConsumerOffset: (mq) => withOffsetBroker(client, mq, (addr) => client.api.queryConsumerOffset(addr, { consumerGroup: group, topic: mq.topic, queueId: mq.queueId })),
    updateConsumerOffset: (mq, offset, oneway) => withOffsetBroker(client, mq, (addr) => {
      const h = { consumerGroup: group, topic: mq.topic, queueId: mq.queueId, commitOffset: offset };
      return oneway ? client.api.updateConsumerOffsetOneway(addr, h) : client.api.updateConsumerOffset(addr, h);
    }),
  }, log);
}

/**
 * Stores the offsets of `mqs` and waits until they are: one request per queue to its broker
 * (CLUSTERING), or the offsets file, written with the queues of `assigned` (a file write keeps
 * only the queues it is given).
 */
export async function persistNow(store: OffsetStore, mqs: readonly MessageQueue[], assigned: readonly MessageQueue[] = mqs): Promise<void> {
  if (store instanceof RemoteBrokerOffsetStore) await Promise.all(mqs.map((mq) => store.persist(mq)));
  else await store.persistAll(assigned);
}

/**
 * Keeps a consumer known to the brokers: heartbeats carrying its subscriptions, to every broker of
 * its routes, and rebalances that first announce it to a broker a new route brought in.
 */
export class ConsumerHeartbeat {
  private readonly heartbeated = new Set<string>();

  constructor(
    private readonly client: MQClientInstance,
    private readonly consumer: Omit<ConsumerData, 'subscriptionDataSet' | 'unitMode'>,
    private readonly subscriptions: ReadonlyMap<string, SubscriptionData>,
    private readonly log: Logger,
  ) {}

  /** HEART_BEAT to every known broker. */
  async send(): Promise<void> {
    for (const a of this.client.allBrokerAddrs()) this.heartbeated.add(a);
    await this.client.sendHeartbeatToAllBrokers({
      clientID: this.client.clientId,
      producerDataSet: [],
      consumerDataSet: [{ ...this.consumer, subscriptionDataSet: [...this.subscriptions.values()], unitMode: false }],
    });
  }

  /**
   * One rebalance. A route fetched since the last heartbeat may name a broker that has not heard
   * of this consumer yet: then a heartbeat goes out and the result counts as unbalanced (so the
   * next run comes soon).
   */
  async rebalance(impl: RebalanceImpl): Promise<boolean> {
    const balanced = await impl.doRebalance();
    if (this.client.allBrokerAddrs().some((a) => !this.heartbeated.has(a))) {
      await this.send();
      return false;
    }
    return balanced;
  }

  /** At start: loads the routes of `topics` (a failure is only logged: the route refresh tries again), then sends a heartbeat. */
  async announce(topics: Iterable<string>): Promise<void> {
    await this.loadRoutes(topics);
    await this.send();
  }

  /** Loads the routes of `topics`; a failure is only logged (the route refresh tries again). */
  async loadRoutes(topics: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(topics)].map((t) => this.client.updateTopicRoute(t).catch((err: Error) =>
      this.log.warn(`route of topic ${t} not available yet: ${err.message}`))));
  }

  /** After subscribe or unsubscribe: reloads the routes of the subscribed topics and sends a heartbeat. */
  async subscriptionsChanged(): Promise<void> {
    await Promise.all([...this.subscriptions.keys()].map((t) => this.client.updateTopicRoute(t).catch(() => undefined)));
    await this.send();
  }
}

/** A consumer's background work: periodic tasks, and one pull loop per queue. */
export class ConsumerTasks {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly loops = new Set<Promise<void>>();

  constructor(private readonly running: () => boolean, private readonly log: Logger) {}

  /**
   * Runs `fn` every `ms` while the consumer runs; a failure is logged. A round still running
   * when the next is due makes that one skip, as upstream's scheduleAtFixedRate never runs a
   * task beside itself (two consumeTimeout rounds would each send the same message back).
   */
  every(ms: number, fn: () => Promise<unknown>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || !this.running()) return;
      busy = true;
      fn().catch((err: Error) => this.log.warn(`periodic consumer task failed: ${err.message}`)).finally(() => { busy = false; });
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Stops the periodic tasks. */
  stopPeriodic(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  /** Runs the pull loop of `mq` in the background; an error that ends it is logged. */
  pullLoop(mq: MessageQueue, loop: () => Promise<void>): void {
    const p = loop().catch((err: Error) => this.log.error({ err }, `pull loop of ${messageQueueKey(mq)} ended: ${err.message}`));
    this.loops.add(p);
    void p.finally(() => this.loops.delete(p));
  }

  /** Resolves once every pull loop has ended. */
  async loopsEnded(): Promise<void> {
    await Promise.all([...this.loops]);
  }
}

/** What a pull request takes from the consumer's settings. */
export interface PullSettings {
  group: string;
  /** Messages per pull. */
  pullBatchSize: number;
  /** How long the broker may hold a pull that found nothing (ms). */
  brokerSuspendMaxTimeMillis: number;
  /** RPC timeout of such a pull (ms). */
  consumerTimeoutMillisWhenSuspend: number;
  /** Mark the pulls as a lite pull consumer's (PullSysFlag FLAG_LITE_PULL_MESSAGE). */
  litePull: boolean;
}

/**
 * PULL_MESSAGE with long polling and the subscription (upstream `PullAPIWrapper`): to the broker
 * the last pull of the queue suggested (a slave when the master is busy), else the master.
 */
export class PullAPIWrapper {
  /** mq key → broker id the broker suggested pulling from. */
  private readonly pullFromWhichNode = new Map<string, number>();

  constructor(private readonly client: MQClientInstance, private readonly settings: PullSettings) {}

  /** Remembers the broker the last pull of `mq` suggested (0 or none: the master). */
  updatePullFromWhichNode(mq: MessageQueue, brokerId: number): void {
    if (brokerId) this.pullFromWhichNode.set(messageQueueKey(mq), brokerId);
    else this.pullFromWhichNode.delete(messageQueueKey(mq));
  }

  /** Pulls `mq` from `offset`; a positive `commitOffset` is also committed on the broker. */
  async pullKernelImpl(mq: MessageQueue, offset: number, sub: SubscriptionData, commitOffset = 0): Promise<PullResult> {
    const s = this.settings;
    const brokerId = this.pullFromWhichNode.get(messageQueueKey(mq)) ?? 0;
    // The route is known on all but the first pulls: no promise hop for those.
    const b = this.client.findBrokerInSubscribe(mq.brokerName, brokerId) ?? await subscribeBroker(this.client, mq, brokerId);
    // As upstream: a slave is never asked to commit (it would not); the offset store does that.
    if (b.slave) commitOffset = 0;
    return this.client.api.pullMessage(b.addr, {
      consumerGroup: s.group,
      topic: mq.topic,
      queueId: mq.queueId,
      queueOffset: offset,
      maxMsgNums: s.pullBatchSize,
      sysFlag: buildPullSysFlag(commitOffset > 0, true, true) | (s.litePull ? PullSysFlag.FLAG_LITE_PULL_MESSAGE : 0),
      commitOffset: Math.max(0, commitOffset),
      suspendTimeoutMillis: s.brokerSuspendMaxTimeMillis,
      subscription: sub.subString,
      subVersion: sub.subVersion,
      expressionType: sub.expressionType,
      brokerName: mq.brokerName,
    }, s.consumerTimeoutMillisWhenSuspend);
  }
}

/** What a consumer does when its rebalance changes (upstream `RebalancePushImpl` / `RebalanceLitePullImpl`). */
export interface RebalanceHooks {
  subscriptions(): ReadonlyMap<string, SubscriptionData>;
  isOrder(): boolean;
  removeUnnecessaryMessageQueue(mq: MessageQueue, pq: ProcessQueue): Promise<boolean>;
  dispatchPullRequest(request: PullRequest): void;
  /** Server-side assignment (push consumers with clientRebalance=false): whether `topic` is still balanced here. */
  clientRebalance?(topic: string): boolean;
  dispatchPopPullRequest?(request: PopRequest): void;
  removeUnnecessaryPopMessageQueue?(mq: MessageQueue, pq: PopProcessQueue): Promise<boolean>;
  popRetrySubscription?(retryTopic: string, subscribe: boolean): void;
  /** After a topic's assignment changed (upstream `messageQueueChanged`). */
  messageQueueChanged?(topic: string, mqAll: readonly MessageQueue[], mqDivided: readonly MessageQueue[]): void;
}

/** A RebalanceImpl that hands each decision to its consumer's hooks. */
export class ConsumerRebalanceImpl extends RebalanceImpl {
  constructor(cfg: RebalanceConfig, private readonly hooks: RebalanceHooks) {
    super(cfg);
  }

  subscriptions(): ReadonlyMap<string, SubscriptionData> {
    return this.hooks.subscriptions();
  }

  isOrder(): boolean {
    return this.hooks.isOrder();
  }

  removeUnnecessaryMessageQueue(mq: MessageQueue, pq: ProcessQueue): Promise<boolean> {
    return this.hooks.removeUnnecessaryMessageQueue(mq, pq);
  }

  dispatchPullRequest(requests: PullRequest[]): void {
    for (const r of requests) this.hooks.dispatchPullRequest(r);
  }

  override clientRebalance(topic: string): boolean {
    return this.hooks.clientRebalance?.(topic) ?? true;
  }

  override dispatchPopPullRequest(requests: PopRequest[]): void {
    for (const r of requests) this.hooks.dispatchPopPullRequest?.(r);
  }

  override removeUnnecessaryPopMessageQueue(mq: MessageQueue, pq: PopProcessQueue): Promise<boolean> {
    return this.hooks.removeUnnecessaryPopMessageQueue?.(mq, pq) ?? Promise.resolve(true);
  }

  override popRetrySubscription(retryTopic: string, subscribe: boolean): void {
    this.hooks.popRetrySubscription?.(retryTopic, subscribe);
  }

  override messageQueueChanged(topic: string, mqAll: readonly MessageQueue[], mqDivided: readonly MessageQueue[]): void {
    this.hooks.messageQueueChanged?.(topic, mqAll, mqDivided);
  }

  /** Forgets a queue whose offset was illegal; the next rebalance takes it again. */
  removeProcessQueue(mq: MessageQueue, pq: ProcessQueue): void {
    const k = messageQueueKey(mq);
    if (this.processQueueTable.get(k)?.pq === pq) this.processQueueTable.delete(k);
  }
}
