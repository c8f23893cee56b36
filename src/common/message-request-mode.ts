import { parseLenientJson } from './json.js';

/**
 * Server-side assignment: the bodies of QUERY_ASSIGNMENT (400), SET_MESSAGE_REQUEST_MODE (401)
 * and GET_ALL_MESSAGE_REQUEST_MODE (402), shared by the broker, the SDK and the admin tools
 * (upstream `QueryAssignmentRequestBody`, `QueryAssignmentResponseBody`,
 * `SetMessageRequestModeRequestBody`, `MessageQueueAssignment`, `MessageRequestMode`).
 * All are fastjson JSON; enums travel as their names.
 */

/** How a group consumes the queues of a topic (upstream `MessageRequestMode`). */
export const MessageRequestMode = {
  PULL: 'PULL',
  /** Consumers of the group may share queues, consuming them with POP/ACK. */
  POP: 'POP',
} as const;
export type MessageRequestModeValue = (typeof MessageRequestMode)[keyof typeof MessageRequestMode];

export function isMessageRequestMode(v: unknown): v is MessageRequestModeValue {
  return v === MessageRequestMode.PULL || v === MessageRequestMode.POP;
}

/** A queue as these bodies carry it (upstream `MessageQueue`); queueId −1 is "every queue of the broker" (POP). */
export interface AssignedQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** One group's mode on one topic (upstream `SetMessageRequestModeRequestBody`). */
export interface SetMessageRequestModeRequestBody {
  topic: string;
  consumerGroup: string;
  mode: MessageRequestModeValue;
  /**
   * In POP mode, each consumer also pops the queues of the next N consumers in the sorted
   * client id list; ≤ 0, or ≥ consumers − 1, means every consumer pops every queue (upstream).
   */
  popShareQueueNum: number;
}

/** QUERY_ASSIGNMENT's body (upstream `QueryAssignmentRequestBody`). */
export interface QueryAssignmentRequestBody {
  topic: string;
  consumerGroup: string;
  clientId: string;
  /** Name of an allocation strategy: `AVG` or `AVG_BY_CIRCLE` (the only ones upstream's broker knows). */
  strategyName: string;
  messageModel: 'CLUSTERING' | 'BROADCASTING';
}

/** One queue given to a consumer, and how to consume it (upstream `MessageQueueAssignment`). */
export interface MessageQueueAssignment {
  messageQueue: AssignedQueue;
  mode: MessageRequestModeValue;
  attachments?: Record<string, string>;
}

/** A body that is not what its request code needs; the broker answers SYSTEM_ERROR, as upstream's failed decode does. */
export class RequestBodyError extends Error {
  readonly code = 'BODY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'RequestBodyError';
  }
}

type Obj = Record<string, unknown>;

