import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../../common/config-file.js';
import { MessageConst } from '../../common/message-const.js';
import { decodeRecord, RecordPos } from '../../common/message-record.js';
import { readLong } from '../../common/bytes.js';
import { getProperty } from '../../common/properties.js';
import { isReadable } from '../../common/perm.js';
import { ResponseCode, RequestCode } from '../../remoting/codes.js';
import { createRequest } from '../../remoting/command.js';
import type { MessageFilter } from '../../store/get-message-result.js';
import type { PutMessageResult } from '../../store/message-store.js';
import type { BrokerController } from '../broker-controller.js';
import { editProperties, putInputFromRecord, tagsCodeOf } from '../message-util.js';
import { SendMessageBackProcessor } from '../processors/send-back.js';
import {
  ckKey, encodeExtraInfo, fromRecord, keyOf, PopConstants, popRetryTopic, queueKeyOf, reviveTopicOf, toRecord,
  type AckRecord, type CheckPointRecord, type ExtraInfo, type PopCheckPoint,
} from './pop-checkpoint.js';
import { ReviveHeap } from './revive-heap.js';

/** What one POP asks for (upstream `PopMessageRequestHeader`, plus what the proxy decides). */
export interface PopMessageRequest {
  group: string;
  topic: string;
  /** One queue of the topic (a Remoting consumer assigned that queue in POP mode); absent or −1: every queue. */
  queueId?: number;
  /** 1..32. */
  maxMsgNums: number;
  /** How long popped messages stay invisible, ms. */
  invisibleTime: number;
  /** ConsumeQueue/CommitLog filter of the subscription. */
  filter?: MessageFilter;
  /** TAG subscriptions: the tags themselves, checked on the record (tag codes can collide). */
  tags?: ReadonlySet<string>;
  /** Orderly pop: a queue with messages in flight gives out nothing more until they are acked or come back. */
  order: boolean;
  /**
   * Orderly pop: the client's receive attempt (upstream `attemptId`, set by 5.x clients and
   * reused when they retry a receive). A queue blocked by a pop of this same attempt gives its
   * messages again, with new receipts and without counting a delivery.
   */
  attemptId?: string;
  /** How long to wait for a message when none is visible, ms (0 = answer at once). */
  pollTime: number;
  /** Deliveries before a message goes to the group's DLQ (upstream: retryMaxTimes + 1). */
  maxAttempts: number;
  /** The server renews the invisible time itself while this client lives (gRPC auto_renew). */
  renewFor?: string;
  /** Ends the long poll early (the caller went away). */
  signal?: AbortSignal;
}

/** One message handed out. */
export interface PoppedMessage {
  /** The stored record as it is in the CommitLog. */
  record: Buffer;
  /** The topic the record was read from (the POP retry topic for a revived message). */
  realTopic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  /** 1 for the first delivery. */
  deliveryAttempt: number;
  extraInfo: ExtraInfo;
}

export type PopResult =
  | { status: 'FOUND'; messages: PoppedMessage[] }
  | { status: 'NO_MESSAGE' }
  | { status: 'POLLING_FULL' }
  | { status: 'ERROR'; code: number; remark: string };

/** Outcome of an ack or a change of invisible time on one receipt. */
export type PopAckResult =
  | { status: 'OK'; extraInfo?: ExtraInfo }
  | { status: 'EXPIRED' | 'NOT_FOUND' | 'ERROR'; remark: string };

export interface PopServiceOptions {
  /** Unacked messages per group and queue beyond which a queue gives out no more (upstream `popInflightMessageThreshold`). */
  inflightThreshold?: number;
  /** Receives waiting for messages at once; more answer POLLING_FULL (upstream `maxPopPollingSize`). */
  maxPollingWaiters?: number;
  /** How often due check points are looked at, ms. */
  reviveIntervalMs?: number;
}

/** FIFO state of one queue of one group (upstream `ConsumerOrderInfoManager`, simplified). */
interface OrderQueueState {
  /** Check points of the current block: the queue gives out nothing while any lives. */
  live: Set<string>;
  /** Offsets delivered in the current block → acked. */
  pending: Map<number, boolean>;
  /** Where the block's read ended (next offset after everything it scanned). */
  blockEnd: number;
  /** Offsets past the commit point already acked in an earlier block: not delivered again. */
  skip: Set<number>;
  /** Earlier deliveries of offsets not yet committed. */
  attempts: Map<number, number>;
}

interface OrderStateRecord {
  pending: Array<[number, boolean]>;
  end: number;
  skip: number[];
  attempts: Array<[number, number]>;
}

interface Snapshot {
  /** Revive-log offset up to which this snapshot reflects every record. */
  logOffset: number;
  checkpoints: CheckPointRecord[];
  order: Record<string, OrderStateRecord>;
  /** Consume offsets of the queues POP read (`group`, `topic`, queueId, offset). */
  offsets: Array<[string, string, number, number]>;
}

/** One long poll (see `PopMessageService.longPoll`). */
export interface LongPoll {
  /** Topics whose arriving messages wake the poll. */
  watched: string[];
  /** When the poll gives up (epoch ms). */
  deadline: number;
  /** Ends the poll early (the caller went away). */
  signal?: AbortSignal;
  /** Counted under this key while waiting (POLLING_INFO); pops only, as upstream. */
  pollingKey?: string;
}

/** What one look of a long poll saw: something, or nothing yet (`busy`: a queue was being read by another pop). */
export type LongPollLook<T> = { found: T } | { busy?: boolean };

/** Key of the pops waiting on one topic, group and queue (upstream `KeyBuilder.buildPollingKey`). */
function pollingKeyOf(topic: string, group: string, queueId: number): string {
  return `${topic}@${group}@${queueId < 0 ? -1 : queueId}`;
}

interface Waiter {
  topics: string[];
  /** Waits for a busy queue to be let go, rather than for a new message. */
  busy: boolean;
  resolve: () => void;
}

/** How long an auto-renewed receipt stays invisible at a time, and at most in all (upstream proxy: 60 s, 3 h). */
const RENEW_STEP_MS = 60_000;
const RENEW_MAX_MS = 3 * 3600_000;
/** Every n-th pop reads the retry topic first (upstream reads it first with probability 20 %). */
const RETRY_FIRST_EVERY = 5;
/** Longest wait for a queue another pop is reading (it wakes the waiters when done). */
const BUSY_RETRY_MS = 50;

