/** A pop loop idle this long is stuck; the rebalance replaces it (upstream `rocketmq.client.pull.pullMaxIdleTime`). */
export const POP_MAX_IDLE_TIME = 120_000;

/**
 * One queue a consumer pops (upstream `PopProcessQueue`): unlike a ProcessQueue it holds no
 * messages and no offset — the broker keeps both — only how many popped messages still wait for
 * their ack (for flow control), when the last pop went out, and whether the queue was given up.
 */
export class PopProcessQueue {
  private waitAck = 0;
  lastPopTimestamp = Date.now();
  /** Set when the queue left this consumer: its pop loop ends; messages in hand come back after their invisible time. */
  dropped = false;
  /** Aborted when the pop loop must stop: on drop, and when the consumer shuts down. */
  readonly popping = new AbortController();
  private waiters: Array<() => void> = [];

  /** Popped messages not yet acked or handed back. */
  get waitAckCount(): number {
    return this.waitAck;
  }

  incFoundMsg(n: number): void {
    this.waitAck += n;
  }

  /** One popped message was acked or handed back. */
  ack(): void {
    if (this.waitAck > 0) this.waitAck--;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when a message is acked, the loop is stopped, or after `ms`. */
  waitForAck(ms: number): Promise<void> {
    if (this.popping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.push(done);
    });
  }

  drop(): void {
    this.dropped = true;
    this.stopPopping();
  }

  stopPopping(): void {
    if (!this.popping.signal.aborted) this.popping.abort();
    for (const w of this.waiters.splice(0)) w();
  }

  /** The pop loop has not run for POP_MAX_IDLE_TIME (upstream `isPullExpired`). */
  isPullExpired(now = Date.now()): boolean {
    return now - this.lastPopTimestamp > POP_MAX_IDLE_TIME;
  }
}
