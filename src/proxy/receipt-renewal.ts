import type { Logger } from '../common/logger.js';
import type { ExtraInfo } from '../broker/pop/pop-checkpoint.js';
import type { PopAckResult } from '../broker/pop/pop-message-service.js';

/**
 * Receipts of auto-renewing consumers (the SDKs' PushConsumer) that the proxy keeps invisible
 * while their client lives, for brokers reached over Remoting (upstream proxy
 * `DefaultReceiptHandleManager`; in local mode the broker renews them itself).
 *
 * A broker renews a receipt only as CHANGE_MESSAGE_INVISIBLETIME, which answers with a new
 * handle and retires the old one. The client keeps acking with the handle it received, so an
 * ack or change of invisible time of a tracked message is made with the newest handle instead
 * (`take`): acked with the old one, the message would come back once the new one expired.
 */

export interface RenewalOptions {
  /** Renews a receipt: the broker's change of invisible time. */
  change: (brokerName: string, group: string, topic: string, info: ExtraInfo, invisibleTime: number) => Promise<PopAckResult>;
  /** How soon a message comes back once renewed for `maxMs`: the group's retry delay after `reconsumeTimes` attempts, ms. */
  retryDelay: (reconsumeTimes: number) => number;
  /** Whether the client is still connected. */
  clientAlive: () => (clientId: string) => boolean;
  logger: Logger;
  /** How often receipts are looked at, ms (upstream `renewSchedulePeriodMillis`, 5 s). */
  checkIntervalMs?: number;
  /** A receipt is renewed once it has less than this left, ms (upstream `renewAheadTimeMillis`, 10 s; at most half its invisible time). */
  aheadMs?: number;
  /** Receipts are renewed for this long after the receive at most, ms (upstream `renewMaxTimeMillis`, 3 h). */
  maxMs?: number;
  /** The invisible time of the n-th renewal, ms; the last repeats (upstream `RenewStrategyPolicy`: 1, 3, 5, 10, 30 min, 1 h). */
  steps?: readonly number[];
}

interface Tracked {
  brokerName: string;
  group: string;
  topic: string;
  clientId: string;
  /** The newest handle's fields. */
  info: ExtraInfo;
  /** Delivery attempts before this one. */
  reconsumeTimes: number;
  receivedAt: number;
  renewals: number;
  failures: number;
  /** The renewal in flight; `take` waits for it, so it never uses a handle being retired. */
  renewing?: Promise<void>;
}

/** Upstream `invisibleTimeMillisWhenClear`: a receipt of a client that left comes back this soon. */
const CLEAR_INVISIBLE_MS = 1000;
/** Upstream `maxRenewRetryTimes`. */
const MAX_FAILURES = 3;
const MINUTE = 60_000;
const RENEW_STEPS = [MINUTE, 3 * MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE, 60 * MINUTE];

export class ReceiptRenewal {
  private readonly tracked = new Map<string, Tracked>();
  private timer?: NodeJS.Timeout;
  private readonly aheadMs: number;
  private readonly maxMs: number;
  private readonly steps: readonly number[];

  constructor(private readonly opts: RenewalOptions) {
    this.aheadMs = opts.aheadMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 3 * 3600_000;
    this.steps = opts.steps ?? RENEW_STEPS;
  }

  start(): void {
    this.timer = setInterval(() => this.scan(), this.opts.checkIntervalMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.tracked.clear();
  }

  /** Receipts being kept alive. */
  get size(): number {
    return this.tracked.size;
  }

  /** Keeps the receipt of a message received for `clientId` invisible while the client lives. */
  track(brokerName: string, group: string, topic: string, clientId: string, info: ExtraInfo, reconsumeTimes: number): void {
    this.tracked.set(keyOf(brokerName, group, topic, info), {
      brokerName, group, topic, clientId, info, reconsumeTimes, receivedAt: Date.now(), renewals: 0, failures: 0,
    });
  }

  /**
   * Stops renewing the message of `info` (a client's handle) and returns the newest handle's
   * fields to ack or change it with: `info` itself when the message is not tracked.
   */
  async take(brokerName: string, group: string, topic: string, info: ExtraInfo): Promise<ExtraInfo> {
    if (this.tracked.size === 0) return info; // SimpleConsumers' acks: no key to build
    const key = keyOf(brokerName, group, topic, info);
    const t = this.tracked.get(key);
    if (!t) return info;
    if (t.renewing) await t.renewing;
    this.tracked.delete(key);
    return t.info;
  }

  private scan(): void {
    const now = Date.now();
    const alive = this.opts.clientAlive();
    for (const [key, t] of this.tracked) {
      if (t.renewing) continue;
      if (!alive(t.clientId)) {
        this.tracked.delete(key);
        void this.opts.change(t.brokerName, t.group, t.topic, t.info, CLEAR_INVISIBLE_MS).catch(() => undefined);
        continue;
      }
      // Renewed ahead of the expiry; a receipt shorter than twice that, halfway through.
      const left = t.info.popTime + t.info.invisibleTime - now;
      if (left > Math.min(this.aheadMs, t.info.invisibleTime / 2)) continue;
      if (now - t.receivedAt >= this.maxMs) {
        // Renewed long enough: the message comes back after the group's retry delay, as a failed consume's would.
        this.tracked.delete(key);
        this.opts.logger.warn(`stopped renewing the receipt of ${t.topic} queue ${t.info.queueId} offset ${t.info.queueOffset} for group ${t.group}: received ${Math.round((now - t.receivedAt) / 1000)} s ago and still not acked; it is delivered again`);
        void this.opts.change(t.brokerName, t.group, t.topic, t.info, this.opts.retryDelay(t.reconsumeTimes)).catch(() => undefined);
        continue;
      }
      t.renewing = this.renew(key, t).finally(() => { t.renewing = undefined; });
    }
  }

  private async renew(key: string, t: Tracked): Promise<void> {
    let r: PopAckResult;
    try {
      r = await this.opts.change(t.brokerName, t.group, t.topic, t.info, this.steps[Math.min(t.renewals, this.steps.length - 1)]!);
    } catch (err) {
      r = { status: 'ERROR', remark: (err as Error).message };
    }
    if (r.status === 'OK' && r.extraInfo) {
      t.info = r.extraInfo;
      t.renewals++;
      t.failures = 0;
      return;
    }
    const remark = 'remark' in r ? r.remark : r.status;
    if (r.status === 'ERROR' && ++t.failures < MAX_FAILURES) {
      this.opts.logger.warn(`renewing a receipt of ${t.topic} for group ${t.group} failed (${remark}); trying again`);
      return;
    }
    // Expired or failing: the broker brings the message back; nothing is left to renew.
    this.tracked.delete(key);
    this.opts.logger.warn(`gave up renewing a receipt of ${t.topic} queue ${t.info.queueId} offset ${t.info.queueOffset} for group ${t.group}: ${remark}`);
  }
}

/** One message of a group: its broker, topic (or the group's retry topic) queue and offset. */
function keyOf(brokerName: string, group: string, topic: string, info: ExtraInfo): string {
  return `${brokerName}\u0000${group}\u0000${topic}\u0000${info.topicType}\u0000${info.queueId}\u0000${info.queueOffset}`;
}
