import { HeaderError, reqNumber, type Ext } from '../remoting/header.js';
import { rawExtOf } from '../remoting/codec.js';
import type { RemotingCommand } from '../remoting/command.js';
import {
  decodePullMessageResponseHeader as decodePullResponse,
  decodeSendMessageResponseHeader as decodeSendResponse,
  decodeSendMessageResponseHeaderRaw as decodeSendResponseRaw,
  type PullMessageResponseHeader,
  type SendMessageResponseHeader,
} from '../remoting/protocol/index.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import type { SubscriptionData } from '../common/subscription.js';

/**
 * Typed request headers the client sends and the response headers it reads. Request field
 * names are upstream's Java field names (they become extFields keys), except SEND_MESSAGE_V2,
 * whose short keys a..n are produced by `encodeSendMessageRequestHeaderV2`.
 */

export type {
  SendMessageRequestHeader, SendMessageResponseHeader, PullMessageRequestHeader, PullMessageResponseHeader,
  QueryConsumerOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
} from '../remoting/protocol/index.js';
export { SendHeaderV2Ext, SendHeaderV2Key, encodeSendMessageRequestHeaderV2, encodePullMessageRequestHeader } from '../remoting/protocol/index.js';

/** A missing or malformed response field as a client BAD_RESPONSE error; anything else as it is. */
function badResponse(what: string, addr: string, err: unknown): unknown {
  if (err instanceof HeaderError) {
    return new MQClientError(`malformed ${what} from ${addr}: ${err.message}`, ClientErrorCode.BAD_RESPONSE, false, { cause: err });
  }
  return err;
}

/** Runs a header decoder, turning a missing or malformed field into a client BAD_RESPONSE error. */
function decodeResponse<T>(what: string, addr: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw badResponse(what, addr, err);
  }
}

/**
 * From the raw binary section when the response has one (every ROCKETMQ-serialized send), else
 * from the fields. Every send reads one, so no decoder closure as in `decodeResponse`.
 */
export function decodeSendMessageResponseHeader(res: RemotingCommand, addr: string): SendMessageResponseHeader {
  const raw = rawExtOf(res);
  try {
    return raw ? decodeSendResponseRaw(raw) : decodeSendResponse(res.extFields);
  } catch (err) {
    throw badResponse('send response header', addr, err);
  }
}

export function decodePullMessageResponseHeader(ext: Ext, addr: string): PullMessageResponseHeader {
  return decodeResponse('pull response header', addr, () => decodePullResponse(ext));
}

/** Reads one required numeric response field (`offset`, `timestamp`, …). */
export function decodeNumberField(ext: Ext, key: string, what: string, addr: string): number {
  return decodeResponse(what, addr, () => reqNumber(ext, key));
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
