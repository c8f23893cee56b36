/**
 * Running counters sampled into windows (upstream `StatsItem` / `StatsItemSet`): a value and a
 * count of the calls that added to it, snapshotted every 10 s (the last minute), every 10 min
 * (the last hour) and every hour (the last day). A window's figures come from its first and
 * last snapshot, so they cover what happened between two samplings, never a guess in between.
 */

/** What a window holds (upstream `StatsSnapshot`): sum added, per second, and per call. */
export interface StatsSnapshot {
  sum: number;
  tps: number;
  /** sum / times: the average added per call (for a latency item, its average time). */
  avgpt: number;
  times: number;
}

interface CallSnapshot { timestamp: number; times: number; value: number }

/** Snapshots kept per window: 7 of 10 s (a minute), 7 of 10 min (an hour), 25 of an hour (a day). */
const MINUTE_SAMPLES = 7;
const HOUR_SAMPLES = 7;
const DAY_SAMPLES = 25;
export const SECOND_SAMPLING_MS = 10_000;
export const MINUTE_SAMPLING_MS = 10 * 60_000;
export const HOUR_SAMPLING_MS = 60 * 60_000;

const EMPTY: StatsSnapshot = Object.freeze({ sum: 0, tps: 0, avgpt: 0, times: 0 });

export class StatsItem {
  value = 0;
  times = 0;
  /** When a sampling last saw the value move (or the item was made): what idle clean-up reads. */
  lastUpdateTimestamp: number;
  /** Set once the item left its set: a holder of a reference must fetch a new one. */
  removed = false;
  private readonly minute: CallSnapshot[] = [];
  private readonly hour: CallSnapshot[] = [];
  private readonly day: CallSnapshot[] = [];
  private lastSampledValue = 0;

  constructor(readonly statsName: string, readonly statsKey: string, now: number) {
    this.lastUpdateTimestamp = now;
  }

  add(value: number, times: number): void {
    this.value += value;
    this.times += times;
  }

  /**
   * The first sampling of a window starts it from zero one period back, as upstream's: an item
   * made between two samplings shows what was added since, at once.
   */
  private sample(list: CallSnapshot[], periodMs: number, max: number, now: number): void {
    if (list.length === 0) list.push({ timestamp: now - periodMs, times: 0, value: 0 });
    list.push({ timestamp: now, times: this.times, value: this.value });
    if (list.length > max) list.shift();
  }

  samplingInSeconds(now: number): void {
    this.sample(this.minute, SECOND_SAMPLING_MS, MINUTE_SAMPLES, now);
    if (this.value !== this.lastSampledValue) {
      this.lastSampledValue = this.value;
      this.lastUpdateTimestamp = now;
    }
  }

  samplingInMinutes(now: number): void { this.sample(this.hour, MINUTE_SAMPLING_MS, HOUR_SAMPLES, now); }
  samplingInHour(now: number): void { this.sample(this.day, HOUR_SAMPLING_MS, DAY_SAMPLES, now); }

  statsDataInMinute(): StatsSnapshot { return snapshotOf(this.minute); }
  statsDataInHour(): StatsSnapshot { return snapshotOf(this.hour); }
  statsDataInDay(): StatsSnapshot { return snapshotOf(this.day); }
}

function snapshotOf(list: CallSnapshot[]): StatsSnapshot {
  if (list.length === 0) return EMPTY;
  const first = list[0]!;
  const last = list[list.length - 1]!;
  const sum = last.value - first.value;
  const span = last.timestamp - first.timestamp;
  const times = last.times - first.times;
  return { sum, tps: span > 0 ? (sum * 1000) / span : 0, avgpt: times > 0 ? sum / times : 0, times };
}

/** The items of one statistic by key (a topic, `topic@group`, a cluster name). */
export class StatsItemSet {
  readonly items = new Map<string, StatsItem>();

  constructor(readonly statsName: string, private readonly now: () => number) {}

  getAndCreate(key: string): StatsItem {
    let item = this.items.get(key);
    if (item === undefined) {
      item = new StatsItem(this.statsName, key, this.now());
      this.items.set(key, item);
    }
    return item;
  }

  addValue(key: string, value: number, times: number): void {
    this.getAndCreate(key).add(value, times);
  }

  get(key: string): StatsItem | undefined {
    return this.items.get(key);
  }

  snapshotInMinute(key: string): StatsSnapshot {
    return this.items.get(key)?.statsDataInMinute() ?? EMPTY;
  }

  /** Removes the items whose key passes `test` (a deleted topic's or group's). */
  deleteWhere(test: (key: string) => boolean): void {
    for (const [key, item] of this.items) {
      if (test(key)) this.remove(key, item);
    }
  }

  /** Removes items no sampling has seen move for `maxIdleMs` (upstream `cleanResource`). */
  cleanIdle(maxIdleMs: number, now: number): number {
    let n = 0;
    for (const [key, item] of this.items) {
      if (now - item.lastUpdateTimestamp > maxIdleMs) {
        this.remove(key, item);
        n++;
      }
    }
    return n;
  }

  private remove(key: string, item: StatsItem): void {
    this.items.delete(key);
    item.removed = true;
  }

  samplingInSeconds(now: number): void { for (const item of this.items.values()) item.samplingInSeconds(now); }
  samplingInMinutes(now: number): void { for (const item of this.items.values()) item.samplingInMinutes(now); }
  samplingInHour(now: number): void { for (const item of this.items.values()) item.samplingInHour(now); }
}
