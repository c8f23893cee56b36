/**
 * The store's own counters and their rates (upstream `StoreStatsService`): puts and gets since
 * start, sampled every second for the last 10 minutes, so the runtime info can give each rate
 * over the last 10 s, minute and 10 minutes ("putTps": "<10 s> <1 min> <10 min>").
 */

interface CallSnapshot { timestamp: number; value: number }

const SAMPLING_MS = 1000;
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

  private readonly put: CallSnapshot[] = [];
  private readonly found: CallSnapshot[] = [];
  private readonly miss: CallSnapshot[] = [];
  private readonly transferred: CallSnapshot[] = [];
  private timer?: NodeJS.Timeout;
  readonly bootTimestamp: number;

  constructor(private readonly now: () => number = Date.now) {
    this.bootTimestamp = now();
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
      putTps: rates(this.put),
      getFoundTps: rates(this.found),
      getMissTps: rates(this.miss),
      getTotalTps: WINDOWS.map((w) => String((tps(this.found, w) ?? 0) + (tps(this.miss, w) ?? 0))).join(' '),
      getTransferredTps: rates(this.transferred),
    };
  }
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
