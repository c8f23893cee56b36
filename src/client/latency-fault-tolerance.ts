/**
 * Send latency fault tolerance (upstream `MQFaultStrategy` + `LatencyFaultToleranceImpl`, 5.1.4+
 * tables): a broker whose last send was slow or failed is avoided for a while; queue choice
 * prefers available brokers and falls back to any queue when none is.
 */
const LATENCY_MAX = [50, 100, 550, 1800, 3000, 5000, 15000];
const NOT_AVAILABLE_DURATION = [0, 0, 2000, 5000, 6000, 10000, 30000];
/** A failed send counts as this latency (upstream 5.x isolation). */
export const ISOLATION_LATENCY_MS = 10_000;

export class LatencyFaultTolerance {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records the outcome of a send to `brokerName`. */
  update(brokerName: string, latencyMs: number, failed: boolean): void {
    const latency = failed ? ISOLATION_LATENCY_MS : latencyMs;
    let duration = 0;
    for (let k = LATENCY_MAX.length - 1; k >= 0; k--) {
      if (latency >= LATENCY_MAX[k]!) {
        duration = NOT_AVAILABLE_DURATION[k]!;
        break;
      }
    }
    if (duration > 0) this.until.set(brokerName, this.now() + duration);
    else this.until.delete(brokerName);
  }

  isAvailable(brokerName: string): boolean {
    const t = this.until.get(brokerName);
    return t === undefined || this.now() >= t;
  }
}
