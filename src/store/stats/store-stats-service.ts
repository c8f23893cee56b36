/**
 * The store's own counters and their rates (upstream `StoreStatsService`): puts and gets since
 * start, sampled every second for the last 10 minutes, so the runtime info can give each rate
 * over the last 10 s, minute and 10 minutes ("putTps": "<10 s> <1 min> <10 min>").
 */

interface CallSnapshot { timestamp: number; value: number }

const SAMPLING_MS = 1000;
/** How long a put latency distribution collects before it is the one reported (upstream printTPSInterval). */
const DISTRIBUTION_MS = 60_000;
/** Upstream `PUT_MESSAGE_ENTIRE_TIME_MAX_DESC`: the coarse latency classes of a put, ms. */
const DISTRIBUTION_DESC = ['[<=0ms]', '[0~10ms]', '[10~50ms]', '[50~100ms]', '[100~200ms]', '[200~500ms]', '[500ms~1s]', '[1~2s]', '[2~3s]', '[3~4s]', '[4~5s]', '[5~10s]', '[10s~]'];
const DISTRIBUTION_LIMITS = [0, 10, 50, 100, 200, 500, 1000, 2000, 3000, 4000, 5000, 10_000];
/**
 * Upstream `PUT_MESSAGE_ENTIRE_TIME_BUCKETS`: the fine buckets the percentiles are read from, each
 * by its upper bound (ms): 1..20 by 1, then by 2 to 50, by 5 to 100, by 10 to 200, by 50 to 500,
 * by 100 to 1000 and by 1000 to 10000; the last catches the rest.
 */
const BUCKET_BOUNDS: readonly number[] = (() => {
  const out: number[] = [];
  let at = 0;
  for (const [step, times] of [[1, 20], [2, 15], [5, 10], [10, 10], [50, 6], [100, 5], [1000, 9]] as const) {
    for (let i = 0; i < times; i++) out.push((at += step));
  }
  out.push(Number.POSITIVE_INFINITY);
  return out;
})();
/** Upstream MAX_RECORDS_OF_SAMPLING: 10 minutes of one-second samples (plus the one before). */
const MAX_SAMPLES = 600;
/** The windows of each rate, in samples (seconds). */
const WINDOWS = [10, 60, 600] as const;

export class StoreStatsService {
  putMessageTimesTotal = 0;
  putMessageSizeTotal = 0;
  /** Puts the store refused or could not write. */
  putMessageFailedTimes = 0;
  /** getMessage calls that found messages, and those that did not (upstream counts calls, not messages). */
  getMessageTimesTotalFound = 0;
  getMessageTimesTotalMiss = 0;
  /** Messages handed out by getMessage. */
  getMessageTransferredMsgCount = 0;
  /** Longest getMessage, in ms, since start. */
  getMessageEntireTimeMax = 0;
  /** Longest put (from its arrival at the CommitLog to its acknowledgement), in ms, since start. */
  putMessageEntireTimeMax = 0;
  /** Puts whose latency was recorded since start. */
  putLatenciesRecorded = 0;
  private distribution = new Array<number>(DISTRIBUTION_DESC.length).fill(0);
  private lastDistribution?: number[];
  private buckets = new Array<number>(BUCKET_BOUNDS.length).fill(0);
  private lastBuckets?: number[];
  private distributionSince: number;

  private readonly put: CallSnapshot[] = [];
  private readonly found: CallSnapshot[] = [];
  private readonly miss: CallSnapshot[] = [];
  private readonly transferred: CallSnapshot[] = [];
  private timer?: NodeJS.Timeout;
  readonly bootTimestamp: number;

  constructor(private readonly now: () => number = Date.now) {
    this.bootTimestamp = now();
    this.distributionSince = this.bootTimestamp;
  }

  /** One put took `ms` from reaching the CommitLog to being acknowledged (upstream setPutMessageEntireTimeMax). */
  recordPutLatency(ms: number): void {
    this.putLatenciesRecorded++;
    if (ms > this.putMessageEntireTimeMax) this.putMessageEntireTimeMax = ms;
    let c = 0;
    while (c < DISTRIBUTION_LIMITS.length && (c === 0 ? ms > 0 : ms >= DISTRIBUTION_LIMITS[c]!)) c++;
    this.distribution[c]!++;
    // Most puts take a few ms: bounds up to 20 are 1..20, so the index is direct.
    let b = ms <= 20 ? Math.max(0, Math.ceil(ms) - 1) : 20;
    while (BUCKET_BOUNDS[b]! < ms) b++;
    this.buckets[b]!++;
  }

