import { createLogger, type Logger } from '../common/logger.js';
import { SUB_ALL, type SubscriptionData } from '../common/subscription.js';
import { RequestCode, type RemotingCommand } from '../remoting/index.js';
import {
  checkGroup, checkPositiveSettings, checkSuspendTimeouts, ConsumerHeartbeat, ConsumerRebalanceImpl, consumerSettings, ConsumerTasks, newClientInstance, newOffsetStore,
  parseConsumeTimestamp, persistNow, PullAPIWrapper, startedOffsetStore, withMasterBroker, type ConsumerOptions, type ConsumerSettings,
} from './consumer-core.js';
import { answerConsumerStatus, answerRunningInfo, queueInfoTable, RunningInfoProp, settingsProperties, type ConsumerRunningInfo } from './consumer-running-info.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { ConsumeFromWhere, ConsumeType, MessageModel } from './headers.js';
import type { MessageExt } from './message.js';
import { PullStatus, type PullResult } from './mq-client-api.js';
import type { MQClientInstance } from './mq-client-instance.js';
import { ReadOffsetType, type OffsetStore } from './offset-store.js';
import { ProcessQueue } from './process-queue.js';
import { AllocateMessageQueueAveragely } from './rebalance/index.js';
import { RebalanceService, type ConsumeFromWhereValue, type MessageModelValue, type RebalanceConfig } from './rebalance-impl.js';
import { compareMessageQueue, messageQueueKey, type MessageQueue } from './route.js';
import { buildSubscriptionData, subscriptionOf, type SubscriptionExpression } from './subscription.js';
import { ABORTED, raceAbort, sleep } from './wait.js';
import { checkNamespace, namespacedStrategy, queueWithNamespace, queueWithoutNamespace, withoutNamespace, wrapNamespace } from './namespace.js';

/** Settings of a LitePullConsumer; names and defaults are upstream's `DefaultLitePullConsumer` ones. */
export interface LitePullConsumerOptions extends ConsumerOptions {
  /** Commit what poll() returned by itself, every autoCommitIntervalMillis. Default true. */
  autoCommit?: boolean;
  /** Default 5000 ms. */
  autoCommitIntervalMillis?: number;
  /** Messages per pull, hence at most per poll(). Default 10. */
  pullBatchSize?: number;
  /** No queue is pulled while all of them hold this many unpolled messages. Default 10000. */
  pullThresholdForAll?: number;
  /**
   * A queue is not pulled while the offsets of its unpolled messages span more than this
   * (upstream `consumeMaxSpan`: a slow poller on a filtered queue holds few messages but a wide
   * range). Default 2000.
   */
  consumeMaxSpan?: number;
  /** Default timeout of poll() (ms). Default 5000. */
  pollTimeoutMillis?: number;
  /** How long the broker holds a pull that found nothing (ms). Default 20000. */
  brokerSuspendMaxTimeMillis?: number;
  /** How often topics with a queue-change listener are looked up again (ms). Default 30000. */
  topicMetadataCheckIntervalMillis?: number;
}

/** Told the readable queues of a topic when they change (upstream `TopicMessageQueueChangeListener`). */
export type TopicMessageQueueChangeListener = (topic: string, messageQueues: MessageQueue[]) => void;

/** One assigned queue (upstream `AssignedMessageQueue` entry). */
interface QueueState {
  mq: MessageQueue;
  pq: ProcessQueue;
  /** Next offset to pull; -1 until computed. */
  pullOffset: number;
  /** Next offset to consume: past what poll() returned; -1 until known. */
  consumeOffset: number;
  /** Set by seek(): where the next pull starts. */
  seekOffset: number;
  paused: boolean;
  /** Bumped by seek(): pulls started before are discarded. */
  generation: number;
  /** Aborted to cut a long poll short (seek, pause). */
  interrupt: AbortController;
  /** Resolves the loop's idle wait (resume). */
  wake?: () => void;
}

