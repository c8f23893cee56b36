import type { Logger } from '../common/logger.js';
import type { SubscriptionData } from '../common/subscription.js';
import { MessageRequestMode, type AssignedQueue, type MessageQueueAssignment } from '../common/message-request-mode.js';
import { selectBrokerAddr } from '../common/route.js';
import { isRetryTopic, RETRY_GROUP_TOPIC_PREFIX } from '../common/topic.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { ConsumeFromWhere, MessageModel } from './headers.js';
import type { MQClientInstance } from './mq-client-instance.js';
import { ReadOffsetType, type OffsetStore } from './offset-store.js';
import { PopProcessQueue } from './pop-process-queue.js';
import { ProcessQueue } from './process-queue.js';
import type { AllocateMessageQueueStrategy } from './rebalance/index.js';
import { compareMessageQueue, messageQueueKey, type MessageQueue } from './route.js';

/** CLUSTERING or BROADCASTING. */
export type MessageModelValue = (typeof MessageModel)[keyof typeof MessageModel];
/** CONSUME_FROM_LAST_OFFSET, CONSUME_FROM_FIRST_OFFSET or CONSUME_FROM_TIMESTAMP. */
export type ConsumeFromWhereValue = (typeof ConsumeFromWhere)[keyof typeof ConsumeFromWhere];

/** One assigned queue: where to pull next, and the messages pulled from it. */
export interface PullRequest {
  mq: MessageQueue;
  pq: ProcessQueue;
  nextOffset: number;
}

/** One queue assigned in POP mode: the broker keeps its offset, the consumer pops it (upstream `PopRequest`). */
export interface PopRequest {
  /** queueId −1: every queue of the broker. */
  mq: MessageQueue;
  pq: PopProcessQueue;
  /** Where the group starts on a queue it never read (upstream `ConsumeInitMode`: 0 MIN, 1 MAX). */
  initMode: number;
}

/** How long the broker may take to answer QUERY_ASSIGNMENT (upstream `QUERY_ASSIGNMENT_TIMEOUT`). */
const QUERY_ASSIGNMENT_TIMEOUT = 3000;

/** What every rebalance needs to know about its consumer. */
export interface RebalanceConfig {
  group: string;
  messageModel: MessageModelValue;
  strategy: AllocateMessageQueueStrategy;
  consumeFromWhere: ConsumeFromWhereValue;
  /** For CONSUME_FROM_TIMESTAMP: ms since the epoch. */
  consumeTimestamp: number;
  client: MQClientInstance;
  offsetStore: () => OffsetStore;
  log: Logger;
}

/**
 * Assigns a consumer its queues (upstream `RebalanceImpl`): per subscribed topic, BROADCASTING
 * takes every readable queue; CLUSTERING lists the queues and the group's members (both
 * sorted) and keeps the strategy's share. Queues that left are dropped (their offsets
 * persisted); new ones get a ProcessQueue and a start offset (§12.3), then a pull loop.
 * Orderly consumers take a queue only once its broker lock is held.
 */
export abstract class RebalanceImpl {
  /** `messageQueueKey` → queue and its ProcessQueue. */
  readonly processQueueTable = new Map<string, { mq: MessageQueue; pq: ProcessQueue }>();
  /** `messageQueueKey` → queue assigned in POP mode and its PopProcessQueue (upstream `popProcessQueueTable`). */
  readonly popProcessQueueTable = new Map<string, { mq: MessageQueue; pq: PopProcessQueue }>();

  constructor(protected readonly cfg: RebalanceConfig) {}

