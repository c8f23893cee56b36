import { HeaderError } from '../../remoting/header.js';
import { ResponseCode } from '../../remoting/codes.js';
import type { SubscriptionData } from '../../common/subscription.js';

/** Defined in common: the client builds the same structure for its heartbeats. */
export type { SubscriptionData };

export interface ConsumerData {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

export interface HeartbeatData {
  clientID: string;
  producerDataSet: Array<{ groupName: string }>;
  consumerDataSet: ConsumerData[];
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? fallback : String(v);
}

/** Decodes a HEART_BEAT body; tolerant of missing optional fields (ali-ons omits expressionType). */
export function decodeHeartbeatData(body: Buffer | undefined): HeartbeatData {
  if (!body || body.length === 0) throw new HeaderError('HEART_BEAT has no body: it must carry HeartbeatData JSON', ResponseCode.SYSTEM_ERROR);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new HeaderError(`HEART_BEAT body is not valid JSON: ${(e as Error).message}`, ResponseCode.SYSTEM_ERROR);
  }
  const producers = Array.isArray(raw.producerDataSet) ? raw.producerDataSet : [];
  const consumers = Array.isArray(raw.consumerDataSet) ? raw.consumerDataSet : [];
  return {
    clientID: str(raw.clientID),
    producerDataSet: producers.map((p) => ({ groupName: str((p as Record<string, unknown>).groupName) })).filter((p) => p.groupName),
    consumerDataSet: consumers.map((c) => {
      const o = c as Record<string, unknown>;
      const subs = Array.isArray(o.subscriptionDataSet) ? o.subscriptionDataSet : [];
      return {
        groupName: str(o.groupName),
        consumeType: str(o.consumeType, 'CONSUME_PASSIVELY'),
        messageModel: str(o.messageModel, 'CLUSTERING'),
        consumeFromWhere: str(o.consumeFromWhere, 'CONSUME_FROM_LAST_OFFSET'),
        unitMode: o.unitMode === true,
        subscriptionDataSet: subs.map((s) => toSubscriptionData(s as Record<string, unknown>)),
      };
    }).filter((c) => c.groupName),
  };
}

export function toSubscriptionData(s: Record<string, unknown>): SubscriptionData {
  return {
    topic: str(s.topic),
    subString: str(s.subString, '*'),
    tagsSet: Array.isArray(s.tagsSet) ? s.tagsSet.map((t) => str(t)) : [],
    codeSet: Array.isArray(s.codeSet) ? s.codeSet.map((t) => Number(t) | 0) : [],
    subVersion: Number(s.subVersion ?? 0),
    expressionType: str(s.expressionType, 'TAG'),
    classFilterMode: s.classFilterMode === true,
  };
}