/** One pull's worth of messages waiting for poll(). */
interface ConsumeRequest {
  msgs: MessageExt[];
  st: QueueState;
  generation: number;
}

type Mode = 'none' | 'subscribe' | 'assign';
type State = 'created' | 'running' | 'shutdown';

/**
 * A pull consumer that fetches in the background (upstream `DefaultLitePullConsumer`):
 * `subscribe` to share a topic's queues with the group, or `assign` queues yourself; then
 * `poll()` for the next messages or iterate with `for await (const msg of consumer)`. Offsets
 * are committed automatically (autoCommit) or with `commit()`; `seek`, `pause` and `resume`
 * steer single queues.
 */
export class LitePullConsumer {
  /** The consumer group as the brokers know it: wrapped in the namespace, if any (as upstream after start). */
  readonly group: string;
  /** The client namespace, undefined when there is none. */
  readonly namespace: string | undefined;
  /** CLUSTERING or BROADCASTING. */
  readonly messageModel: MessageModelValue;
  /** Whether what poll() returns is committed without commit(). */
  readonly autoCommit: boolean;
  private readonly client: MQClientInstance;
  private readonly log: Logger;
  private readonly subscriptionInner = new Map<string, SubscriptionData>();
  private readonly rebalanceImpl: ConsumerRebalanceImpl;
  private readonly rebalanceService: RebalanceService;
  private readonly heartbeat: ConsumerHeartbeat;
  private readonly tasks: ConsumerTasks;
  private readonly pullAPIWrapper: PullAPIWrapper;
  private readonly assigned = new Map<string, QueueState>();
  private readonly cache: ConsumeRequest[] = [];
  private pollWaiters: Array<() => void> = [];
  private readonly opts: ConsumerSettings & Required<Pick<LitePullConsumerOptions,
    'autoCommitIntervalMillis' | 'pullBatchSize' | 'pullThresholdForAll' | 'consumeMaxSpan' | 'pollTimeoutMillis' | 'brokerSuspendMaxTimeMillis' |
    'topicMetadataCheckIntervalMillis'>>;
  /** Listeners by topic, with the queues they were last told of (upstream `topicMessageQueueChangeListenerMap`, `messageQueuesForTopic`). */
  private readonly queueChangeListeners = new Map<string, { listener: TopicMessageQueueChangeListener; known?: MessageQueue[] }>();
  private readonly consumeFromWhere: ConsumeFromWhereValue;
  private offsetStoreInner?: OffsetStore;
  private mode: Mode = 'none';
  /** Assign mode: the queues asked for, applied at start and on each assign(). */
  private pendingAssign: MessageQueue[] = [];
  private state: State = 'created';
  private nextAutoCommitDeadline = 0;
  private readonly unregisterHandlers: Array<() => void> = [];
  private startTimestamp = 0;
  private cachedCount = 0;