  start(): void {
    if (this.timer) return;
    this.sampling();
    this.timer = setInterval(() => this.sampling(), SAMPLING_MS);
    this.timer.unref();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample of each counter (the timer's work; tests call it to step time). */
  sampling(): void {
    const now = this.now();
    if (now - this.distributionSince >= DISTRIBUTION_MS) {
      // As upstream's minute print: the minute just ended is what the runtime info reports.
      this.lastDistribution = this.distribution;
      this.distribution = new Array<number>(DISTRIBUTION_DESC.length).fill(0);
      this.lastBuckets = this.buckets;
      this.buckets = new Array<number>(BUCKET_BOUNDS.length).fill(0);
      this.distributionSince = now;
    }
    push(this.put, now, this.putMessageTimesTotal);
    push(this.found, now, this.getMessageTimesTotalFound);
    push(this.miss, now, this.getMessageTimesTotalMiss);
    push(this.transferred, now, this.getMessageTransferredMsgCount);
  }

  runtimeInfo(): Record<string, string> {
    const times = this.putMessageTimesTotal;
    return {
      bootTimestamp: String(this.bootTimestamp),
      putMessageTimesTotal: String(times),
      putMessageSizeTotal: String(this.putMessageSizeTotal),
      putMessageAverageSize: String(times > 0 ? this.putMessageSizeTotal / times : 0),
      putMessageFailedTimes: String(this.putMessageFailedTimes),
      getMessageEntireTimeMax: String(this.getMessageEntireTimeMax),
      putMessageEntireTimeMax: String(this.putMessageEntireTimeMax),
      ...(this.lastDistribution ? { putMessageDistributeTime: this.lastDistribution.map((n, i) => `${DISTRIBUTION_DESC[i]}:${n}`).join(' ') + ' ' } : {}),
      putLatency99: percentile(this.lastBuckets, 0.99).toFixed(2),
      putLatency999: percentile(this.lastBuckets, 0.999).toFixed(2),
      putTps: rates(this.put),
      getFoundTps: rates(this.found),
      getMissTps: rates(this.miss),
      getTotalTps: WINDOWS.map((w) => String((tps(this.found, w) ?? 0) + (tps(this.miss, w) ?? 0))).join(' '),
      getTransferredTps: rates(this.transferred),
    };
  }
}

/**
 * Upstream `findPutMessageEntireTimePX`: the latency under which `px` of the last minute's puts
 * fell, interpolated within its bucket; 0 before a minute was collected.
 */
function percentile(buckets: readonly number[] | undefined, px: number): number {
  if (!buckets) return 0;
  const total = buckets.reduce((a, b) => a + b, 0);
  const index = Math.floor(total * px);
  let passed = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!;
    if (index <= passed + count) {
      const rel = index - passed;
      const lower = i === 0 ? 0 : BUCKET_BOUNDS[i - 1]!;
      const upper = Number.isFinite(BUCKET_BOUNDS[i]!) ? BUCKET_BOUNDS[i]! : lower;
      return lower + (count === 0 ? 0 : ((upper - lower) * rel) / count);
    }
    passed += count;
  }
  return 0;
}

function push(list: CallSnapshot[], timestamp: number, value: number): void {
  list.push({ timestamp, value });
  if (list.length > MAX_SAMPLES + 1) list.shift();
}

/**
 * Per second over the last `window` samples; undefined until that many were taken. Upstream
 * then prints an empty string: "putTps" reads e.g. "12.5 12.1 " for a broker up for a minute.
 */
function tps(list: CallSnapshot[], window: number): number | undefined {
  if (list.length <= window) return undefined;
  const last = list[list.length - 1]!;
  const before = list[list.length - 1 - window]!;
  const ms = last.timestamp - before.timestamp;
  return ms > 0 ? ((last.value - before.value) * 1000) / ms : 0;
}

function rates(list: CallSnapshot[]): string {
  return WINDOWS.map((w) => { const v = tps(list, w); return v === undefined ? '' : String(v); }).join(' ');
}
