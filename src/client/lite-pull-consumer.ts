import { createLogger, type Logger } from '../common/logger.js';
import { SUB_ALL, ExpressionType, type SubscriptionData } from '../common/subscription.js';
import { PullSysFlag, buildPullSysFlag } from '../common/sysflag.js';
import { validateGroup } from '../common/topic.js';
import { RequestCode, type RemotingCommand } from '../remoting/index.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { ConsumeFromWhere, ConsumeType, MessageModel, type HeartbeatData } from './headers.js';
import type { MessageExt } from './message.js';
import { PullStatus, type MQClientAPI, type PullResult } from './mq-client-api.js';
import { MQClientInstance } from './mq-client-instance.js';
import { defaultLocalOffsetStoreDir, LocalFileOffsetStore, ReadOffsetType, RemoteBrokerOffsetStore, type OffsetStore } from './offset-store.js';
import { ProcessQueue } from './process-queue.js';
import { parseConsumeTimestamp } from './push-consumer.js';
import { AllocateMessageQueueAveragely, type AllocateMessageQueueStrategy } from './rebalance/index.js';
import { RebalanceImpl, RebalanceService, type ConsumeFromWhereValue, type MessageModelValue, type PullRequest, type RebalanceConfig } from './rebalance-impl.js';
import { compareMessageQueue, messageQueueKey, type MessageQueue } from './route.js';
import { buildSubscriptionData } from './subscription.js';
import { ABORTED, raceAbort, sleep } from './wait.js';