  constructor(opts: LitePullConsumerOptions) {
    this.namespace = checkNamespace(opts.namespace);
    this.group = wrapNamespace(this.namespace, opts.group);
    checkGroup(this.group);
    this.messageModel = opts.messageModel ?? MessageModel.CLUSTERING;
    this.autoCommit = opts.autoCommit ?? true;
    this.consumeFromWhere = opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET;
    this.opts = {
      ...consumerSettings(opts),
      autoCommitIntervalMillis: opts.autoCommitIntervalMillis ?? 5000,
      pullBatchSize: opts.pullBatchSize ?? 10,
      pullThresholdForAll: opts.pullThresholdForAll ?? 10_000,
      consumeMaxSpan: opts.consumeMaxSpan ?? 2000,
      pollTimeoutMillis: opts.pollTimeoutMillis ?? 5000,
      brokerSuspendMaxTimeMillis: opts.brokerSuspendMaxTimeMillis ?? 20_000,
      topicMetadataCheckIntervalMillis: opts.topicMetadataCheckIntervalMillis ?? 30_000,
    };
    checkPositiveSettings(this.opts);
    checkSuspendTimeouts(this.opts);
    this.client = newClientInstance(opts);
    this.log = opts.logger ?? createLogger('lite-pull-consumer', { group: this.group, clientId: this.client.clientId });
    this.client.topicsToRefresh = () => new Set([...this.subscriptionInner.keys(), ...[...this.assigned.values()].map((s) => s.mq.topic)]);
    this.heartbeat = new ConsumerHeartbeat(this.client, {
      groupName: this.group, consumeType: ConsumeType.CONSUME_ACTIVELY, messageModel: this.messageModel, consumeFromWhere: this.consumeFromWhere,
    }, this.subscriptionInner, this.log);
    this.tasks = new ConsumerTasks(() => this.state === 'running', this.log);
    this.pullAPIWrapper = new PullAPIWrapper(this.client, { ...this.opts, group: this.group, litePull: true });
    const cfg: RebalanceConfig = {
      group: this.group, messageModel: this.messageModel, strategy: namespacedStrategy(this.namespace, opts.allocateMessageQueueStrategy ?? new AllocateMessageQueueAveragely()),
      consumeFromWhere: this.consumeFromWhere, consumeTimestamp: parseConsumeTimestamp(opts.consumeTimestamp),
      client: this.client, offsetStore: () => this.offsetStore, log: this.log,
    };
    this.rebalanceImpl = new ConsumerRebalanceImpl(cfg, {
      subscriptions: () => this.subscriptionInner,
      isOrder: () => false,
      removeUnnecessaryMessageQueue: (mq) => this.removeQueue(mq),
      dispatchPullRequest: (r) => this.addQueue(r.mq, r.pq, r.nextOffset),
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

  /** Subscribe mode: consume `topic` (TAG expression `*` or `TagA || TagB`), sharing its queues with the group. */
  subscribe(topic: string, subExpression: SubscriptionExpression = SUB_ALL): void {
    if (this.mode === 'assign') throw new MQClientError('subscribe and assign are exclusive: this consumer uses assign()', ClientErrorCode.ARGUMENT_ILLEGAL);
    this.checkNotShutdown();
    this.mode = 'subscribe';
    const wire = wrapNamespace(this.namespace, topic);
    this.subscriptionInner.set(wire, subscriptionOf(wire, subExpression));
    if (this.state === 'running') void this.afterSubscriptionChange();
  }

  /** Subscribe mode: stop consuming `topic`. */
  unsubscribe(topic: string): void {
    this.subscriptionInner.delete(wrapNamespace(this.namespace, topic));
    if (this.state === 'running') void this.afterSubscriptionChange();
  }

  /** Assign mode: consume exactly these queues (all tags), without rebalancing; replaces the previous set. */
  assign(mqs: readonly MessageQueue[]): void {
    if (this.mode === 'subscribe') throw new MQClientError('subscribe and assign are exclusive: this consumer uses subscribe()', ClientErrorCode.ARGUMENT_ILLEGAL);
    this.checkNotShutdown();
    if (mqs.length === 0) throw new MQClientError('assign() needs at least one message queue', ClientErrorCode.ARGUMENT_ILLEGAL);
    this.mode = 'assign';
    this.pendingAssign = mqs.map((mq) => this.wire(mq));
    if (this.state === 'running') void this.applyAssign();
  }

  private async applyAssign(): Promise<void> {
    const want = new Map(this.pendingAssign.map((mq) => [messageQueueKey(mq), mq]));
    for (const [k, st] of [...this.assigned]) if (!want.has(k)) await this.removeQueue(st.mq);
    for (const [k, mq] of want) {
      if (!this.assigned.has(k)) this.addQueue(mq, new ProcessQueue(), -1);
    }
    await Promise.all([...new Set(this.pendingAssign.map((mq) => mq.topic))].map((t) => this.client.updateTopicRoute(t).catch(() => undefined)));
  }

  private async afterSubscriptionChange(): Promise<void> {
    await this.heartbeat.subscriptionsChanged();
    this.rebalanceService.wakeup();
  }

  private checkNotShutdown(): void {
    if (this.state === 'shutdown') throw new MQClientError(`consumer ${this.group} is shut down`, ClientErrorCode.NOT_STARTED);
  }

  private checkRunning(): void {
    if (this.state !== 'running') {
      throw new MQClientError(`consumer ${this.group} is ${this.state === 'created' ? 'not started: call start() first' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    }
  }

  /** Starts fetching: the assigned queues, or (subscribe mode) the group's share after a rebalance. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new MQClientError(`consumer ${this.group} was already ${this.state === 'running' ? 'started' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    this.client.start();
    this.state = 'running';
    try {
      this.offsetStoreInner = newOffsetStore(this.client, this.group, this.messageModel, this.opts.localOffsetStoreDir, this.log);
      await this.offsetStoreInner.load();
      this.unregisterHandlers.push(
        this.client.api.registerRequestHandler(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req: RemotingCommand) => {
          if (req.extFields?.consumerGroup === this.group && this.mode === 'subscribe') this.rebalanceService.wakeup();
          return null;
        }),
        this.client.api.registerRequestHandler(RequestCode.GET_CONSUMER_RUNNING_INFO, (req) => answerRunningInfo(
          req, this.group, this.client.namesrv.list, ConsumeType.CONSUME_ACTIVELY, () => this.runningInfo())),
        // As upstream's MQClientInstance.getConsumerStatus: a lite pull consumer reports no offsets.
        this.client.api.registerRequestHandler(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, (req) => answerConsumerStatus(req, this.group, () => new Map())),
      );
      this.startTimestamp = Date.now();
      const topics = this.mode === 'assign' ? this.pendingAssign.map((mq) => mq.topic) : [...this.subscriptionInner.keys()];
      // As upstream's operateAfterRunning: the brokers' word on non-TAG subscriptions before the first heartbeat.
      await this.heartbeat.loadRoutes(topics);
      await this.client.checkClientInBroker(this.group, this.subscriptionInner.values());
      await this.heartbeat.send();
      this.tasks.every(this.opts.heartbeatBrokerInterval, () => this.heartbeat.send());
      this.tasks.every(this.opts.persistConsumerOffsetInterval, () => this.offsetStore.persistAll(this.wireAssignment()));
      this.nextAutoCommitDeadline = Date.now() + this.opts.autoCommitIntervalMillis;
      if (this.mode === 'assign') await this.applyAssign();
      for (const [topic, l] of this.queueChangeListeners) l.known = await this.fetchMessageQueues(topic);
      this.tasks.every(this.opts.topicMetadataCheckIntervalMillis, () => this.checkTopicQueues());
      this.rebalanceService.start();
    } catch (err) {
      await this.shutdown().catch(() => undefined);
      throw err;
    }
  }

  /** This consumer's ConsumerRunningInfo (upstream `DefaultLitePullConsumerImpl.consumerRunningInfo`): no speed figures, as upstream. */
  private async runningInfo(): Promise<ConsumerRunningInfo> {
    const properties = settingsProperties({
      consumerGroup: this.group, messageModel: this.messageModel, consumeFromWhere: this.consumeFromWhere, autoCommit: this.autoCommit, ...this.opts,
    });
    properties[RunningInfoProp.CONSUMER_START_TIMESTAMP] = String(this.startTimestamp);
    const mqTable = await queueInfoTable(this.assigned.values(), this.offsetStore);
    return { properties, subscriptionSet: [...this.subscriptionInner.values()], mqTable, statusTable: new Map(), userConsumerInfo: {} };
  }

  private async doRebalance(): Promise<boolean> {
    if (this.state !== 'running' || this.mode !== 'subscribe') return true;
    return this.heartbeat.rebalance(this.rebalanceImpl);
  }

  // ---- assigned queues ----

  private addQueue(mq: MessageQueue, pq: ProcessQueue, pullOffset: number): void {
    const st: QueueState = { mq, pq, pullOffset, consumeOffset: pullOffset, seekOffset: -1, paused: false, generation: 0, interrupt: new AbortController() };
    this.assigned.set(messageQueueKey(mq), st);
    this.tasks.pullLoop(mq, () => this.pullLoop(st));
  }

  private async removeQueue(mq: MessageQueue): Promise<boolean> {
    const k = messageQueueKey(mq);
    const st = this.assigned.get(k);
    if (!st) return true;
    this.assigned.delete(k);
    st.pq.drop();
    this.dropCached(st);
    if (this.autoCommit && st.consumeOffset >= 0) this.offsetStore.updateOffset(mq, st.consumeOffset, false);
    await this.offsetStore.persist(mq);
    this.offsetStore.removeOffset(mq);
    return true;
  }

  private dropCached(st: QueueState): void {
    for (let i = this.cache.length - 1; i >= 0; i--) {
      if (this.cache[i]!.st === st) {
        this.cachedCount -= this.cache[i]!.msgs.length;
        this.cache.splice(i, 1);
      }
    }
  }

  private stateOf(mq: MessageQueue): QueueState {
    const st = this.assigned.get(messageQueueKey(mq));
    if (!st) throw new MQClientError(`the message queue ${messageQueueKey(mq)} is not assigned to this consumer`, ClientErrorCode.ARGUMENT_ILLEGAL);
    return st;
  }

  /** Cuts the queue's outstanding long poll short (its result will be ignored). */
  private interrupt(st: QueueState): void {
    st.interrupt.abort();
    st.interrupt = new AbortController();
    st.wake?.();
  }

  private async pullLoop(st: QueueState): Promise<void> {
    const { mq, pq } = st;
    const stop = pq.pulling.signal;
    const maxBytes = this.opts.pullThresholdSizeForQueue * 1024 * 1024;
    while (this.state === 'running' && !stop.aborted) {
      if (st.paused) {
        await this.idle(st, 1000);
        continue;
      }
      if (this.pollableCount() >= this.opts.pullThresholdForAll || pq.msgCount > this.opts.pullThresholdForQueue || pq.msgSize > maxBytes
        || pq.maxSpan() > this.opts.consumeMaxSpan) {
        await pq.waitForSpace(50);
        continue;
      }
      let offset: number;
      if (st.seekOffset >= 0) {
        offset = st.seekOffset;
        st.seekOffset = -1;
        st.consumeOffset = offset;
      } else if (st.pullOffset >= 0) {
        offset = st.pullOffset;
      } else {
        try {
          offset = await this.rebalanceImpl.computePullFromWhere(mq);
        } catch (err) {
          this.log.warn(`computing the offset of ${messageQueueKey(mq)} failed: ${(err as Error).message}`);
          await sleep(this.opts.pullTimeDelayMillsWhenException, stop);
          continue;
        }
        if (st.seekOffset >= 0) continue;
        st.consumeOffset = offset;
      }
      st.pullOffset = offset;
      const generation = st.generation;
      const sub = this.subscriptionInner.get(mq.topic) ?? buildSubscriptionData(mq.topic, SUB_ALL);
      let result: PullResult | typeof ABORTED;
      try {
        result = await raceAbort(this.pullAPIWrapper.pullKernelImpl(mq, offset, sub), AbortSignal.any([stop, st.interrupt.signal]));
      } catch (err) {
        if (stop.aborted || this.state !== 'running') break;
        this.log.warn(`pull of ${messageQueueKey(mq)} at offset ${offset} failed: ${(err as Error).message}`);
        await sleep(this.opts.pullTimeDelayMillsWhenException, st.interrupt.signal);
        continue;
      }
      // Seek, pause or drop while the pull was out: what it brought is not wanted any more.
      if (result === ABORTED || generation !== st.generation || st.paused || stop.aborted) continue;
      switch (result.pullStatus) {
        case PullStatus.FOUND:
          if (result.msgFoundList.length > 0) {
            // As upstream `resetTopic`: poll() hands out the topic without the namespace.
            const ns = this.namespace;
            if (ns === undefined) for (const m of result.msgFoundList) m.brokerName = mq.brokerName;
            else for (const m of result.msgFoundList) {
              m.brokerName = mq.brokerName;
              m.topic = withoutNamespace(m.topic, ns);
            }
            pq.putMessage(result.msgFoundList);
            this.cache.push({ msgs: result.msgFoundList, st, generation });
            this.cachedCount += result.msgFoundList.length;
            this.notifyPollers();
          }
          st.pullOffset = result.nextBeginOffset;
          break;
        case PullStatus.NO_NEW_MSG:
        case PullStatus.NO_MATCHED_MSG:
          st.pullOffset = result.nextBeginOffset;
          if (pq.msgCount === 0 && st.consumeOffset < result.nextBeginOffset) st.consumeOffset = result.nextBeginOffset;
          break;
        case PullStatus.OFFSET_ILLEGAL:
          this.log.warn(`the pull request offset illegal, ${messageQueueKey(mq)} offset ${offset}, continue from ${result.nextBeginOffset}`);
          st.pullOffset = result.nextBeginOffset;
          if (pq.msgCount === 0) st.consumeOffset = result.nextBeginOffset;
          break;
      }
    }
  }

  /** Cached messages poll() can hand out: a paused queue's are held back, so they must not block the others. */
  private pollableCount(): number {
    let n = this.cachedCount;
    for (const req of this.cache) if (req.st.paused) n -= req.msgs.length;
    return n;
  }

  private idle(st: QueueState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        st.wake = undefined;
        st.pq.pulling.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      st.wake = done;
      st.pq.pulling.signal.addEventListener('abort', done, { once: true });
    });
  }

  private notifyPollers(): void {
    const ws = this.pollWaiters;
    this.pollWaiters = [];
    for (const w of ws) w();
  }

  // ---- the public consuming API ----

  /**
   * The next pulled messages (one queue's batch, at most pullBatchSize), waiting up to
   * `timeoutMs` for some; an empty list when none came. With autoCommit, what earlier polls
   * returned is committed here once autoCommitIntervalMillis has passed.
   */
  async poll(timeoutMs = this.opts.pollTimeoutMillis): Promise<MessageExt[]> {
    this.checkRunning();
    if (timeoutMs < 0) throw new MQClientError('Timeout must not be negative', ClientErrorCode.ARGUMENT_ILLEGAL);
    if (this.autoCommit) this.maybeAutoCommit();
    const deadline = Date.now() + timeoutMs;
    while (this.state === 'running') {
      for (let i = 0; i < this.cache.length; i++) {
        const req = this.cache[i]!;
        const stale = req.st.pq.dropped || req.generation !== req.st.generation;
        if (!stale && req.st.paused) continue;
        this.cache.splice(i, 1);
        this.cachedCount -= req.msgs.length;
        if (stale) {
          i--;
          continue;
        }
        const offset = req.st.pq.removeMessage(req.msgs);
        if (offset >= 0) req.st.consumeOffset = offset;
        req.st.pq.lastConsumeTimestamp = Date.now();
        return req.msgs;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.pollWaiters;
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        waiters.push(done);
      });
    }
    return [];
  }

  /** Polls forever, one message at a time, until the consumer shuts down. */
  async *[Symbol.asyncIterator](): AsyncGenerator<MessageExt, void, undefined> {
    while (this.state === 'running') {
      const msgs = await this.poll();
      for (const m of msgs) yield m;
    }
  }

  private maybeAutoCommit(): void {
    const now = Date.now();
    if (now < this.nextAutoCommitDeadline) return;
    this.nextAutoCommitDeadline = now + this.opts.autoCommitIntervalMillis;
    this.commitConsumed();
  }

  /** Moves every queue's consumed offset into the offset store (memory). */
  private commitConsumed(): void {
    for (const st of this.assigned.values()) {
      if (st.consumeOffset >= 0 && !st.pq.dropped) this.offsetStore.updateOffset(st.mq, st.consumeOffset, false);
    }
  }

  /**
   * Commits now and waits for the brokers (or the offsets file): with no argument, everything
   * poll() has returned; otherwise the given next-offsets-to-consume.
   */
  async commit(offsets?: ReadonlyArray<{ mq: MessageQueue; offset: number }>): Promise<void> {
    this.checkRunning();
    if (offsets === undefined) {
      this.commitConsumed();
      const mqs = this.wireAssignment();
      await persistNow(this.offsetStore, mqs);
      return;
    }
    const wire = offsets.map(({ mq, offset }) => ({ mq: this.wire(mq), offset }));
    for (const { mq, offset } of wire) {
      this.stateOf(mq);
      this.offsetStore.updateOffset(mq, offset, false);
    }
    await persistNow(this.offsetStore, wire.map(({ mq }) => mq), this.wireAssignment());
  }

  /** The group's committed offset of `mq` as stored (broker or file); -1 when none. */
  async committed(mq: MessageQueue): Promise<number> {
    this.checkRunning();
    return this.offsetStore.readOffset(this.wire(mq), ReadOffsetType.READ_FROM_STORE);
  }

  /** The next poll() of `mq` starts at `offset` (between its min and max offset); what was fetched is dropped. */
  async seek(userMq: MessageQueue, offset: number): Promise<void> {
    this.checkRunning();
    const mq = this.wire(userMq);
    const st = this.stateOf(mq);
    const [min, max] = await Promise.all([this.minOffset(mq), this.maxOffset(mq)]);
    if (!Number.isInteger(offset) || offset < min || offset > max) {
      throw new MQClientError(`seek offset ${offset} of ${messageQueueKey(mq)} is outside [${min}, ${max}]`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    st.generation++;
    st.seekOffset = offset;
    st.pq.clear();
    this.dropCached(st);
    this.interrupt(st);
  }

  /** seek() to the queue's min offset. */
  async seekToBegin(mq: MessageQueue): Promise<void> {
    await this.seek(mq, await this.minOffset(this.wire(mq)));
  }

  /** seek() to the queue's max offset (only new messages). */
  async seekToEnd(mq: MessageQueue): Promise<void> {
    await this.seek(mq, await this.maxOffset(this.wire(mq)));
  }

  /** The offset of the first message of `mq` stored at or after `timestamp` (ms). */
  async offsetForTimestamp(userMq: MessageQueue, timestamp: number): Promise<number> {
    this.checkRunning();
    const mq = this.wire(userMq);
    return withMasterBroker(this.client, mq, (addr) => this.client.api.searchOffset(addr, mq.topic, mq.queueId, timestamp));
  }

  private minOffset(mq: MessageQueue): Promise<number> {
    return withMasterBroker(this.client, mq, (addr) => this.client.api.getMinOffset(addr, mq.topic, mq.queueId));
  }

  private maxOffset(mq: MessageQueue): Promise<number> {
    return withMasterBroker(this.client, mq, (addr) => this.client.api.getMaxOffset(addr, mq.topic, mq.queueId));
  }

  /** Stops fetching from these queues; poll() holds back what they already fetched until resume(). */
  pause(mqs: readonly MessageQueue[]): void {
    for (const mq of mqs) {
      const st = this.stateOf(this.wire(mq));
      st.paused = true;
      this.interrupt(st);
    }
  }

  /** Fetches from these queues again. */
  resume(mqs: readonly MessageQueue[]): void {
    for (const mq of mqs) {
      const st = this.stateOf(this.wire(mq));
      st.paused = false;
      st.wake?.();
    }
    this.notifyPollers();
  }

  /** Whether `mq` is paused. */
  isPaused(mq: MessageQueue): boolean {
    return this.stateOf(this.wire(mq)).paused;
  }

  /** The queues consumed now, by the application's topic names. */
  assignment(): MessageQueue[] {
    const ns = this.namespace;
    const mqs = this.wireAssignment();
    return ns === undefined ? mqs : mqs.map((mq) => queueWithoutNamespace(ns, mq));
  }

  /** The queues consumed now, as the brokers name them. */
  private wireAssignment(): MessageQueue[] {
    return [...this.assigned.values()].map((s) => s.mq).sort(compareMessageQueue);
  }

  /** `mq` as the brokers name it (upstream `queueWithNamespace`). */
  private wire(mq: MessageQueue): MessageQueue {
    return queueWithNamespace(this.namespace, mq);
  }

  /**
   * Calls `listener` with the readable queues of `topic` whenever they change, as looked up every
   * topicMetadataCheckIntervalMillis (upstream `registerTopicMessageQueueChangeListener`; for
   * consumers that `assign()` queues themselves). A second listener for a topic replaces the first.
   */
  async registerTopicMessageQueueChangeListener(topic: string, listener: TopicMessageQueueChangeListener): Promise<void> {
    if (!topic || typeof listener !== 'function') throw new MQClientError('Topic or listener is null: pass a topic name and a function', ClientErrorCode.ARGUMENT_ILLEGAL);
    if (this.queueChangeListeners.has(topic)) this.log.warn(`Topic ${topic} had been registered, new listener will overwrite the old one`);
    const entry: { listener: TopicMessageQueueChangeListener; known?: MessageQueue[] } = { listener };
    this.queueChangeListeners.set(topic, entry);
    if (this.state === 'running') entry.known = await this.fetchMessageQueues(topic);
  }

  /** Upstream `fetchTopicMessageQueuesAndCompare`: tells each listener whose topic's queues changed. */
  private async checkTopicQueues(): Promise<void> {
    for (const [topic, entry] of this.queueChangeListeners) {
      let now: MessageQueue[];
      try {
        now = await this.fetchMessageQueues(topic);
      } catch (err) {
        this.log.warn(`looking up the queues of ${topic} for its change listener failed: ${(err as Error).message}`);
        continue;
      }
      const before = entry.known;
      if (before && before.length === now.length && before.every((mq, i) => messageQueueKey(mq) === messageQueueKey(now[i]!))) continue;
      entry.known = now;
      try {
        entry.listener(topic, now);
      } catch (err) {
        this.log.warn({ err }, `the queue change listener of ${topic} threw: ${(err as Error).message}`);
      }
    }
  }

  /** The readable queues of `topic` (from the NameServer), named as the application names them. */
  async fetchMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.checkRunning();
    const ns = this.namespace;
    const wire = wrapNamespace(ns, topic);
    await this.client.updateTopicRoute(wire);
    const mqs = this.client.subscribeQueues(wire);
    if (!mqs || mqs.length === 0) throw new MQClientError(`topic ${topic} has no readable queue in its route`, ClientErrorCode.NO_ROUTE);
    // As upstream `parseMessageQueues`.
    return (ns === undefined ? mqs : mqs.map((mq) => queueWithoutNamespace(ns, mq))).sort(compareMessageQueue);
  }

  /** Commits (autoCommit), stops fetching, persists offsets, unregisters and closes the connections. */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'shutdown';
      return;
    }
    this.state = 'shutdown';
    this.tasks.stopPeriodic();
    await this.rebalanceService.shutdown();
    this.notifyPollers();
    for (const st of this.assigned.values()) st.pq.stopPulling();
    if (this.autoCommit) this.commitConsumed();
    const mqs = this.wireAssignment();
    await persistNow(this.offsetStore, mqs);
    for (const st of this.assigned.values()) st.pq.drop();
    this.assigned.clear();
    this.cache.length = 0;
    this.cachedCount = 0;
    this.rebalanceImpl.destroy();
    await this.client.unregisterConsumer(this.group);
    for (const un of this.unregisterHandlers.splice(0)) un();
    await this.client.shutdown();
    await this.tasks.loopsEnded();
  }
}
