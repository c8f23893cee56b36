/** System topic and group names (upstream `TopicValidator`, `MixAll`). */
export const SystemTopic = {
  AUTO_CREATE_TOPIC_KEY: 'TBW102',
  SCHEDULE_TOPIC: 'SCHEDULE_TOPIC_XXXX',
  TRANS_HALF_TOPIC: 'RMQ_SYS_TRANS_HALF_TOPIC',
  TRANS_OP_HALF_TOPIC: 'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  TRANS_CHECK_MAX_TIME_TOPIC: 'TRANS_CHECK_MAX_TIME_TOPIC',
  TRACE_TOPIC: 'RMQ_SYS_TRACE_TOPIC',
  SELF_TEST_TOPIC: 'SELF_TEST_TOPIC',
  OFFSET_MOVED_EVENT: 'OFFSET_MOVED_EVENT',
  BENCHMARK_TOPIC: 'BenchmarkTest',
  TIMER_TOPIC: 'rmq_sys_wheel_timer',
} as const;

/** Every system topic (upstream `TopicValidator.SYSTEM_TOPIC_SET`). */
const SYSTEM_TOPICS: ReadonlySet<string> = new Set(Object.values(SystemTopic));
/** Topics under this prefix are system topics too. */
export const SYSTEM_TOPIC_PREFIX = 'rmq_sys_';

/** Topics a 5.x broker group uses to sync its members; routes of these are never rewritten for an acting master. */
export const SYNC_BROKER_MEMBER_GROUP_PREFIX = `${SYSTEM_TOPIC_PREFIX}SYNC_BROKER_MEMBER_`;

export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';

/** MSG_TYPE of a reply message (upstream `MixAll.REPLY_MESSAGE_FLAG`). */
export const REPLY_MESSAGE_FLAG = 'reply';

/** The topic a cluster's brokers take replies on (upstream `MixAll.getReplyTopic`). */
export function getReplyTopic(clusterName: string): string {
  return `${clusterName}_REPLY_TOPIC`;
}
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
export const DEFAULT_CLUSTER = 'DefaultCluster';
export const MASTER_ID = 0;

/** Topics clients may not send to directly (upstream `TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`). */
const NOT_ALLOWED_SEND: ReadonlySet<string> = new Set([
  SystemTopic.SCHEDULE_TOPIC,
  SystemTopic.TRANS_HALF_TOPIC,
  SystemTopic.TRANS_OP_HALF_TOPIC,
  SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC,
  SystemTopic.SELF_TEST_TOPIC,
  SystemTopic.OFFSET_MOVED_EVENT,
]);

export const TOPIC_MAX_LENGTH = 127;
export const GROUP_MAX_LENGTH = 120;
/**
 * Longest retry or DLQ topic (upstream `TopicValidator.RETRY_OR_DLQ_TOPIC_MAX_LENGTH`): a POP retry
 * topic `%RETRY%<group>_<topic>` of a long group and topic exceeds TOPIC_MAX_LENGTH.
 */
export const RETRY_OR_DLQ_TOPIC_MAX_LENGTH = 255;

export function getRetryTopic(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}
export function getDLQTopic(group: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + group;
}
export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
}
export function isDLQTopic(topic: string): boolean {
  return topic.startsWith(DLQ_GROUP_TOPIC_PREFIX);
}
/** Upstream `NamespaceUtil.withOutRetryAndDLQ`: the name after a `%RETRY%` or `%DLQ%` prefix. */
export function withoutRetryAndDLQ(resource: string): string {
  if (resource.startsWith(RETRY_GROUP_TOPIC_PREFIX)) return resource.slice(RETRY_GROUP_TOPIC_PREFIX.length);
  if (resource.startsWith(DLQ_GROUP_TOPIC_PREFIX)) return resource.slice(DLQ_GROUP_TOPIC_PREFIX.length);
  return resource;
}
/** Upstream `TopicValidator.isSystemTopic`. */
export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX);
}
export function isNotAllowedSendTopic(topic: string): boolean {
  return NOT_ALLOWED_SEND.has(topic);
}

// Characters allowed in topic names: [%|a-zA-Z0-9_-] (upstream TopicValidator).
const VALID_CHAR = (() => {
  const table = new Uint8Array(128);
  for (const c of '%|_-') table[c.charCodeAt(0)] = 1;
  for (let c = 48; c <= 57; c++) table[c] = 1;
  for (let c = 65; c <= 90; c++) table[c] = 1;
  for (let c = 97; c <= 122; c++) table[c] = 1;
  return table;
})();

/** Returns null when the topic name is valid, else a sentence saying what is wrong. */
export function validateTopic(topic: string | undefined): string | null {
  if (!topic) return 'The specified topic is blank.';
  if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) || topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) {
    if (topic.length > RETRY_OR_DLQ_TOPIC_MAX_LENGTH) {
      return `The specified topic is DLQ or Retry topic and longer than its max length ${RETRY_OR_DLQ_TOPIC_MAX_LENGTH}.`;
    }
  } else if (topic.length > TOPIC_MAX_LENGTH) {
    return `The specified topic is longer than topic max length ${TOPIC_MAX_LENGTH}.`;
  }
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c >= 128 || VALID_CHAR[c] === 0) {
      return `The specified topic [${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
    }
  }
  return null;
}

/** Returns null when the group name is valid, else a sentence saying what is wrong. */
export function validateGroup(group: string | undefined): string | null {
  if (!group) return 'The specified group is blank.';
  if (group.length > GROUP_MAX_LENGTH) return `The specified group is longer than group max length ${GROUP_MAX_LENGTH}.`;
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i);
    if (c >= 128 || VALID_CHAR[c] === 0) {
      return `The specified group [${group}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
    }
  }
  return null;
}
