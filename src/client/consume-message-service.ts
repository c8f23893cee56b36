import { MessageConst } from '../common/message-const.js';
import type { MessageExt } from './message.js';
import type { MessageQueue } from './route.js';

/** What a concurrent listener answers (upstream `ConsumeConcurrentlyStatus`). */
export const ConsumeConcurrentlyStatus = {
  /** Consumed: the offset may move past these messages. */
  CONSUME_SUCCESS: 'CONSUME_SUCCESS',
  /** Failed: the messages come back later through the group's retry topic. */
  RECONSUME_LATER: 'RECONSUME_LATER',
} as const;
export type ConsumeConcurrentlyStatusValue = (typeof ConsumeConcurrentlyStatus)[keyof typeof ConsumeConcurrentlyStatus];

/** What an orderly listener answers (upstream `ConsumeOrderlyStatus`). */
export const ConsumeOrderlyStatus = {
  /** Consumed (with auto-commit: the offset moves past these messages). */
  SUCCESS: 'SUCCESS',
  /** Failed: hold the queue, retry the same messages after suspendCurrentQueueTimeMillis. */
  SUSPEND_CURRENT_QUEUE_A_MOMENT: 'SUSPEND_CURRENT_QUEUE_A_MOMENT',
  /** Manual commit only: commit the offset now. */
  COMMIT: 'COMMIT',
  /** Manual commit only: consume the uncommitted messages again. */
  ROLLBACK: 'ROLLBACK',
} as const;
export type ConsumeOrderlyStatusValue = (typeof ConsumeOrderlyStatus)[keyof typeof ConsumeOrderlyStatus];

/** Per-call context of a concurrent listener (upstream `ConsumeConcurrentlyContext`); the listener may change it. */
export interface ConsumeConcurrentlyContext {
  readonly messageQueue: MessageQueue;
  /** Delay level of the send-back: 0 lets the broker choose (3 + reconsume times), -1 sends to the DLQ at once. */
  delayLevelWhenNextConsume: number;
  /** With CONSUME_SUCCESS, messages after this index are sent back as failed. Default: all succeeded. */
  ackIndex: number;
}

/** Per-call context of an orderly listener (upstream `ConsumeOrderlyContext`); the listener may change it. */
export interface ConsumeOrderlyContext {
  readonly messageQueue: MessageQueue;
  /** Commit after SUCCESS by itself (default true); false for COMMIT / ROLLBACK control. */
  autoCommit: boolean;
  /** How long SUSPEND_CURRENT_QUEUE_A_MOMENT holds the queue; -1 = the consumer's setting. */
  suspendCurrentQueueTimeMillis: number;
}

/**
 * Concurrent listener: resolve (with nothing or CONSUME_SUCCESS) when the messages are
 * consumed; return RECONSUME_LATER or throw to have them delivered again later.
 */
export type MessageListenerConcurrently = (msgs: MessageExt[], context: ConsumeConcurrentlyContext) =>
  Promise<ConsumeConcurrentlyStatusValue | void> | ConsumeConcurrentlyStatusValue | void;

/**
 * Orderly listener: called with one queue's messages in offset order, one call at a time per
 * queue. Resolve (nothing or SUCCESS) to move on; SUSPEND_CURRENT_QUEUE_A_MOMENT or a throw
 * retries the same messages after a pause.
 */
export type MessageListenerOrderly = (msgs: MessageExt[], context: ConsumeOrderlyContext) =>
  Promise<ConsumeOrderlyStatusValue | void> | ConsumeOrderlyStatusValue | void;

/**
 * One call of a concurrent listener, as upstream's `ConsumeRequest.run`: each message gets
 * CONSUME_START_TIMESTAMP; no answer means CONSUME_SUCCESS, a throw RECONSUME_LATER (logged).
 */
export async function callConcurrentListener(listener: MessageListenerConcurrently, msgs: MessageExt[], mq: MessageQueue, startMs: number,
  log: { warn(o: object, msg: string): void }, group: string): Promise<{ status: ConsumeConcurrentlyStatusValue; context: ConsumeConcurrentlyContext }> {
  const context: ConsumeConcurrentlyContext = { messageQueue: mq, delayLevelWhenNextConsume: 0, ackIndex: Number.MAX_SAFE_INTEGER };
  const start = String(startMs);
  for (const m of msgs) m.propertyMap.set(MessageConst.CONSUME_START_TIMESTAMP, start);
  let status: ConsumeConcurrentlyStatusValue;
  try {
    status = (await listener(msgs, context)) ?? ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  } catch (err) {
    log.warn({ err }, `consumeMessage exception: ${(err as Error).message}, Group: ${group} Msgs: ${msgs.length} MQ: ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
    status = ConsumeConcurrentlyStatus.RECONSUME_LATER;
  }
  return { status, context };
}

/**
 * Runs consume tasks with at most `maxConcurrency` at once (upstream's consume thread pool),
 * the rest waiting in FIFO order. Tracks what runs so shutdown can wait for it.
 */
export class ConsumeExecutor {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly maxConcurrency: number) {
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) throw new RangeError(`consume concurrency ${maxConcurrency} must be a positive integer`);
  }

  /** Tasks running now. */
  get activeCount(): number {
    return this.active;
  }

  /** Runs `task` when a slot is free; resolves with its completion (never rejects). */
  run(task: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const start = (): void => {
        this.active++;
        const p = (async () => {
          try {
            await task();
          } catch {
            // Tasks handle their own errors; a stray one must not stop the executor.
          }
        })();
        this.running.add(p);
        void p.then(() => {
          this.running.delete(p);
          this.active--;
          this.queue.shift()?.();
          resolve();
        });
      };
      if (this.active < this.maxConcurrency) start();
      else this.queue.push(start);
    });
  }

  /** Waits until no task runs or `timeoutMs` passes; true when everything finished. */
  async awaitIdle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.running.size > 0 || this.queue.length > 0) {
      const left = until - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...this.running]), new Promise<void>((r) => { timer = setTimeout(r, Math.min(left, 1000)); })]);
      clearTimeout(timer);
    }
    return true;
  }
}

/** What the consume services need from their consumer. */
export interface ConsumeServiceHost {
  readonly group: string;
  /** CLUSTERING or BROADCASTING. */
  readonly messageModel: string;
  readonly log: import('../common/logger.js').Logger;
  readonly offsetStore: import('./offset-store.js').OffsetStore;
  /** true once shutdown began: queued work is skipped, running work finishes. */
  readonly stopping: boolean;
  /** Retries before a message goes to the DLQ (16 concurrently; unlimited orderly, as upstream). */
  maxReconsumeTimes(orderly: boolean): number;
  /** Hands a failed message back to the broker (send-back, else a copy to the retry topic); false when both failed. */
  sendMessageBack(msg: MessageExt, delayLevel: number, mq: MessageQueue): Promise<boolean>;
  /** Orderly: locks one queue on its broker. */
  lockOneMQ(mq: MessageQueue): Promise<boolean>;
  /** Counts a listener call on `topic` that took `rtMs`: `ok` messages succeeded, `failed` did not. */
  consumed(topic: string, rtMs: number, ok: number, failed: number): void;
}

/** Delay before a failed send-back is consumed again locally (upstream: 5 s). */
export const LOCAL_RETRY_DELAY_MS = 5000;
