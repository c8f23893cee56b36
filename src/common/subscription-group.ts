/**
 * A consumer group's settings (upstream `SubscriptionGroupConfig`): the body of
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (§5.7 of the facts sheet), which may leave out the fields
 * after notifyConsumerIdsChangedEnable, and the broker's record of a group
 * (`BrokerSubscriptionGroupConfig`), which has them all.
 */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  consumeMessageOrderly: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  groupSysFlag?: number;
  consumeTimeoutMinute?: number;
  groupRetryPolicy?: unknown;
  attributes?: Record<string, string>;
}

/** A group as the broker keeps it (`config/subscriptionGroup.json`): every field set. */
export type BrokerSubscriptionGroupConfig = SubscriptionGroupConfig & Required<Pick<SubscriptionGroupConfig, 'groupSysFlag' | 'consumeTimeoutMinute' | 'attributes'>>;

/** A subscription group with upstream's defaults (the optional fields left out), fields overridden by `overrides`. */
export function newSubscriptionGroupConfig(groupName: string, overrides: Partial<SubscriptionGroupConfig> = {}): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    consumeMessageOrderly: false,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
    ...overrides,
  };
}

/** A new group on the broker: upstream's defaults for every field. */
export function newBrokerSubscriptionGroupConfig(groupName: string): BrokerSubscriptionGroupConfig {
  return { ...newSubscriptionGroupConfig(groupName), groupSysFlag: 0, consumeTimeoutMinute: 15, attributes: {} };
}
