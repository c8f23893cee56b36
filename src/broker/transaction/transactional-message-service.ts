import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { MessageConst } from '../../common/message-const.js';
import { getProperty } from '../../common/properties.js';
import { SystemTopic } from '../../common/topic.js';
import { MessageSysFlag, resetTransactionValue } from '../../common/sysflag.js';
import { encodeRecord, type MessageExt, type StoredRecord } from '../../common/message-record.js';
import { readLong } from '../../common/bytes.js';
import { javaParseInt, javaParseLong } from '../../common/java.js';
import { createRequest } from '../../remoting/command.js';
import { RequestCode, ResponseCode, SerializeType } from '../../remoting/codes.js';
import { CQ_STORE_UNIT_SIZE } from '../../store/consume-queue.js';
import type { PutMessageInput, PutMessageResult } from '../../store/message-store.js';
import type { BrokerController } from '../broker-controller.js';
import {
  delayLevelRefusal, editProperties, parseDelayLevel, putInputFromRecord, tagsCodeOf, timerRefusal, toScheduleTopic, toTimerTopic,
  type PutRefusal,
} from '../message-util.js';
import { TransactionMetrics } from './transaction-metrics.js';

/** Internal group whose offsets on the half and op topics are the check progress (upstream). */
export const TRANS_CHECK_GROUP = 'CID_RMQ_SYS_TRANS';
/** Tag of op messages that remove a half message. */
const REMOVE_TAG = 'd';
/** Longest check round (upstream MAX_PROCESS_TIME_LIMIT). */
const MAX_ROUND_MS = 60_000;

/** A refused END_TRANSACTION: the response code and remark (none where upstream sends none), and what the broker logs. */
export type EndTransactionResult = { ok: true } | { ok: false; code: number; remark?: string; detail?: string };

const FIND_HALF_FAILED = 'Find prepared transaction message failed';

/**
 * Transaction messages (upstream `TransactionalMessageServiceImpl`, `TransactionalMessageCheckService`).
 * A half message is stored on RMQ_SYS_TRANS_HALF_TOPIC (invisible to consumers) with its real
 * destination in properties. END_TRANSACTION commit copies it to the real topic once; commit
 * and rollback both write an op record (tag `d`, body `<halfQueueOffset>,`) on
 * RMQ_SYS_TRANS_OP_HALF_TOPIC. Halves left open past the immunity time are re-appended with
 * their check count + 1 and checked back with CHECK_TRANSACTION_STATE on a live channel of the
 * producer group; past transactionCheckMax they are moved to TRANS_CHECK_MAX_TIME_TOPIC.
 * Everything lives in the store and consumerOffset.json, so it survives restarts.
 */
export class TransactionalMessageService {
  private timer?: NodeJS.Timeout;
  private metricsTimer?: NodeJS.Timeout;
  private checking = false;
  /** Open halves per real topic (upstream `getTransactionMetrics`), in config/transactionMetrics. */
  readonly metrics: TransactionMetrics;
  /** Half queue offsets already resolved (from op records), at or past the check cursor. */
  private readonly resolved = new Set<number>();
  private opScanned = 0;
  /** Half queue offset → offset of its re-appended copy (checks in this run). */
  private readonly movedTo = new Map<number, number>();

  constructor(private readonly broker: BrokerController, private readonly logger: Logger) {
    // Loaded at construction, as upstream's TransactionalMessageServiceImpl does.
    this.metrics = new TransactionMetrics(join(broker.storeConfig.storePathRootDir, 'config', 'transactionMetrics'), logger);
    this.metrics.load();
  }

  start(): void {
    const interval = this.broker.brokerConfig.transactionCheckInterval;
    this.timer = setInterval(() => void this.check(), interval);
    this.timer.unref();
    // As upstream TransactionMetricsFlushService.
    this.metricsTimer = setInterval(() => this.persistMetrics(), this.broker.brokerConfig.transactionMetricFlushInterval);
    this.metricsTimer.unref();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.persistMetrics();
  }