function parseObject(body: Buffer | undefined, what: string): Obj {
  if (!body || body.length === 0) throw new RequestBodyError(`the request has no ${what} body`);
  let o: unknown;
  try {
    o = parseLenientJson(body);
  } catch (err) {
    throw new RequestBodyError(`the ${what} body is not JSON: ${(err as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new RequestBodyError(`the ${what} body is not a JSON object`);
  return o as Obj;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new RequestBodyError(`the ${what} body has no ${key}`);
  return v;
}

function int(v: unknown, dflt: number, what: string): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new RequestBodyError(`${what} ${JSON.stringify(v)} is not an integer`);
  return n;
}

function mode(v: unknown, what: string): MessageRequestModeValue {
  // Upstream's field default is PULL.
  if (v === undefined || v === null) return MessageRequestMode.PULL;
  if (!isMessageRequestMode(v)) throw new RequestBodyError(`${what} has an unknown mode ${JSON.stringify(v)}: use PULL or POP`);
  return v;
}

export function toSetMessageRequestModeBody(o: Obj, what = 'SetMessageRequestModeRequestBody'): SetMessageRequestModeRequestBody {
  return {
    topic: str(o, 'topic', what),
    consumerGroup: str(o, 'consumerGroup', what),
    mode: mode(o.mode, what),
    popShareQueueNum: int(o.popShareQueueNum, 0, `${what}.popShareQueueNum`),
  };
}

export function decodeSetMessageRequestModeBody(body: Buffer | undefined): SetMessageRequestModeRequestBody {
  return toSetMessageRequestModeBody(parseObject(body, 'SetMessageRequestModeRequestBody'));
}

export function decodeQueryAssignmentRequestBody(body: Buffer | undefined): QueryAssignmentRequestBody {
  const what = 'QueryAssignmentRequestBody';
  const o = parseObject(body, what);
  const model = o.messageModel ?? 'CLUSTERING';
  if (model !== 'CLUSTERING' && model !== 'BROADCASTING') throw new RequestBodyError(`the ${what} body has an unknown messageModel ${JSON.stringify(model)}`);
  return {
    topic: str(o, 'topic', what),
    consumerGroup: str(o, 'consumerGroup', what),
    clientId: str(o, 'clientId', what),
    strategyName: typeof o.strategyName === 'string' ? o.strategyName : '',
    messageModel: model,
  };
}

/**
 * The assignments of a QUERY_ASSIGNMENT response; undefined when the broker had none to give
 * (upstream: a null set, "skip this round", as opposed to an empty one, "give everything up").
 */
export function decodeQueryAssignmentResponseBody(body: Buffer | undefined): MessageQueueAssignment[] | undefined {
  if (!body || body.length === 0) return undefined;
  const o = parseObject(body, 'QueryAssignmentResponseBody');
  const list = o.messageQueueAssignments;
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw new RequestBodyError('QueryAssignmentResponseBody.messageQueueAssignments is not a list');
  return list.map((a: unknown) => {
    const r = a as Obj;
    const q = (r?.messageQueue ?? {}) as Obj;
    if (typeof q.topic !== 'string' || typeof q.brokerName !== 'string') throw new RequestBodyError('a MessageQueueAssignment has no messageQueue');
    const out: MessageQueueAssignment = {
      messageQueue: { topic: q.topic, brokerName: q.brokerName, queueId: int(q.queueId, 0, 'MessageQueue.queueId') },
      mode: mode(r.mode, 'MessageQueueAssignment'),
    };
    if (r.attachments && typeof r.attachments === 'object') out.attachments = r.attachments as Record<string, string>;
    return out;
  });
}

/** The mode table as GET_ALL_MESSAGE_REQUEST_MODE returns it and messageRequestMode.json stores it (topic → group → mode). */
export type MessageRequestModeTable = Map<string, Map<string, SetMessageRequestModeRequestBody>>;

/** Reads `{"messageRequestModeMap":{topic:{group:{…}}}}` (upstream `MessageRequestModeSerializeWrapper`). */
export function decodeMessageRequestModeTable(body: Buffer | string): MessageRequestModeTable {
  const o = typeof body === 'string' ? parseObject(Buffer.from(body), 'MessageRequestModeSerializeWrapper') : parseObject(body, 'MessageRequestModeSerializeWrapper');
  const out: MessageRequestModeTable = new Map();
  const map = o.messageRequestModeMap;
  if (map === undefined || map === null) return out;
  if (typeof map !== 'object' || Array.isArray(map)) throw new RequestBodyError('messageRequestModeMap is not an object');
  for (const [topic, groups] of Object.entries(map as Obj)) {
    if (typeof groups !== 'object' || groups === null) continue;
    const m = new Map<string, SetMessageRequestModeRequestBody>();
    for (const [group, v] of Object.entries(groups as Obj)) {
      // Older files may omit the redundant topic/group inside the entry.
      m.set(group, toSetMessageRequestModeBody({ topic, consumerGroup: group, ...(v as Obj) }));
    }
    out.set(topic, m);
  }
  return out;
}

export function encodeMessageRequestModeTable(table: MessageRequestModeTable): string {
  const map: Record<string, Record<string, SetMessageRequestModeRequestBody>> = {};
  for (const [topic, groups] of table) map[topic] = Object.fromEntries(groups);
  return JSON.stringify({ messageRequestModeMap: map });
}
