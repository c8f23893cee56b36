/** Request codes (upstream `RequestCode`). Only the codes this project uses or answers are named. */
export const RequestCode = {
  SEND_MESSAGE: 10,
  PULL_MESSAGE: 11,
  QUERY_MESSAGE: 12,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_CONSUMER_OFFSET: 15,
  UPDATE_AND_CREATE_TOPIC: 17,
  UPDATE_AND_CREATE_TOPIC_LIST: 18,
  GET_ALL_TOPIC_CONFIG: 21,
  GET_TOPIC_CONFIG_LIST: 22,
  GET_TOPIC_NAME_LIST: 23,
  UPDATE_BROKER_CONFIG: 25,
  GET_BROKER_CONFIG: 26,
  TRIGGER_DELETE_FILES: 27,
  GET_BROKER_RUNTIME_INFO: 28,
  SEARCH_OFFSET_BY_TIMESTAMP: 29,
  GET_MAX_OFFSET: 30,
  GET_MIN_OFFSET: 31,
  GET_EARLIEST_MSG_STORETIME: 32,
  VIEW_MESSAGE_BY_ID: 33,
  HEART_BEAT: 34,
  UNREGISTER_CLIENT: 35,
  CONSUMER_SEND_MSG_BACK: 36,
  END_TRANSACTION: 37,
  GET_CONSUMER_LIST_BY_GROUP: 38,
  CHECK_TRANSACTION_STATE: 39,
  NOTIFY_CONSUMER_IDS_CHANGED: 40,
  LOCK_BATCH_MQ: 41,
  UNLOCK_BATCH_MQ: 42,
  GET_ALL_CONSUMER_OFFSET: 43,
  GET_ALL_DELAY_OFFSET: 45,
  /** A consumer with a non-TAG subscription asks, at start, whether the broker can filter by it. */
  CHECK_CLIENT_CONFIG: 46,
  /** The timer store's check point (`config/timercheck`) as its 56 bytes (slaves and pre-online brokers read it). */
  GET_TIMER_CHECK_POINT: 60,
  /** The timer store's per-topic counts of pending timer messages (`TimerMetrics`), as JSON. */
  GET_TIMER_METRICS: 61,
  PUT_KV_CONFIG: 100,
  GET_KV_CONFIG: 101,
  DELETE_KV_CONFIG: 102,
  REGISTER_BROKER: 103,
  UNREGISTER_BROKER: 104,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: 200,
  GET_ALL_SUBSCRIPTIONGROUP_CONFIG: 201,
  GET_TOPIC_STATS_INFO: 202,
  GET_CONSUMER_CONNECTION_LIST: 203,
  GET_PRODUCER_CONNECTION_LIST: 204,
  WIPE_WRITE_PERM_OF_BROKER: 205,
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: 206,
  DELETE_SUBSCRIPTIONGROUP: 207,
  GET_CONSUME_STATS: 208,
  DELETE_TOPIC_IN_BROKER: 215,
  DELETE_TOPIC_IN_NAMESRV: 216,
  REGISTER_TOPIC_IN_NAMESRV: 217,
  GET_KVLIST_BY_NAMESPACE: 219,
  RESET_CONSUMER_CLIENT_OFFSET: 220,
  GET_CONSUMER_STATUS_FROM_CLIENT: 221,
  INVOKE_BROKER_TO_RESET_OFFSET: 222,
  INVOKE_BROKER_TO_GET_CONSUMER_STATUS: 223,
  GET_TOPICS_BY_CLUSTER: 224,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST: 225,
  QUERY_TOPIC_CONSUME_BY_WHO: 300,
  GET_SYSTEM_TOPIC_LIST_FROM_NS: 304,
  GET_SYSTEM_TOPIC_LIST_FROM_BROKER: 305,
  GET_UNIT_TOPIC_LIST: 311,
  GET_HAS_UNIT_SUB_TOPIC_LIST: 312,
  GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: 313,
  QUERY_CONSUME_TIME_SPAN: 303,
  CLEAN_EXPIRED_CONSUMEQUEUE: 306,
  GET_CONSUMER_RUNNING_INFO: 307,
  CONSUME_MESSAGE_DIRECTLY: 309,
  SEND_MESSAGE_V2: 310,
  /** Per queue of a topic, the lowest offset of every group's but the filtered ones (clone/reset tools). */
  QUERY_CORRECTION_OFFSET: 308,
  CLONE_GROUP_OFFSET: 314,
  VIEW_BROKER_STATS_DATA: 315,
  CLEAN_UNUSED_TOPIC: 316,
  GET_BROKER_CONSUME_STATS: 317,
  UPDATE_NAMESRV_CONFIG: 318,
  GET_NAMESRV_CONFIG: 319,
  SEND_BATCH_MESSAGE: 320,
  QUERY_CONSUME_QUEUE: 321,
  QUERY_DATA_VERSION: 322,
  /** A half message's check count reset and the half put back, so the transaction check resumes. */
  RESUME_CHECK_HALF_MESSAGE: 323,
  /** A consumer's reply to a request message (long header names), stored and pushed to the requester. */
  SEND_REPLY_MESSAGE: 324,
  /** SEND_REPLY_MESSAGE with the V2 short header names. */
  SEND_REPLY_MESSAGE_V2: 325,
  /** Broker → requesting producer: the reply, correlated by CORRELATION_ID. */
  PUSH_REPLY_MESSAGE_TO_CLIENT: 326,
  ADD_WRITE_PERM_OF_BROKER: 327,
  GET_ALL_PRODUCER_INFO: 328,
  DELETE_EXPIRED_COMMITLOG: 329,
  QUERY_TOPICS_BY_CONSUMER: 343,
  QUERY_SUBSCRIPTION_BY_CONSUMER: 345,
  /** 5.x: one topic's config on a broker (admin tools, dashboard). */
  GET_TOPIC_CONFIG: 351,
  /** 5.x: one subscription group's config on a broker. */
  GET_SUBSCRIPTIONGROUP_CONFIG: 352,
  /** Forbid (or allow) a group to pull a topic, and read back whether it may. */
  UPDATE_AND_GET_GROUP_FORBIDDEN: 353,
  /** Server-side assignment: which queues a consumer takes, and in which mode (PULL or POP). */
  QUERY_ASSIGNMENT: 400,
  SET_MESSAGE_REQUEST_MODE: 401,
  GET_ALL_MESSAGE_REQUEST_MODE: 402,
  LITE_PULL_MESSAGE: 361,
  /** 5.x: the members (id → address) of one broker group, as the NameServer knows them. */
  GET_BROKER_MEMBER_GROUP: 901,
  /** 5.x: a broker's liveness beat to the NameServer between registrations (slave-acting-master mode). */
  BROKER_HEARTBEAT: 904,
  /** Replication state of a broker: its slaves (master) or its master (slave), upstream `HARuntimeInfo`. */
  GET_BROKER_HA_STATUS: 907,
  /** 5.3.2+: cancel a pending timer message by the recallHandle of its send response. */
  RECALL_MESSAGE: 370,
  /** POP over Remoting (5.x): codes beyond 16 bits, so these requests travel with JSON headers. */
  POP_MESSAGE: 200050,
  ACK_MESSAGE: 200051,
  PEEK_MESSAGE: 200052,
  CHANGE_MESSAGE_INVISIBLETIME: 200053,
  /** Whether a POP of the group would find a message, long-polled up to pollTime (proxies ask before popping). */
  NOTIFICATION: 200054,
  /** How many POPs wait on a topic, group and queue. */
  POLLING_INFO: 200055,
  BATCH_ACK_MESSAGE: 200151,
  /** ACL 2.0 administration (upstream 5.3+): users and their access control lists on a broker. */
  AUTH_CREATE_USER: 3001,
  AUTH_UPDATE_USER: 3002,
  AUTH_DELETE_USER: 3003,
  AUTH_GET_USER: 3004,
  AUTH_LIST_USER: 3005,
  AUTH_CREATE_ACL: 3006,
  AUTH_UPDATE_ACL: 3007,
  AUTH_DELETE_ACL: 3008,
  AUTH_GET_ACL: 3009,
  AUTH_LIST_ACL: 3010,
} as const;

