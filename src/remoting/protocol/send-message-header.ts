import { optBoolean, optNumber, optString, reqNumber, reqString, type Ext } from '../header.js';

/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) headers (upstream
 * `SendMessageRequestHeader`, `SendMessageRequestHeaderV2`, `SendMessageResponseHeader`):
 * one description used by the client to write them and by the broker to read them.
 */
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
  /** true ⇒ the body is a batch; the broker dispatches on this flag, not on the code. */
  batch?: boolean;
  brokerName?: string;
}

/** A decoded request header: the optional fields the broker always needs are filled in. */
export type DecodedSendMessageRequestHeader = SendMessageRequestHeader & {
  properties: string;
  reconsumeTimes: number;
  unitMode: boolean;
  batch: boolean;
};

/** V1 field → V2 key. */
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

type Keys = { [K in keyof typeof SendHeaderV2Key]: string };
const V1_KEYS = Object.fromEntries(Object.keys(SendHeaderV2Key).map((k) => [k, k === 'brokerName' ? 'bname' : k])) as Keys;

function decodeWith(ext: Ext, k: Keys): DecodedSendMessageRequestHeader {
  return {
    producerGroup: reqString(ext, k.producerGroup),
    topic: reqString(ext, k.topic),
    defaultTopic: optString(ext, k.defaultTopic) ?? 'TBW102',
    defaultTopicQueueNums: optNumber(ext, k.defaultTopicQueueNums) ?? 4,
    queueId: reqNumber(ext, k.queueId),
    sysFlag: optNumber(ext, k.sysFlag) ?? 0,
    bornTimestamp: optNumber(ext, k.bornTimestamp) ?? Date.now(),
    flag: optNumber(ext, k.flag) ?? 0,
    properties: optString(ext, k.properties) ?? '',
    reconsumeTimes: optNumber(ext, k.reconsumeTimes) ?? 0,
    unitMode: optBoolean(ext, k.unitMode) ?? false,
    maxReconsumeTimes: optNumber(ext, k.maxReconsumeTimes),
    batch: optBoolean(ext, k.batch) ?? false,
    brokerName: optString(ext, k.brokerName),
  };
}

/** V1 header (long field names, code 10). */
export function decodeSendMessageRequestHeader(ext: Ext): DecodedSendMessageRequestHeader {
  return decodeWith(ext, V1_KEYS);
}

/** V2 header (keys a..n, codes 310 and 320). */
export function decodeSendMessageRequestHeaderV2(ext: Ext): DecodedSendMessageRequestHeader {
  return decodeWith(ext, SendHeaderV2Key);
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

export function decodeSendMessageResponseHeader(ext: Ext): SendMessageResponseHeader {
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
}

/** Ext fields of a send response; Java clients dereference MSG_REGION and TRACE_ON, so both are always set. */
export function encodeSendMessageResponseHeader(h: SendMessageResponseHeader): Record<string, string | number | undefined> {
  return {
    msgId: h.msgId, queueId: h.queueId, queueOffset: h.queueOffset, transactionId: h.transactionId,
    batchUniqId: h.batchUniqId, recallHandle: h.recallHandle, MSG_REGION: h.regionId, TRACE_ON: String(h.traceOn),
  };
}
