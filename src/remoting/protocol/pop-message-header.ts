import { optBoolean, optNumber, optString, reqNumber, reqString, type Ext } from '../header.js';

/**
 * POP_MESSAGE (200050), ACK_MESSAGE (200051) and CHANGE_MESSAGE_INVISIBLETIME (200053) headers
 * (upstream `PopMessageRequestHeader`, `PopMessageResponseHeader`, `AckMessageRequestHeader`,
 * `ChangeInvisibleTimeRequestHeader`), and the receipts ("extra info", a message's POP_CK) a POP
 * response gives its messages (upstream `ExtraInfoUtil`, `MQClientAPIImpl.processPopResponse`).
 */

export interface PopMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  /** One queue, or −1 for every queue of the broker. */
  queueId: number;
  maxMsgNums: number;
  invisibleTime: number;
  pollTime: number;
  bornTime: number;
  initMode: number;
  expType?: string;
  exp?: string;
  order?: boolean;
  attemptId?: string;
  /** Not upstream's: deliveries before the DLQ, which this project's proxy decides. */
  maxAttempts?: number;
}

export function decodePopMessageRequestHeader(ext: Ext): PopMessageRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: optNumber(ext, 'queueId') ?? -1,
    maxMsgNums: reqNumber(ext, 'maxMsgNums'),
    invisibleTime: reqNumber(ext, 'invisibleTime'),
    pollTime: optNumber(ext, 'pollTime') ?? 0,
    bornTime: optNumber(ext, 'bornTime') ?? Date.now(),
    initMode: optNumber(ext, 'initMode') ?? 1,
    expType: optString(ext, 'expType'),
    exp: optString(ext, 'exp'),
    order: optBoolean(ext, 'order') ?? false,
    attemptId: optString(ext, 'attemptId'),
    maxAttempts: optNumber(ext, 'maxAttempts'),
  };
}

/** ACK_MESSAGE / CHANGE_MESSAGE_INVISIBLETIME header. */
export interface AckMessageRequestHeader {
  consumerGroup: string;
  /** The topic popped, or for a message of the group's POP retry topic that topic's name. */
  topic: string;
  queueId: number;
  /** The receipt (the message's POP_CK). */
  extraInfo: string;
  offset: number;
  /** CHANGE_MESSAGE_INVISIBLETIME only: how long from now the message stays invisible, ms. */
  invisibleTime?: number;
}

export function decodeAckMessageRequestHeader(ext: Ext): AckMessageRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: reqNumber(ext, 'queueId'),
    extraInfo: reqString(ext, 'extraInfo'),
    offset: reqNumber(ext, 'offset'),
    invisibleTime: optNumber(ext, 'invisibleTime'),
  };
}

/**
 * A receipt's retry mark (upstream `ExtraInfoUtil.getRetry`): 0 for a message of the topic
 * itself, 1 for one of the group's POP retry topic (`%RETRY%group_topic`), 2 for the V2 form
 * (`%RETRY%group+topic`).
 */
export function retryMarkOf(topic: string): '0' | '1' | '2' {
  if (!topic.startsWith('%RETRY%')) return '0';
  return topic.includes('+') ? '2' : '1';
}

/** What the broker tells of one popped message. */
export interface PoppedOffset {
  mark: string;
  queueId: number;
  /** The start offset of the check point holding it. */
  ckQueueOffset: number;
  queueOffset: number;
  /** Deliveries before this one (FIFO pops report it). */
  consumedTimes: number;
}

/**
 * A POP response's `startOffsetInfo`, `msgOffsetInfo` and, for FIFO pops, `orderCountInfo`
 * (upstream `ExtraInfoUtil.build…`): per mark and queue `mark queueId startOffset`, `mark queueId
 * o1,o2,…`, and `mark qo<queueId>%<offset> count` for each message delivered before plus
 * `mark queueId minCount`; each list `;`-separated, in the order of the messages in the body.
 */
export function encodePopOffsetInfos(messages: readonly PoppedOffset[], order: boolean): Record<string, string> {
  const queues = new Map<string, { start: number; offsets: number[]; counts: number[] }>();
  for (const m of messages) {
    const key = `${m.mark} ${m.queueId}`;
    let q = queues.get(key);
    if (!q) {
      q = { start: m.ckQueueOffset, offsets: [], counts: [] };
      queues.set(key, q);
    }
    q.offsets.push(m.queueOffset);
    q.counts.push(m.consumedTimes);
  }
  const start: string[] = [];
  const msg: string[] = [];
  const counts: string[] = [];
  for (const [key, q] of queues) {
    start.push(`${key} ${q.start}`);
    msg.push(`${key} ${q.offsets.join(',')}`);
    if (!order) continue;
    const [mark, queueId] = key.split(' ');
    for (let i = 0; i < q.offsets.length; i++) if (q.counts[i]! > 0) counts.push(`${mark} qo${queueId}%${q.offsets[i]} ${q.counts[i]}`);
    counts.push(`${key} ${Math.min(...q.counts)}`);
  }
  const out: Record<string, string> = { startOffsetInfo: start.join(';'), msgOffsetInfo: msg.join(';') };
  if (order) out.orderCountInfo = counts.join(';');
  return out;
}

/** A popped record as the receipts are built from it. */
export interface PoppedRecord {
  topic: string;
  queueId: number;
  queueOffset: number;
}

/** A message's receipt, and for a FIFO pop how often it was delivered before (else undefined). */
export interface PopReceipt {
  extraInfo: string;
  consumedTimes?: number;
}

