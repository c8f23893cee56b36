import { HeaderError, optString, reqNumber, reqString, type Ext } from '../remoting/header.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import type { SubscriptionData } from '../common/subscription.js';

/**
 * Typed request headers the client sends and the response headers it reads. Request field
 * names are upstream's Java field names (they become extFields keys), except SEND_MESSAGE_V2,
 * whose short keys a..n are produced by `encodeSendMessageRequestHeaderV2`.
 */

/** `SendMessageRequestHeader`, carried in its V2 short-key form. */
export interface SendMessageRequestHeader {
  producerGroup: string;
  topic: string;
  /** Template topic for auto-creation, normally TBW102. */
  defaultTopic: string;
  defaultTopicQueueNums: number;
  /** < 0 lets the broker pick a writable queue. */
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties?: string;
  reconsumeTimes?: number;
  unitMode?: boolean;
  maxReconsumeTimes?: number;
  /** true ⇒ the body is a batch (§6.4); the broker dispatches on this flag. */
  batch?: boolean;
  brokerName?: string;
}

/** V1 field → V2 key (upstream `SendMessageRequestHeaderV2`). */
export const SendHeaderV2Key = {
  producerGroup: 'a',
  topic: 'b',
  defaultTopic: 'c',
  defaultTopicQueueNums: 'd',
  queueId: 'e',
  sysFlag: 'f',
  bornTimestamp: 'g',
  flag: 'h',
  properties: 'i',
  reconsumeTimes: 'j',
  unitMode: 'k',
  maxReconsumeTimes: 'l',
  batch: 'm',
  brokerName: 'n',
} as const;

/**
 * The V2 extFields. Like upstream's client, `j`, `k` and `m` are always sent (primitives in 4.9),
 * `i`, `l` and `n` only when set. Built as one object literal so every send header has one shape.
 */
export function encodeSendMessageRequestHeaderV2(h: SendMessageRequestHeader): Record<string, string> {
  const ext: Record<string, string> = {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic,
    d: String(h.defaultTopicQueueNums),
    e: String(h.queueId),
    f: String(h.sysFlag),
    g: String(h.bornTimestamp),
    h: String(h.flag),
    j: String(h.reconsumeTimes ?? 0),
    k: h.unitMode ? 'true' : 'false',
    m: h.batch ? 'true' : 'false',
  };
  if (h.properties !== undefined) ext.i = h.properties;
  if (h.maxReconsumeTimes !== undefined) ext.l = String(h.maxReconsumeTimes);
  if (h.brokerName !== undefined) ext.n = h.brokerName;
  return ext;
}

export interface SendMessageResponseHeader {
  /** Offset msgId of the stored message (comma-joined for a batch). */
  msgId: string;
  queueId: number;
  queueOffset: number;
  transactionId?: string;
  batchUniqId?: string;
  recallHandle?: string;
  /** `MSG_REGION` ext key; `DefaultRegion` when absent. */
  regionId: string;
  /** `TRACE_ON` ext key: anything but "false" is on. */
  traceOn: boolean;
}

/** Runs a header decoder, turning a missing or malformed field into a client BAD_RESPONSE error. */
function decodeResponse<T>(what: string, addr: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HeaderError) {
      throw new MQClientError(`malformed ${what} from ${addr}: ${err.message}`, ClientErrorCode.BAD_RESPONSE, false, { cause: err });
    }
    throw err;
  }
}

export function decodeSendMessageResponseHeader(ext: Ext, addr: string): SendMessageResponseHeader {
  return decodeResponse('send response header', addr, () => {
    const regionId = optString(ext, 'MSG_REGION');
    return {
      msgId: reqString(ext, 'msgId'),
      queueId: reqNumber(ext, 'queueId'),
      queueOffset: reqNumber(ext, 'queueOffset'),
      transactionId: optString(ext, 'transactionId'),
      batchUniqId: optString(ext, 'batchUniqId'),
      recallHandle: optString(ext, 'recallHandle'),
      regionId: regionId ? regionId : 'DefaultRegion',
      traceOn: optString(ext, 'TRACE_ON') !== 'false',
    };
  });
}

/** `PullMessageRequestHeader`. */
export interface PullMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  /** PullSysFlag bits. */
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  /** Expression, sent when FLAG_SUBSCRIPTION is set. */
  subscription?: string;
  subVersion: number;
  expressionType?: string;
  maxMsgBytes?: number;
  /** Broker name (`bname`, RpcRequestHeader). */
  brokerName?: string;
}

