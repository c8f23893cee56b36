import type { ProcessQueueInfo } from './consumer-running-info.js';
import type { MessageExt } from './message.js';

/** Client-side lock lifetime without renewal (upstream `rocketmq.client.rebalance.lockMaxLiveTime`). */
export const REBALANCE_LOCK_MAX_LIVE_TIME = 30_000;

/**
 * The messages pulled from one queue and not yet consumed (upstream `ProcessQueue`), kept by
 * queue offset. The smallest offset still held is what may be committed: everything below it
 * has been consumed. Also carries the queue's orderly lock state and a `dropped` flag that
 * stops its pull loop once the queue is rebalanced away.
 */
export class ProcessQueue {
  /** queueOffset → message, in increasing offset order. */
  private msgTree = new Map<number, MessageExt>();
  /** Orderly: messages taken for consumption, not yet committed. */
  private consumingMsgOrderly = new Map<number, MessageExt>();
  private _msgCount = 0;
  private _msgSize = 0;
  /** Highest queue offset ever put. */
  queueOffsetMax = 0;
  /** Set when the queue left this consumer; its pull loop ends and results are not committed. */
  dropped = false;
  /** Orderly: the broker lock is held. */
  locked = false;
  lastLockTimestamp = 0;
  lastPullTimestamp = Date.now();
  lastConsumeTimestamp = Date.now();
  /** Orderly: a consume loop is running for this queue. */
  consuming = false;
  /** Orderly: the listener call in progress, awaited before the queue's lock is given up. */
  inflight?: Promise<void>;
  /** Orderly: rebalances that could not give the queue up because a listener call went on (upstream `tryUnlockTimes`). */
  tryUnlockTimes = 0;
  /** Aborted when the queue's pull loop must stop: on drop, and when the consumer shuts down. */
  readonly pulling = new AbortController();
  private spaceWaiters: Array<() => void> = [];

  get msgCount(): number {
    return this._msgCount;
  }

  /** Body bytes held. */
  get msgSize(): number {
    return this._msgSize;
  }

  /** Adds pulled messages (in offset order); returns whether an orderly consume loop should be started. */
  putMessage(msgs: readonly MessageExt[]): boolean {
    for (const m of msgs) {
      if (this.msgTree.has(m.queueOffset)) continue;
      if (this.msgTree.size > 0 && m.queueOffset < this.queueOffsetMax) {
        // Out of order (a re-pull after a seek): rebuild to keep offsets increasing.
        const entries = [...this.msgTree, [m.queueOffset, m] as [number, MessageExt]].sort((a, b) => a[0] - b[0]);
        this.msgTree = new Map(entries);
      } else {
        this.msgTree.set(m.queueOffset, m);
      }
      this._msgCount++;
      this._msgSize += m.body.length;
      if (m.queueOffset > this.queueOffsetMax) this.queueOffsetMax = m.queueOffset;
    }
    const dispatch = this.msgTree.size > 0 && !this.consuming;
    if (dispatch) this.consuming = true;
    return dispatch;
  }

  /** Distance between the smallest and largest offset held (upstream `getMaxSpan`). */
  maxSpan(): number {
    if (this.msgTree.size === 0) return 0;
    return this.queueOffsetMax - this.firstKey()!;
  }

  private firstKey(): number | undefined {
    return this.firstMessage()?.queueOffset;
  }

  /** The held message with the smallest offset (upstream `msgTreeMap.firstEntry`). */
  firstMessage(): MessageExt | undefined {
    for (const m of this.msgTree.values()) return m;
    return undefined;
  }

  hasMessage(): boolean {
    return this.msgTree.size > 0;
  }

  containsMessage(msg: MessageExt): boolean {
    return this.msgTree.get(msg.queueOffset) === msg || this.consumingMsgOrderly.get(msg.queueOffset) === msg;
  }

  /**
   * Concurrent: forgets consumed messages and returns the offset that may be committed: the
   * smallest offset still held, or past the largest ever put when none is left; -1 when nothing
   * was held.
   */
  removeMessage(msgs: readonly MessageExt[]): number {
    if (this.msgTree.size === 0) return -1;
    let result = this.queueOffsetMax + 1;
    for (const m of msgs) {
      if (this.msgTree.delete(m.queueOffset)) {
        this._msgCount--;
        this._msgSize -= m.body.length;
      }
    }
    const first = this.firstKey();
    if (first !== undefined) result = first;
    this.notifySpace();
    return result;
  }