/** Response codes (upstream `RemotingSysResponseCode` + `ResponseCode`). */
export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,
  FLUSH_DISK_TIMEOUT: 10,
  SLAVE_NOT_AVAILABLE: 11,
  FLUSH_SLAVE_TIMEOUT: 12,
  MESSAGE_ILLEGAL: 13,
  SERVICE_NOT_AVAILABLE: 14,
  VERSION_NOT_SUPPORTED: 15,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  TOPIC_EXIST_ALREADY: 18,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
  FILTER_DATA_NOT_EXIST: 27,
  FILTER_DATA_NOT_LATEST: 28,
  INVALID_PARAMETER: 29,
  TRANSACTION_SHOULD_COMMIT: 200,
  TRANSACTION_SHOULD_ROLLBACK: 201,
  TRANSACTION_STATE_UNKNOW: 202,
  TRANSACTION_STATE_GROUP_WRONG: 203,
  NO_BUYER_ID: 204,
  NOT_IN_CURRENT_UNIT: 205,
  CONSUMER_NOT_ONLINE: 206,
  CONSUME_MSG_TIMEOUT: 207,
  NO_MESSAGE: 208,
  /** POP: too many receives already wait on the broker. */
  POLLING_FULL: 209,
  /** POP: nothing arrived within the poll time. */
  POLLING_TIMEOUT: 210,
  ILLEGAL_OPERATION: 604,
} as const;

/** Why a pull was refused with NO_PERMISSION: the pull response header's `forbiddenType` (upstream `ForbiddenType`). */
export const ForbiddenType = {
  BROKER_FORBIDDEN: 1,
  GROUP_FORBIDDEN: 2,
  TOPIC_FORBIDDEN: 3,
  BROADCASTING_DISABLE_FORBIDDEN: 4,
  SUBSCRIPTION_FORBIDDEN: 5,
} as const;

/** Names of response codes, for error messages. */
export const ResponseCodeName: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ResponseCode).map(([k, v]) => [v, k]),
);

/** SDK language codes (upstream `LanguageCode`): the byte is used by the binary header, JSON carries the name. */
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
  NODE_JS: 13,
} as const;

export type LanguageName = keyof typeof LanguageCode;

export const LanguageByCode: readonly LanguageName[] = Object.keys(LanguageCode) as LanguageName[];

export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeTypeValue = (typeof SerializeType)[keyof typeof SerializeType];

/** `MQVersion.Version` ordinal this server reports (V5_3_3). */
export const CURRENT_VERSION = 479;

/** Release names of the MQVersion ordinals clients commonly report (remoting facts sheet §2.4). */
const VERSION_NAMES: Readonly<Record<number, string>> = {
  121: 'V3_4_9', 213: 'V4_0_0', 293: 'V4_4_0', 393: 'V4_9_0', 401: 'V4_9_4', 409: 'V4_9_8',
  413: 'V5_0_0', 433: 'V5_1_0', 473: 'V5_3_0', 475: 'V5_3_1', 479: 'V5_3_3',
};

/** Upstream `MQVersion.getVersionDesc`: the release name of a version ordinal. */
export function versionDesc(v: number): string {
  return VERSION_NAMES[v] ?? (v > 0 ? `V#${v}` : '');
}
