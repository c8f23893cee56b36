/** Statistic names, as upstream's `Stats` / `BrokerStatsManager` spell them (VIEW_BROKER_STATS_DATA takes them). */
export const StatsName = {
  TOPIC_PUT_NUMS: 'TOPIC_PUT_NUMS',
  TOPIC_PUT_SIZE: 'TOPIC_PUT_SIZE',
  GROUP_GET_NUMS: 'GROUP_GET_NUMS',
  GROUP_GET_SIZE: 'GROUP_GET_SIZE',
  GROUP_GET_LATENCY: 'GROUP_GET_LATENCY',
  GROUP_ACK_NUMS: 'GROUP_ACK_NUMS',
  GROUP_CK_NUMS: 'GROUP_CK_NUMS',
  SNDBCK_PUT_NUMS: 'SNDBCK_PUT_NUMS',
  BROKER_PUT_NUMS: 'BROKER_PUT_NUMS',
  BROKER_GET_NUMS: 'BROKER_GET_NUMS',
  BROKER_ACK_NUMS: 'BROKER_ACK_NUMS',
  BROKER_CK_NUMS: 'BROKER_CK_NUMS',
  BROKER_PUT_NUMS_WITHOUT_SYSTEM_TOPIC: 'BROKER_PUT_NUMS_WITHOUT_SYSTEM_TOPIC',
  BROKER_GET_NUMS_WITHOUT_SYSTEM_TOPIC: 'BROKER_GET_NUMS_WITHOUT_SYSTEM_TOPIC',
} as const;
export type StatsNameValue = (typeof StatsName)[keyof typeof StatsName];

/** Upstream buildStatsKey(topic, group). */
export function statsKey(topic: string, group: string): string {
  return `${topic}@${group}`;
}