/**
 * POP consumption (upstream `PopMessageProcessor`, `AckMessageProcessor`,
 * `ChangeInvisibleTimeProcessor`, `PopReviveService`), the basis of gRPC consumers.
 *
 * A pop reads a queue from the group's offset, commits the offset at once and records a check
 * point; its messages are invisible until acked or until the invisible time runs out, when the
 * unacked ones are stored again on the group's POP retry topic with reconsumeTimes + 1 and so
 * come back with a higher delivery attempt. A message at the group's maximum goes to
 * `%DLQ%<group>` when it would be delivered again. An orderly pop (FIFO) commits nothing until
 * every message of the block is acked; the queue gives out nothing meanwhile, and unacked
 * messages come back from the same queue, in order.
 *
 * Durability: every check point and ack is appended to the revive log
 * (`rmq_sys_REVIVE_LOG_<cluster>`, in the CommitLog) before the answer goes out, and the live
 * state is snapshotted to `config/popCheckpoint.json` (written atomically) every few seconds
 * and at shutdown. Start-up loads the snapshot and replays the log past it. Memory holds only
 * live check points, bounded by `inflightThreshold` per group and queue.
 */
export class PopMessageService {
  private readonly cks = new Map<string, PopCheckPoint>();
  private readonly heap = new ReviveHeap();
  /** Unacked offsets per group queue. */
  private readonly inflight = new Map<string, number>();
  private readonly orderQueues = new Map<string, OrderQueueState>();
  private readonly queueLocks = new Set<string>();
  /** Locked queues another pop found busy (and now waits for). */
  private readonly contended = new Set<string>();
  private readonly reviving = new Set<string>();
  /** Check point key → index of the offset its revive is storing on the retry topic right now. */
  private readonly reputting = new Map<string, number>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private waiterCount = 0;
  /** Long polls (pops and notifications) between their first look and their answer. */
  private pollsRunning = 0;
  /** Pops waiting per polling key (upstream `PopLongPollingService.pollingMap`), for POLLING_INFO. */
  private readonly pollingNums = new Map<string, number>();
  /** Arrivals per topic, to catch a message that arrives while a long poll is looking. */
  private readonly arrivals = new Map<string, number>();
  /** Group queues POP has read: their offsets go into the snapshot. */
  private readonly poppedQueues = new Map<string, [string, string, number]>();
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private readonly snapshotPath: string;
  private readonly sendBack: SendMessageBackProcessor;
  private readonly inflightThreshold: number;
  private readonly maxWaiters: number;
  private readonly reviveIntervalMs: number;
  private timer?: NodeJS.Timeout;
  private snapshotTimer?: NodeJS.Timeout;
  private popCounter = 0;
  private rotate = 0;
  private dirty = false;
  private running = false;
  /** Whether the client a receipt is renewed for is still connected (set by the proxy). */
  clientAlive: (clientId: string) => boolean = () => false;

  constructor(private readonly broker: BrokerController, private readonly logger: Logger, opts: PopServiceOptions = {}) {
    this.snapshotPath = join(broker.storeConfig.storePathRootDir, 'config', 'popCheckpoint.json');
    this.sendBack = new SendMessageBackProcessor(broker);
    this.inflightThreshold = opts.inflightThreshold ?? 10_000;
    this.maxWaiters = opts.maxPollingWaiters ?? 10_000;
    this.reviveIntervalMs = opts.reviveIntervalMs ?? 100;
  }

  get reviveTopic(): string {
    return reviveTopicOf(this.broker.brokerConfig.brokerClusterName);
  }

  /** Check points in flight (for stats and tests). */
  get inflightCheckPoints(): number {
    return this.cks.size;
  }

  /** Loads the snapshot, replays the revive log past it, and starts reviving. Call once the store runs. */
  async start(): Promise<void> {
    this.broker.topicConfigManager.createGroupSystemTopicIfAbsent(this.reviveTopic, 1);
    const snap = readJsonFile<Snapshot>(this.snapshotPath, (m) => this.logger.warn(m));
    let from = 0;
    if (snap) {
      from = Number(snap.logOffset) || 0;
      for (const rec of snap.checkpoints ?? []) {
        const ck = fromRecord(rec);
        if (ck) this.addCheckPoint(ck);
      }
      for (const [qk, o] of Object.entries(snap.order ?? {})) {
        const st = this.orderState(qk);
        // The snapshot's own record is exact; a check point's acked flags also count offsets moved
        // on by a change of invisible time, which are not acked.
        for (const [off, acked] of o.pending ?? []) st.pending.set(off, acked === true);
        st.blockEnd = o.end ?? st.blockEnd;
        for (const s of o.skip ?? []) st.skip.add(s);
        for (const [off, n] of o.attempts ?? []) st.attempts.set(off, n);
      }
      for (const [group, topic, queueId, offset] of snap.offsets ?? []) {
        const cur = this.broker.consumerOffsetManager.queryOffset(group, topic, queueId);
        if (offset > cur) this.broker.consumerOffsetManager.commitOffset(group, topic, queueId, offset);
        this.poppedQueues.set(`${group}\u0001${topic}\u0001${queueId}`, [group, topic, queueId]);
      }
    }
    const replayed = await this.replay(from);
    if (snap || replayed > 0) {
      this.logger.info(`POP state loaded: ${this.cks.size} check points in flight (snapshot at revive-log offset ${from}, ${replayed} log records replayed)`);
    }
    this.running = true;
    this.timer = setInterval(() => this.reviveDue(), this.reviveIntervalMs);
    this.timer.unref();
    this.snapshotTimer = setInterval(() => this.persist(), this.broker.brokerConfig.flushConsumerOffsetInterval);
    this.snapshotTimer.unref();
  }

