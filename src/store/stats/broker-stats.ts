import type { BrokerStatsManager } from './broker-stats-manager.js';

/**
 * Yesterday's and today's message totals (upstream `BrokerStats`): at each local midnight the
 * broker records how many messages of user topics it had stored and handed out since start, so
 * the runtime info (and mqadmin brokerStatus / clusterList) can tell yesterday's and today's
 * traffic apart.
 */
export class BrokerStats {
  msgPutTotalYesterdayMorning = 0;
  msgPutTotalTodayMorning = 0;
  msgGetTotalYesterdayMorning = 0;
  msgGetTotalTodayMorning = 0;

  constructor(private readonly manager: BrokerStatsManager) {}

  get msgPutTotalTodayNow(): number { return this.manager.brokerPutNumsWithoutSystemTopic; }
  get msgGetTotalTodayNow(): number { return this.manager.brokerGetNumsWithoutSystemTopic; }

  /** Midnight: today's morning becomes yesterday's, and now becomes today's morning. */
  record(): { putYesterday: number; getYesterday: number } {
    this.msgPutTotalYesterdayMorning = this.msgPutTotalTodayMorning;
    this.msgGetTotalYesterdayMorning = this.msgGetTotalTodayMorning;
    this.msgPutTotalTodayMorning = this.msgPutTotalTodayNow;
    this.msgGetTotalTodayMorning = this.msgGetTotalTodayNow;
    return {
      putYesterday: this.msgPutTotalTodayMorning - this.msgPutTotalYesterdayMorning,
      getYesterday: this.msgGetTotalTodayMorning - this.msgGetTotalYesterdayMorning,
    };
  }
}

/** Milliseconds from `now` to the next local midnight (upstream `computeNextMorningTimeMillis`). */
export function msUntilNextMorning(now: number): number {
  const d = new Date(now);
  d.setHours(24, 0, 0, 0);
  return d.getTime() - now;
}
