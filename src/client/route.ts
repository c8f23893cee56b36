import { ClientErrorCode, MQClientError } from './errors.js';

/**
 * Client-side queue addressing. The route data itself (`TopicRouteData`, `QueueData`,
 * `BrokerData`, `ClusterInfo`) and its decoders live in `../common/route.ts`.
 */

/** A queue of a topic on one broker (upstream `MessageQueue`). */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** A stable string key for maps and sets of queues. */
export function messageQueueKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

function bad(what: string): never {
  throw new MQClientError(`malformed ${what} in a response body`, ClientErrorCode.BAD_RESPONSE);
}

function asString(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return bad(what);
}

function asInt(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n)) bad(what);
  return n;
}

/** Parses a MessageQueue from JSON (a body element, or an object map key turned into text by the lenient parser). */
export function toMessageQueue(v: unknown): MessageQueue {
  const o = typeof v === 'string' ? JSON.parse(v) as unknown : v;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad('MessageQueue');
  const r = o as Record<string, unknown>;
  return {
    topic: asString(r.topic, 'MessageQueue.topic'),
    brokerName: asString(r.brokerName, 'MessageQueue.brokerName'),
    queueId: asInt(r.queueId, 'MessageQueue.queueId'),
  };
}

/** Upstream `MessageQueue.compareTo`: by topic, then broker name, then queue id. */
export function compareMessageQueue(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/** Upstream `MessageQueue.toString()`; also the key the consistent-hash strategy hashes. */
export function messageQueueToString(mq: MessageQueue): string {
  return `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}
