/**
 * Message property keys as they travel on the wire (upstream `MessageConst`).
 * Values are the exact strings stored inside the properties string.
 */
export const MessageConst = {
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  WAIT_STORE_MSG_OK: 'WAIT',
  DELAY_TIME_LEVEL: 'DELAY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QUEUE_ID: 'REAL_QID',
  TRANSACTION_PREPARED: 'TRAN_MSG',
  PRODUCER_GROUP: 'PGROUP',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  BUYER_ID: 'BUYER_ID',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  TRANSFER_FLAG: 'TRANSFER_FLAG',
  CORRECTION_FLAG: 'CORRECTION_FLAG',
  MQ2_FLAG: 'MQ2_FLAG',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MSG_REGION: 'MSG_REGION',
  TRACE_SWITCH: 'TRACE_ON',
  UNIQ_CLIENT_MESSAGE_ID_KEYIDX: 'UNIQ_KEY',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  CONSUME_START_TIMESTAMP: 'CONSUME_START_TIME',
  TRAN_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  INSTANCE_ID: 'INSTANCE_ID',
  CORRELATION_ID: 'CORRELATION_ID',
  REPLY_TO_CLIENT: 'REPLY_TO_CLIENT',
  TTL: 'TTL',
  ARRIVE_TIME: 'ARRIVE_TIME',
  PUSH_REPLY_TIME: 'PUSH_REPLY_TIME',
  CLUSTER: 'CLUSTER',
  MESSAGE_TYPE: 'MSG_TYPE',
  SHARDING_KEY: '__SHARDINGKEY',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  TRANSACTION_ID: '__transactionId__',
  /** A popped message's receipt (the broker's extra info), which its ack or change of invisible time returns. */
  POP_CK: 'POP_CK',
  /** When a popped message was first popped. */
  FIRST_POP_TIME: '1ST_POP_TIME',
  /** How many messages an inner-batch record holds; only a BatchCQ topic takes one (upstream `PROPERTY_INNER_NUM`). */
  INNER_NUM: 'INNER_NUM',
} as const;

/**
 * Property names an application may not set with `putUserProperty` (upstream
 * `MessageConst.STRING_HASH_SET`): those the client, broker, timer, POP and DLQ write
 * themselves. Others of MessageConst stay open, as upstream: an application sets
 * CHECK_IMMUNITY_TIME_IN_SECONDS or TRANSACTION_CHECK_TIMES on a transaction message itself.
 */
export const SYSTEM_PROPERTY_NAMES: ReadonlySet<string> = new Set<string>([
  MessageConst.TRACE_SWITCH, MessageConst.MSG_REGION, MessageConst.KEYS, MessageConst.TAGS, MessageConst.WAIT_STORE_MSG_OK,
  MessageConst.DELAY_TIME_LEVEL, MessageConst.RETRY_TOPIC, MessageConst.REAL_TOPIC, MessageConst.REAL_QUEUE_ID,
  MessageConst.TRANSACTION_PREPARED, MessageConst.PRODUCER_GROUP, MessageConst.MIN_OFFSET, MessageConst.MAX_OFFSET,
  MessageConst.BUYER_ID, MessageConst.ORIGIN_MESSAGE_ID, MessageConst.TRANSFER_FLAG, MessageConst.CORRECTION_FLAG,
  MessageConst.MQ2_FLAG, MessageConst.RECONSUME_TIME, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, MessageConst.MAX_RECONSUME_TIMES,
  MessageConst.CONSUME_START_TIMESTAMP, MessageConst.POP_CK, 'POP_CK_OFFSET', MessageConst.FIRST_POP_TIME,
  MessageConst.TRAN_PREPARED_QUEUE_OFFSET, 'DUP_INFO', 'EXTEND_UNIQ_INFO', MessageConst.INSTANCE_ID, MessageConst.CORRELATION_ID,
  MessageConst.REPLY_TO_CLIENT, MessageConst.TTL, MessageConst.ARRIVE_TIME, MessageConst.PUSH_REPLY_TIME, MessageConst.CLUSTER,
  MessageConst.MESSAGE_TYPE, 'INNER_MULTI_QUEUE_OFFSET', MessageConst.TIMER_DELAY_MS, MessageConst.TIMER_DELAY_SEC,
  MessageConst.TIMER_DELIVER_MS, 'TIMER_ENQUEUE_MS', 'TIMER_DEQUEUE_MS', 'TIMER_ROLL_TIMES', 'TIMER_OUT_MS', 'TIMER_DEL_UNIQKEY',
  'TIMER_DELAY_LEVEL', '__BORNHOST', 'BORN_TIMESTAMP', 'DLQ_ORIGIN_TOPIC', 'DLQ_ORIGIN_MESSAGE_ID', '__CRC32#',
]);

/** Separator between a property name and its value (char 1). */
export const NAME_VALUE_SEPARATOR = '\u0001';
/** Separator after every name/value pair, the last one included (char 2). */
export const PROPERTY_SEPARATOR = '\u0002';
/** Properties with this prefix are never persisted (upstream). */
export const TRANSIENT_PREFIX = '__RMQ.TRANSIENT.';