  /** The topics to balance and their subscriptions. */
  abstract subscriptions(): ReadonlyMap<string, SubscriptionData>;
  /** Whether queues must be locked on the broker before they are taken (orderly consumers). */
  abstract isOrder(): boolean;
  /** Lets a queue go; false keeps it for another try next round (orderly: still consuming). */
  abstract removeUnnecessaryMessageQueue(mq: MessageQueue, pq: ProcessQueue): Promise<boolean>;
  /** Starts pulling the new queues. */
  abstract dispatchPullRequest(requests: PullRequest[]): void;
  /**
   * Whether `topic` is balanced here (upstream `clientRebalance`); false asks the broker
   * (QUERY_ASSIGNMENT), which may answer POP for queues shared with other consumers.
   */
  clientRebalance(_topic: string): boolean {
    return true;
  }
  /** Starts popping newly assigned POP-mode queues (only consumers that let the broker assign use it). */
  dispatchPopPullRequest(_requests: PopRequest[]): void {
    // Nothing by default.
  }
  /** Lets a POP-mode queue go; its messages in hand come back after their invisible time. */
  async removeUnnecessaryPopMessageQueue(_mq: MessageQueue, _pq: PopProcessQueue): Promise<boolean> {
    return true;
  }
  /**
   * Subscribes (true) or drops (false) the POP retry topic of `topic`: a topic switched from POP
   * back to PULL still has messages in it to consume (upstream `updateMessageQueueAssignment`).
   */
  popRetrySubscription(_retryTopic: string, _subscribe: boolean): void {
    // Nothing by default.
  }
  /** Called after a topic's assignment changed. */
  messageQueueChanged(_topic: string, _mqAll: readonly MessageQueue[], _mqDivided: readonly MessageQueue[]): void {
    // Nothing by default.
  }

  /**
   * One rebalance over every subscribed topic; true when the result is what the strategy asked
   * for (false: some queue could not be locked, or a route is still missing — try again soon).
   */
  async doRebalance(): Promise<boolean> {
    let balanced = true;
    const subs = this.subscriptions();
    for (const topic of subs.keys()) {
      try {
        const ok = this.clientRebalance(topic) ? await this.rebalanceByTopic(topic) : await this.rebalanceByBroker(topic);
        if (!ok) balanced = false;
      } catch (err) {
        balanced = false;
        this.cfg.log.warn(`rebalance of topic ${topic} for group ${this.cfg.group} failed: ${(err as Error).message}`);
      }
    }
    await this.truncateMessageQueueNotMyTopic(subs);
    return balanced;
  }

  private async rebalanceByTopic(topic: string): Promise<boolean> {
    const { client, group } = this.cfg;
    let mqSet = client.subscribeQueues(topic);
    if (!mqSet) {
      await client.updateTopicRoute(topic).catch(() => undefined);
      mqSet = client.subscribeQueues(topic);
    }
    if (!mqSet) {
      if (!isRetryTopic(topic)) this.cfg.log.warn(`doRebalance, ${group}, but the topic[${topic}] not exist.`);
      await this.updateProcessQueueTableInRebalance(topic, [], this.isOrder());
      return false;
    }
    let allocated: MessageQueue[];
    if (this.cfg.messageModel === MessageModel.BROADCASTING) {
      allocated = mqSet;
    } else {
      const cidAll = await client.findConsumerIdList(topic, group);
      if (!cidAll) return false;
      const mqAll = [...mqSet].sort(compareMessageQueue);
      cidAll.sort();
      try {
        allocated = this.cfg.strategy.allocate(group, client.clientId, mqAll, cidAll);
      } catch (err) {
        this.cfg.log.error(`allocate message queue exception. strategy name: ${this.cfg.strategy.name}: ${(err as Error).message}`);
        return false;
      }
    }
    const changed = await this.updateProcessQueueTableInRebalance(topic, allocated, this.isOrder());
    if (changed) {
      this.cfg.log.info(`rebalanced ${group} ${topic}: ${allocated.length} of ${mqSet.length} queues (${this.cfg.strategy.name})`);
      this.messageQueueChanged(topic, mqSet, allocated);
    }
    const want = new Set(allocated.map(messageQueueKey));
    const working = this.workingKeys(topic);
    return want.size === working.size && [...want].every((k) => working.has(k));
  }