/** `mark queueId value` lists as a map `mark@queueId` → value (upstream `ExtraInfoUtil.parse…Info`). */
function parseInfo(text: string | undefined, what: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!text) return out;
  for (const one of text.split(';')) {
    const parts = one.split(' ');
    if (parts.length !== 3) throw new Error(`parse ${what} error, ${text}`);
    const key = `${parts[0]}@${parts[1]}`;
    if (out.has(key)) throw new Error(`parse ${what} error, duplicate, ${text}`);
    out.set(key, parts[2]!);
  }
  return out;
}

/**
 * Each popped record's receipt from a POP response header (upstream
 * `MQClientAPIImpl.processPopResponse`): its queue's check-point start from `startOffsetInfo`, its
 * offset from `msgOffsetInfo` by its rank among the queue's records, and the shared popTime,
 * invisibleTime and reviveQid: `ckOffset popTime invisibleTime reviveQid mark brokerName queueId
 * offset`. Throws when the header does not account for a record.
 */
export function popReceipts(ext: Readonly<Record<string, string>>, records: readonly PoppedRecord[], brokerName: string, order: boolean): PopReceipt[] {
  const starts = parseInfo(ext.startOffsetInfo, 'startOffsetInfo');
  const offsets = new Map([...parseInfo(ext.msgOffsetInfo, 'msgOffsetInfo')].map(([k, v]) => [k, v.split(',')]));
  const counts = order ? parseInfo(ext.orderCountInfo, 'orderCountInfo') : undefined;
  const rank = new Map<string, number>();
  return records.map((r) => {
    const mark = retryMarkOf(r.topic);
    const key = `${mark}@${r.queueId}`;
    const start = starts.get(key);
    const i = rank.get(key) ?? 0;
    rank.set(key, i + 1);
    const offset = offsets.get(key)?.[i];
    if (start === undefined || offset === undefined) throw new Error(`the POP response does not account for the message at ${r.queueId}:${r.queueOffset} of ${r.topic}`);
    const extraInfo = `${start} ${ext.popTime} ${ext.invisibleTime} ${ext.reviveQid} ${mark} ${brokerName} ${r.queueId} ${offset}`;
    if (!counts) return { extraInfo };
    const count = counts.get(`${mark}@qo${r.queueId}%${offset}`) ?? counts.get(key);
    return { extraInfo, consumedTimes: count === undefined ? 0 : Number(count) };
  });
}

/**
 * One group of acks of a BATCH_ACK_MESSAGE body (upstream `BatchAck`): the messages of one check
 * point, as offsets from its start in a bit set.
 */
export interface BatchAck {
  consumerGroup: string;
  topic: string;
  /** The retry mark: '1' for a message of the group's POP retry topic. */
  retry: string;
  startOffset: number;
  queueId: number;
  reviveQueueId: number;
  popTime: number;
  invisibleTime: number;
  /** Offsets from `startOffset` that are acked. */
  offsets: number[];
}

/** Largest bit set one BatchAck may carry: 65,536 offsets from its check point's start. */
const MAX_BATCH_ACK_BITSET_BYTES = 8192;

/**
 * Reads a BATCH_ACK_MESSAGE body (upstream `BatchAckMessageRequestBody`): `{brokerName, acks}`, each
 * ack under fastjson's short names (`c`, `t`, `r`, `so`, `q`, `rq`, `pt`, `it`, `b`) or the long
 * ones, its bit set `b` as the base64 of Java's `BitSet.toByteArray()` (bit n in byte n/8, bit n%8).
 * Throws on a body that is not one.
 */
export function decodeBatchAckBody(o: unknown): { brokerName?: string; acks: BatchAck[] } {
  if (typeof o !== 'object' || o === null) throw new Error('the body is not a BatchAckMessageRequestBody object');
  const body = o as Record<string, unknown>;
  const list = body.acks === undefined || body.acks === null ? [] : body.acks;
  if (!Array.isArray(list)) throw new Error('acks is not a list');
  const acks = list.map((a, i): BatchAck => {
    if (typeof a !== 'object' || a === null) throw new Error(`acks[${i}] is not an object`);
    const v = a as Record<string, unknown>;
    const pick = (short: string, long: string): unknown => v[short] ?? v[long];
    const num = (short: string, long: string): number => {
      const n = Number(pick(short, long));
      if (!Number.isSafeInteger(n)) throw new Error(`acks[${i}].${short} (${long}) is not an integer`);
      return n;
    };
    const str = (short: string, long: string): string => {
      const s = pick(short, long);
      if (typeof s !== 'string') throw new Error(`acks[${i}].${short} (${long}) is not a string`);
      return s;
    };
    const bits = pick('b', 'bitSet');
    const bytes = typeof bits === 'string' ? Buffer.from(bits, 'base64') : Buffer.alloc(0);
    // A check point spans far fewer offsets than this; a larger set would only cost memory.
    if (bytes.length > MAX_BATCH_ACK_BITSET_BYTES) throw new Error(`acks[${i}].b spans ${bytes.length * 8} offsets, more than ${MAX_BATCH_ACK_BITSET_BYTES * 8}`);
    const offsets: number[] = [];
    for (let byte = 0; byte < bytes.length; byte++) {
      for (let bit = 0; bit < 8; bit++) if ((bytes[byte]! & (1 << bit)) !== 0) offsets.push(byte * 8 + bit);
    }
    return {
      consumerGroup: str('c', 'consumerGroup'), topic: str('t', 'topic'), retry: String(pick('r', 'retry') ?? '0'),
      startOffset: num('so', 'startOffset'), queueId: num('q', 'queueId'), reviveQueueId: num('rq', 'reviveQueueId'),
      popTime: num('pt', 'popTime'), invisibleTime: num('it', 'invisibleTime'), offsets,
    };
  });
  return { brokerName: typeof body.brokerName === 'string' ? body.brokerName : undefined, acks };
}
