import { parseJavaLong } from './java.js';

// Recall handles (upstream `RecallMessageHandle`): what a send of a timer message answers with,
// and what RECALL_MESSAGE takes to cancel that message before it is delivered.

/** The parts of a recall handle (upstream `RecallMessageHandle.HandleV1`). */
export interface RecallHandle {
  topic: string;
  brokerName: string;
  /** Upstream keeps the timestamp as a string; `Number.NaN` here when it is not a number. */
  timestampMs: number;
  timestampStr: string;
  messageId: string;
}

/**
 * `base64url("v1 topic brokerName timestamp uniqKey")` with padding, as Java's URL encoder
 * writes it. The timestamp is TIMER_OUT_MS + 1 (upstream: "consider of floor").
 */
export function buildRecallHandle(topic: string, brokerName: string, timestampMs: number, uniqKey: string): string {
  const b64 = Buffer.from(['v1', topic, brokerName, String(timestampMs), uniqKey].join(' '), 'utf8').toString('base64url');
  return b64 + '='.repeat((4 - (b64.length % 4)) % 4);
}

/** Decodes a recall handle; throws with upstream's message when it is not a valid v1 handle. */
export function decodeRecallHandle(handle: string | undefined): RecallHandle {
  if (!handle || !/^[A-Za-z0-9_-]+={0,2}$/.test(handle) || handle.replace(/=+$/, '').length % 4 === 1) {
    throw new Error('recall handle is invalid');
  }
  const items = Buffer.from(handle, 'base64url').toString('utf8').split(' ');
  // Java's split drops trailing empty strings.
  while (items.length > 0 && items[items.length - 1] === '') items.pop();
  if (items[0] !== 'v1' || items.length < 5) throw new Error('recall handle is invalid');
  const timestampStr = items[3]!;
  return { topic: items[1]!, brokerName: items[2]!, timestampStr, timestampMs: parseJavaLong(timestampStr) ?? Number.NaN, messageId: items[4]! };
}