  private workingKeys(topic: string): Set<string> {
    const out = new Set<string>();
    for (const [k, v] of this.processQueueTable) if (v.mq.topic === topic && !v.pq.dropped) out.add(k);
    for (const [k, v] of this.popProcessQueueTable) if (v.mq.topic === topic && !v.pq.dropped) out.add(k);
    return out;
  }

  /**
   * QUERY_ASSIGNMENT to one of the topic's brokers, picked at random (upstream
   * `MQClientInstance.queryAssignment`); undefined when there is no valid answer this round.
   */
  async queryAssignment(topic: string): Promise<MessageQueueAssignment[] | undefined> {
    const { client } = this.cfg;
    if (!client.route(topic)) await client.updateTopicRoute(topic).catch(() => undefined);
    const brokers = client.route(topic)?.brokerDatas ?? [];
    const bd = brokers[Math.floor(Math.random() * brokers.length)];
    const addr = bd && selectBrokerAddr(bd);
    if (!addr) return undefined;
    return client.api.queryAssignment(addr, {
      topic, consumerGroup: this.cfg.group, clientId: client.clientId, strategyName: this.cfg.strategy.name, messageModel: this.cfg.messageModel,
    }, QUERY_ASSIGNMENT_TIMEOUT);
  }

  /**
   * Upstream `getRebalanceResultFromBroker` + `updateMessageQueueAssignment`: the broker says which
   * queues to take and how; PULL ones get a ProcessQueue and a pull loop, POP ones a
   * PopProcessQueue and a pop loop. True when what runs is what the broker assigned.
   */
  private async rebalanceByBroker(topic: string): Promise<boolean> {
    let assignments: MessageQueueAssignment[] | undefined;
    try {
      assignments = await this.queryAssignment(topic);
    } catch (err) {
      this.cfg.log.error(`allocate message queue exception. strategy name: ${this.cfg.strategy.name}, ex: ${(err as Error).message}`);
      return false;
    }
    // No valid result: keep what runs.
    if (!assignments) return false;
    const pull: MessageQueue[] = [];
    const pop: MessageQueue[] = [];
    for (const a of assignments) (a.mode === MessageRequestMode.POP ? pop : pull).push(toMessageQueue(a.messageQueue));
    if (!isRetryTopic(topic)) {
      // The group's POP retry topic as the broker names it (upstream `KeyBuilder.buildPopRetryTopic`, V1).
      const retryTopic = `${RETRY_GROUP_TOPIC_PREFIX}${this.cfg.group}_${topic}`;
      if (pop.length === 0 && pull.length > 0) this.popRetrySubscription(retryTopic, true);
      else if (pop.length > 0 && pull.length === 0) this.popRetrySubscription(retryTopic, false);
    }
    let changed = await this.updateProcessQueueTableInRebalance(topic, pull, this.isOrder());
    if (await this.updatePopProcessQueueTable(topic, pop)) changed = true;
    if (changed) {
      this.cfg.log.info(`broker rebalanced result changed. allocateMessageQueueStrategyName=${this.cfg.strategy.name}, group=${this.cfg.group}, topic=${topic}, `
        + `clientId=${this.cfg.client.clientId}, pull=${pull.map(messageQueueKey).join(',')}, pop=${pop.map(messageQueueKey).join(',')}`);
      this.messageQueueChanged(topic, [...pull, ...pop], [...pull, ...pop]);
    }
    const want = new Set([...pull, ...pop].map(messageQueueKey));
    const working = this.workingKeys(topic);
    return want.size === working.size && [...want].every((k) => working.has(k));
  }

