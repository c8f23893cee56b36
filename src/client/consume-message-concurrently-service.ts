import { MessageConst } from '../common/message-const.js';
import { MessageModel } from './headers.js';
import type { MessageExt } from './message.js';
import type { ProcessQueue } from './process-queue.js';
import type { MessageQueue } from './route.js';
import {
  callConcurrentListener,
  ConsumeConcurrentlyStatus,
  LOCAL_RETRY_DELAY_MS,
  type ConsumeConcurrentlyContext,
  type ConsumeConcurrentlyStatusValue,
  type ConsumeExecutor,
  type ConsumeServiceHost,
  type MessageListenerConcurrently,
} from './consume-message-service.js';

/**
 * Concurrent consumption (upstream `ConsumeMessageConcurrentlyService`): pulled messages are cut
 * into batches of `batchSize` and run on the shared executor in any order. Failed messages
 * (RECONSUME_LATER, a throw, or past `ackIndex`) go back to the broker; those that cannot are
 * retried here after 5 s and hold the queue's offset until they succeed.
 */
export class ConsumeMessageConcurrentlyService {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: ConsumeServiceHost,
    private readonly listener: MessageListenerConcurrently,
    private readonly executor: ConsumeExecutor,
    private readonly batchSize: number,
  ) {}

  submitConsumeRequest(msgs: readonly MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    for (let i = 0; i < msgs.length; i += this.batchSize) {
      const batch = msgs.slice(i, i + this.batchSize);
      void this.executor.run(() => this.consume(batch, pq, mq));
    }
  }

  private submitConsumeRequestLater(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.submitConsumeRequest(msgs, pq, mq);
    }, LOCAL_RETRY_DELAY_MS);
    t.unref();
    this.timers.add(t);
  }

  private async consume(msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): Promise<void> {
    if (pq.dropped || this.host.stopping) return;
    const startMs = Date.now();
    const { status, context } = await callConcurrentListener(this.listener, msgs, mq, startMs, this.host.log, this.host.group);
    pq.lastConsumeTimestamp = Date.now();
    const ok = status === ConsumeConcurrentlyStatus.CONSUME_SUCCESS ? Math.max(0, Math.min(msgs.length, context.ackIndex + 1)) : 0;
    this.host.consumed(mq.topic, pq.lastConsumeTimestamp - startMs, ok, msgs.length - ok);
    if (pq.dropped) {
      this.host.log.warn(`processQueue is dropped without process consume result. messageQueue=${mq.topic}/${mq.brokerName}/${mq.queueId}`);
      return;
    }
    await this.processConsumeResult(status, context, msgs, pq, mq);
  }

  private async processConsumeResult(status: ConsumeConcurrentlyStatusValue, context: ConsumeConcurrentlyContext,
    msgs: MessageExt[], pq: ProcessQueue, mq: MessageQueue): Promise<void> {
    let ackIndex = context.ackIndex;
    if (status === ConsumeConcurrentlyStatus.CONSUME_SUCCESS) {
      if (ackIndex >= msgs.length) ackIndex = msgs.length - 1;
    } else {
      ackIndex = -1;
    }
    const failed = msgs.slice(ackIndex + 1);
    let done = msgs;
    if (failed.length > 0) {
      if (this.host.messageModel === MessageModel.BROADCASTING) {
        for (const m of failed) this.host.log.warn(`BROADCASTING, the message consume failed, drop it, ${m.msgId}`);
      } else {
        const backFailed: MessageExt[] = [];
        for (const m of failed) {
          // The message may have left the queue meanwhile (a reset, a drop): nothing to send back.
          if (!pq.containsMessage(m)) continue;
          if (!(await this.host.sendMessageBack(m, context.delayLevelWhenNextConsume, mq))) {
            m.reconsumeTimes++;
            backFailed.push(m);
          }
        }
        if (backFailed.length > 0) {
          done = msgs.filter((m) => !backFailed.includes(m));
          this.submitConsumeRequestLater(backFailed, pq, mq);
        }
      }
    }
    const offset = pq.removeMessage(done);
    if (offset >= 0 && !pq.dropped) this.host.offsetStore.updateOffset(mq, offset, true);
  }

  /**
   * Upstream `ProcessQueue.cleanExpiredMsg`: while the oldest message `pq` holds has been in its
   * listener call for more than `timeoutMs`, sends it back (delay level 3) and takes it out of
   * the queue; at most 16 a round. A message whose send-back failed stays, for the next round.
   * As upstream, the committed offset does not move here (the offset removeMessage returns is
   * dropped): the next consume result of this queue commits past it, and none does while the
   * queue is left empty, as upstream's removeMessage answers -1 then.
   */
  async cleanExpiredMsg(pq: ProcessQueue, mq: MessageQueue, timeoutMs: number): Promise<void> {
    for (let i = 0; i < 16 && !pq.dropped && !this.host.stopping; i++) {
      const m = pq.firstMessage();
      const started = Number(m?.propertyMap.get(MessageConst.CONSUME_START_TIMESTAMP));
      if (!m || !(started > 0) || Date.now() - started <= timeoutMs) return;
      if (!(await this.host.sendMessageBack(m, 3, mq))) {
        this.host.log.warn(`send expired msg back failed, it stays: topic=${m.topic}, msgId=${m.msgId}, queueOffset=${m.queueOffset}`);
        return;
      }
      this.host.log.info(`send expire msg back. topic=${m.topic}, msgId=${m.msgId}, queueId=${mq.queueId}, queueOffset=${m.queueOffset}`);
      if (pq.firstMessage() !== m) continue;
      pq.removeMessage([m]);
    }
  }

  /** Cancels the pending local retries (shutdown). */
  shutdown(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
