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

/**
 * A client body that must be a JSON object (heartbeats, lock requests, client checks): its
 * fields, or a HeaderError with `code` that says what the body is instead.
 */
export function clientBodyObject(body: Buffer | undefined, what: string, code: number = ResponseCode.SYSTEM_ERROR): Record<string, unknown> {
  if (!body || body.length === 0) throw new HeaderError(`${what} has no body: it must carry a JSON object`, code);
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HeaderError(`${what} body is not valid JSON: ${(e as Error).message}`, code);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HeaderError(`${what} body is not a JSON object`, code);
  return raw as Record<string, unknown>;
}

/** The elements of `v` that are JSON objects (none when `v` is no array): a null entry is skipped, not dereferenced. */
export function objectsOf(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e)) : [];
}

/** Decodes a HEART_BEAT body; tolerant of missing optional fields (ali-ons omits expressionType). */
export function decodeHeartbeatData(body: Buffer | undefined): HeartbeatData {
  const raw = clientBodyObject(body, 'HEART_BEAT');
  return {
    clientID: str(raw.clientID),
    producerDataSet: objectsOf(raw.producerDataSet).map((p) => ({ groupName: str(p.groupName) })).filter((p) => p.groupName),
    consumerDataSet: objectsOf(raw.consumerDataSet).map((o) => ({
      groupName: str(o.groupName),
      consumeType: str(o.consumeType, 'CONSUME_PASSIVELY'),
      messageModel: str(o.messageModel, 'CLUSTERING'),
      consumeFromWhere: str(o.consumeFromWhere, 'CONSUME_FROM_LAST_OFFSET'),
      unitMode: o.unitMode === true,
      subscriptionDataSet: objectsOf(o.subscriptionDataSet).map(toSubscriptionData),
    })).filter((c) => c.groupName),
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