  /** The POP half of upstream `updateMessageQueueAssignment`: drops what left (or whose pop loop stalled), adds what joined. */
  private async updatePopProcessQueueTable(topic: string, mqs: readonly MessageQueue[]): Promise<boolean> {
    let changed = false;
    const want = new Map(mqs.map((mq) => [messageQueueKey(mq), mq]));
    for (const [k, { mq, pq }] of [...this.popProcessQueueTable]) {
      if (mq.topic !== topic) continue;
      if (want.has(k) && !pq.isPullExpired()) continue;
      if (want.has(k)) this.cfg.log.error(`[BUG]doRebalance, ${this.cfg.group}, try remove unnecessary pop mq, ${k}, because pop is pause, so try to fixed it`);
      pq.drop();
      if (await this.removeUnnecessaryPopMessageQueue(mq, pq)) {
        this.popProcessQueueTable.delete(k);
        changed = true;
        this.cfg.log.info(`doRebalance, ${this.cfg.group}, remove unnecessary pop mq, ${k}`);
      }
    }
    const requests: PopRequest[] = [];
    const initMode = this.cfg.consumeFromWhere === ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET ? 0 : 1;
    for (const [k, mq] of want) {
      if (this.popProcessQueueTable.has(k)) continue;
      const pq = new PopProcessQueue();
      this.popProcessQueueTable.set(k, { mq, pq });
      requests.push({ mq, pq, initMode });
      changed = true;
      this.cfg.log.info(`doRebalance, ${this.cfg.group}, add a new pop mq, ${k}`);
    }
    if (requests.length > 0) this.dispatchPopPullRequest(requests);
    return changed;
  }

  /** Drops what left `mqSet`, adds what joined it; true when anything changed. */
  private async updateProcessQueueTableInRebalance(topic: string, mqSet: readonly MessageQueue[], isOrder: boolean): Promise<boolean> {
    let changed = false;
    const want = new Map(mqSet.map((mq) => [messageQueueKey(mq), mq]));
    for (const [k, { mq, pq }] of [...this.processQueueTable]) {
      if (mq.topic !== topic || want.has(k)) continue;
      pq.drop();
      if (await this.removeUnnecessaryMessageQueue(mq, pq)) {
        this.processQueueTable.delete(k);
        changed = true;
        this.cfg.log.info(`doRebalance, ${this.cfg.group}, remove unnecessary mq ${k}`);
      }
    }
    const requests: PullRequest[] = [];
    for (const [k, mq] of want) {
      const existing = this.processQueueTable.get(k);
      if (existing && !existing.pq.dropped) continue;
      if (existing) {
        // A queue given up earlier but kept while a listener call went on (orderly) comes back.
        // It starts afresh only once that call is over and its offset persisted: started beside
        // the call, it would pull the very messages in hand from the last committed offset and
        // consume them a second time, at once. Until then the rebalance counts as unfinished
        // and is retried.
        if (!(await this.removeUnnecessaryMessageQueue(mq, existing.pq))) continue;
        this.processQueueTable.delete(k);
      }
      if (isOrder && !(await this.lock(mq))) {
        this.cfg.log.warn(`doRebalance, ${this.cfg.group}, add a new mq failed, ${k}, because lock failed`);
        continue;
      }
      this.cfg.offsetStore().removeOffset(mq);
      const pq = new ProcessQueue();
      if (isOrder) {
        pq.locked = true;
        pq.lastLockTimestamp = Date.now();
      }
      let nextOffset: number;
      try {
        nextOffset = await this.computePullFromWhere(mq);
      } catch (err) {
        this.cfg.log.warn(`doRebalance, ${this.cfg.group}, compute offset of ${k} failed: ${(err as Error).message}`);
        if (isOrder) await this.unlock(mq, true);
        continue;
      }
      this.processQueueTable.set(k, { mq, pq });
      requests.push({ mq, pq, nextOffset });
      changed = true;
      this.cfg.log.info(`doRebalance, ${this.cfg.group}, add a new mq, ${k}, offset ${nextOffset}`);
    }
    if (requests.length > 0) this.dispatchPullRequest(requests);
    return changed;
  }

