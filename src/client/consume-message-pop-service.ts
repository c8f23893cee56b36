import type { Logger } from '../common/logger.js';
import { MessageConst } from '../common/message-const.js';
import {
  callConcurrentListener,
  ConsumeConcurrentlyStatus,
  type ConsumeExecutor,
  type MessageListenerConcurrently,
} from './consume-message-service.js';
import type { MessageExt } from './message.js';
import type { PopProcessQueue } from './pop-process-queue.js';
import type { MessageQueue } from './route.js';

/**
 * Seconds a failed popped message stays invisible, by retry level (upstream
 * `DefaultMQPushConsumerImpl.popDelayLevel`): 10 s, 30 s, 1 min, 2 min … 2 h.
 */
export const POP_DELAY_LEVEL_SECONDS: readonly number[] = [10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200];

/** What a popped message's receipt (its POP_CK property, the broker's extra info) says. */
export interface PopReceipt {
  popTime: number;
  invisibleTime: number;
  queueId: number;
  queueOffset: number;
}

/**
 * Reads a POP_CK: `ckQueueOffset popTime invisibleTime reviveQid topicType brokerName queueId
 * queueOffset` (upstream `ExtraInfoUtil`); undefined when it is not one.
 */
export function parsePopReceipt(extraInfo: string | undefined): PopReceipt | undefined {
  const f = extraInfo?.split(' ');
  if (!f || f.length < 8) return undefined;
  const r = { popTime: Number(f[1]), invisibleTime: Number(f[2]), queueId: Number(f[6]), queueOffset: Number(f[7]) };
  return Object.values(r).every(Number.isFinite) ? r : undefined;
}

/** What the POP consume service needs from its consumer. */
export interface PopConsumeServiceHost {
  readonly group: string;
  readonly log: Logger;
  /** true once shutdown began: queued work is skipped, running work finishes. */
  readonly stopping: boolean;
  /** Deliveries after which a failing message is no longer retried soon (16 concurrently). */
  maxReconsumeTimes(): number;
  /** ACK_MESSAGE of one popped message (failures logged: the message then comes back). */
  ack(msg: MessageExt, mq: MessageQueue): Promise<void>;
  /** CHANGE_MESSAGE_INVISIBLETIME: the message comes back in `invisibleMs`. */
  changeInvisibleTime(msg: MessageExt, mq: MessageQueue, invisibleMs: number): Promise<void>;
  /** Counts a listener call on `topic` that took `rtMs`: `ok` messages succeeded, `failed` did not. */
  consumed(topic: string, rtMs: number, ok: number, failed: number): void;
}

/**
 * Concurrent consumption of popped messages (upstream `ConsumeMessagePopConcurrentlyService`):
 * batches of `batchSize` run on the consumer's executor; a consumed message is acked, a failed
 * one is made invisible for its retry level's delay (CHANGE_MESSAGE_INVISIBLETIME) and the
 * broker delivers it again — to whichever consumer pops next. Nothing is committed here: the
 * broker moves the group's offset as acks arrive.
 */
export class ConsumeMessagePopConcurrentlyService {
  constructor(
    private readonly host: PopConsumeServiceHost,
    private readonly listener: MessageListenerConcurrently,
    private readonly executor: ConsumeExecutor,
    private readonly batchSize: number,
    private readonly delayLevelSeconds: readonly number[] = POP_DELAY_LEVEL_SECONDS,
    private readonly now: () => number = Date.now,
  ) {}

  submitPopConsumeRequest(msgs: readonly MessageExt[], pq: PopProcessQueue, mq: MessageQueue): void {
    for (let i = 0; i < msgs.length; i += this.batchSize) {
      const batch = msgs.slice(i, i + this.batchSize);
      void this.executor.run(() => this.consume(batch, pq, mq));
    }
  }

  /** Upstream `ConsumeRequest.isPopTimeout`: the batch's invisible time is over, the broker hands it out again anyway. */
  private isPopTimeout(msgs: readonly MessageExt[]): boolean {
    const r = parsePopReceipt(msgs[0]?.propertyMap.get(MessageConst.POP_CK));
    return r !== undefined && this.now() - r.popTime >= r.invisibleTime;
  }

  private async consume(msgs: MessageExt[], pq: PopProcessQueue, mq: MessageQueue): Promise<void> {
    // A dropped queue's messages are left alone: they come back after their invisible time.
    if (pq.dropped || this.host.stopping) {
      for (let i = 0; i < msgs.length; i++) pq.ack();
      return;
    }
    if (this.isPopTimeout(msgs)) {
      this.host.log.info(`the pop message time out so abort consume: ${msgs.length} messages of ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
      for (let i = 0; i < msgs.length; i++) pq.ack();
      return;
    }
    const startMs = this.now();
    const { status, context } = await callConcurrentListener(this.listener, msgs, mq, startMs, this.host.log, this.host.group);
    let ackIndex = -1;
    if (status === ConsumeConcurrentlyStatus.CONSUME_SUCCESS) ackIndex = Math.min(context.ackIndex, msgs.length - 1);
    this.host.consumed(mq.topic, this.now() - startMs, ackIndex + 1, msgs.length - ackIndex - 1);
    await Promise.all(msgs.map(async (m, i) => {
      try {
        if (i <= ackIndex) await this.host.ack(m, mq);
        else if (m.reconsumeTimes >= this.host.maxReconsumeTimes()) await this.checkNeedAckOrDelay(m, mq);
        else await this.host.changeInvisibleTime(m, mq, this.delayOf(context.delayLevelWhenNextConsume || m.reconsumeTimes) * 1000);
      } finally {
        pq.ack();
      }
    }));
  }

  private delayOf(level: number): number {
    const t = this.delayLevelSeconds;
    return level >= t.length ? t[t.length - 1]! : t[Math.max(0, level)]!;
  }

  /**
   * Upstream `checkNeedAckOrDelay`: a message that failed its last allowed delivery is acked
   * (given up) once it is older than twice the longest delay; until then it is made invisible
   * for the first level longer than its age.
   */
  private async checkNeedAckOrDelay(m: MessageExt, mq: MessageQueue): Promise<void> {
    const t = this.delayLevelSeconds;
    const age = this.now() - m.bornTimestamp;
    if (age > t[t.length - 1]! * 1000 * 2) {
      this.host.log.warn(`Consume too many times, ack message async. message ${m.msgId}`);
      await this.host.ack(m, mq);
      return;
    }
    let level = t.length - 1;
    for (; level >= 0; level--) {
      if (age >= t[level]! * 1000) {
        level++;
        break;
      }
    }
    this.host.log.warn(`Consume too many times, but delay time ${age} not enough. changePopInvisibleTime to delayLevel ${level}. message ${m.msgId}`);
    await this.host.changeInvisibleTime(m, mq, this.delayOf(level) * 1000);
  }
}
