/**
 * Throughput of one timer step, as upstream `PerfCounter#getLastTps` reports it: events are
 * counted in windows of `windowMs` (10 s upstream), a window is closed by the first event at or
 * past its end, and its rate, `(count + 0.1) * 1000 / elapsed`, is the figure shown until 3 s
 * after the next window should have closed; then 0 (the step has gone quiet).
 */
export class PerfCounter {
  private start: number;
  private count = 0;
  private lastTps = 0;

  constructor(private readonly windowMs = 10_000, private readonly now: () => number = Date.now) {
    this.start = now();
  }

  flow(num = 1): void {
    this.count += num;
    const t = this.now();
    const elapsed = t - this.start;
    if (elapsed < this.windowMs) return;
    this.lastTps = ((this.count + 0.1) * 1000) / Math.max(1, elapsed);
    this.count = 0;
    this.start = t;
  }

  getLastTps(): number {
    return this.now() - this.start <= this.windowMs + 3000 ? this.lastTps : 0;
  }
}

/** A rate as Java's `String.valueOf(float)` prints it in runtime info: always with a fraction ("0.0", "12.5"). */
export function formatTps(tps: number): string {
  const f = Number(Math.fround(tps).toPrecision(7));
  return Number.isInteger(f) ? f.toFixed(1) : String(f);
}