  private async truncateMessageQueueNotMyTopic(subs: ReadonlyMap<string, SubscriptionData>): Promise<void> {
    for (const [k, { mq, pq }] of [...this.processQueueTable]) {
      if (subs.has(mq.topic)) continue;
      pq.drop();
      if (await this.removeUnnecessaryMessageQueue(mq, pq)) this.processQueueTable.delete(k);
    }
    for (const [k, { mq, pq }] of [...this.popProcessQueueTable]) {
      if (subs.has(mq.topic)) continue;
      pq.drop();
      if (await this.removeUnnecessaryPopMessageQueue(mq, pq)) this.popProcessQueueTable.delete(k);
    }
  }

  /**
   * Start offset of a queue newly assigned (upstream `computePullFromWhereWithException`): the
   * stored offset; for a group without one, by consumeFromWhere — LAST: 0 for the retry topic,
   * else the max offset; FIRST: 0 (moved to the min offset by OFFSET_ILLEGAL); TIMESTAMP: the
   * retry topic's max, else the first offset stored at or after consumeTimestamp.
   */
  async computePullFromWhere(mq: MessageQueue): Promise<number> {
    const { client, consumeFromWhere } = this.cfg;
    const last = await this.cfg.offsetStore().readOffset(mq, ReadOffsetType.READ_FROM_STORE);
    if (last >= 0) return last;
    if (last !== -1) throw new MQClientError(`Failed to query consume offset of ${messageQueueKey(mq)} from the offset store`, ClientErrorCode.BAD_RESPONSE, true);
    const addr = client.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) throw new MQClientError(`broker ${mq.brokerName} has no master address`, ClientErrorCode.NO_BROKER_ADDRESS, true);
    switch (consumeFromWhere) {
      case ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET:
        return 0;
      case ConsumeFromWhere.CONSUME_FROM_TIMESTAMP:
        if (isRetryTopic(mq.topic)) return client.api.getMaxOffset(addr, mq.topic, mq.queueId);
        return client.api.searchOffset(addr, mq.topic, mq.queueId, this.cfg.consumeTimestamp);
      default:
        if (isRetryTopic(mq.topic)) return 0;
        return client.api.getMaxOffset(addr, mq.topic, mq.queueId);
    }
  }

  /** LOCK_BATCH_MQ for one queue; marks its ProcessQueue locked. */
  async lock(mq: MessageQueue): Promise<boolean> {
    const addr = this.cfg.client.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) return false;
    try {
      const locked = await this.cfg.client.api.lockBatchMQ(addr, { consumerGroup: this.cfg.group, clientId: this.cfg.client.clientId, mqSet: [mq] }, 1000);
      const ok = locked.some((m) => messageQueueKey(m) === messageQueueKey(mq));
      const entry = this.processQueueTable.get(messageQueueKey(mq));
      if (entry && ok) {
        entry.pq.locked = true;
        entry.pq.lastLockTimestamp = Date.now();
      }
      return ok;
    } catch (err) {
      this.cfg.log.warn(`lockBatchMQ of ${messageQueueKey(mq)} failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** Renews the locks of every held queue, broker by broker (upstream `lockAll`, every 20 s). */
  async lockAll(): Promise<void> {
    const byBroker = new Map<string, Array<{ mq: MessageQueue; pq: ProcessQueue }>>();
    for (const e of this.processQueueTable.values()) {
      if (e.pq.dropped) continue;
      let l = byBroker.get(e.mq.brokerName);
      if (!l) byBroker.set(e.mq.brokerName, (l = []));
      l.push(e);
    }
    await Promise.all([...byBroker].map(async ([brokerName, entries]) => {
      const addr = this.cfg.client.findBrokerAddressInPublish(brokerName);
      if (!addr) return;
      try {
        const locked = new Set((await this.cfg.client.api.lockBatchMQ(addr, {
          consumerGroup: this.cfg.group, clientId: this.cfg.client.clientId, mqSet: entries.map((e) => e.mq),
        }, 1000)).map(messageQueueKey));
        const now = Date.now();
        for (const e of entries) {
          if (locked.has(messageQueueKey(e.mq))) {
            e.pq.locked = true;
            e.pq.lastLockTimestamp = now;
          } else {
            e.pq.locked = false;
            this.cfg.log.warn(`the message queue locking was lost, group: ${this.cfg.group} ${messageQueueKey(e.mq)}`);
          }
        }
      } catch (err) {
        this.cfg.log.warn(`lockBatchMQ to ${addr} failed: ${(err as Error).message}`);
      }
    }));
  }

  /** UNLOCK_BATCH_MQ for one queue (failures only logged). */
  async unlock(mq: MessageQueue, oneway: boolean): Promise<void> {
    const addr = this.cfg.client.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) return;
    await this.cfg.client.api.unlockBatchMQ(addr, { consumerGroup: this.cfg.group, clientId: this.cfg.client.clientId, mqSet: [mq] }, 1000, oneway)
      .catch((err: Error) => this.cfg.log.warn(`unlockBatchMQ of ${messageQueueKey(mq)} failed: ${err.message}`));
  }

  /** Unlocks every held queue (shutdown). */
  async unlockAll(): Promise<void> {
    await Promise.all([...this.processQueueTable.values()].map((e) => this.unlock(e.mq, false).then(() => { e.pq.locked = false; })));
  }

  /** Stops every pull and pop loop and forgets every queue (shutdown). */
  destroy(): void {
    for (const { pq } of this.processQueueTable.values()) pq.drop();
    this.processQueueTable.clear();
    for (const { pq } of this.popProcessQueueTable.values()) pq.drop();
    this.popProcessQueueTable.clear();
  }

  /** The queues currently popped (POP mode, assigned by the broker). */
  popAssignment(): MessageQueue[] {
    return [...this.popProcessQueueTable.values()].filter((e) => !e.pq.dropped).map((e) => e.mq).sort(compareMessageQueue);
  }

  /** The queues currently consumed. */
  assignment(): MessageQueue[] {
    return [...this.processQueueTable.values()].filter((e) => !e.pq.dropped).map((e) => e.mq).sort(compareMessageQueue);
  }
}

/**
 * Runs a consumer's rebalance (upstream `RebalanceService`): at start, every `waitInterval`
 * (20 s), and when woken (NOTIFY_CONSUMER_IDS_CHANGED). Runs never overlap and are at least
 * `minInterval` (1 s) apart; an unbalanced result is retried after `minInterval`, doubling up to
 * `waitInterval` while it stays unbalanced.
 */
export class RebalanceService {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private pending = false;
  private stopped = true;
  private lastRun = 0;
  private retryDelay: number;
  private runs = 0;

  constructor(
    private readonly run: () => Promise<boolean>,
    private readonly waitInterval = 20_000,
    private readonly minInterval = 1000,
    private readonly log?: Logger,
  ) {
    this.retryDelay = minInterval;
  }

  /** Number of rebalances completed. */
  get completedRuns(): number {
    return this.runs;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a rebalance now (or as soon as the minimum gap allows). */
  wakeup(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.schedule(Math.max(0, this.minInterval - (Date.now() - this.lastRun)));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), ms);
    this.timer.unref();
  }

  private fire(): void {
    if (this.stopped || this.running) return;
    this.running = (async () => {
      let balanced = false;
      try {
        balanced = await this.run();
      } catch (err) {
        this.log?.warn(`rebalance failed: ${(err as Error).message}`);
      }
      this.lastRun = Date.now();
      this.runs++;
      this.running = undefined;
      if (this.pending) {
        this.pending = false;
        this.schedule(this.minInterval);
      } else if (balanced) {
        this.retryDelay = this.minInterval;
        this.schedule(this.waitInterval);
      } else {
        this.schedule(this.retryDelay);
        this.retryDelay = Math.min(this.waitInterval, this.retryDelay * 2);
      }
    })();
  }

  /** Stops scheduling and waits for a run in progress. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

function toMessageQueue(q: AssignedQueue): MessageQueue {
  return { topic: q.topic, brokerName: q.brokerName, queueId: q.queueId };
}