  /** Orderly: takes up to `batchSize` messages in offset order; clears `consuming` when none is left. */
  takeMessages(batchSize: number): MessageExt[] {
    const out: MessageExt[] = [];
    for (const [k, m] of this.msgTree) {
      if (out.length >= batchSize) break;
      out.push(m);
      this.msgTree.delete(k);
      this.consumingMsgOrderly.set(k, m);
    }
    if (out.length === 0) this.consuming = false;
    return out;
  }

  /** Orderly: the taken messages are consumed; returns the offset to commit, or -1. */
  commit(): number {
    let max = -1;
    for (const [k, m] of this.consumingMsgOrderly) {
      if (k > max) max = k;
      this._msgCount--;
      this._msgSize -= m.body.length;
    }
    this.consumingMsgOrderly.clear();
    this.notifySpace();
    return max < 0 ? -1 : max + 1;
  }

  /** Orderly: puts the taken messages back in front, to be consumed again. */
  makeMessageToConsumeAgain(msgs: readonly MessageExt[]): void {
    const back: Array<[number, MessageExt]> = [];
    for (const m of msgs) {
      this.consumingMsgOrderly.delete(m.queueOffset);
      back.push([m.queueOffset, m]);
    }
    this.msgTree = new Map([...back, ...this.msgTree].sort((a, b) => a[0] - b[0]));
  }

  /** Orderly: puts every taken message back (manual-commit ROLLBACK). */
  rollback(): void {
    this.makeMessageToConsumeAgain([...this.consumingMsgOrderly.values()]);
  }

  /** Drops every held message (a seek or reset). */
  clear(): void {
    this.msgTree.clear();
    this.consumingMsgOrderly.clear();
    this._msgCount = 0;
    this._msgSize = 0;
    this.queueOffsetMax = 0;
    this.notifySpace();
  }

  /** Messages currently held, in offset order (for inspection). */
  messages(): MessageExt[] {
    return [...this.msgTree.values()];
  }

  /** The queue's state as a ConsumerRunningInfo reports it (upstream `fillProcessQueueInfo`), but the commit offset. */
  info(): Omit<ProcessQueueInfo, 'commitOffset'> {
    const span = (m: Map<number, MessageExt>): [number, number] => {
      if (m.size === 0) return [0, 0];
      let min = Number.MAX_SAFE_INTEGER;
      let max = -1;
      for (const k of m.keys()) {
        if (k < min) min = k;
        if (k > max) max = k;
      }
      return [min, max];
    };
    const [cachedMsgMinOffset, cachedMsgMaxOffset] = span(this.msgTree);
    const [transactionMsgMinOffset, transactionMsgMaxOffset] = span(this.consumingMsgOrderly);
    return {
      cachedMsgMinOffset, cachedMsgMaxOffset, cachedMsgCount: this.msgTree.size,
      cachedMsgSizeInMiB: Math.trunc(this._msgSize / (1024 * 1024)),
      transactionMsgMinOffset, transactionMsgMaxOffset, transactionMsgCount: this.consumingMsgOrderly.size,
      locked: this.locked, tryUnlockTimes: this.tryUnlockTimes, lastLockTimestamp: this.lastLockTimestamp, droped: this.dropped,
      lastPullTimestamp: this.lastPullTimestamp, lastConsumeTimestamp: this.lastConsumeTimestamp,
    };
  }

  /** Orderly: whether the client-side lock has outlived its renewal window. */
  isLockExpired(now = Date.now()): boolean {
    return now - this.lastLockTimestamp > REBALANCE_LOCK_MAX_LIVE_TIME;
  }

  /** Marks the queue dropped and stops its pull loop. */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.stopPulling();
  }

  /** Stops the pull loop (an outstanding long poll is abandoned), keeping the messages held. */
  stopPulling(): void {
    if (!this.pulling.signal.aborted) this.pulling.abort();
    this.notifySpace();
  }

  /** Resolves when messages leave the queue, pulling stops, or after `ms`. */
  waitForSpace(ms: number): Promise<void> {
    if (this.pulling.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.spaceWaiters;
      const done = (): void => {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.push(done);
    });
  }

  private notifySpace(): void {
    for (const w of this.spaceWaiters.splice(0)) w();
  }
}
