/**
 * What a consumer reports of its own speed per topic (upstream `ConsumerStatsManager`, shown by
 * `mqadmin consumerStatus` and the dashboard): pull round trip and rate, consume time and the
 * rates of succeeded and failed messages over the last minute, failed messages over the last hour.
 *
 * Each topic keeps running totals; `sample()` (every SAMPLE_MS) snapshots them, and a figure is
 * the difference between now and the snapshot a minute (or an hour) back.
 */

/** Upstream `ConsumeStatus`: the per-topic line of a ConsumerRunningInfo. */
export interface ConsumeStatus {
  /** Mean pull round trip (ms), long-poll holds included. */
  pullRT: number;
  /** Messages pulled per second. */
  pullTPS: number;
  /** Mean listener call time (ms). */
  consumeRT: number;
  /** Messages consumed successfully per second. */
  consumeOKTPS: number;
  /** Messages whose consumption failed per second. */
  consumeFailedTPS: number;
  /** Messages whose consumption failed in the last hour. */
  consumeFailedMsgs: number;
}

export const SAMPLE_MS = 10_000;
const MINUTE_SAMPLES = 60_000 / SAMPLE_MS;
const HOUR_SAMPLES = 3_600_000 / SAMPLE_MS;

class Totals {
  pulls = 0;
  pullRtSum = 0;
  pulledMsgs = 0;
  consumeCalls = 0;
  consumeRtSum = 0;
  okMsgs = 0;
  failedMsgs = 0;

  copy(): Totals {
    return Object.assign(new Totals(), this);
  }
}

interface Snapshot {
  at: number;
  totals: Totals;
}

class TopicStats {
  readonly now = new Totals();
  /** Oldest first; at most an hour of samples plus the current one. */
  readonly samples: Snapshot[] = [];

  constructor(at: number) {
    this.samples.push({ at, totals: new Totals() });
  }

  /** The snapshot at least `back` samples old, else the oldest there is. */
  from(back: number): Snapshot {
    return this.samples[Math.max(0, this.samples.length - 1 - back)]!;
  }
}

export class ConsumerStats {
  private readonly topics = new Map<string, TopicStats>();

  constructor(private readonly clock: () => number = Date.now) {}

  private topic(topic: string): Totals {
    let t = this.topics.get(topic);
    if (!t) {
      t = new TopicStats(this.clock());
      this.topics.set(topic, t);
    }
    return t.now;
  }

  /** A pull of `topic` took `rtMs` and brought `msgs` messages. */
  pulled(topic: string, rtMs: number, msgs: number): void {
    const t = this.topic(topic);
    t.pulls++;
    t.pullRtSum += rtMs;
    t.pulledMsgs += msgs;
  }

  /** A listener call on `topic` took `rtMs`; `ok` messages succeeded and `failed` did not. */
  consumed(topic: string, rtMs: number, ok: number, failed: number): void {
    const t = this.topic(topic);
    t.consumeCalls++;
    t.consumeRtSum += rtMs;
    t.okMsgs += ok;
    t.failedMsgs += failed;
  }

  /** Snapshots every topic's totals (call every SAMPLE_MS). */
  sample(): void {
    const at = this.clock();
    for (const t of this.topics.values()) {
      t.samples.push({ at, totals: t.now.copy() });
      if (t.samples.length > HOUR_SAMPLES + 1) t.samples.shift();
    }
  }

  /** The figures of `topic`: rates over the last minute (or since the first sample), failures over the last hour. */
  status(topic: string): ConsumeStatus {
    const t = this.topics.get(topic);
    if (!t) return { pullRT: 0, pullTPS: 0, consumeRT: 0, consumeOKTPS: 0, consumeFailedTPS: 0, consumeFailedMsgs: 0 };
    const now = this.clock();
    const m = t.from(MINUTE_SAMPLES);
    const secs = Math.max(1, now - m.at) / 1000;
    const d = (k: keyof Totals): number => (t.now[k] as number) - (m.totals[k] as number);
    const pulls = d('pulls');
    const calls = d('consumeCalls');
    return {
      pullRT: pulls > 0 ? d('pullRtSum') / pulls : 0,
      pullTPS: d('pulledMsgs') / secs,
      consumeRT: calls > 0 ? d('consumeRtSum') / calls : 0,
      consumeOKTPS: d('okMsgs') / secs,
      consumeFailedTPS: d('failedMsgs') / secs,
      consumeFailedMsgs: t.now.failedMsgs - t.from(HOUR_SAMPLES).totals.failedMsgs,
    };
  }
}
