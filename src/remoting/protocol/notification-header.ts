import { optBoolean, optNumber, optString, reqNumber, reqString, type Ext } from '../header.js';

/**
 * NOTIFICATION (200054) and POLLING_INFO (200055) headers (upstream `NotificationRequestHeader`,
 * `NotificationResponseHeader`, `PollingInfoRequestHeader`, `PollingInfoResponseHeader`). A
 * NOTIFICATION asks whether a POP of the group would find a message, waiting up to `pollTime`
 * for one; POLLING_INFO asks how many POPs wait on a topic, group and queue.
 */

export interface NotificationRequestHeader {
  consumerGroup: string;
  topic: string;
  /** One queue, or −1 (any negative) for every queue of the topic on the broker. */
  queueId: number;
  /** How long to wait for a message, ms; 0 or less answers at once. */
  pollTime: number;
  /** When the client sent the request (epoch ms); absent or 0: when the broker received it. */
  bornTime?: number;
  /** Whether the POP it stands for is orderly (FIFO). */
  order: boolean;
  attemptId?: string;
}

export function decodeNotificationRequestHeader(ext: Ext): NotificationRequestHeader {
  const bornTime = optNumber(ext, 'bornTime');
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: Math.max(-1, reqNumber(ext, 'queueId')),
    pollTime: reqNumber(ext, 'pollTime'),
    // As upstream: a bornTime of 0 is replaced by the time of arrival.
    bornTime: bornTime === 0 ? undefined : bornTime,
    order: optBoolean(ext, 'order') ?? false,
    attemptId: optString(ext, 'attemptId'),
  };
}

export function encodeNotificationRequestHeader(h: NotificationRequestHeader): Record<string, string> {
  const ext: Record<string, string> = {
    consumerGroup: h.consumerGroup, topic: h.topic, queueId: String(h.queueId), pollTime: String(h.pollTime),
    bornTime: String(h.bornTime ?? Date.now()), order: String(h.order),
  };
  if (h.attemptId !== undefined) ext.attemptId = h.attemptId;
  return ext;
}

export interface NotificationResponseHeader {
  /** Whether a POP would find a message now. */
  hasMsg: boolean;
  /** The broker had too many polls waiting to wait for this one too. */
  pollingFull: boolean;
}

export function encodeNotificationResponseHeader(h: NotificationResponseHeader): Record<string, string> {
  return { hasMsg: String(h.hasMsg), pollingFull: String(h.pollingFull) };
}

export function decodeNotificationResponseHeader(ext: Ext): NotificationResponseHeader {
  return { hasMsg: optBoolean(ext, 'hasMsg') ?? false, pollingFull: optBoolean(ext, 'pollingFull') ?? false };
}

export interface PollingInfoRequestHeader {
  consumerGroup: string;
  topic: string;
  /** One queue, or −1 (any negative) for the POPs of every queue. */
  queueId: number;
}

export function decodePollingInfoRequestHeader(ext: Ext): PollingInfoRequestHeader {
  return { consumerGroup: reqString(ext, 'consumerGroup'), topic: reqString(ext, 'topic'), queueId: Math.max(-1, reqNumber(ext, 'queueId')) };
}

export function encodePollingInfoRequestHeader(h: PollingInfoRequestHeader): Record<string, string> {
  return { consumerGroup: h.consumerGroup, topic: h.topic, queueId: String(h.queueId) };
}

/** POLLING_INFO response header: POPs waiting now. */
export function decodePollingInfoResponseHeader(ext: Ext): number {
  return reqNumber(ext, 'pollingNum');
}