export function encodePullMessageRequestHeader(h: PullMessageRequestHeader): Record<string, string> {
  const ext: Record<string, string> = {
    consumerGroup: h.consumerGroup,
    topic: h.topic,
    queueId: String(h.queueId),
    queueOffset: String(h.queueOffset),
    maxMsgNums: String(h.maxMsgNums),
    sysFlag: String(h.sysFlag),
    commitOffset: String(h.commitOffset),
    suspendTimeoutMillis: String(h.suspendTimeoutMillis),
    subVersion: String(h.subVersion),
  };
  if (h.subscription !== undefined) ext.subscription = h.subscription;
  if (h.expressionType !== undefined) ext.expressionType = h.expressionType;
  if (h.maxMsgBytes !== undefined) ext.maxMsgBytes = String(h.maxMsgBytes);
  if (h.brokerName !== undefined) ext.bname = h.brokerName;
  return ext;
}

export interface PullMessageResponseHeader {
  suggestWhichBrokerId: number;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
}

export function decodePullMessageResponseHeader(ext: Ext, addr: string): PullMessageResponseHeader {
  return decodeResponse('pull response header', addr, () => ({
    suggestWhichBrokerId: ext?.suggestWhichBrokerId === undefined ? 0 : reqNumber(ext, 'suggestWhichBrokerId'),
    nextBeginOffset: reqNumber(ext, 'nextBeginOffset'),
    minOffset: reqNumber(ext, 'minOffset'),
    maxOffset: reqNumber(ext, 'maxOffset'),
  }));
}

/** Reads one required numeric response field (`offset`, `timestamp`, …). */
export function decodeNumberField(ext: Ext, key: string, what: string, addr: string): number {
  return decodeResponse(what, addr, () => reqNumber(ext, key));
}

export interface QueryConsumerOffsetRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  /** 5.x: when false the broker answers QUERY_NOT_FOUND instead of 0 for a young queue. */
  setZeroIfNotFound?: boolean;
}

export interface UpdateConsumerOffsetRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  commitOffset: number;
}

export type SearchOffsetBoundaryType = 'LOWER' | 'UPPER';

export const ConsumeType = { CONSUME_ACTIVELY: 'CONSUME_ACTIVELY', CONSUME_PASSIVELY: 'CONSUME_PASSIVELY', CONSUME_POP: 'CONSUME_POP' } as const;
export const MessageModel = { CLUSTERING: 'CLUSTERING', BROADCASTING: 'BROADCASTING' } as const;
export const ConsumeFromWhere = {
  CONSUME_FROM_LAST_OFFSET: 'CONSUME_FROM_LAST_OFFSET',
  CONSUME_FROM_FIRST_OFFSET: 'CONSUME_FROM_FIRST_OFFSET',
  CONSUME_FROM_TIMESTAMP: 'CONSUME_FROM_TIMESTAMP',
} as const;

export interface ConsumerData {
  groupName: string;
  consumeType: (typeof ConsumeType)[keyof typeof ConsumeType];
  messageModel: (typeof MessageModel)[keyof typeof MessageModel];
  consumeFromWhere: (typeof ConsumeFromWhere)[keyof typeof ConsumeFromWhere];
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

export interface ProducerData {
  groupName: string;
}

/** HEART_BEAT body (upstream `HeartbeatData`). */
export interface HeartbeatData {
  clientID: string;
  producerDataSet: ProducerData[];
  consumerDataSet: ConsumerData[];
  heartbeatFingerprint?: number;
  withoutSub?: boolean;
}

export interface HeartbeatResult {
  /** The broker's `version` (MQVersion ordinal). */
  version: number;
  /** 5.x `IS_SUPPORT_HEART_BEAT_V2`. */
  supportHeartbeatV2: boolean;
  /** 5.x `IS_SUB_CHANGE`: the broker wants the full subscriptions next time. */
  subChange: boolean;
}

/** LOCK_BATCH_MQ / UNLOCK_BATCH_MQ body. */
export interface LockBatchRequestBody {
  consumerGroup: string;
  clientId: string;
  onlyThisBroker?: boolean;
  mqSet: Array<{ topic: string; brokerName: string; queueId: number }>;
}