  /** Stops reviving, ends every long poll, waits for log writes and writes the snapshot. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    for (const set of this.waiters.values()) for (const w of set) w.resolve();
    await Promise.allSettled([...this.pendingWrites]);
    this.persist(true);
  }

  // ---- pop ----

  async pop(req: PopMessageRequest): Promise<PopResult> {
    const b = this.broker;
    if (!this.running) return { status: 'ERROR', code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: 'the broker is not serving POP now (starting or shutting down)' };
    if (!isReadable(b.brokerConfig.brokerPermission)) {
      return { status: 'ERROR', code: ResponseCode.NO_PERMISSION, remark: `the broker[${b.brokerConfig.brokerName}] pop message is forbidden` };
    }
    const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(req.group);
    if (!group) return { status: 'ERROR', code: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, remark: `subscription group [${req.group}] does not exist; create it with mqadmin updateSubGroup or enable autoCreateSubscriptionGroup` };
    if (!group.consumeEnable) return { status: 'ERROR', code: ResponseCode.NO_PERMISSION, remark: `subscription group [${req.group}] has consumption disabled (consumeEnable=false)` };
    const tc = b.topicConfigManager.get(req.topic);
    if (!tc) return { status: 'ERROR', code: ResponseCode.TOPIC_NOT_EXIST, remark: `topic[${req.topic}] not exist, apply first please! Create it with mqadmin updateTopic.` };
    if (!isReadable(tc.perm)) return { status: 'ERROR', code: ResponseCode.NO_PERMISSION, remark: `the topic[${req.topic}] pop message is forbidden` };
    if (req.queueId !== undefined && req.queueId >= tc.readQueueNums) {
      return { status: 'ERROR', code: ResponseCode.INVALID_PARAMETER, remark: `queueId[${req.queueId}] is illegal, topic:[${req.topic}] topicConfig.readQueueNums:[${tc.readQueueNums}]` };
    }
    const retryTopic = popRetryTopic(req.group, req.topic);
    const r = await this.longPoll<PoppedMessage[]>({
      watched: [req.topic, retryTopic], deadline: Date.now() + Math.max(0, req.pollTime), signal: req.signal,
      pollingKey: pollingKeyOf(req.topic, req.group, req.queueId ?? -1),
    }, async () => {
      const { messages, busy } = await this.popOnce(req, tc.readQueueNums, retryTopic);
      return messages.length > 0 ? { found: messages } : { busy };
    });
    if (r === 'TIMEOUT') return { status: 'NO_MESSAGE' };
    if (r === 'FULL') return { status: 'POLLING_FULL' };
    return { status: 'FOUND', messages: r.found };
  }

  private async popOnce(req: PopMessageRequest, readQueueNums: number, retryTopic: string): Promise<{ messages: PoppedMessage[]; busy: boolean }> {
    const out: PoppedMessage[] = [];
    let busy = false;
    // As upstream: a pop of one queue still takes the group's POP retry messages from every retry queue.
    const one = req.queueId !== undefined && req.queueId >= 0;
    const normal = { retry: false, queues: one ? [req.queueId!] : Array.from({ length: readQueueNums }, (_, i) => i) };
    const sources = [normal];
    if (!req.order) {
      const retry = { retry: true, queues: this.broker.messageStore.queueIdsOf(retryTopic) };
      if (this.popCounter++ % RETRY_FIRST_EVERY === 0) sources.unshift(retry);
      else sources.push(retry);
    }
    const start = this.rotate++;
    // One pop time for every queue of this pop, as upstream's: the POP response carries it once
    // in its header, and upstream clients rebuild each receipt from that.
    const popTime = Date.now();
    for (const src of sources) {
      const n = src.queues.length;
      for (let i = 0; i < n && out.length < req.maxMsgNums; i++) {
        if (await this.popQueue(req, src.retry, src.queues[(start + i) % n]!, out, popTime) === 'BUSY') busy = true;
      }
    }
    return { messages: out, busy };
  }

  /**
   * Whether a pop of `group` would find a message of `topic` now (upstream NOTIFICATION's
   * `hasMsgFromTopic` / `hasMsgFromQueue`): on queue `queueId`, or with −1 on any readable
   * queue, then on any queue of the group's POP retry topic. As the pop itself: an orderly pop
   * reads no retry topic (upstream's notification looks there all the same), an orderly queue
   * whose block is still out has nothing to give, and neither has a queue at the in-flight
   * threshold. A queue the group never read counts from its first message, as upstream.
   */
  hasMessage(group: string, topic: string, readQueueNums: number, queueId: number, order: boolean, attemptId?: string): boolean {
    const queues = queueId >= 0 ? [queueId] : Array.from({ length: readQueueNums }, (_, i) => i);
    if (queues.some((q) => this.queueHasMessage(group, topic, false, q, order, attemptId))) return true;
    if (order) return false;
    return this.broker.messageStore.queueIdsOf(popRetryTopic(group, topic)).some((q) => this.queueHasMessage(group, topic, true, q, false));
  }

  private queueHasMessage(group: string, topic: string, retry: boolean, queueId: number, order: boolean, attemptId?: string): boolean {
    const qk = queueKeyOf({ group, topic, retry, queueId });
    if (order && this.orderBlocked(this.orderQueues.get(qk), attemptId)) return false;
    if ((this.inflight.get(qk) ?? 0) >= this.inflightThreshold) return false;
    const realTopic = retry ? popRetryTopic(group, topic) : topic;
    const store = this.broker.messageStore;
    let offset = this.broker.consumerOffsetManager.queryOffset(group, realTopic, queueId);
    if (offset < 0) offset = store.getMinOffsetInQueue(realTopic, queueId);
    return store.getMaxOffsetInQueue(realTopic, queueId) > offset;
  }

  /**
   * Where a group starts on a queue it never read (upstream `getInitOffset`, initMode MAX): a retry
   * topic from its start, a queue whose first message is still in memory from 0, any other from
   * its last message. The start is committed at once: worked out again at the next pop, "the
   * last message" would have moved past whatever arrived meanwhile.
   */
  private consumeOffset(group: string, topic: string, queueId: number, retry: boolean): number {
    const off = this.broker.consumerOffsetManager.queryOffset(group, topic, queueId);
    if (off >= 0) return off;
    const store = this.broker.messageStore;
    let init: number;
    if (retry) init = store.getMinOffsetInQueue(topic, queueId);
    else if (store.getMinOffsetInQueue(topic, queueId) <= 0 && !store.checkInDiskByConsumeOffset(topic, queueId, 0)) init = 0;
    else init = Math.max(0, store.getMaxOffsetInQueue(topic, queueId) - 1);
    this.commit(group, topic, queueId, init);
    return init;
  }

