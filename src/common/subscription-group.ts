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

/** Prefix of the broker's own groups (upstream `MixAll.CID_RMQ_SYS_PREFIX`). */
export const CID_RMQ_SYS_PREFIX = 'CID_RMQ_SYS_';

/** Groups every RocketMQ installation has (upstream `MixAll.PREDEFINE_GROUP_SET`). */
const PREDEFINED_GROUPS: ReadonlySet<string> = new Set([
  'DEFAULT_CONSUMER', 'DEFAULT_PRODUCER', 'TOOLS_CONSUMER', 'SCHEDULE_CONSUMER', 'FILTERSRV_CONSUMER', '__MONITOR_CONSUMER',
  'CLIENT_INNER_PRODUCER', 'SELF_TEST_P_GROUP', 'SELF_TEST_C_GROUP', 'CID_ONS-HTTP-PROXY', 'CID_ONSAPI_PERMISSION',
  'CID_ONSAPI_OWNER', 'CID_ONSAPI_PULL', 'CID_RMQ_SYS_TRANS',
]);

/** Upstream `MixAll.isSysConsumerGroup`. */
export function isSysConsumerGroup(group: string): boolean {
  return group.startsWith(CID_RMQ_SYS_PREFIX);
}

/** Upstream `MixAll.isPredefinedGroup`. */
export function isPredefinedGroup(group: string): boolean {
  return PREDEFINED_GROUPS.has(group);
}
