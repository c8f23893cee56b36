import { MessageConst } from '../common/message-const.js';
import { MessageModel } from './headers.js';
import type { MessageExt } from './message.js';
import type { ProcessQueue } from './process-queue.js';
import type { MessageQueue } from './route.js';
import {
  ConsumeOrderlyStatus,
  type ConsumeExecutor,
  type ConsumeOrderlyContext,
  type ConsumeOrderlyStatusValue,
  type ConsumeServiceHost,
  type MessageListenerOrderly,
} from './consume-message-service.js';

/** Longest one queue is consumed without yielding (upstream `rocketmq.client.maxTimeConsumeContinuously`). */
const MAX_TIME_CONSUME_CONTINUOUSLY = 60_000;

/**
 * Orderly consumption (upstream `ConsumeMessageOrderlyService`): one loop per queue takes its
 * messages in offset order, `batchSize` at a time, and calls the listener once at a time for
 * that queue. In CLUSTERING it consumes only while the broker lock of the queue is held and
 * fresh. A failure suspends the queue and retries the same messages; past maxReconsumeTimes
 * (unlimited by default) they are sent back and the queue moves on.
 */
export class ConsumeMessageOrderlyService {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: ConsumeServiceHost,
    private readonly listener: MessageListenerOrderly,
    private readonly executor: ConsumeExecutor,
    private readonly batchSize: number,
    /** Default pause of SUSPEND_CURRENT_QUEUE_A_MOMENT (ms). */
    private readonly suspendCurrentQueueTimeMillis: number,
  ) {}

  /** Starts the queue's loop when the pull found it idle (`dispatchToConsume` from ProcessQueue.putMessage). */
  submitConsumeRequest(_msgs: readonly MessageExt[], pq: ProcessQueue, mq: MessageQueue, dispatchToConsume: boolean): void {
    if (dispatchToConsume) void this.loop(pq, mq);
  }

  private later(pq: ProcessQueue, mq: MessageQueue, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.loop(pq, mq);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private async tryLockLaterAndReconsume(pq: ProcessQueue, mq: MessageQueue, ms: number): Promise<void> {
    const locked = await this.host.lockOneMQ(mq);
    this.later(pq, mq, locked ? ms : 3000);
  }

  private async loop(pq: ProcessQueue, mq: MessageQueue): Promise<void> {
    const clustering = this.host.messageModel === MessageModel.CLUSTERING;
    const begin = Date.now();
    while (true) {
      if (pq.dropped || this.host.stopping) return;
      if (clustering && (!pq.locked || pq.isLockExpired())) {
        await this.tryLockLaterAndReconsume(pq, mq, 10);
        return;
      }
      if (Date.now() - begin > MAX_TIME_CONSUME_CONTINUOUSLY) {
        this.later(pq, mq, 10);
        return;
      }
      const msgs = pq.takeMessages(this.batchSize);
      if (msgs.length === 0) return;
      const context: ConsumeOrderlyContext = { messageQueue: mq, autoCommit: true, suspendCurrentQueueTimeMillis: -1 };
      let status = ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT as ConsumeOrderlyStatusValue;
      let skipped = false;
      const run = this.executor.run(async () => {
        // Waited for a slot while the queue was dropped or the consumer stopped: leave them.
        if (pq.dropped || this.host.stopping) {
          pq.makeMessageToConsumeAgain(msgs);
          skipped = true;
          return;
        }
        const startMs = Date.now();
        const start = String(startMs);
        for (const m of msgs) m.propertyMap.set(MessageConst.CONSUME_START_TIMESTAMP, start);
        try {
          status = (await this.listener(msgs, context)) ?? ConsumeOrderlyStatus.SUCCESS;
        } catch (err) {
          this.host.log.warn({ err }, `consumeMessage exception: ${(err as Error).message}, Group: ${this.host.group} MQ: ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
          status = ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
        }
        // As upstream: SUCCESS and COMMIT count as consumed, SUSPEND and ROLLBACK as failed.
        const ok = status === ConsumeOrderlyStatus.SUCCESS || status === ConsumeOrderlyStatus.COMMIT;
        this.host.consumed(mq.topic, Date.now() - startMs, ok ? msgs.length : 0, ok ? 0 : msgs.length);
      });
      pq.inflight = run;
      await run;
      pq.inflight = undefined;
      pq.lastConsumeTimestamp = Date.now();
      if (skipped) return;
      if (!(await this.processConsumeResult(msgs, status, context, pq, mq))) return;
    }
  }

  /** Returns whether the loop continues with the next messages. */
  private async processConsumeResult(msgs: MessageExt[], status: ConsumeOrderlyStatusValue, context: ConsumeOrderlyContext,
    pq: ProcessQueue, mq: MessageQueue): Promise<boolean> {
    let commitOffset = -1;
    let continueConsume = true;
    const suspendMs = this.suspendTime(context);
    if (context.autoCommit) {
      switch (status) {
        case ConsumeOrderlyStatus.COMMIT:
        case ConsumeOrderlyStatus.ROLLBACK:
          this.host.log.warn(`the message queue consume result is illegal, we think you want to ack these message ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
          commitOffset = pq.commit();
          break;
        case ConsumeOrderlyStatus.SUCCESS:
          commitOffset = pq.commit();
          break;
        default:
          if (await this.consumeAgainLater(msgs, pq, mq, suspendMs)) continueConsume = false;
          else commitOffset = pq.commit();
      }
    } else {
      switch (status) {
        case ConsumeOrderlyStatus.SUCCESS:
          break;
        case ConsumeOrderlyStatus.COMMIT:
          commitOffset = pq.commit();
          break;
        case ConsumeOrderlyStatus.ROLLBACK:
          pq.rollback();
          this.later(pq, mq, suspendMs);
          continueConsume = false;
          break;
        default:
          if (await this.consumeAgainLater(msgs, pq, mq, suspendMs)) continueConsume = false;
      }
    }
    // Unlike concurrent consumption, a queue being given up still commits: its broker lock is
    // held until this result is in, so the next owner starts right after it, in order.
    if (commitOffset >= 0) this.host.offsetStore.updateOffset(mq, commitOffset, false);
    return continueConsume;
  }

  private suspendTime(context: ConsumeOrderlyContext): number {
    const ms = context.suspendCurrentQueueTimeMillis >= 0 ? context.suspendCurrentQueueTimeMillis : this.suspendCurrentQueueTimeMillis;
    return Math.min(30_000, Math.max(10, ms));
  }

  /**
   * The listener asked to see `msgs` again: unless they reached their maximum reconsume times
   * (then they go back to the broker and false is returned), they are put back and the queue
   * resumes after `suspendMs`.
   */
  private async consumeAgainLater(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue, suspendMs: number): Promise<boolean> {
    if (!(await this.checkReconsumeTimes(msgs, mq))) return false;
    pq.makeMessageToConsumeAgain(msgs);
    this.later(pq, mq, suspendMs);
    return true;
  }

  /**
   * Upstream `checkReconsumeTimes`: true while some message may still be retried here (its
   * count goes up); a message past the limit is sent back (the broker moves it to the DLQ), and
   * stays only if that fails.
   */
  private async checkReconsumeTimes(msgs: MessageExt[], mq: MessageQueue): Promise<boolean> {
    let suspend = false;
    const max = this.host.maxReconsumeTimes(true);
    for (const m of msgs) {
      if (m.reconsumeTimes >= max) {
        m.propertyMap.set(MessageConst.RECONSUME_TIME, String(m.reconsumeTimes));
        // Past the maximum it goes to the DLQ (upstream sends RECONSUME_TIME = count + 1 > max):
        // the broker only knows the stored count, which local retries never raised.
        if (!(await this.host.sendMessageBack(m, -1, mq))) {
          suspend = true;
          m.reconsumeTimes++;
        }
      } else {
        suspend = true;
        m.reconsumeTimes++;
      }
    }
    return suspend;
  }

  /** Cancels the scheduled retries (shutdown). */
  shutdown(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