  /** Pops one queue into `out`; BUSY when another pop holds the queue. */
  private async popQueue(req: PopMessageRequest, retry: boolean, queueId: number, out: PoppedMessage[], popTime: number): Promise<'BUSY' | undefined> {
    const b = this.broker;
    const realTopic = retry ? popRetryTopic(req.group, req.topic) : req.topic;
    const qk = queueKeyOf({ group: req.group, topic: req.topic, retry, queueId });
    if (this.queueLocks.has(qk)) {
      this.contended.add(qk);
      return 'BUSY';
    }
    let ost = req.order ? this.orderQueues.get(qk) : undefined;
    const again = ost !== undefined && ost.live.size > 0 && !this.orderBlocked(ost, req.attemptId);
    if (ost && ost.live.size > 0 && !again) return undefined;
    // The block given again leaves the in-flight count as it was.
    if (!again && (this.inflight.get(qk) ?? 0) >= this.inflightThreshold) return undefined;
    this.queueLocks.add(qk);
    try {
      if (again) {
        await this.takeBackOrderBlock(ost!);
        ost = this.orderQueues.get(qk);
      }
      const offset = this.consumeOffset(req.group, realTopic, queueId, retry);
      const want = req.maxMsgNums - out.length;
      const r = await b.messageStore.getMessage(realTopic, queueId, offset, want + (ost?.skip.size ?? 0), req.filter);
      if (r.status === 'OFFSET_TOO_SMALL' || r.status === 'OFFSET_OVERFLOW_BADLY' || r.status === 'OFFSET_OVERFLOW_ONE' && offset !== r.nextBeginOffset) {
        this.commit(req.group, realTopic, queueId, r.nextBeginOffset);
        return undefined;
      }
      if (r.status !== 'FOUND' && r.status !== 'NO_MATCHED_MESSAGE' && r.status !== 'MESSAGE_WAS_REMOVING') return undefined;
      const picked: Array<{ record: Buffer; queueOffset: number; commitLogOffset: number; attempt: number }> = [];
      // Everything before `limit` that is not picked is consumed (filtered out, or moved to the DLQ).
      let limit = r.nextBeginOffset;
      for (const record of r.buffers) {
        const queueOffset = readLong(record, RecordPos.QUEUEOFFSET);
        if (picked.length >= want) {
          limit = queueOffset;
          break;
        }
        if (ost?.skip.has(queueOffset)) continue;
        const ext = decodeRecord(record);
        if (req.tags) {
          const tag = getProperty(ext.properties, MessageConst.TAGS);
          if (tag === undefined || !req.tags.has(tag)) continue; // as upstream's proxy: a hash-code collision is consumed, not delivered
        }
        const earlier = req.order ? (ost?.attempts.get(queueOffset) ?? 0) : ext.reconsumeTimes;
        if (earlier >= req.maxAttempts) {
          // Delivered as often as the group allows: to the DLQ instead (upstream proxy, at receive time).
          if (await this.toDeadLetterQueue(req.group, ext.commitLogOffset, ext.properties, req.topic)) continue;
          limit = queueOffset; // keep it for a later pop: the DLQ write failed
          break;
        }
        picked.push({ record, queueOffset, commitLogOffset: ext.commitLogOffset, attempt: earlier + 1 });
      }
      if (limit < offset) limit = offset;
      if (picked.length === 0) {
        if (limit > offset) {
          this.commit(req.group, realTopic, queueId, limit);
          if (ost) this.clearOrderBelow(ost, limit);
        }
        return undefined;
      }
      const end = limit;
      const ck: PopCheckPoint = {
        group: req.group, topic: req.topic, retry, queueId, startOffset: picked[0]!.queueOffset, popTime,
        invisibleTime: req.invisibleTime, offsets: picked.map((p) => p.queueOffset), acked: picked.map(() => false), ackedCount: 0,
        order: req.order, reviveAt: popTime + req.invisibleTime,
      };
      if (req.order) {
        ck.attempts = picked.map((p) => p.attempt - 1);
        if (req.attemptId !== undefined) ck.attemptId = req.attemptId;
      }
      if (req.renewFor) ck.renewFor = req.renewFor;
      while (this.cks.has(keyOf(ck))) { ck.popTime++; ck.reviveAt++; }
      this.addCheckPoint(ck);
      if (req.order) {
        const st = this.orderState(qk);
        st.blockEnd = end;
        for (const o of ck.offsets) st.pending.set(o, false);
      } else {
        this.commit(req.group, realTopic, queueId, end);
      }
      const reviveQid = req.order ? PopConstants.ORDER_REVIVE_QUEUE : PopConstants.REVIVE_QUEUE;
      for (const p of picked) {
        out.push({
          record: p.record, realTopic, queueId, queueOffset: p.queueOffset, commitLogOffset: p.commitLogOffset, deliveryAttempt: p.attempt,
          extraInfo: {
            ckQueueOffset: ck.startOffset, popTime: ck.popTime, invisibleTime: ck.invisibleTime, reviveQid,
            topicType: retry ? PopConstants.TOPIC_TYPE_RETRY_V1 : PopConstants.TOPIC_TYPE_NORMAL,
            brokerName: b.brokerConfig.brokerName, queueId, queueOffset: p.queueOffset,
          },
        });
      }
      let bytes = 0;
      for (const p of picked) bytes += p.record.length;
      b.brokerStatsManager.incGroupGet(req.group, realTopic, picked.length, bytes);
      b.brokerStatsManager.incGroupCkNums(req.group, req.topic, 1);
      const rec = toRecord(ck, false);
      await this.append(PopConstants.CK_TAG, rec);
    } finally {
      this.queueLocks.delete(qk);
      // Pops that found this queue busy wait for it: wake them (only them: no message arrived).
      if (this.contended.delete(qk)) this.wakeBusyWaiters(realTopic);
    }
    return undefined;
  }