/** Settings of a LitePullConsumer; names and defaults are upstream's `DefaultLitePullConsumer` ones. */
export interface LitePullConsumerOptions {
  /** Consumer group: offsets are committed per group; in subscribe mode members share the queues. */
  group: string;
  /** `host:9876;host2:9876`; defaults to the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  /** CLUSTERING (default) or BROADCASTING (offsets in a local file). */
  messageModel?: MessageModelValue;
  /** Where a queue without a committed offset starts. Default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhereValue;
  /** For CONSUME_FROM_TIMESTAMP: ms since the epoch or `yyyyMMddHHmmss`. Default: 30 minutes ago. */
  consumeTimestamp?: number | string;
  /** How subscribe mode shares queues. Default AllocateMessageQueueAveragely. */
  allocateMessageQueueStrategy?: AllocateMessageQueueStrategy;
  /** Commit what poll() returned by itself, every autoCommitIntervalMillis. Default true. */
  autoCommit?: boolean;
  /** Default 5000 ms. */
  autoCommitIntervalMillis?: number;
  /** Messages per pull, hence at most per poll(). Default 10. */
  pullBatchSize?: number;
  /** A queue is not pulled while it holds this many unpolled messages. Default 1000. */
  pullThresholdForQueue?: number;
  /** … or this many MiB. Default 100. */
  pullThresholdSizeForQueue?: number;
  /** No queue is pulled while all of them hold this many unpolled messages. Default 10000. */
  pullThresholdForAll?: number;
  /** Default timeout of poll() (ms). Default 5000. */
  pollTimeoutMillis?: number;
  /** How long the broker holds a pull that found nothing (ms). Default 20000. */
  brokerSuspendMaxTimeMillis?: number;
  /** RPC timeout of such a pull (ms). Default 30000. */
  consumerTimeoutMillisWhenSuspend?: number;
  /** Pause after a failed pull (ms). Default 1000. */
  pullTimeDelayMillsWhenException?: number;
  /** Offsets committed are persisted this often (ms). Default 5000. */
  persistConsumerOffsetInterval?: number;
  /** Default 30000 ms. */
  heartbeatBrokerInterval?: number;
  /** Subscribe mode: rebalance period (ms). Default 20000. */
  rebalanceInterval?: number;
  /** Default 30000 ms. */
  pollNameServerInterval?: number;
  /** BROADCASTING offsets directory. Default `~/.rocketmq_offsets`. */
  localOffsetStoreDir?: string;
  /** Share an MQClientAPI (and its connections); by default the consumer owns one. */
  api?: MQClientAPI;
  /** Request header serialization. Default ROCKETMQ (binary). */
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** IP part of the client id. Default: this machine's first non-internal IPv4 address. */
  clientIP?: string;
  /** Instance part of the client id (default unique in the process). */
  instanceName?: string;
  /** Default: a child of the process logger named lite-pull-consumer. */
  logger?: Logger;
}

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
  /** The consumer group. */
  readonly group: string;
  /** CLUSTERING or BROADCASTING. */
  readonly messageModel: MessageModelValue;
  /** Whether what poll() returns is committed without commit(). */
  readonly autoCommit: boolean;
  private readonly client: MQClientInstance;
  private readonly log: Logger;
  private readonly subscriptionInner = new Map<string, SubscriptionData>();
  private readonly rebalanceImpl: RebalanceLitePullImpl;
  private readonly rebalanceService: RebalanceService;
  private readonly assigned = new Map<string, QueueState>();
  private readonly cache: ConsumeRequest[] = [];
  private pollWaiters: Array<() => void> = [];
  private readonly opts: Required<Pick<LitePullConsumerOptions,
    'autoCommitIntervalMillis' | 'pullBatchSize' | 'pullThresholdForQueue' | 'pullThresholdSizeForQueue' | 'pullThresholdForAll' |
    'pollTimeoutMillis' | 'brokerSuspendMaxTimeMillis' | 'consumerTimeoutMillisWhenSuspend' | 'pullTimeDelayMillsWhenException' |
    'persistConsumerOffsetInterval' | 'heartbeatBrokerInterval' | 'localOffsetStoreDir'>>;
  private readonly consumeFromWhere: ConsumeFromWhereValue;
  private offsetStoreInner?: OffsetStore;
  private mode: Mode = 'none';
  /** Assign mode: the queues asked for, applied at start and on each assign(). */
  private pendingAssign: MessageQueue[] = [];
  private state: State = 'created';
  private nextAutoCommitDeadline = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly loops = new Set<Promise<void>>();
  private readonly heartbeated = new Set<string>();
  private unregisterNotify?: () => void;
  private cachedCount = 0;

  constructor(opts: LitePullConsumerOptions) {
    this.group = opts.group;
    const problem = validateGroup(this.group);
    if (problem) throw new MQClientError(problem, ClientErrorCode.ARGUMENT_ILLEGAL);
    this.messageModel = opts.messageModel ?? MessageModel.CLUSTERING;
    this.autoCommit = opts.autoCommit ?? true;
    this.consumeFromWhere = opts.consumeFromWhere ?? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET;
    this.opts = {
      autoCommitIntervalMillis: opts.autoCommitIntervalMillis ?? 5000,
      pullBatchSize: opts.pullBatchSize ?? 10,
      pullThresholdForQueue: opts.pullThresholdForQueue ?? 1000,
      pullThresholdSizeForQueue: opts.pullThresholdSizeForQueue ?? 100,
      pullThresholdForAll: opts.pullThresholdForAll ?? 10_000,
      pollTimeoutMillis: opts.pollTimeoutMillis ?? 5000,
      brokerSuspendMaxTimeMillis: opts.brokerSuspendMaxTimeMillis ?? 20_000,
      consumerTimeoutMillisWhenSuspend: opts.consumerTimeoutMillisWhenSuspend ?? 30_000,
      pullTimeDelayMillsWhenException: opts.pullTimeDelayMillsWhenException ?? 1000,
      persistConsumerOffsetInterval: opts.persistConsumerOffsetInterval ?? 5000,
      heartbeatBrokerInterval: opts.heartbeatBrokerInterval ?? 30_000,
      localOffsetStoreDir: opts.localOffsetStoreDir ?? defaultLocalOffsetStoreDir(),
    };
    for (const [k, v] of Object.entries(this.opts)) {
      if (typeof v === 'number' && !(v > 0)) throw new MQClientError(`${k} must be positive, got ${v}`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    this.client = new MQClientInstance({
      namesrvAddr: opts.namesrvAddr, api: opts.api, serializeType: opts.serializeType, clientIP: opts.clientIP,
      instanceName: opts.instanceName, pollNameServerInterval: opts.pollNameServerInterval, logger: opts.logger,
    });
    this.log = opts.logger ?? createLogger('lite-pull-consumer', { group: this.group, clientId: this.client.clientId });
    this.client.topicsToRefresh = () => new Set([...this.subscriptionInner.keys(), ...[...this.assigned.values()].map((s) => s.mq.topic)]);
    const cfg: RebalanceConfig = {
      group: this.group, messageModel: this.messageModel, strategy: opts.allocateMessageQueueStrategy ?? new AllocateMessageQueueAveragely(),
      consumeFromWhere: this.consumeFromWhere, consumeTimestamp: parseConsumeTimestamp(opts.consumeTimestamp),
      client: this.client, offsetStore: () => this.offsetStore, log: this.log,
    };
    this.rebalanceImpl = new RebalanceLitePullImpl(cfg, {
      subscriptions: () => this.subscriptionInner,
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
    if (!this.offsetStoreInner) throw new MQClientError(`consumer ${this.group} is not started`, ClientErrorCode.NOT_STARTED);
    return this.offsetStoreInner;
  }

  /** Subscribe mode: consume `topic` (TAG expression `*` or `TagA || TagB`), sharing its queues with the group. */
  subscribe(topic: string, subExpression = SUB_ALL): void {
    if (this.mode === 'assign') throw new MQClientError('subscribe and assign are exclusive: this consumer uses assign()', ClientErrorCode.ARGUMENT_ILLEGAL);
    this.checkNotShutdown();
    this.mode = 'subscribe';
    this.subscriptionInner.set(topic, buildSubscriptionData(topic, subExpression, ExpressionType.TAG));
    if (this.state === 'running') void this.afterSubscriptionChange();
  }

  /** Subscribe mode: stop consuming `topic`. */
  unsubscribe(topic: string): void {
    this.subscriptionInner.delete(topic);
    if (this.state === 'running') void this.afterSubscriptionChange();
  }

  /** Assign mode: consume exactly these queues (all tags), without rebalancing; replaces the previous set. */
  assign(mqs: readonly MessageQueue[]): void {
    if (this.mode === 'subscribe') throw new MQClientError('subscribe and assign are exclusive: this consumer uses subscribe()', ClientErrorCode.ARGUMENT_ILLEGAL);
    this.checkNotShutdown();
    if (mqs.length === 0) throw new MQClientError('assign() needs at least one message queue', ClientErrorCode.ARGUMENT_ILLEGAL);
    this.mode = 'assign';
    this.pendingAssign = [...mqs];
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
    await Promise.all([...this.subscriptionInner.keys()].map((t) => this.client.updateTopicRoute(t).catch(() => undefined)));
    await this.sendHeartbeat();
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
      this.offsetStoreInner = this.messageModel === MessageModel.CLUSTERING
        ? new RemoteBrokerOffsetStore({
          queryConsumerOffset: (mq) => this.withBroker(mq, (addr) => this.client.api.queryConsumerOffset(addr, { consumerGroup: this.group, topic: mq.topic, queueId: mq.queueId })),
          updateConsumerOffset: (mq, offset, oneway) => this.withBroker(mq, (addr) => {
            const h = { consumerGroup: this.group, topic: mq.topic, queueId: mq.queueId, commitOffset: offset };
            return oneway ? this.client.api.updateConsumerOffsetOneway(addr, h) : this.client.api.updateConsumerOffset(addr, h);
          }),
        }, this.log)
        : new LocalFileOffsetStore(this.opts.localOffsetStoreDir, this.clientId, this.group, this.log);
      await this.offsetStoreInner.load();
      this.unregisterNotify = this.client.api.registerRequestHandler(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req: RemotingCommand) => {
        if (req.extFields?.consumerGroup === this.group && this.mode === 'subscribe') this.rebalanceService.wakeup();
        return null;
      });
      const topics = this.mode === 'assign' ? this.pendingAssign.map((mq) => mq.topic) : [...this.subscriptionInner.keys()];
      await Promise.all([...new Set(topics)].map((t) => this.client.updateTopicRoute(t).catch((err: Error) =>
        this.log.warn(`route of topic ${t} not available yet: ${err.message}`))));
      await this.sendHeartbeat();
      this.every(this.opts.heartbeatBrokerInterval, () => this.sendHeartbeat());
      this.every(this.opts.persistConsumerOffsetInterval, () => this.offsetStore.persistAll(this.assignment()));
      this.nextAutoCommitDeadline = Date.now() + this.opts.autoCommitIntervalMillis;
      if (this.mode === 'assign') await this.applyAssign();
      this.rebalanceService.start();
    } catch (err) {
      await this.shutdown().catch(() => undefined);
      throw err;
    }
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    const t = setInterval(() => {
      if (this.state === 'running') fn().catch((err: Error) => this.log.warn(`periodic consumer task failed: ${err.message}`));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private async withBroker<T>(mq: MessageQueue, fn: (addr: string) => Promise<T>): Promise<T> {
    let addr = this.client.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) {
      await this.client.updateTopicRoute(mq.topic);
      addr = this.client.findBrokerAddressInPublish(mq.brokerName);
    }
    if (!addr) throw new MQClientError(`broker ${mq.brokerName} has no master address in the route of topic ${mq.topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
    return fn(addr);
  }

  private heartbeatData(): HeartbeatData {
    return {
      clientID: this.clientId,
      producerDataSet: [],
      consumerDataSet: [{
        groupName: this.group,
        consumeType: ConsumeType.CONSUME_ACTIVELY,
        messageModel: this.messageModel,
        consumeFromWhere: this.consumeFromWhere,
        subscriptionDataSet: [...this.subscriptionInner.values()],
        unitMode: false,
      }],
    };
  }

  private async sendHeartbeat(): Promise<void> {
    for (const a of this.client.allBrokerAddrs()) this.heartbeated.add(a);
    await this.client.sendHeartbeatToAllBrokers(this.heartbeatData());
  }

  private async doRebalance(): Promise<boolean> {
    if (this.state !== 'running' || this.mode !== 'subscribe') return true;
    const balanced = await this.rebalanceImpl.doRebalance();
    if (this.client.allBrokerAddrs().some((a) => !this.heartbeated.has(a))) {
      await this.sendHeartbeat();
      return false;
    }
    return balanced;
  }

  // ---- assigned queues ----

  private addQueue(mq: MessageQueue, pq: ProcessQueue, pullOffset: number): void {
    const st: QueueState = { mq, pq, pullOffset, consumeOffset: pullOffset, seekOffset: -1, paused: false, generation: 0, interrupt: new AbortController() };
    this.assigned.set(messageQueueKey(mq), st);
    const p = this.pullLoop(st).catch((err: Error) => this.log.error({ err }, `pull loop of ${messageQueueKey(mq)} ended: ${err.message}`));
    this.loops.add(p);
    void p.finally(() => this.loops.delete(p));
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
      if (this.cachedCount >= this.opts.pullThresholdForAll || pq.msgCount > this.opts.pullThresholdForQueue || pq.msgSize > maxBytes) {
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
        result = await raceAbort(this.pullKernel(mq, offset, sub), AbortSignal.any([stop, st.interrupt.signal]));
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
            for (const m of result.msgFoundList) m.brokerName = mq.brokerName;
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

  private pullKernel(mq: MessageQueue, offset: number, sub: SubscriptionData): Promise<PullResult> {
    const addr = this.client.findBrokerAddressInSubscribe(mq.brokerName);
    if (!addr) {
      return this.client.updateTopicRoute(mq.topic).then(() => {
        const a = this.client.findBrokerAddressInSubscribe(mq.brokerName);
        if (!a) throw new MQClientError(`broker ${mq.brokerName} has no address in the route of topic ${mq.topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
        return this.pullFrom(a, mq, offset, sub);
      });
    }
    return this.pullFrom(addr, mq, offset, sub);
  }

  private pullFrom(addr: string, mq: MessageQueue, offset: number, sub: SubscriptionData): Promise<PullResult> {
    return this.client.api.pullMessage(addr, {
      consumerGroup: this.group,
      topic: mq.topic,
      queueId: mq.queueId,
      queueOffset: offset,
      maxMsgNums: this.opts.pullBatchSize,
      sysFlag: buildPullSysFlag(false, true, true) | PullSysFlag.FLAG_LITE_PULL_MESSAGE,
      commitOffset: 0,
      suspendTimeoutMillis: this.opts.brokerSuspendMaxTimeMillis,
      subscription: sub.subString,
      subVersion: sub.subVersion,
      expressionType: sub.expressionType,
      brokerName: mq.brokerName,
    }, this.opts.consumerTimeoutMillisWhenSuspend);
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
      const mqs = this.assignment();
      if (this.offsetStore instanceof RemoteBrokerOffsetStore) await Promise.all(mqs.map((mq) => this.offsetStore.persist(mq)));
      else await this.offsetStore.persistAll(mqs);
      return;
    }
    for (const { mq, offset } of offsets) {
      this.stateOf(mq);
      this.offsetStore.updateOffset(mq, offset, false);
    }
    if (this.offsetStore instanceof RemoteBrokerOffsetStore) await Promise.all(offsets.map(({ mq }) => this.offsetStore.persist(mq)));
    else await this.offsetStore.persistAll(this.assignment());
  }

  /** The group's committed offset of `mq` as stored (broker or file); -1 when none. */
  async committed(mq: MessageQueue): Promise<number> {
    this.checkRunning();
    return this.offsetStore.readOffset(mq, ReadOffsetType.READ_FROM_STORE);
  }

  /** The next poll() of `mq` starts at `offset` (between its min and max offset); what was fetched is dropped. */
  async seek(mq: MessageQueue, offset: number): Promise<void> {
    this.checkRunning();
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
    await this.seek(mq, await this.minOffset(mq));
  }

  /** seek() to the queue's max offset (only new messages). */
  async seekToEnd(mq: MessageQueue): Promise<void> {
    await this.seek(mq, await this.maxOffset(mq));
  }

  /** The offset of the first message of `mq` stored at or after `timestamp` (ms). */
  async offsetForTimestamp(mq: MessageQueue, timestamp: number): Promise<number> {
    this.checkRunning();
    return this.withBroker(mq, (addr) => this.client.api.searchOffset(addr, mq.topic, mq.queueId, timestamp));
  }

  private minOffset(mq: MessageQueue): Promise<number> {
    return this.withBroker(mq, (addr) => this.client.api.getMinOffset(addr, mq.topic, mq.queueId));
  }

  private maxOffset(mq: MessageQueue): Promise<number> {
    return this.withBroker(mq, (addr) => this.client.api.getMaxOffset(addr, mq.topic, mq.queueId));
  }

  /** Stops fetching from these queues; poll() holds back what they already fetched until resume(). */
  pause(mqs: readonly MessageQueue[]): void {
    for (const mq of mqs) {
      const st = this.stateOf(mq);
      st.paused = true;
      this.interrupt(st);
    }
  }

  /** Fetches from these queues again. */
  resume(mqs: readonly MessageQueue[]): void {
    for (const mq of mqs) {
      const st = this.stateOf(mq);
      st.paused = false;
      st.wake?.();
    }
    this.notifyPollers();
  }

  /** Whether `mq` is paused. */
  isPaused(mq: MessageQueue): boolean {
    return this.stateOf(mq).paused;
  }

  /** The queues consumed now. */
  assignment(): MessageQueue[] {
    return [...this.assigned.values()].map((s) => s.mq).sort(compareMessageQueue);
  }

  /** The readable queues of `topic` (from the NameServer). */
  async fetchMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.checkRunning();
    await this.client.updateTopicRoute(topic);
    const mqs = this.client.subscribeQueues(topic);
    if (!mqs || mqs.length === 0) throw new MQClientError(`topic ${topic} has no readable queue in its route`, ClientErrorCode.NO_ROUTE);
    return mqs.sort(compareMessageQueue);
  }

  /** Commits (autoCommit), stops fetching, persists offsets, unregisters and closes the connections. */
  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'shutdown';
      return;
    }
    this.state = 'shutdown';
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    await this.rebalanceService.shutdown();
    this.notifyPollers();
    for (const st of this.assigned.values()) st.pq.stopPulling();
    if (this.autoCommit) this.commitConsumed();
    const mqs = this.assignment();
    if (this.offsetStore instanceof RemoteBrokerOffsetStore) await Promise.all(mqs.map((mq) => this.offsetStore.persist(mq)));
    else await this.offsetStore.persistAll(mqs);
    for (const st of this.assigned.values()) st.pq.drop();
    this.assigned.clear();
    this.cache.length = 0;
    this.cachedCount = 0;
    this.rebalanceImpl.destroy();
    await this.client.unregisterConsumer(this.group);
    this.unregisterNotify?.();
    await this.client.shutdown();
    await Promise.all([...this.loops]);
  }
}

interface RebalanceLitePullHooks {
  subscriptions(): ReadonlyMap<string, SubscriptionData>;
  removeUnnecessaryMessageQueue(mq: MessageQueue): Promise<boolean>;
  dispatchPullRequest(request: PullRequest): void;
}

/** The lite pull consumer's side of rebalancing (upstream `RebalanceLitePullImpl`). */
class RebalanceLitePullImpl extends RebalanceImpl {
  constructor(cfg: RebalanceConfig, private readonly hooks: RebalanceLitePullHooks) {
    super(cfg);
  }

  subscriptions(): ReadonlyMap<string, SubscriptionData> {
    return this.hooks.subscriptions();
  }

  isOrder(): boolean {
    return false;
  }

  removeUnnecessaryMessageQueue(mq: MessageQueue): Promise<boolean> {
    return this.hooks.removeUnnecessaryMessageQueue(mq);
  }

  dispatchPullRequest(requests: PullRequest[]): void {
    for (const r of requests) this.hooks.dispatchPullRequest(r);
  }
}
