import { encodeJson, parseLenientJson } from '../common/json.js';
import { createLogger, type Logger } from '../common/logger.js';
import { MessageConst } from '../common/message-const.js';
import type { SubscriptionData } from '../common/subscription.js';
import { getRetryTopic, isRetryTopic } from '../common/topic.js';
import { retryDelayLevel } from '../common/delay-level.js';
import { createResponse, RequestCode, ResponseCode, type RemotingCommand } from '../remoting/index.js';
import { decodeResetOffsetBody } from './admin-bodies.js';
import {
  answerConsumerStatus, answerRunningInfo, CMResult, queueInfoTable, RunningInfoProp, settingsProperties,
  type CMResultValue, type ConsumeMessageDirectlyResult, type ConsumerRunningInfo,
} from './consumer-running-info.js';
import { ConsumerStats, SAMPLE_MS } from './consumer-stats.js';
import { ConsumeMessageConcurrentlyService } from './consume-message-concurrently-service.js';
import { ConsumeMessageOrderlyService } from './consume-message-orderly-service.js';
import { ConsumeMessagePopConcurrentlyService, parsePopReceipt, POP_DELAY_LEVEL_SECONDS, type PopConsumeServiceHost } from './consume-message-pop-service.js';
import {
  checkGroup, checkPositiveSettings, checkRange, checkSuspendTimeouts, ConsumerHeartbeat, ConsumerRebalanceImpl, consumerSettings, ConsumerTasks, newClientInstance, newOffsetStore,
  parseConsumeTimestamp, persistNow, PullAPIWrapper, startedOffsetStore, withMasterBroker, type ConsumerOptions, type ConsumerSettings,
} from './consumer-core.js';
import {
  ConsumeConcurrentlyStatus,
  ConsumeExecutor,
  ConsumeOrderlyStatus,
  type ConsumeConcurrentlyContext,
  type ConsumeOrderlyContext,
  type ConsumeServiceHost,
  type MessageListenerConcurrently,
  type MessageListenerOrderly,
} from './consume-message-service.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { ConsumeFromWhere, ConsumeType, MessageModel } from './headers.js';
import { decodeReceivedMessages, Message, type MessageExt } from './message.js';
import { PopStatus, PullStatus, type PopResult, type PullResult } from './mq-client-api.js';
import type { MQClientInstance } from './mq-client-instance.js';
import { ReadOffsetType, type OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import { Producer } from './producer.js';
import { checkNamespace, contextWithoutNamespace, namespacedStrategy, queueWithoutNamespace, withoutNamespace, wrapNamespace } from './namespace.js';
import { AllocateMessageQueueAveragely, type AllocateMessageQueueStrategy } from './rebalance/index.js';
import { RebalanceService, type ConsumeFromWhereValue, type MessageModelValue, type PopRequest, type PullRequest, type RebalanceConfig } from './rebalance-impl.js';
import { compareMessageQueue, messageQueueKey, type MessageQueue } from './route.js';
import { buildSubscriptionData, subscriptionOf, type SubscriptionExpression } from './subscription.js';
import { ABORTED, raceAbort, sleep } from './wait.js';
import { AsyncTraceDispatcher } from './trace/trace-dispatcher.js';
import { DEFAULT_TRACE_TOPIC } from './trace/trace-data.js';
import { traceListener } from './trace/consume-trace.js';

type ListenerFn = (msgs: MessageExt[], ctx: unknown) => Promise<unknown>;

/** The listener of a namespaced consumer: its context names the queue by the plain topic, as the messages do. */
function listenerWithoutNamespace(fn: ListenerFn, namespace: string): ListenerFn {
  return (msgs, ctx) => fn(msgs, contextWithoutNamespace(ctx as { messageQueue: MessageQueue }, namespace));
}

/** Settings of a PushConsumer; names and defaults are upstream's `DefaultMQPushConsumer` ones. */
export interface PushConsumerOptions extends ConsumerOptions {
  /** Write SubBefore / SubAfter trace records of every listener call (upstream `enableMsgTrace`). */
  enableTrace?: boolean;
  /** Topic of trace records (default RMQ_SYS_TRACE_TOPIC). */
  traceTopic?: string;
  /** Listener calls running at once, over all queues (upstream consumeThreadMax). Default 20. */
  consumeThreadMax?: number;
  /** Messages per listener call. Default 1. */
  consumeMessageBatchMaxSize?: number;
  /** Messages per pull. Default 32. */
  pullBatchSize?: number;
  /** Concurrent only: … or its oldest and newest held offsets are this far apart. Default 2000. */
  consumeConcurrentlyMaxSpan?: number;
  /** Retries before the DLQ; -1 = 16 concurrently, unlimited orderly. Default -1. */
  maxReconsumeTimes?: number;
  /** Orderly: default pause after SUSPEND_CURRENT_QUEUE_A_MOMENT (ms). Default 1000. */
  suspendCurrentQueueTimeMillis?: number;
  /** How long the broker holds a pull that found nothing (ms). Default 15000. */
  brokerSuspendMaxTimeMillis?: number;
  /**
   * Concurrent only, in minutes (upstream `consumeTimeout`): the oldest message a queue holds whose
   * listener call started longer ago than this is sent back for retry (delay level 3) and leaves
   * the queue, so one stuck call does not hold the queue's offset: the next consume result of the
   * queue commits past it (as upstream, not at once); checked every consumeTimeout.
   * A fraction of a minute is taken too. Default 15.
   */
  consumeTimeout?: number;
  /** Shutdown waits this long for listener calls in progress (ms). Default 30000. */
  awaitTerminationMillisWhenShutdown?: number;
  /**
   * Balance the group's queues here (default true, as upstream). false asks a broker which queues
   * to take (QUERY_ASSIGNMENT): queues the broker assigns in POP mode (mqadmin setConsumeMode
   * -m POP) are popped and acked and may be shared with other consumers; PULL ones are pulled as
   * usual. Orderly and BROADCASTING consumers always balance here (upstream: POP orderly is not done).
   */
  clientRebalance?: boolean;
  /** POP: how long popped messages stay invisible to others before they come back, ms (5000..300000, else refused). Default 60000. */
  popInvisibleTime?: number;
  /** POP: messages per pop (≤ 32). Default 32. */
  popBatchNums?: number;
  /** POP: a queue is not popped while this many popped messages wait for their ack. Default 96. */
  popThresholdForQueue?: number;
  /**
   * POP: seconds a failed message stays invisible, by retry level (upstream's fixed
   * `popDelayLevel` 10 s, 30 s, 1 min … 2 h). Shorter tables suit tests.
   */
  popDelayLevel?: readonly number[];
  /** Pause between a pull that brought messages and the queue's next pull (ms, 0..65535). Default 0. */
  pullInterval?: number;
  /**
   * Messages held for all queues together: when set (not -1), each queue may hold this divided by
   * the queues the consumer has (at least 1), and pullThresholdForQueue follows. Default -1.
   */
  pullThresholdForTopic?: number;
  /** The same in MiB for pullThresholdSizeForQueue. Default -1. */
  pullThresholdSizeForTopic?: number;
}

type State = 'created' | 'running' | 'stopping' | 'shutdown';

/** How long a suspended consumer's queues wait before they look again (upstream PULL_TIME_DELAY_MILLS_WHEN_SUSPEND). */
const PULL_TIME_DELAY_MILLS_WHEN_SUSPEND = 1000;

/**
 * A push consumer (upstream `DefaultMQPushConsumer`): subscribe to topics, register a
 * concurrent or an orderly listener, start. The consumer finds its queues by rebalancing with
 * the rest of its group, long-polls them, hands the messages to the listener with bounded
 * concurrency and flow control, commits what was consumed, and sends failures back for a later
 * retry. In CLUSTERING it also consumes the group's retry topic `%RETRY%<group>`.
 *
 * ```ts
 * const c = new PushConsumer({ group: 'G', namesrvAddr: '127.0.0.1:9876' });
 * c.subscribe('TopicTest', 'TagA || TagB');
 * c.registerMessageListenerConcurrently(async (msgs) => { for (const m of msgs) handle(m); });
 * await c.start();
 * ```
 */
export class PushConsumer {
  /** The consumer group as the brokers know it: wrapped in the namespace, if any (as upstream after start). */
  readonly group: string;
  /** The client namespace, undefined when there is none. */
  readonly namespace: string | undefined;
  /** CLUSTERING or BROADCASTING. */
  readonly messageModel: MessageModelValue;
  /** Where queues without a committed offset start. */
  readonly consumeFromWhere: ConsumeFromWhereValue;
  private readonly client: MQClientInstance;
  private readonly log: Logger;
  private readonly subscriptionInner = new Map<string, SubscriptionData>();
  private readonly strategy: AllocateMessageQueueStrategy;
  private readonly rebalanceImpl: ConsumerRebalanceImpl;
  private readonly rebalanceService: RebalanceService;
  private readonly heartbeat: ConsumerHeartbeat;
  private readonly tasks: ConsumerTasks;
  private readonly pullAPIWrapper: PullAPIWrapper;
  private readonly traceOptions: Pick<PushConsumerOptions, 'enableTrace' | 'traceTopic' | 'namesrvAddr'>;
  private traceDispatcher?: AsyncTraceDispatcher;
  private readonly opts: ConsumerSettings & Required<Pick<PushConsumerOptions,
    'consumeThreadMax' | 'consumeMessageBatchMaxSize' | 'pullBatchSize' | 'consumeConcurrentlyMaxSpan' | 'maxReconsumeTimes' |
    'suspendCurrentQueueTimeMillis' | 'brokerSuspendMaxTimeMillis' | 'consumeTimeout' | 'awaitTerminationMillisWhenShutdown' |
    'clientRebalance' | 'popInvisibleTime' | 'popBatchNums' | 'popThresholdForQueue' | 'popDelayLevel' | 'pullInterval' |
    'pullThresholdForTopic' | 'pullThresholdSizeForTopic'>>;
  private readonly consumeTimestamp: number;
  private listener?: { orderly: false; fn: MessageListenerConcurrently } | { orderly: true; fn: MessageListenerOrderly };
  private consumeService?: ConsumeMessageConcurrentlyService | ConsumeMessageOrderlyService;
  /** Consumes what POP-mode queues pop (concurrent listeners only, as upstream). */
  private popConsumeService?: ConsumeMessagePopConcurrentlyService;
  private executor?: ConsumeExecutor;
  private offsetStoreInner?: OffsetStore;
  private innerProducer?: Producer;
  private state: State = 'created';
  /** suspend() / resume(). */
  private paused = false;
  private readonly unregisterHandlers: Array<() => void> = [];
  /** Pull and consume speed per topic, for GET_CONSUMER_RUNNING_INFO. */
  private readonly stats = new ConsumerStats();
  private startTimestamp = 0;

  constructor(opts: PushConsumerOptions) {
    this.namespace = checkNamespace(opts.namespace);
    this.group = wrapNamespace(this.namespace, opts.group);
    checkGroup(this.group);
    this.messageModel = opts.messageModel ?? MessageModel.CLUSTERING;
    this.consumeFromWhere = opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET;
    this.consumeTimestamp = parseConsumeTimestamp(opts.consumeTimestamp);
    this.strategy = opts.allocateMessageQueueStrategy ?? new AllocateMessageQueueAveragely();
    this.traceOptions = { enableTrace: opts.enableTrace, traceTopic: opts.traceTopic, namesrvAddr: opts.namesrvAddr };
    this.opts = {
      ...consumerSettings(opts),
      consumeThreadMax: opts.consumeThreadMax ?? 20,
      consumeMessageBatchMaxSize: opts.consumeMessageBatchMaxSize ?? 1,
      pullBatchSize: opts.pullBatchSize ?? 32,
      consumeConcurrentlyMaxSpan: opts.consumeConcurrentlyMaxSpan ?? 2000,
      maxReconsumeTimes: opts.maxReconsumeTimes ?? -1,
      suspendCurrentQueueTimeMillis: opts.suspendCurrentQueueTimeMillis ?? 1000,
      brokerSuspendMaxTimeMillis: opts.brokerSuspendMaxTimeMillis ?? 15_000,
      consumeTimeout: opts.consumeTimeout ?? 15,
      awaitTerminationMillisWhenShutdown: opts.awaitTerminationMillisWhenShutdown ?? 30_000,
      clientRebalance: opts.clientRebalance ?? true,
      popInvisibleTime: opts.popInvisibleTime ?? 60_000,
      popBatchNums: opts.popBatchNums ?? 32,
      popThresholdForQueue: opts.popThresholdForQueue ?? 96,
      popDelayLevel: opts.popDelayLevel ?? POP_DELAY_LEVEL_SECONDS,
      pullInterval: opts.pullInterval ?? 0,
      pullThresholdForTopic: opts.pullThresholdForTopic ?? -1,
      pullThresholdSizeForTopic: opts.pullThresholdSizeForTopic ?? -1,
    };
    // Upstream checkConfig's ranges: a setting out of them is refused, not clamped.
    checkRange('consumeThreadMax', this.opts.consumeThreadMax, 1, 1000);
    checkRange('consumeConcurrentlyMaxSpan', this.opts.consumeConcurrentlyMaxSpan, 1, 65535);
    checkRange('pullThresholdForQueue', this.opts.pullThresholdForQueue, 1, 65535);
    checkRange('pullThresholdSizeForQueue', this.opts.pullThresholdSizeForQueue, 1, 1024);
    checkRange('consumeMessageBatchMaxSize', this.opts.consumeMessageBatchMaxSize, 1, 1024);
    checkRange('pullBatchSize', this.opts.pullBatchSize, 1, 1024);
    checkRange('popInvisibleTime', this.opts.popInvisibleTime, 5000, 300_000);
    checkRange('popBatchNums', this.opts.popBatchNums, 1, 32);
    checkSuspendTimeouts(this.opts);
    const { pullInterval, pullThresholdForTopic: forTopic, pullThresholdSizeForTopic: sizeForTopic } = this.opts;
    if (!(Number.isInteger(pullInterval) && pullInterval >= 0 && pullInterval <= 65535)) {
      throw new MQClientError(`pullInterval out of range [0, 65535], got ${pullInterval}`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    if (forTopic !== -1 && !(Number.isInteger(forTopic) && forTopic >= 1 && forTopic <= 6_553_500)) {
      throw new MQClientError(`pullThresholdForTopic out of range [1, 6553500] (or -1 for none), got ${forTopic}`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    if (sizeForTopic !== -1 && !(Number.isInteger(sizeForTopic) && sizeForTopic >= 1 && sizeForTopic <= 102_400)) {
      throw new MQClientError(`pullThresholdSizeForTopic out of range [1, 102400] MiB (or -1 for none), got ${sizeForTopic}`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    if (this.opts.popDelayLevel.length === 0 || this.opts.popDelayLevel.some((d) => !(d > 0))) {
      throw new MQClientError('popDelayLevel must list positive delays in seconds', ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    checkPositiveSettings(this.opts, 'maxReconsumeTimes', 'pullInterval', 'pullThresholdForTopic', 'pullThresholdSizeForTopic');
    this.client = newClientInstance(opts);
    this.log = opts.logger ?? createLogger('push-consumer', { group: this.group, clientId: this.client.clientId });
    this.client.topicsToRefresh = () => this.subscriptionInner.keys();
    this.heartbeat = new ConsumerHeartbeat(this.client, {
      groupName: this.group, consumeType: ConsumeType.CONSUME_PASSIVELY, messageModel: this.messageModel, consumeFromWhere: this.consumeFromWhere,
    }, this.subscriptionInner, this.log);
    this.tasks = new ConsumerTasks(() => this.state === 'running', this.log);
    this.pullAPIWrapper = new PullAPIWrapper(this.client, { ...this.opts, group: this.group, litePull: false });
    const cfg: RebalanceConfig = {
      group: this.group, messageModel: this.messageModel, strategy: namespacedStrategy(this.namespace, this.strategy), consumeFromWhere: this.consumeFromWhere,
      consumeTimestamp: this.consumeTimestamp, client: this.client, offsetStore: () => this.offsetStore, log: this.log,
    };
    this.rebalanceImpl = new ConsumerRebalanceImpl(cfg, {
      subscriptions: () => this.subscriptionInner,
      isOrder: () => this.orderly && this.messageModel === MessageModel.CLUSTERING,
      removeUnnecessaryMessageQueue: (mq, pq) => this.removeUnnecessaryMessageQueue(mq, pq),
      dispatchPullRequest: (r) => this.dispatchPullRequest(r),
      // As upstream RebalancePushImpl: orderly and broadcasting consumers always balance themselves.
      clientRebalance: () => this.opts.clientRebalance || this.orderly || this.messageModel === MessageModel.BROADCASTING,
      dispatchPopPullRequest: (r) => this.tasks.pullLoop(r.mq, () => this.popLoop(r)),
      messageQueueChanged: () => this.splitTopicThresholds(),
      popRetrySubscription: (retryTopic, subscribe) => {
        if (!subscribe) this.subscriptionInner.delete(retryTopic);
        else if (!this.subscriptionInner.has(retryTopic)) this.subscriptionInner.set(retryTopic, buildSubscriptionData(retryTopic, '*'));
      },
    });
    this.rebalanceService = new RebalanceService(() => this.doRebalance(), opts.rebalanceInterval ?? 20_000, 1000, this.log);
  }

  /** `ip@instanceName`: how brokers list this consumer. */
  get clientId(): string {
    return this.client.clientId;
  }

  private get offsetStore(): OffsetStore {
    return startedOffsetStore(this.offsetStoreInner, this.group);
  }

  /**
   * Subscribes to `topic` with a TAG expression: `*` (every message) or `TagA || TagB`. Called
   * after start, the new subscription is announced and the queues rebalanced at once.
   */
  subscribe(topic: string, subExpression: SubscriptionExpression = '*'): void {
    if (this.state === 'stopping' || this.state === 'shutdown') throw new MQClientError(`consumer ${this.group} is shut down`, ClientErrorCode.NOT_STARTED);
    const wire = wrapNamespace(this.namespace, topic);
    this.subscriptionInner.set(wire, subscriptionOf(wire, subExpression));
    if (this.state === 'running') void this.afterSubscriptionChange();
  }

  /** Stops consuming `topic`; its queues are given up at the next rebalance (started at once). */
  unsubscribe(topic: string): void {
    this.subscriptionInner.delete(wrapNamespace(this.namespace, topic));
    if (this.state === 'running') void this.afterSubscriptionChange();
  }

  private async afterSubscriptionChange(): Promise<void> {
    await this.heartbeat.subscriptionsChanged();
    this.rebalanceService.wakeup();
  }

  /** The subscriptions, the automatic retry-topic one included, by the application's topic names. */
  subscriptions(): ReadonlyMap<string, SubscriptionData> {
    const ns = this.namespace;
    if (ns === undefined) return this.subscriptionInner;
    return new Map([...this.subscriptionInner.values()].map((sd) => {
      const topic = withoutNamespace(sd.topic, ns);
      return [topic, { ...sd, topic }];
    }));
  }

  /** Messages are consumed concurrently, in no particular order. Set before start. */
  registerMessageListenerConcurrently(listener: MessageListenerConcurrently): void {
    this.checkNotStarted();
    this.listener = { orderly: false, fn: listener };
  }

  /** Messages of each queue are consumed in order, one call at a time per queue. Set before start. */
  registerMessageListenerOrderly(listener: MessageListenerOrderly): void {
    this.checkNotStarted();
    this.listener = { orderly: true, fn: listener };
  }

  private checkNotStarted(): void {
    if (this.state !== 'created') throw new MQClientError(`the listener of consumer ${this.group} must be registered before start()`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }

  /** Whether the registered listener is orderly. */
  get orderly(): boolean {
    return this.listener?.orderly === true;
  }

  /** The queues this consumer holds now (pulled ones; see popAssignment for POP mode). */
  assignment(): MessageQueue[] {
    return this.withoutNamespace(this.rebalanceImpl.assignment());
  }

  /** The queues this consumer pops now: assigned by the broker in POP mode (queueId −1: every queue of that broker). */
  popAssignment(): MessageQueue[] {
    return this.withoutNamespace(this.rebalanceImpl.popAssignment());
  }

  /** Queues as the application names them (upstream `parseSubscribeMessageQueues`). */
  private withoutNamespace(mqs: MessageQueue[]): MessageQueue[] {
    const ns = this.namespace;
    return ns === undefined ? mqs : mqs.map((mq) => queueWithoutNamespace(ns, mq));
  }

  /** Number of rebalances done since start (for tools and tests that wait for one). */
  get rebalanceCount(): number {
    return this.rebalanceService.completedRuns;
  }

  /** Asks for a rebalance now. */
  rebalanceImmediately(): void {
    this.rebalanceService.wakeup();
  }

  /**
   * Starts consuming: reads the routes of the subscribed topics, announces the consumer to
   * their brokers, rebalances and starts pulling. Needs a listener; in CLUSTERING it also
   * subscribes `%RETRY%<group>`.
   */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new MQClientError(`consumer ${this.group} was already ${this.state === 'running' ? 'started' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    if (!this.listener) throw new MQClientError(`consumer ${this.group} has no message listener: call registerMessageListenerConcurrently or registerMessageListenerOrderly first`, ClientErrorCode.ARGUMENT_ILLEGAL);
    this.client.start();
    this.state = 'running';
    try {
      if (this.messageModel === MessageModel.CLUSTERING) {
        const retry = getRetryTopic(this.group);
        this.subscriptionInner.set(retry, buildSubscriptionData(retry, '*'));
      }
      this.offsetStoreInner = newOffsetStore(this.client, this.group, this.messageModel, this.opts.localOffsetStoreDir, this.log);
      await this.offsetStoreInner.load();
      this.executor = new ConsumeExecutor(this.opts.consumeThreadMax);
      const host = this.consumeServiceHost();
      if (this.traceOptions.enableTrace) {
        this.traceDispatcher = new AsyncTraceDispatcher(
          new Producer({ group: `_INNER_TRACE_PRODUCER-${this.group}`, namesrvAddr: this.traceOptions.namesrvAddr, instanceName: `${this.clientId.split('@')[1]}-trace` }),
          this.traceOptions.traceTopic ?? DEFAULT_TRACE_TOPIC, this.log);
        await this.traceDispatcher.start();
      }
      const own = this.namespace === undefined ? this.listener.fn as ListenerFn : listenerWithoutNamespace(this.listener.fn as ListenerFn, this.namespace);
      const fn = this.traceDispatcher ? traceListener(own, this.traceDispatcher, withoutNamespace(this.group, this.namespace)) : own;
      this.consumeService = this.listener.orderly
        ? new ConsumeMessageOrderlyService(host, fn as MessageListenerOrderly, this.executor, this.opts.consumeMessageBatchMaxSize, this.opts.suspendCurrentQueueTimeMillis)
        : new ConsumeMessageConcurrentlyService(host, fn as MessageListenerConcurrently, this.executor, this.opts.consumeMessageBatchMaxSize);
      if (!this.listener.orderly) {
        this.popConsumeService = new ConsumeMessagePopConcurrentlyService(this.popConsumeServiceHost(), fn as MessageListenerConcurrently,
          this.executor, this.opts.consumeMessageBatchMaxSize, this.opts.popDelayLevel);
      }
      this.unregisterHandlers.push(
        this.client.api.registerRequestHandler(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => this.onNotifyConsumerIdsChanged(req)),
        this.client.api.registerRequestHandler(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (req) => this.onResetOffset(req)),
        this.client.api.registerRequestHandler(RequestCode.GET_CONSUMER_RUNNING_INFO, (req) => answerRunningInfo(
          req, this.group, this.client.namesrv.list, ConsumeType.CONSUME_PASSIVELY, () => this.runningInfo())),
        this.client.api.registerRequestHandler(RequestCode.CONSUME_MESSAGE_DIRECTLY, (req) => this.onConsumeMessageDirectly(req)),
        this.client.api.registerRequestHandler(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT,
          (req) => answerConsumerStatus(req, this.group, () => this.offsetStore.cloneOffsetTable(req.extFields?.topic))),
      );
      this.startTimestamp = Date.now();
      this.tasks.every(SAMPLE_MS, async () => this.stats.sample());
      // As upstream's start: routes, then the brokers' word on non-TAG subscriptions, then the heartbeat.
      await this.heartbeat.loadRoutes(this.subscriptionInner.keys());
      await this.client.checkClientInBroker(this.group, this.subscriptionInner.values());
      await this.heartbeat.send();
      this.tasks.every(this.opts.heartbeatBrokerInterval, () => this.heartbeat.send());
      this.tasks.every(this.opts.persistConsumerOffsetInterval, () => this.persistAll(false));
      if (this.listener.orderly && this.messageModel === MessageModel.CLUSTERING) this.tasks.every(20_000, () => this.rebalanceImpl.lockAll());
      const concurrently = this.consumeService;
      if (concurrently instanceof ConsumeMessageConcurrentlyService) {
        const timeoutMs = this.opts.consumeTimeout * 60_000;
        this.tasks.every(timeoutMs, async () => {
          for (const { mq, pq } of [...this.rebalanceImpl.processQueueTable.values()]) await concurrently.cleanExpiredMsg(pq, mq, timeoutMs);
        });
      }
      this.rebalanceService.start();
      this.log.info(`push consumer ${this.group} (${this.clientId}) started, ${this.messageModel}, ${this.listener.orderly ? 'orderly' : 'concurrently'}`);
    } catch (err) {
      await this.shutdown().catch(() => undefined);
      throw err;
    }
  }

  private consumeServiceHost(): ConsumeServiceHost {
    const offsetStore = (): OffsetStore => this.offsetStore;
    const stopping = (): boolean => this.state !== 'running';
    return {
      group: this.group,
      messageModel: this.messageModel,
      log: this.log,
      get offsetStore() { return offsetStore(); },
      get stopping() { return stopping(); },
      maxReconsumeTimes: (orderly) => this.maxReconsumeTimes(orderly),
      sendMessageBack: (msg, delayLevel, mq) => this.sendMessageBack(msg, delayLevel, mq),
      lockOneMQ: (mq) => this.rebalanceImpl.lock(mq),
      consumed: (topic, rtMs, ok, failed) => this.stats.consumed(topic, rtMs, ok, failed),
    };
  }

  private popConsumeServiceHost(): PopConsumeServiceHost {
    const stopping = (): boolean => this.state !== 'running';
    return {
      group: this.group,
      log: this.log,
      get stopping() { return stopping(); },
      maxReconsumeTimes: () => this.maxReconsumeTimes(false),
      ack: (msg, mq) => this.ackPopped(msg, mq),
      changeInvisibleTime: (msg, mq, ms) => this.changePopInvisibleTime(msg, mq, ms),
      consumed: (topic, rtMs, ok, failed) => this.stats.consumed(topic, rtMs, ok, failed),
    };
  }

  private maxReconsumeTimes(orderly: boolean): number {
    if (this.opts.maxReconsumeTimes >= 0) return this.opts.maxReconsumeTimes;
    return orderly ? 0x7fffffff : 16;
  }

  /**
   * Stops pulling (upstream `suspend`): every queue's next pull waits until `resume()`, checking
   * each second, and no rebalance runs meanwhile; messages already fetched are still consumed.
   */
  suspend(): void {
    this.paused = true;
    this.log.info(`suspend this consumer, ${this.group}`);
  }

  /** Pulls again from where each queue stopped, after a rebalance (upstream `resume`). */
  resume(): void {
    this.paused = false;
    this.rebalanceService.wakeup();
    this.log.info(`resume this consumer, ${this.group}`);
  }

  /** Whether suspend() holds the pulls (upstream `isPause`). */
  isPaused(): boolean {
    return this.paused;
  }

  private async doRebalance(): Promise<boolean> {
    if (this.state !== 'running') return true;
    // As upstream's tryRebalance: a suspended consumer keeps its queues, and the service retries soon.
    if (this.paused) return false;
    return this.heartbeat.rebalance(this.rebalanceImpl);
  }

  private onNotifyConsumerIdsChanged(req: RemotingCommand): null {
    if (req.extFields?.consumerGroup === this.group) {
      this.log.info(`receive broker's notification, the consumer group: ${this.group} changed, rebalance immediately`);
      this.rebalanceService.wakeup();
    }
    return null;
  }

  /**
   * Upstream `RebalancePushImpl.messageQueueChanged`: with pullThresholdForTopic (or its size
   * counterpart) set, each queue's threshold is that share of it over the queues held now.
   */
  private splitTopicThresholds(): void {
    const queues = this.rebalanceImpl.processQueueTable.size;
    if (queues === 0) return;
    const { pullThresholdForTopic, pullThresholdSizeForTopic } = this.opts;
    if (pullThresholdForTopic !== -1) {
      const v = Math.max(1, Math.floor(pullThresholdForTopic / queues));
      if (v !== this.opts.pullThresholdForQueue) this.log.info(`The pullThresholdForQueue is changed from ${this.opts.pullThresholdForQueue} to ${v}`);
      this.opts.pullThresholdForQueue = v;
    }
    if (pullThresholdSizeForTopic !== -1) {
      const v = Math.max(1, Math.floor(pullThresholdSizeForTopic / queues));
      if (v !== this.opts.pullThresholdSizeForQueue) this.log.info(`The pullThresholdSizeForQueue is changed from ${this.opts.pullThresholdSizeForQueue} to ${v}`);
      this.opts.pullThresholdSizeForQueue = v;
    }
  }

  /** This consumer's ConsumerRunningInfo (upstream `DefaultMQPushConsumerImpl.consumerRunningInfo`). */
  private async runningInfo(): Promise<ConsumerRunningInfo> {
    const properties = settingsProperties({
      consumerGroup: this.group, messageModel: this.messageModel, consumeFromWhere: this.consumeFromWhere,
      consumeTimestamp: this.consumeTimestamp, allocateMessageQueueStrategy: this.strategy.name, ...this.opts,
    });
    properties[RunningInfoProp.CONSUME_ORDERLY] = String(this.orderly);
    properties[RunningInfoProp.THREADPOOL_CORE_SIZE] = String(this.opts.consumeThreadMax);
    properties[RunningInfoProp.CONSUMER_START_TIMESTAMP] = String(this.startTimestamp);
    const mqTable = await queueInfoTable(this.rebalanceImpl.processQueueTable.values(), this.offsetStore);
    const subscriptionSet = [...this.subscriptionInner.values()];
    const mqPopTable = [...this.rebalanceImpl.popProcessQueueTable.values()]
      .map(({ mq, pq }) => ({ mq, info: { waitAckCount: pq.waitAckCount, droped: pq.dropped, lastPopTimestamp: pq.lastPopTimestamp } }))
      .sort((a, b) => compareMessageQueue(a.mq, b.mq));
    return {
      properties, subscriptionSet, mqTable, mqPopTable,
      statusTable: new Map(subscriptionSet.map((sd) => [sd.topic, this.stats.status(sd.topic)])),
      userConsumerInfo: {},
    };
  }

  /**
   * CONSUME_MESSAGE_DIRECTLY (upstream `consumeMessageDirectly` of the consume services): an admin
   * pushes one stored message to this consumer's listener, outside the queues (no offset moves,
   * no send-back), and gets what the listener made of it. A listener that returns nothing
   * succeeded, as in normal consumption.
   */
  private async onConsumeMessageDirectly(req: RemotingCommand): Promise<RemotingCommand | null> {
    const ext = req.extFields ?? {};
    if (ext.consumerGroup !== this.group || !this.listener) return null;
    const [msg] = req.body ? decodeReceivedMessages(req.body) : [];
    if (!msg) return createResponse(req, ResponseCode.SYSTEM_ERROR, 'CONSUME_MESSAGE_DIRECTLY without a message record in its body');
    if (ext.brokerName) msg.brokerName = ext.brokerName;
    const original = msg.propertyMap.get(MessageConst.RETRY_TOPIC);
    if (original && msg.topic === getRetryTopic(this.group)) msg.topic = original;
    if (this.namespace !== undefined) msg.topic = withoutNamespace(msg.topic, this.namespace);
    const mq: MessageQueue = { topic: msg.topic, brokerName: msg.brokerName ?? ext.brokerName ?? '', queueId: msg.queueId };
    const result: ConsumeMessageDirectlyResult = { order: this.listener.orderly, autoCommit: true, spentTimeMills: 0 };
    const begin = Date.now();
    this.log.info(`consumeMessageDirectly receive new message: ${msg.msgId} of ${msg.topic}`);
    try {
      if (this.listener.orderly) {
        const context: ConsumeOrderlyContext = { messageQueue: mq, autoCommit: true, suspendCurrentQueueTimeMillis: -1 };
        const status = await this.listener.fn([msg], context);
        result.autoCommit = context.autoCommit;
        const byStatus: Record<string, CMResultValue> = {
          [ConsumeOrderlyStatus.SUCCESS]: CMResult.CR_SUCCESS, [ConsumeOrderlyStatus.COMMIT]: CMResult.CR_COMMIT,
          [ConsumeOrderlyStatus.ROLLBACK]: CMResult.CR_ROLLBACK, [ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT]: CMResult.CR_LATER,
        };
        result.consumeResult = status === undefined ? CMResult.CR_SUCCESS : byStatus[status] ?? CMResult.CR_RETURN_NULL;
      } else {
        const context: ConsumeConcurrentlyContext = { messageQueue: mq, delayLevelWhenNextConsume: 0, ackIndex: Number.MAX_SAFE_INTEGER };
        const status = await this.listener.fn([msg], context);
        result.consumeResult = status === undefined || status === ConsumeConcurrentlyStatus.CONSUME_SUCCESS ? CMResult.CR_SUCCESS
          : status === ConsumeConcurrentlyStatus.RECONSUME_LATER ? CMResult.CR_LATER : CMResult.CR_RETURN_NULL;
      }
    } catch (err) {
      result.consumeResult = CMResult.CR_THROW_EXCEPTION;
      result.remark = `${(err as Error).name}: ${(err as Error).message}`;
      this.log.warn({ err }, `consumeMessageDirectly exception: ${(err as Error).message}, Group: ${this.group} Msg: ${msg.msgId}`);
    }
    result.spentTimeMills = Date.now() - begin;
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(result) });
  }

  /**
   * RESET_CONSUMER_CLIENT_OFFSET (upstream `resetOffset`): the broker moved the group's offsets
   * (mqadmin resetOffsetByTime); drop the topic's queues, take the new offsets, rebalance.
   */
  private async onResetOffset(req: RemotingCommand): Promise<RemotingCommand | null> {
    const ext = req.extFields ?? {};
    if (ext.group !== this.group || !ext.topic || this.state !== 'running') return null;
    let table;
    try {
      table = decodeResetOffsetBody(parseLenientJson(req.body ?? '{}') as Record<string, unknown>);
    } catch (err) {
      this.log.warn(`reset offset request for ${ext.topic} has an unreadable body: ${(err as Error).message}`);
      return createResponse(req, ResponseCode.SYSTEM_ERROR, 'unreadable ResetOffsetBody');
    }
    await this.resetOffsets(ext.topic, [...table.values()]);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /** Moves the offsets of `topic`'s queues: held queues are dropped, offsets stored, queues taken again. */
  private async resetOffsets(topic: string, offsets: Array<{ mq: MessageQueue; offset: number }>): Promise<void> {
    this.log.info(`reset offsets of ${topic} for group ${this.group}: ${offsets.map((o) => `${messageQueueKey(o.mq)}=${o.offset}`).join(', ')}`);
    for (const [k, e] of [...this.rebalanceImpl.processQueueTable]) {
      if (e.mq.topic !== topic) continue;
      e.pq.drop();
      e.pq.clear();
      // Orderly: a queue whose listener call goes on stays (dropped) until that call is over;
      // the rebalance takes it again only then, never beside it.
      if (!(this.orderly && e.pq.inflight)) this.rebalanceImpl.processQueueTable.delete(k);
    }
    await Promise.all(offsets.map(async ({ mq, offset }) => {
      this.offsetStore.updateOffset(mq, offset, false);
      await this.offsetStore.persist(mq);
      this.offsetStore.removeOffset(mq);
    }));
    this.rebalanceService.wakeup();
  }

  // ---- pulling ----

  /** Starts the pull loop of a newly assigned queue. */
  private dispatchPullRequest(req: PullRequest): void {
    this.tasks.pullLoop(req.mq, () => this.pullLoop(req));
  }

  private async pullLoop(req: PullRequest): Promise<void> {
    const { mq, pq } = req;
    const signal = pq.pulling.signal;
    const orderly = this.orderly;
    const clustering = this.messageModel === MessageModel.CLUSTERING;
    let previouslyLocked = false;
    while (this.state === 'running' && !signal.aborted) {
      pq.lastPullTimestamp = Date.now();
      // Read each round: pullThresholdFor/SizeForTopic re-split them when the queues change.
      const maxBytes = this.opts.pullThresholdSizeForQueue * 1024 * 1024;
      if (this.paused) {
        await sleep(PULL_TIME_DELAY_MILLS_WHEN_SUSPEND, signal);
        continue;
      }
      if (pq.msgCount > this.opts.pullThresholdForQueue || pq.msgSize > maxBytes
        || (!orderly && pq.maxSpan() > this.opts.consumeConcurrentlyMaxSpan)) {
        // Flow control: wait until the listener frees room (upstream re-checks every 50 ms).
        await pq.waitForSpace(50);
        continue;
      }
      if (orderly && clustering) {
        if (!pq.locked) {
          await sleep(3000, signal);
          continue;
        }
        if (!previouslyLocked) {
          // As upstream: the first pull after locking re-reads the offset the last owner committed.
          try {
            req.nextOffset = await this.rebalanceImpl.computePullFromWhere(mq);
          } catch (err) {
            this.log.warn(`computing the offset of ${messageQueueKey(mq)} failed: ${(err as Error).message}`);
            await sleep(3000, signal);
            continue;
          }
          previouslyLocked = true;
        }
      }
      const sub = this.subscriptionInner.get(mq.topic);
      if (!sub) {
        await sleep(3000, signal);
        continue;
      }
      let result: PullResult | typeof ABORTED;
      const pullStart = Date.now();
      try {
        result = await raceAbort(this.pullKernel(mq, req.nextOffset, sub, clustering && !orderly), signal);
      } catch (err) {
        if (signal.aborted || this.state !== 'running') break;
        this.log.warn(`pull of ${messageQueueKey(mq)} at offset ${req.nextOffset} failed: ${(err as Error).message}`);
        await sleep(this.opts.pullTimeDelayMillsWhenException, signal);
        continue;
      }
      if (result === ABORTED || pq.dropped) break;
      this.pullAPIWrapper.updatePullFromWhichNode(mq, result.suggestWhichBrokerId);
      switch (result.pullStatus) {
        case PullStatus.FOUND: {
          req.nextOffset = result.nextBeginOffset;
          const msgs = result.msgFoundList;
          this.stats.pulled(mq.topic, Date.now() - pullStart, msgs.length);
          if (msgs.length === 0) break;
          const retryTopic = getRetryTopic(this.group);
          for (const m of msgs) {
            m.brokerName = mq.brokerName;
            // As upstream `resetRetryAndNamespace`: a retried message shows its original topic,
            const original = m.propertyMap.get(MessageConst.RETRY_TOPIC);
            if (original && m.topic === retryTopic) m.topic = original;
          }
          // … and the application sees the topic without the namespace.
          const ns = this.namespace;
          if (ns !== undefined) for (const m of msgs) m.topic = withoutNamespace(m.topic, ns);
          const dispatch = pq.putMessage(msgs);
          if (this.consumeService instanceof ConsumeMessageOrderlyService) this.consumeService.submitConsumeRequest(msgs, pq, mq, dispatch);
          else this.consumeService?.submitConsumeRequest(msgs, pq, mq);
          if (this.opts.pullInterval > 0) await sleep(this.opts.pullInterval, signal);
          break;
        }
        case PullStatus.NO_NEW_MSG:
        case PullStatus.NO_MATCHED_MSG:
          req.nextOffset = result.nextBeginOffset;
          // Upstream `correctTagsOffset`: nothing held, so nothing below the next offset is pending.
          if (pq.msgCount === 0) this.offsetStore.updateOffset(mq, req.nextOffset, true);
          break;
        case PullStatus.OFFSET_ILLEGAL:
          this.log.warn(`the pull request offset illegal, ${messageQueueKey(mq)} offset ${req.nextOffset}, continue from ${result.nextBeginOffset}`);
          req.nextOffset = result.nextBeginOffset;
          pq.drop();
          this.offsetStore.updateOffset(mq, result.nextBeginOffset, false);
          await this.offsetStore.persist(mq);
          this.rebalanceImpl.removeProcessQueue(mq, pq);
          this.rebalanceService.wakeup();
          return;
      }
    }
  }

  private async pullKernel(mq: MessageQueue, offset: number, sub: SubscriptionData, commit: boolean): Promise<PullResult> {
    let commitOffset = 0;
    if (commit) commitOffset = await this.offsetStore.readOffset(mq, ReadOffsetType.READ_FROM_MEMORY);
    return this.pullAPIWrapper.pullKernelImpl(mq, offset, sub, commitOffset);
  }

  // ---- POP ----

  /**
   * The loop of one queue assigned in POP mode (upstream `DefaultMQPushConsumerImpl.popMessage`):
   * long-polling POP_MESSAGE, at most popThresholdForQueue messages waiting for their ack, what
   * comes handed to the POP consume service. Messages popped when the queue is given up are
   * not consumed: the broker hands them out again after their invisible time.
   */
  private async popLoop(req: PopRequest): Promise<void> {
    const { mq, pq } = req;
    const signal = pq.popping.signal;
    while (this.state === 'running' && !signal.aborted) {
      pq.lastPopTimestamp = Date.now();
      if (this.paused) {
        await sleep(PULL_TIME_DELAY_MILLS_WHEN_SUSPEND, signal);
        continue;
      }
      if (pq.waitAckCount > this.opts.popThresholdForQueue) {
        // Flow control: wait for acks (upstream re-checks every 50 ms).
        await pq.waitForAck(50);
        continue;
      }
      const sub = this.subscriptionInner.get(mq.topic);
      if (!sub) {
        await sleep(this.opts.pullTimeDelayMillsWhenException, signal);
        continue;
      }
      let result: PopResult | typeof ABORTED;
      const popStart = Date.now();
      try {
        result = await raceAbort(this.popKernel(mq, sub, req.initMode), signal);
      } catch (err) {
        if (signal.aborted || this.state !== 'running') break;
        if (!isRetryTopic(mq.topic)) this.log.warn(`pop of ${messageQueueKey(mq)} failed: ${(err as Error).message}`);
        await sleep(this.opts.pullTimeDelayMillsWhenException, signal);
        continue;
      }
      if (result === ABORTED || pq.dropped) break;
      if (result.popStatus === PopStatus.POLLING_FULL) {
        await sleep(this.opts.pullTimeDelayMillsWhenException, signal);
        continue;
      }
      if (result.popStatus !== PopStatus.FOUND || result.msgFoundList.length === 0) continue;
      this.stats.pulled(mq.topic, Date.now() - popStart, result.msgFoundList.length);
      const msgs: MessageExt[] = [];
      for (const m of result.msgFoundList) {
        // As upstream `processPopResult`: a message whose tag the subscription does not take, or
        // one past its retries, is acked rather than consumed.
        if (sub.tagsSet.length > 0 && !sub.classFilterMode && !(m.tags !== undefined && sub.tagsSet.includes(m.tags))) {
          void this.ackPopped(m, mq);
        } else if (m.reconsumeTimes > this.maxReconsumeTimes(false)) {
          this.log.info(`Reconsume times has reached ${m.reconsumeTimes}, so ack msg=${m.msgId}`);
          void this.ackPopped(m, mq);
        } else {
          msgs.push(m);
        }
      }
      if (msgs.length === 0) continue;
      // As upstream processPopResponse: the application sees the topic without the namespace.
      if (this.namespace !== undefined) for (const m of msgs) m.topic = withoutNamespace(m.topic, this.namespace);
      pq.incFoundMsg(msgs.length);
      this.popConsumeService?.submitPopConsumeRequest(msgs, pq, mq);
    }
  }

  private async popKernel(mq: MessageQueue, sub: SubscriptionData, initMode: number): Promise<PopResult> {
    const addr = await this.masterAddressOf(mq);
    return this.client.api.popMessage(addr, mq.brokerName, {
      consumerGroup: this.group, topic: mq.topic, queueId: mq.queueId, maxMsgNums: this.opts.popBatchNums, invisibleTime: this.opts.popInvisibleTime,
      pollTime: this.opts.brokerSuspendMaxTimeMillis, bornTime: Date.now(), initMode, expType: sub.expressionType, exp: sub.subString, order: false,
    }, this.opts.consumerTimeoutMillisWhenSuspend);
  }

  private async masterAddressOf(mq: MessageQueue): Promise<string> {
    let addr = this.client.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) {
      await this.client.updateTopicRoute(mq.topic);
      addr = this.client.findBrokerAddressInPublish(mq.brokerName);
    }
    if (!addr) throw new MQClientError(`broker ${mq.brokerName} has no master address in the route of topic ${mq.topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
    return addr;
  }

  /** The ACK_MESSAGE / CHANGE_MESSAGE_INVISIBLETIME header of a popped message, from its receipt. */
  private popHeader(msg: MessageExt, mq: MessageQueue): { consumerGroup: string; topic: string; queueId: number; offset: number; extraInfo: string } | undefined {
    const extraInfo = msg.propertyMap.get(MessageConst.POP_CK);
    const r = parsePopReceipt(extraInfo);
    if (!extraInfo || !r) {
      this.log.error(`message ${msg.msgId} of ${messageQueueKey(mq)} has no POP receipt; it comes back after its invisible time`);
      return undefined;
    }
    return { consumerGroup: this.group, topic: mq.topic, queueId: r.queueId, offset: r.queueOffset, extraInfo };
  }

  /** Upstream `ackAsync`: failures are only logged (the message then comes back). */
  private async ackPopped(msg: MessageExt, mq: MessageQueue): Promise<void> {
    const h = this.popHeader(msg, mq);
    if (!h) return;
    try {
      await this.client.api.ackMessage(await this.masterAddressOf(mq), h);
    } catch (err) {
      this.log.warn(`Ack message fail. extraInfo: ${h.extraInfo} error message: ${(err as Error).message}`);
    }
  }

  /** Upstream `changePopInvisibleTimeAsync`: failures are only logged (the message comes back at its first invisible time). */
  private async changePopInvisibleTime(msg: MessageExt, mq: MessageQueue, invisibleMs: number): Promise<void> {
    const h = this.popHeader(msg, mq);
    if (!h) return;
    try {
      await this.client.api.changeInvisibleTime(await this.masterAddressOf(mq), { ...h, invisibleTime: invisibleMs });
    } catch (err) {
      this.log.error(`changePopInvisibleTimeAsync fail. msg: ${msg.msgId} error info: ${(err as Error).message}`);
    }
  }

  // ---- retry ----

  /**
   * Sends a failed message back (upstream `sendMessageBack`): CONSUMER_SEND_MSG_BACK to its
   * broker; when the broker refuses, a copy goes to `%RETRY%<group>` through an inner producer.
   * False when both failed (the caller then retries locally).
   */
  private async sendMessageBack(msg: MessageExt, delayLevel: number, mq: MessageQueue): Promise<boolean> {
    if (this.namespace === undefined) return this.sendMessageBackWire(msg, delayLevel, mq);
    // As upstream, the message goes back under its topic on the wire (`withNamespace` before
    // sendMessageBack); the application's view is restored for a local retry.
    const topic = msg.topic;
    msg.topic = wrapNamespace(this.namespace, topic);
    try {
      return await this.sendMessageBackWire(msg, delayLevel, mq);
    } finally {
      msg.topic = topic;
    }
  }

  private async sendMessageBackWire(msg: MessageExt, delayLevel: number, mq: MessageQueue): Promise<boolean> {
    try {
      await withMasterBroker(this.client, mq, (addr) => this.client.api.consumerSendMessageBack(addr, mq.brokerName, msg, this.group, delayLevel, 5000, this.maxReconsumeTimes(this.orderly)));
      return true;
    } catch (err) {
      this.log.warn(`sendMessageBack of ${msg.msgId} to broker ${mq.brokerName} failed (${(err as Error).message}); sending it to ${getRetryTopic(this.group)} instead`);
    }
    try {
      await this.sendMessageBackAsNormalMessage(msg);
      return true;
    } catch (err) {
      this.log.warn(`sending ${msg.msgId} to ${getRetryTopic(this.group)} failed: ${(err as Error).message}; it will be consumed again here`);
      return false;
    }
  }

  private async sendMessageBackAsNormalMessage(msg: MessageExt): Promise<void> {
    const newMsg = new Message(getRetryTopic(this.group), msg.body, { flag: msg.flag });
    for (const [k, v] of msg.propertyMap) newMsg.properties.set(k, v);
    newMsg.properties.set(MessageConst.ORIGIN_MESSAGE_ID, msg.propertyMap.get(MessageConst.ORIGIN_MESSAGE_ID) ?? msg.msgId);
    newMsg.properties.set(MessageConst.RETRY_TOPIC, msg.topic);
    newMsg.properties.set(MessageConst.RECONSUME_TIME, String(msg.reconsumeTimes + 1));
    newMsg.properties.set(MessageConst.MAX_RECONSUME_TIMES, String(this.maxReconsumeTimes(this.orderly)));
    newMsg.properties.delete(MessageConst.TRANSACTION_PREPARED);
    newMsg.delayTimeLevel = retryDelayLevel(msg.reconsumeTimes);
    if (!this.innerProducer) {
      this.innerProducer = new Producer({
        group: 'CLIENT_INNER_PRODUCER', namesrvAddr: this.client.namesrv.list.join(';'), api: this.client.api,
        clientIP: this.client.clientIP, instanceName: this.client.instanceName, logger: this.log,
      });
      await this.innerProducer.start();
    }
    await this.innerProducer.send(newMsg);
  }

  // ---- offsets and shutdown ----

  private async persistAll(sync: boolean): Promise<void> {
    if (!this.offsetStoreInner) return;
    const mqs = this.rebalanceImpl.assignment();
    if (sync) await persistNow(this.offsetStoreInner, mqs);
    else await this.offsetStoreInner.persistAll(mqs);
  }

  /**
   * Stops consuming: no new pulls or listener calls, waits for the calls in progress
   * (awaitTerminationMillisWhenShutdown), commits the offsets (waiting for the brokers), gives
   * up orderly locks, unregisters from every broker and closes the connections.
   */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'shutdown';
      return;
    }
    this.state = 'stopping';
    this.tasks.stopPeriodic();
    await this.rebalanceService.shutdown();
    for (const { pq } of this.rebalanceImpl.processQueueTable.values()) pq.stopPulling();
    for (const { pq } of this.rebalanceImpl.popProcessQueueTable.values()) pq.stopPopping();
    if (this.executor && !(await this.executor.awaitIdle(this.opts.awaitTerminationMillisWhenShutdown))) {
      this.log.warn(`consumer ${this.group}: listener calls still running after ${this.opts.awaitTerminationMillisWhenShutdown} ms; shutting down without them`);
    }
    this.consumeService?.shutdown();
    await this.persistAll(true);
    if (this.orderly && this.messageModel === MessageModel.CLUSTERING) await this.rebalanceImpl.unlockAll();
    this.rebalanceImpl.destroy();
    await this.client.unregisterConsumer(this.group);
    for (const un of this.unregisterHandlers.splice(0)) un();
    await this.innerProducer?.shutdown().catch(() => undefined);
    await this.traceDispatcher?.shutdown().catch(() => undefined);
    await this.client.shutdown();
    await this.tasks.loopsEnded();
    this.state = 'shutdown';
    this.log.info(`push consumer ${this.group} (${this.clientId}) shut down`);
  }

  /** Gives up one queue the rebalance took away (upstream `RebalancePushImpl.removeUnnecessaryMessageQueue`). */
  private async removeUnnecessaryMessageQueue(mq: MessageQueue, pq: ProcessQueue): Promise<boolean> {
    if (this.orderly && this.messageModel === MessageModel.CLUSTERING) {
      // Keep the broker lock until the listener call in progress is done and committed, so the
      // next owner starts after it (upstream waits up to 1 s for the queue's consume lock).
      if (pq.inflight) {
        const done = await Promise.race([pq.inflight.then(() => true), sleep(1000).then(() => false)]);
        if (!done) {
          // The next rebalance tries again; the count shows in the consumer's running info.
          pq.tryUnlockTimes++;
          this.log.warn(`queue ${mq.topic}/${mq.brokerName}/${mq.queueId} is still consuming, so its lock is kept (${pq.tryUnlockTimes} tries); a listener call may hang`);
          return false;
        }
      }
      await this.offsetStore.persist(mq);
      this.offsetStore.removeOffset(mq);
      await this.rebalanceImpl.unlock(mq, false);
      return true;
    }
    await this.offsetStore.persist(mq);
    this.offsetStore.removeOffset(mq);
    return true;
  }
}