  /** The record of a message to DLQ, via CONSUMER_SEND_MSG_BACK with delay level −1 (as upstream's proxy). */
  async toDeadLetterQueue(group: string, commitLogOffset: number, properties: string, originTopic: string): Promise<boolean> {
    const req = createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      extFields: {
        offset: commitLogOffset, group, delayLevel: -1,
        originMsgId: getProperty(properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '',
        originTopic, maxReconsumeTimes: 0,
      },
    });
    try {
      const res = await this.sendBack.process(req);
      if (res.code === ResponseCode.SUCCESS) return true;
      this.logger.warn(`moving a message of ${originTopic} to the DLQ of ${group} failed: ${res.remark ?? res.code}`);
    } catch (err) {
      this.logger.warn(`moving a message of ${originTopic} to the DLQ of ${group} failed: ${(err as Error).message}`);
    }
    return false;
  }

  private commit(group: string, topic: string, queueId: number, offset: number): void {
    this.broker.consumerOffsetManager.commitOffset(group, topic, queueId, offset);
    const k = `${group}\u0001${topic}\u0001${queueId}`;
    if (!this.poppedQueues.has(k)) this.poppedQueues.set(k, [group, topic, queueId]);
    this.dirty = true;
  }

  // ---- ack / change invisible time ----

  /** ACK_MESSAGE for one receipt. A receipt whose message already came back is EXPIRED. */
  async ack(group: string, topic: string, info: ExtraInfo): Promise<PopAckResult> {
    const found = this.find(group, topic, info);
    if ('status' in found) return found;
    const { ck, index } = found;
    // Its revive is storing this very message again: it will be delivered again, so the ack is
    // too late — answered as an expired receipt, as upstream's proxy answers an ack past the
    // handle's invisible time, rather than OK followed by a redelivery.
    if (this.beingRevived(ck, index)) return EXPIRED_IN_REVIVE;
    if (!ck.acked[index]) {
      this.markAcked(ck, [index], true);
      this.broker.brokerStatsManager.incGroupAckNums(group, topic, 1);
      await this.append(PopConstants.ACK_TAG, this.ackRecord(ck, [ck.offsets[index]!], false));
    }
    return { status: 'OK' };
  }

  /**
   * CHANGE_MESSAGE_INVISIBLETIME: a new single-message check point from now for `invisibleTime`,
   * then the old receipt acked; returns the new receipt (upstream `ChangeInvisibleTimeProcessor`).
   */
  async changeInvisibleTime(group: string, topic: string, info: ExtraInfo, invisibleTime: number): Promise<PopAckResult> {
    const found = this.find(group, topic, info);
    if ('status' in found) return found;
    const { ck, index } = found;
    if (ck.acked[index]) return { status: 'NOT_FOUND', remark: 'the message of this receipt handle was acked already' };
    // Hidden again while its revive stores it for redelivery, it would come back twice.
    if (this.beingRevived(ck, index)) return EXPIRED_IN_REVIVE;
    const offset = ck.offsets[index]!;
    const now = Date.now();
    const next: PopCheckPoint = {
      group, topic: ck.topic, retry: ck.retry, queueId: ck.queueId, startOffset: offset, popTime: now, invisibleTime,
      offsets: [offset], acked: [false], ackedCount: 0, order: ck.order, reviveAt: now + invisibleTime,
    };
    if (ck.order) {
      next.attempts = [ck.attempts?.[index] ?? 0];
      if (ck.attemptId !== undefined) next.attemptId = ck.attemptId;
    }
    while (this.cks.has(keyOf(next))) { next.popTime++; next.reviveAt++; }
    this.addCheckPoint(next);
    this.markAcked(ck, [index], false);
    // Upstream counts the old receipt's ack and the new check point.
    this.broker.brokerStatsManager.incGroupAckNums(group, topic, 1);
    this.broker.brokerStatsManager.incGroupCkNums(group, topic, 1);
    await this.append(PopConstants.CK_TAG, toRecord(next, false));
    await this.append(PopConstants.ACK_TAG, this.ackRecord(ck, [offset], true));
    return {
      status: 'OK',
      extraInfo: { ...info, ckQueueOffset: offset, popTime: next.popTime, invisibleTime, queueOffset: offset },
    };
  }

  private beingRevived(ck: PopCheckPoint, index: number): boolean {
    return this.reputting.get(keyOf(ck)) === index;
  }

  private find(group: string, topic: string, info: ExtraInfo): { ck: PopCheckPoint; index: number } | PopAckResult {
    const retry = info.topicType === PopConstants.TOPIC_TYPE_RETRY_V1;
    const ck = this.cks.get(ckKey(group, topic, retry, info.queueId, info.ckQueueOffset, info.popTime));
    if (!ck) {
      if (info.popTime + info.invisibleTime <= Date.now()) return { status: 'EXPIRED', remark: 'the receipt handle has expired: its message became visible again' };
      return { status: 'NOT_FOUND', remark: 'no message in flight for this receipt handle (acked already, or not of this group and topic)' };
    }
    const index = ck.offsets.indexOf(info.queueOffset);
    if (index < 0) return { status: 'NOT_FOUND', remark: `the receipt handle names offset ${info.queueOffset}, which its pop did not hand out` };
    return { ck, index };
  }

  private ackRecord(ck: PopCheckPoint, offsets: number[], internal: boolean): AckRecord {
    const rec: AckRecord = { c: ck.group, t: ck.topic, r: ck.retry ? 1 : 0, q: ck.queueId, so: ck.startOffset, pt: ck.popTime, d: offsets.map((o) => o - ck.startOffset) };
    if (internal) rec.x = 1;
    return rec;
  }

  // ---- in-memory state ----

  private addCheckPoint(ck: PopCheckPoint): void {
    const key = keyOf(ck);
    if (this.cks.has(key)) return;
    this.cks.set(key, ck);
    const qk = queueKeyOf(ck);
    this.inflight.set(qk, (this.inflight.get(qk) ?? 0) + ck.offsets.length - ck.ackedCount);
    if (ck.order) {
      const st = this.orderState(qk);
      st.live.add(key);
      for (let i = 0; i < ck.offsets.length; i++) {
        if (!st.pending.has(ck.offsets[i]!)) st.pending.set(ck.offsets[i]!, ck.acked[i]!);
      }
    }
    this.heap.push(ck.reviveAt, key);
    this.dirty = true;
  }

  /** Ticks offsets off; `real` acks (by the consumer) also count for a FIFO block. */
  private markAcked(ck: PopCheckPoint, indexes: number[], real: boolean): void {
    const qk = queueKeyOf(ck);
    let n = 0;
    for (const i of indexes) {
      if (ck.acked[i]) continue;
      ck.acked[i] = true;
      ck.ackedCount++;
      n++;
      if (real && ck.order) this.orderQueues.get(qk)?.pending.set(ck.offsets[i]!, true);
    }
    this.inflight.set(qk, Math.max(0, (this.inflight.get(qk) ?? 0) - n));
    this.dirty = true;
    if (ck.ackedCount >= ck.offsets.length) this.removeCheckPoint(ck);
  }

  private removeCheckPoint(ck: PopCheckPoint): void {
    const key = keyOf(ck);
    if (!this.cks.delete(key)) return;
    const qk = queueKeyOf(ck);
    const left = ck.offsets.length - ck.ackedCount;
    const n = Math.max(0, (this.inflight.get(qk) ?? 0) - left);
    if (n === 0) this.inflight.delete(qk);
    else this.inflight.set(qk, n);
    this.dirty = true;
    if (ck.order) {
      const st = this.orderQueues.get(qk);
      if (st) {
        st.live.delete(key);
        if (st.live.size === 0) this.endOrderBlock(ck, st);
      }
    }
  }

  /**
   * Whether a FIFO queue gives nothing to an orderly pop of `attemptId` (upstream
   * `OrderInfo.needBlock`): it does while a check point of its block lives, unless every one of
   * them was popped by that same attempt and none is being revived right now.
   */
  private orderBlocked(st: OrderQueueState | undefined, attemptId: string | undefined): boolean {
    if (!st || st.live.size === 0) return false;
    if (attemptId === undefined || attemptId === '') return true;
    for (const key of st.live) {
      if (this.cks.get(key)?.attemptId !== attemptId || this.reviving.has(key)) return true;
    }
    return false;
  }

  /**
   * Ends a FIFO block so that a pop of the attempt that took it is given it again: its check
   * points close without counting a delivery (their messages were not consumed, the answer
   * carrying them was lost), the queue's offset stays at the first message not acked, and the
   * receipts of the block no longer ack anything (upstream's ack of an older pop time fails too).
   */
  private async takeBackOrderBlock(st: OrderQueueState): Promise<void> {
    // All closed before the first write, so that no revive starts on one of them meanwhile.
    const records: AckRecord[] = [];
    for (const key of [...st.live]) {
      const ck = this.cks.get(key);
      if (!ck) continue;
      const unacked = unackedIndexes(ck);
      if (unacked.length > 0) records.push(this.ackRecord(ck, unacked.map((i) => ck.offsets[i]!), true));
      this.markAcked(ck, unacked, false);
    }
    for (const rec of records) await this.append(PopConstants.ACK_TAG, rec);
  }

  private orderState(qk: string): OrderQueueState {
    let st = this.orderQueues.get(qk);
    if (!st) {
      st = { live: new Set(), pending: new Map(), blockEnd: 0, skip: new Set(), attempts: new Map() };
      this.orderQueues.set(qk, st);
    }
    return st;
  }

  /**
   * A FIFO block is over (every check point of the queue acked or come back): the offset moves
   * to the first message not acked, which is given out again first; acked messages after it are
   * remembered and skipped.
   */
  private endOrderBlock(ck: PopCheckPoint, st: OrderQueueState): void {
    const realTopic = ck.retry ? popRetryTopic(ck.group, ck.topic) : ck.topic;
    const delivered = [...st.pending.keys()].sort((a, b) => a - b);
    const firstUnacked = delivered.find((o) => st.pending.get(o) !== true);
    let commitTo = firstUnacked ?? Math.max(st.blockEnd, (delivered[delivered.length - 1] ?? -1) + 1);
    if (firstUnacked !== undefined) {
      for (const o of delivered) if (o > firstUnacked && st.pending.get(o) === true) st.skip.add(o);
    }
    // Acked messages right at the commit point need no skipping: move past them.
    while (st.skip.has(commitTo)) {
      st.skip.delete(commitTo);
      commitTo++;
    }
    st.pending.clear();
    const cur = this.broker.consumerOffsetManager.queryOffset(ck.group, realTopic, ck.queueId);
    if (commitTo > cur) this.commit(ck.group, realTopic, ck.queueId, commitTo);
    this.clearOrderBelow(st, commitTo);
    if (st.live.size === 0 && st.skip.size === 0 && st.attempts.size === 0) this.orderQueues.delete(queueKeyOf(ck));
    this.notifyArrival(realTopic);
  }

  private clearOrderBelow(st: OrderQueueState, offset: number): void {
    for (const o of st.skip) if (o < offset) st.skip.delete(o);
    for (const o of st.attempts.keys()) if (o < offset) st.attempts.delete(o);
  }

  // ---- revive ----

  /** Check points whose invisible time ran out: renew (auto_renew clients alive) or bring their messages back. */
  private reviveDue(): void {
    const now = Date.now();
    while (true) {
      const at = this.heap.peekTime();
      if (at === undefined || at > now) break;
      const key = this.heap.pop()!;
      const ck = this.cks.get(key);
      if (!ck || ck.reviveAt !== at || this.reviving.has(key)) continue;
      if (ck.renewFor !== undefined && now - ck.popTime < RENEW_MAX_MS && this.clientAlive(ck.renewFor)) {
        ck.reviveAt = now + RENEW_STEP_MS;
        this.heap.push(ck.reviveAt, key);
        continue;
      }
      this.reviving.add(key);
      const p = this.revive(ck).catch((err: Error) => {
        this.logger.error({ err }, 'reviving a POP check point failed; retrying in 1 s');
        ck.reviveAt = Date.now() + 1000;
        this.heap.push(ck.reviveAt, key);
      }).finally(() => this.reviving.delete(key));
      this.track(p);
    }
    // Acked check points leave their heap entries behind: rebuild when they dominate.
    if (this.heap.size > 1024 && this.heap.size > 4 * this.cks.size) {
      this.heap.clear();
      for (const [k, c] of this.cks) this.heap.push(c.reviveAt, k);
    }
  }

  /**
   * Upstream `PopReviveService`: unacked messages of an expired check point are stored again
   * on `%RETRY%<group>_<topic>` with reconsumeTimes + 1 (FIFO: they stay where they are and
   * count an attempt), then the check point is closed with an ack record.
   */
  private async revive(ck: PopCheckPoint): Promise<void> {
    const unacked = unackedIndexes(ck);
    if (ck.order) {
      const st = this.orderState(queueKeyOf(ck));
      for (const i of unacked) {
        const o = ck.offsets[i]!;
        st.attempts.set(o, (ck.attempts?.[i] ?? 0) + 1);
      }
    } else {
      for (const i of unacked) {
        if (ck.acked[i] || !this.cks.has(keyOf(ck))) continue;
        this.reputting.set(keyOf(ck), i);
        let ok: boolean;
        try {
          ok = await this.reputToRetry(ck, ck.offsets[i]!);
        } finally {
          this.reputting.delete(keyOf(ck));
        }
        if (!ok) throw new Error(`storing the message at offset ${ck.offsets[i]} of ${ck.topic} again failed`);
        // One offset at a time: an ack that arrives meanwhile still counts for the rest.
        this.markAcked(ck, [i], false);
      }
    }
    const offsets = unacked.map((i) => ck.offsets[i]!);
    if (this.cks.has(keyOf(ck))) this.markAcked(ck, unacked, false);
    if (offsets.length > 0) await this.append(PopConstants.ACK_TAG, this.ackRecord(ck, offsets, true));
  }

  private async reputToRetry(ck: PopCheckPoint, offset: number): Promise<boolean> {
    const store = this.broker.messageStore;
    const realTopic = ck.retry ? popRetryTopic(ck.group, ck.topic) : ck.topic;
    const e = store.findConsumeQueue(realTopic, ck.queueId)?.getEntry(offset);
    const rec = e ? store.commitLog.getDataSync(e.phyOffset, e.size) : undefined;
    if (!rec) {
      this.logger.warn(`POP revive: the message at ${realTopic}/${ck.queueId}/${offset} is no longer in the store; dropped`);
      return true;
    }
    const { ext, input } = putInputFromRecord(rec);
    const retryTopic = popRetryTopic(ck.group, ck.topic);
    this.broker.topicConfigManager.createRetryTopicIfAbsent(`${ck.group}_${ck.topic}`, 1);
    input.topic = retryTopic;
    input.queueId = 0;
    input.reconsumeTimes = ext.reconsumeTimes + 1;
    input.properties = editProperties(ext.properties, (p) => {
      if (!p.has(MessageConst.RETRY_TOPIC)) p.set(MessageConst.RETRY_TOPIC, ck.topic);
      if (!p.has(POP_FIRST_TIME)) p.set(POP_FIRST_TIME, String(ck.popTime));
      p.delete(MessageConst.DELAY_TIME_LEVEL);
    });
    input.tagsCode = tagsCodeOf(input.properties);
    const r = await store.putMessage(input);
    return r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT';
  }

  // ---- long polling ----

  /**
   * The long polling of POP and NOTIFICATION (upstream `PopLongPollingService`, one instance per
   * processor there; one machinery here). `look` runs at once; while it finds nothing and the
   * deadline is ahead, the poll sleeps until a message arrives on one of `watched` (or, when
   * `look` met a queue another pop was reading, until that pop lets go) and looks again.
   * FULL when too many polls wait already (upstream POLLING_FULL); TIMEOUT when the deadline
   * passed, the signal aborted or the service stopped.
   */
  async longPoll<T>(p: LongPoll, look: () => Promise<LongPollLook<T>> | LongPollLook<T>): Promise<{ found: T } | 'TIMEOUT' | 'FULL'> {
    // Arrivals are counted only while a poll runs: the count is what tells it to look again.
    this.pollsRunning++;
    try {
      while (true) {
        const seen = p.watched.map((t) => this.arrivals.get(t) ?? 0);
        const r = await look();
        if ('found' in r) return r;
        const left = p.deadline - Date.now();
        if (left <= 0 || p.signal?.aborted || !this.running) return 'TIMEOUT';
        if (p.watched.some((t, i) => (this.arrivals.get(t) ?? 0) !== seen[i])) {
          // A message arrived while looking: look again — after a turn of the event loop, so that
          // concurrent polls never chase each other in microtasks alone.
          await new Promise((res) => setImmediate(res));
          continue;
        }
        if (this.waiterCount >= this.maxWaiters) return 'FULL';
        // Queues another pop was reading may hold messages: wait for it to let go (it wakes us), not for new ones.
        const busy = r.busy === true;
        await this.waitArrival(p.watched, busy ? Math.min(left, BUSY_RETRY_MS) : left, p.signal, busy, p.pollingKey);
      }
    } finally {
      if (--this.pollsRunning === 0) this.arrivals.clear();
    }
  }

  /**
   * Pops waiting for a message of `topic` for `group` on `queueId` (−1: pops of every queue), as
   * POLLING_INFO reports them (upstream counts the POP processor's polling map only).
   */
  pollingNum(topic: string, group: string, queueId: number): number {
    return this.pollingNums.get(pollingKeyOf(topic, group, queueId)) ?? 0;
  }

  /** Called for every message dispatched to a ConsumeQueue: wakes the polls waiting on its topic. */
  notifyMessageArriving(topic: string): void {
    // Waiters belong to running polls: with none, a message costs no lookup here.
    if (this.pollsRunning === 0) return;
    this.arrivals.set(topic, (this.arrivals.get(topic) ?? 0) + 1);
    const set = this.waiters.get(topic);
    if (set) for (const w of [...set]) w.resolve();
  }

  private notifyArrival(topic: string): void {
    this.notifyMessageArriving(topic);
  }

  private wakeBusyWaiters(topic: string): void {
    const set = this.waiters.get(topic);
    if (set) for (const w of [...set]) if (w.busy) w.resolve();
  }

  private waitArrival(topics: string[], ms: number, signal: AbortSignal | undefined, busy: boolean, pollingKey: string | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const w: Waiter = {
        topics,
        busy,
        resolve: () => {
          if (timer === undefined) return;
          clearTimeout(timer);
          timer = undefined;
          this.waiterCount--;
          if (pollingKey !== undefined) {
            const n = (this.pollingNums.get(pollingKey) ?? 1) - 1;
            if (n > 0) this.pollingNums.set(pollingKey, n);
            else this.pollingNums.delete(pollingKey);
          }
          for (const t of topics) {
            const set = this.waiters.get(t);
            set?.delete(w);
            if (set?.size === 0) this.waiters.delete(t);
          }
          signal?.removeEventListener('abort', w.resolve);
          resolve();
        },
      };
      timer = setTimeout(w.resolve, ms);
      this.waiterCount++;
      if (pollingKey !== undefined) this.pollingNums.set(pollingKey, (this.pollingNums.get(pollingKey) ?? 0) + 1);
      for (const t of topics) {
        let set = this.waiters.get(t);
        if (!set) {
          set = new Set();
          this.waiters.set(t, set);
        }
        set.add(w);
      }
      signal?.addEventListener('abort', w.resolve, { once: true });
    });
  }

  // ---- durability ----

  private track<T>(p: Promise<T>): Promise<T> {
    this.pendingWrites.add(p);
    void p.finally(() => this.pendingWrites.delete(p)).catch(() => undefined);
    return p;
  }

  private append(tag: string, body: CheckPointRecord | AckRecord): Promise<PutMessageResult | undefined> {
    const props = `${MessageConst.TAGS}\u0001${tag}\u0002`;
    const store = this.broker.messageStore;
    const p = store.putMessage({
      topic: this.reviveTopic, queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: store.storeHost,
      reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(JSON.stringify(body)), properties: props,
      tagsCode: tagsCodeOf(props), waitStoreMsgOK: true,
    }).then((r) => {
      if (r.status !== 'PUT_OK' && r.status !== 'FLUSH_DISK_TIMEOUT') {
        this.logger.warn(`writing a POP ${tag} record to ${this.reviveTopic} failed (${r.status}); the state stays in memory and in the next snapshot`);
        return undefined;
      }
      return r;
    }, (err: Error) => {
      this.logger.warn(`writing a POP ${tag} record failed: ${err.message}`);
      return undefined;
    });
    return this.track(p);
  }

  /** Replays revive-log records from `from`; returns how many were read. */
  private async replay(from: number): Promise<number> {
    const store = this.broker.messageStore;
    const topic = this.reviveTopic;
    let offset = Math.max(from, store.getMinOffsetInQueue(topic, 0));
    const max = store.getMaxOffsetInQueue(topic, 0);
    let n = 0;
    while (offset < max) {
      const r = await store.getMessage(topic, 0, offset, 32);
      if (r.buffers.length === 0) {
        if (r.nextBeginOffset <= offset) break;
        offset = r.nextBeginOffset;
        continue;
      }
      for (const b of r.buffers) {
        n++;
        try {
          const ext = decodeRecord(b);
          const tag = getProperty(ext.properties, MessageConst.TAGS);
          const body = JSON.parse(ext.body.toString('utf8')) as CheckPointRecord | AckRecord;
          if (tag === PopConstants.CK_TAG) this.replayCheckPoint(body as CheckPointRecord);
          else if (tag === PopConstants.ACK_TAG) this.replayAck(body as AckRecord);
        } catch (err) {
          this.logger.warn(`skipping an unreadable revive-log record: ${(err as Error).message}`);
        }
      }
      offset = Math.max(r.nextBeginOffset, offset + r.buffers.length);
    }
    return n;
  }

  private replayCheckPoint(rec: CheckPointRecord): void {
    const ck = fromRecord(rec);
    if (!ck || this.cks.has(keyOf(ck))) return;
    this.addCheckPoint(ck);
    if (!ck.order) {
      // The offset commit may not have reached consumerOffset.json before a crash.
      const realTopic = ck.retry ? popRetryTopic(ck.group, ck.topic) : ck.topic;
      const next = ck.offsets[ck.offsets.length - 1]! + 1;
      if (this.broker.consumerOffsetManager.queryOffset(ck.group, realTopic, ck.queueId) < next) this.commit(ck.group, realTopic, ck.queueId, next);
    } else {
      const st = this.orderState(queueKeyOf(ck));
      st.blockEnd = Math.max(st.blockEnd, ck.offsets[ck.offsets.length - 1]! + 1);
    }
  }

  private replayAck(rec: AckRecord): void {
    if (!Array.isArray(rec?.d)) return;
    const ck = this.cks.get(ckKey(rec.c, rec.t, rec.r === 1, rec.q, rec.so, rec.pt));
    if (!ck) return;
    const idx = rec.d.map((d) => ck.offsets.indexOf(rec.so + d)).filter((i) => i >= 0);
    this.markAcked(ck, idx, rec.x !== 1);
  }

  /** Writes the snapshot when something changed (always with `force`). */
  persist(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    const order: Record<string, OrderStateRecord> = {};
    for (const [qk, st] of this.orderQueues) {
      order[qk] = { pending: [...st.pending], end: st.blockEnd, skip: [...st.skip], attempts: [...st.attempts] };
    }
    const offsets: Snapshot['offsets'] = [];
    for (const [group, topic, queueId] of this.poppedQueues.values()) {
      const o = this.broker.consumerOffsetManager.queryOffset(group, topic, queueId);
      if (o >= 0) offsets.push([group, topic, queueId, o]);
    }
    const snap: Snapshot = {
      logOffset: this.broker.messageStore.getMaxOffsetInQueue(this.reviveTopic, 0),
      checkpoints: [...this.cks.values()].map((ck) => toRecord(ck, true)),
      order, offsets,
    };
    try {
      writeFileAtomic(this.snapshotPath, JSON.stringify(snap));
    } catch (err) {
      this.dirty = true;
      this.logger.error(`writing ${this.snapshotPath} failed: ${(err as Error).message}`);
    }
  }
}

/** An ack or change of invisible time that came while the revive was storing its message again. */
const EXPIRED_IN_REVIVE: PopAckResult = { status: 'EXPIRED', remark: 'the receipt handle has expired: its message is being stored for redelivery' };

/** Property carrying the time of a message's first pop (upstream `MessageConst.PROPERTY_FIRST_POP_TIME`). */
const POP_FIRST_TIME = '1ST_POP_TIME';

export { encodeExtraInfo };

/** Indexes into `ck.offsets` of the messages not acked yet. */
function unackedIndexes(ck: PopCheckPoint): number[] {
  const out: number[] = [];
  for (let i = 0; i < ck.offsets.length; i++) if (!ck.acked[i]) out.push(i);
  return out;
}
