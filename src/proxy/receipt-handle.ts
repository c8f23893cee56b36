import { decodeExtraInfo, encodeExtraInfo, type ExtraInfo } from '../broker/pop/pop-checkpoint.js';

/**
 * The gRPC receipt handle (upstream `common/.../consumer/ReceiptHandle`): the broker's POP
 * extra info plus the message's CommitLog offset, space-separated —
 * `ckQueueOffset popTime invisibleTime reviveQid topicType brokerName queueId queueOffset commitLogOffset`.
 * It names everything an ack, a change of invisible time or a DLQ forward needs, so the proxy
 * keeps no table of handles.
 */
export interface ReceiptHandle extends ExtraInfo {
  commitLogOffset: number;
}

export function encodeReceiptHandle(h: ReceiptHandle): string {
  return `${encodeExtraInfo(h)} ${h.commitLogOffset}`;
}

/** Parses a receipt handle; undefined when it is not one. */
export function decodeReceiptHandle(text: string): ReceiptHandle | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 1024) return undefined;
  const parts = text.split(' ');
  if (parts.length !== 9) return undefined;
  const extra = decodeExtraInfo(parts.slice(0, 8));
  const clo = parts[8]!;
  if (!extra || !/^\d{1,16}$/.test(clo)) return undefined;
  return { ...extra, commitLogOffset: Number(clo) };
}

/** When the message of this handle becomes visible again (upstream `ReceiptHandle.getNextVisibleTime`). */
export function nextVisibleTime(h: ReceiptHandle): number {
  return h.popTime + h.invisibleTime;
}