  private persistMetrics(): void {
    try {
      this.metrics.persist();
    } catch (err) {
      this.logger.error({ err }, `could not persist ${SystemTopic.TRANS_HALF_TOPIC} metrics`);
    }
  }

  /** A half message was stored (upstream SendMessageProcessor): one more open transaction on its real topic. */
  onHalfStored(input: PutMessageInput): void {
    const realTopic = getProperty(input.properties, MessageConst.REAL_TOPIC);
    if (realTopic) this.metrics.addAndGet(realTopic, 1);
  }

  /** Turns a PREPARED send into a half message (upstream `parseHalfMessageInner`). */
  toHalf(input: PutMessageInput): void {
    const uniqKey = getProperty(input.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    input.properties = editProperties(input.properties, (p) => {
      p.set(MessageConst.REAL_TOPIC, input.topic);
      p.set(MessageConst.REAL_QUEUE_ID, String(input.queueId));
      if (uniqKey) p.set(MessageConst.TRANSACTION_ID, uniqKey);
    });
    input.sysFlag = resetTransactionValue(input.sysFlag, MessageSysFlag.TRANSACTION_NOT_TYPE);
    input.topic = SystemTopic.TRANS_HALF_TOPIC;
    input.queueId = 0;
    input.tagsCode = tagsCodeOf(input.properties);
  }

  /**
   * END_TRANSACTION: commit (8) stores the message on its real topic, rollback (12) discards it;
   * both mark the half resolved. A half already resolved is left alone, so a commit is applied once.
   */
  async endTransaction(h: {
    producerGroup: string; tranStateTableOffset: number; commitLogOffset: number; commitOrRollback: number; fromTransactionCheck: boolean; msgId?: string;
  }): Promise<EndTransactionResult> {
    const store = this.broker.messageStore;
    const rec = store.lookMessageByOffset(h.commitLogOffset);
    // The remarks are upstream's (EndTransactionProcessor#checkPrepareMessage), so clients that match on them keep working.
    if (!rec) return { ok: false, code: ResponseCode.SYSTEM_ERROR, remark: FIND_HALF_FAILED, detail: `no message at CommitLog offset ${h.commitLogOffset}` };
    const { ext, input } = putInputFromRecord(rec);
    if (ext.topic !== SystemTopic.TRANS_HALF_TOPIC) {
      return { ok: false, code: ResponseCode.SYSTEM_ERROR, remark: FIND_HALF_FAILED, detail: `the message at CommitLog offset ${h.commitLogOffset} is on ${ext.topic}, not a half message` };
    }
    if (!h.fromTransactionCheck && this.pastImmunity(ext)) {
      // As upstream: ILLEGAL_OPERATION with no remark; the check-back decides the transaction.
      const what = h.commitOrRollback === MessageSysFlag.TRANSACTION_COMMIT_TYPE ? 'commit' : 'rollback';
      return {
        ok: false, code: ResponseCode.ILLEGAL_OPERATION,
        detail: `Message ${what} fail [producer end]. currentTimeMillis - bornTime > checkImmunityTime, msgId=${h.msgId ?? ''},commitLogOffset=${h.commitLogOffset}, wait check`,
      };
    }
    const pgroup = getProperty(ext.properties, MessageConst.PRODUCER_GROUP);
    if (pgroup !== h.producerGroup) {
      return { ok: false, code: ResponseCode.SYSTEM_ERROR, remark: 'The producer group wrong', detail: `the half message has ${pgroup}, the request ${h.producerGroup}` };
    }
    if (ext.queueOffset !== h.tranStateTableOffset) {
      return {
        ok: false, code: ResponseCode.SYSTEM_ERROR, remark: 'The transaction state table offset wrong',
        detail: `the half message has ${ext.queueOffset}, the request ${h.tranStateTableOffset}`,
      };
    }
    this.scanOps();
    // A half re-appended for a check-back lives on as its newest copy: resolve that one.
    let target = { ext, input };
    let off = ext.queueOffset;
    while (this.movedTo.has(off)) off = this.movedTo.get(off)!;
    // movedTo is not kept across a restart: a half behind the cursor may live on as a copy past it.
    if (off === ext.queueOffset && !this.resolved.has(off) && off < this.halfCursor()) off = this.newestCopy(ext) ?? off;
    if (off !== ext.queueOffset) {
      const e = store.findConsumeQueue(SystemTopic.TRANS_HALF_TOPIC, 0)?.getEntry(off);
      const latest = e ? store.commitLog.getDataSync(e.phyOffset, e.size) : undefined;
      if (latest) target = putInputFromRecord(latest);
    }
    // A discarded half (checked transactionCheckMax times) is no op for upstream: a late commit still delivers it.
    if (this.isResolved(off) && !(h.commitOrRollback === MessageSysFlag.TRANSACTION_COMMIT_TYPE && this.wasDiscarded(ext))) return { ok: true };
    if (h.commitOrRollback === MessageSysFlag.TRANSACTION_COMMIT_TYPE) {
      const input = this.committed(target.ext, target.input);
      // Refused as upstream's put hook refuses it: the half stays open (no op record) and is checked back.
      if ('remark' in input) return { ok: false, code: input.code, remark: input.remark, detail: `commit failed, the half message stays open: ${input.remark}` };
      const r = await store.putMessage(input);
      const refused = finalPutRefusal(r.status, this.broker.storeConfig.maxMessageSize);
      if (refused) return { ok: false, ...refused };
    }
    const op = await this.putOp(off);
    if (!op) return { ok: false, code: ResponseCode.SYSTEM_ERROR, remark: 'the transaction op record could not be stored; the half message will be checked back' };
    // As upstream EndTransactionProcessor: committed or rolled back, one open half less on its real topic.
    const realTopic = getProperty(target.ext.properties, MessageConst.REAL_TOPIC);
    if (realTopic) this.metrics.addAndGet(realTopic, -1);
    return { ok: true };
  }

  /**
   * True when a half asked for a check immunity time (CHECK_IMMUNITY_TIME_IN_SECONDS, at least
   * transactionTimeOut) and it has passed: as upstream `EndTransactionProcessor#rejectCommitOrRollback`,
   * only the answer to a check-back may end such a transaction then, so a producer's own late commit
   * or rollback cannot race the check it was promised.
   */
  private pastImmunity(half: MessageExt): boolean {
    const immunity = getProperty(half.properties, MessageConst.CHECK_IMMUNITY_TIME_IN_SECONDS);
    if (!immunity) return false;
    const timeout = this.broker.brokerConfig.transactionTimeOut;
    // Not a whole number of seconds counts as 0, so the broker's transactionTimeOut applies (upstream getImmunityTime).
    const asked = /^[+-]?\d+$/.test(immunity) ? Number(immunity) * 1000 : 0;
    const ms = Math.max(asked, timeout);
    return Date.now() - half.bornTimestamp > ms;
  }

  /**
   * True when `half` was moved to TRANS_CHECK_MAX_TIME_TOPIC (same unique key and born time). Upstream
   * writes no op record when it discards a half, so a commit arriving afterwards is still applied.
   */
  private wasDiscarded(half: MessageExt): boolean {
    const store = this.broker.messageStore;
    const cq = store.findConsumeQueue(SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC, 0);
    const uniq = getProperty(half.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (!cq || !uniq) return false;
    for (let o = cq.minOffsetInQueue; o < cq.maxOffsetInQueue; o++) {
      const e = cq.getEntry(o);
      const rec = e ? store.commitLog.getDataSync(e.phyOffset, e.size) : undefined;
      if (!rec) continue;
      const { ext } = putInputFromRecord(rec);
      if (ext.bornTimestamp === half.bornTimestamp && getProperty(ext.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) === uniq) return true;
    }
    return false;
  }

  /** Queue offset of the newest copy of `half` (same unique key and born time) at or past the check cursor. */
  private newestCopy(half: MessageExt): number | undefined {
    const store = this.broker.messageStore;
    const cq = store.findConsumeQueue(SystemTopic.TRANS_HALF_TOPIC, 0);
    const uniq = getProperty(half.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (!cq || !uniq) return undefined;
    let found: number | undefined;
    for (let o = Math.max(this.halfCursor(), cq.minOffsetInQueue); o < cq.maxOffsetInQueue; o++) {
      const e = cq.getEntry(o);
      const rec = e ? store.commitLog.getDataSync(e.phyOffset, e.size) : undefined;
      if (!rec) continue;
      const { ext } = putInputFromRecord(rec);
      if (getProperty(ext.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) === uniq && ext.bornTimestamp === half.bornTimestamp) found = o;
    }
    if (found !== undefined) this.movedTo.set(half.queueOffset, found);
    return found;
  }

  /**
   * The message a commit stores: real topic and queue, COMMIT type, the half's offset as prepared
   * offset; or why it cannot be stored.
   */
  private committed(ext: MessageExt, input: PutMessageInput): PutMessageInput | PutRefusal {
    const realTopic = getProperty(ext.properties, MessageConst.REAL_TOPIC) ?? ext.topic;
    const realQid = Number(getProperty(ext.properties, MessageConst.REAL_QUEUE_ID) ?? 0);
    const out: PutMessageInput = {
      ...input,
      topic: realTopic,
      queueId: realQid,
      sysFlag: resetTransactionValue(ext.sysFlag, MessageSysFlag.TRANSACTION_COMMIT_TYPE),
      preparedTransactionOffset: ext.commitLogOffset,
      properties: editProperties(ext.properties, (p) => {
        p.delete(MessageConst.REAL_TOPIC);
        p.delete(MessageConst.REAL_QUEUE_ID);
        // TRANSACTION_CHECK_TIMES stays: upstream's endMessageTransaction clears only these three.
        p.delete(MessageConst.TRANSACTION_PREPARED);
      }),
    };
    out.tagsCode = tagsCodeOf(out.properties);
    // A committed timer or delay message starts waiting now, as upstream converts it at commit
    // (its put hook, HookUtils#handleScheduleMessage). The half send skipped that hook, so a DELAY
    // that is no int or a timer the broker cannot take shows only here; upstream's
    // EndTransactionProcessor then answers the failed put and keeps the half, and so do we.
    const delay = getProperty(out.properties, MessageConst.DELAY_TIME_LEVEL);
    const level = parseDelayLevel(delay);
    if (level === undefined) return delayLevelRefusal(delay);
    const timer = toTimerTopic(out, this.broker.storeConfig);
    const refused = timerRefusal(timer, this.broker.storeConfig, (t) => this.broker.timerMessageStore.isReject(t));
    if (refused) return refused;
    if (timer.kind !== 'NONE') return out;
    if (level > 0) toScheduleTopic(out, level, this.broker.messageStore.delayLevels.length);
    return out;
  }

  private putOp(halfQueueOffset: number): Promise<PutMessageResult | undefined> {
    // As upstream makeOpMessageInner: tag d, WAIT=false and a unique key of its own.
    const props = `${MessageConst.TAGS}\u0001${REMOVE_TAG}\u0002${MessageConst.WAIT_STORE_MSG_OK}\u0001false\u0002`
      + `${MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX}\u0001${this.broker.msgIdGenerator.next()}\u0002`;
    return this.broker.messageStore.putMessage({
      topic: SystemTopic.TRANS_OP_HALF_TOPIC, queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(),
      bornHost: this.broker.messageStore.storeHost, reconsumeTimes: 0, preparedTransactionOffset: 0,
      body: Buffer.from(`${halfQueueOffset},`), properties: props, tagsCode: tagsCodeOf(props), waitStoreMsgOK: false,
    }).then((r) => {
      if (r.status !== 'PUT_OK' && r.status !== 'FLUSH_DISK_TIMEOUT') return undefined;
      this.resolved.add(halfQueueOffset);
      return r;
    });
  }

  private isResolved(halfQueueOffset: number): boolean {
    return this.resolved.has(halfQueueOffset) || (halfQueueOffset < this.halfCursor() && !this.movedTo.has(halfQueueOffset));
  }

  private halfCursor(): number {
    return Math.max(0, this.broker.consumerOffsetManager.queryOffset(TRANS_CHECK_GROUP, SystemTopic.TRANS_HALF_TOPIC, 0));
  }

  /** Reads op records not yet seen into the resolved set. */
  private scanOps(): void {
    const store = this.broker.messageStore;
    const cq = store.findConsumeQueue(SystemTopic.TRANS_OP_HALF_TOPIC, 0);
    if (!cq) return;
    const start = Math.max(this.opScanned, this.broker.consumerOffsetManager.queryOffset(TRANS_CHECK_GROUP, SystemTopic.TRANS_OP_HALF_TOPIC, 0), cq.minOffsetInQueue);
    for (let o = start; o < cq.maxOffsetInQueue;) {
      const entries = cq.getEntries(o, 1024);
      if (entries.length === 0) break;
      for (let p = 0; p < entries.length; p += CQ_STORE_UNIT_SIZE, o++) {
        const rec = store.commitLog.getDataSync(readLong(entries, p), entries.readInt32BE(p + 8));
        if (!rec) continue;
        const { ext } = putInputFromRecord(rec);
        for (const part of ext.body.toString('utf8').split(',')) {
          const n = Number(part);
          if (part !== '' && Number.isInteger(n)) this.resolved.add(n);
        }
      }
    }
    this.opScanned = cq.maxOffsetInQueue;
  }

  /** One check round (upstream `TransactionalMessageCheckService#onWaitEnd` → `check`). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.checkHalves();
    } catch (err) {
      this.logger.error({ err }, 'transaction check round failed');
    } finally {
      this.checking = false;
    }
  }

  private async checkHalves(): Promise<void> {
    const b = this.broker;
    const store = b.messageStore;
    const cq = store.findConsumeQueue(SystemTopic.TRANS_HALF_TOPIC, 0);
    if (!cq) return;
    this.scanOps();
    const began = Date.now();
    let cursor = Math.max(this.halfCursor(), cq.minOffsetInQueue);
    // One round walks until a half too young to check (or the time limit), as upstream.
    const end = cq.maxOffsetInQueue;
    for (let n = 0; cursor < end; cursor++, n++) {
      if (Date.now() - began > MAX_ROUND_MS) break;
      // A long walk over resolved halves lets the loop serve requests in between.
      if ((n & 4095) === 4095) await new Promise((r) => setImmediate(r));
      if (this.resolved.has(cursor)) continue;
      const e = cq.getEntry(cursor);
      const rec = e ? store.commitLog.getDataSync(e.phyOffset, e.size) : undefined;
      if (!rec) continue; // removed by retention
      const { ext, input } = putInputFromRecord(rec);
      // As upstream getInt: a count that is no int reads as -1.
      const checkTimesProp = getProperty(ext.properties, MessageConst.TRANSACTION_CHECK_TIMES);
      const checkTimes = checkTimesProp === undefined ? 0 : javaParseInt(checkTimesProp) ?? -1;
      if (checkTimes >= b.brokerConfig.transactionCheckMax) {
        await this.discard(ext, input);
        continue;
      }
      if (ext.storeTimestamp >= began) break;
      // Measured from birth, as upstream: re-appended copies keep the producer's born time.
      const age = Date.now() - ext.bornTimestamp;
      const immunity = getProperty(ext.properties, MessageConst.CHECK_IMMUNITY_TIME_IN_SECONDS);
      if (immunity !== undefined) {
        // As upstream's check: the producer's immunity replaces transactionTimeOut for the first
        // check (shorter or longer; not a long, or -1, means transactionTimeOut). Within it the
        // half moves to the end, marked with the queue offset it was prepared at, so others get checked.
        const asked = javaParseLong(immunity) ?? -1n;
        const immunityMs = asked === -1n ? b.brokerConfig.transactionTimeOut : Number(asked) * 1000;
        if (age <= immunityMs) {
          const prepared = getProperty(ext.properties, MessageConst.TRAN_PREPARED_QUEUE_OFFSET) ?? String(ext.queueOffset);
          if (!(await this.reappend(ext, input, checkTimes, prepared))) break;
          continue;
        }
      } else if (age >= 0 && age <= b.brokerConfig.transactionTimeOut) {
        // A born time ahead of the broker's clock (producer clock skew) is checked at once, as upstream.
        break; // the rest are younger
      }
      const again = await this.reappend(ext, input, checkTimes + 1);
      if (!again) break;
      this.sendCheck(again.ext, again.input, again.result);
    }
    // Everything before the cursor is resolved or re-appended further on.
    b.consumerOffsetManager.commitOffset(TRANS_CHECK_GROUP, SystemTopic.TRANS_HALF_TOPIC, 0, cursor);
    for (const o of [...this.resolved]) if (o < cursor) this.resolved.delete(o);
    if (this.movedTo.size > 100_000) this.movedTo.clear(); // bounded: old copies then count as checked
    const opCq = store.findConsumeQueue(SystemTopic.TRANS_OP_HALF_TOPIC, 0);
    if (opCq && this.resolved.size === 0) b.consumerOffsetManager.commitOffset(TRANS_CHECK_GROUP, SystemTopic.TRANS_OP_HALF_TOPIC, 0, opCq.maxOffsetInQueue);
  }

  /** Re-appends an open half with a higher check count, so the cursor can move past the old copy. */
  private async reappend(
    ext: StoredRecord, input: PutMessageInput, checkTimes: number, preparedQueueOffset?: string,
  ): Promise<{ ext: MessageExt; input: PutMessageInput; result: PutMessageResult } | undefined> {
    const copy: PutMessageInput = {
      ...input,
      properties: editProperties(ext.properties, (p) => {
        p.set(MessageConst.TRANSACTION_CHECK_TIMES, String(checkTimes));
        // Upstream renewImmunityHalfMessageInner: where the half was first prepared.
        if (preparedQueueOffset !== undefined) p.set(MessageConst.TRAN_PREPARED_QUEUE_OFFSET, preparedQueueOffset);
      }),
    };
    const result = await this.broker.messageStore.putMessage(copy);
    if (result.status !== 'PUT_OK' && result.status !== 'FLUSH_DISK_TIMEOUT') return undefined;
    this.movedTo.set(ext.queueOffset, result.queueOffset);
    // A record keeps its strings behind getters, which a spread would drop: copy its plain form.
    return { ext: { ...ext.toJSON(), properties: copy.properties, queueOffset: result.queueOffset, commitLogOffset: result.phyOffset }, input: copy, result };
  }

  private async discard(ext: MessageExt, input: PutMessageInput): Promise<void> {
    // Upstream's line (DefaultTransactionalMessageCheckListener#resolveDiscardMsg), its topic name as it spells it.
    this.logger.error(`MsgExt:${describeHalf(ext)} has been checked too many times, so discard it by moving it to system topic TRANS_CHECK_MAXTIME_TOPIC`);
    this.broker.topicConfigManager.createGroupSystemTopicIfAbsent(SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC, 1);
    const r = await this.broker.messageStore.putMessage({ ...input, topic: SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC, queueId: 0 });
    // As upstream resolveDiscardMsg: a discarded half is no longer open.
    const realTopic = getProperty(ext.properties, MessageConst.REAL_TOPIC);
    if (realTopic && r.status === 'PUT_OK') this.metrics.addAndGet(realTopic, -1);
    await this.putOp(ext.queueOffset);
  }

  /** CHECK_TRANSACTION_STATE (oneway) to one live channel of the producer group, body = the message as sent. */
  private sendCheck(ext: MessageExt, input: PutMessageInput, result: PutMessageResult): void {
    const group = getProperty(ext.properties, MessageConst.PRODUCER_GROUP);
    const channel = group ? this.broker.producerManager.getAvailableChannel(group) : undefined;
    if (!channel) {
      // Upstream's line (AbstractTransactionalMessageCheckListener#sendCheckMessage); the half is checked again next round.
      this.logger.warn(`Check transaction failed, channel is null. groupId=${group ?? 'null'}`);
      return;
    }
    const realTopic = getProperty(ext.properties, MessageConst.REAL_TOPIC) ?? ext.topic;
    const realQid = Number(getProperty(ext.properties, MessageConst.REAL_QUEUE_ID) ?? 0);
    this.logger.info(`Check transaction. real_topic=${realTopic},uniqKey=${getProperty(ext.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? 'null'},offset=${result.queueOffset},commitLogOffset=${result.phyOffset}`);
    const body = encodeRecord({
      queueId: realQid, flag: input.flag, queueOffset: result.queueOffset, physicalOffset: result.phyOffset,
      // The half's own flag (its transaction type reset when it was prepared), as upstream encodes the stored half.
      sysFlag: input.sysFlag, bornTimestamp: input.bornTimestamp,
      bornHost: input.bornHost, storeTimestamp: result.storeTimestamp, storeHost: this.broker.messageStore.storeHost,
      reconsumeTimes: input.reconsumeTimes, preparedTransactionOffset: 0, body: input.body,
      topic: Buffer.from(realTopic), properties: Buffer.from(input.properties),
    });
    const uniqKey = getProperty(ext.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '';
    const req = createRequest(RequestCode.CHECK_TRANSACTION_STATE, {
      extFields: {
        tranStateTableOffset: result.queueOffset, commitLogOffset: result.phyOffset, msgId: uniqKey,
        transactionId: uniqKey, offsetMsgId: result.msgId,
        // As upstream sendCheckMessage, which fills the header before it gives the message its real topic.
        topic: SystemTopic.TRANS_HALF_TOPIC, bname: this.broker.brokerConfig.brokerName,
      },
      body,
      serializeType: SerializeType.JSON,
      language: 'JAVA',
    });
    channel.conn.invokeOneway(req);
  }
}

/**
 * The answer to a committed message the store did not take (upstream
 * `EndTransactionProcessor#sendFinalMessage`), or undefined when it was stored.
 */
export function finalPutRefusal(status: PutMessageResult['status'], maxMessageSize: number): PutRefusal | undefined {
  switch (status) {
    case 'PUT_OK':
    case 'FLUSH_DISK_TIMEOUT':
      return undefined;
    case 'MESSAGE_ILLEGAL':
    case 'PROPERTIES_SIZE_EXCEEDED':
      return {
        code: ResponseCode.MESSAGE_ILLEGAL,
        remark: `The message is illegal, maybe msg body or properties length not matched. msg body length limit ${maxMessageSize}B, msg properties length limit 32KB.`,
      };
    case 'SERVICE_NOT_AVAILABLE':
      return { code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: 'Service not available now.' };
    case 'UNKNOWN_ERROR':
      return { code: ResponseCode.SYSTEM_ERROR, remark: 'UNKNOWN_ERROR' };
    default:
      return { code: ResponseCode.SYSTEM_ERROR, remark: 'UNKNOWN_ERROR DEFAULT' };
  }
}

/** A half message in the broker's log lines: its ids and where it is bound (upstream logs the whole MessageExt). */
function describeHalf(ext: MessageExt): string {
  return `MessageExt [topic=${ext.topic}, queueOffset=${ext.queueOffset}, commitLogOffset=${ext.commitLogOffset}, msgId=${ext.offsetMsgId}, `
    + `uniqKey=${getProperty(ext.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? 'null'}, realTopic=${getProperty(ext.properties, MessageConst.REAL_TOPIC) ?? 'null'}]`;
}
