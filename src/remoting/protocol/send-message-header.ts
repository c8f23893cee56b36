import { HeaderError, optBoolean, optNumber, optString, parseIntStrict, reqNumber, reqString, type Ext } from '../header.js';
import { internString, strByteLength, writeStr } from '../codec.js';
import type { BinaryExt } from '../command.js';
import { int16At, int32At, put16, put32, putSmall } from '../../common/bytes.js';
import type { OffsetMessageId } from '../../common/message-id.js';

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
 * The fields that rarely change from one send to the next come first (the broker, like upstream's,
 * reads them by key, in any order): `SendHeaderV2Ext` copies them as one run of bytes.
 */
export function encodeSendMessageRequestHeaderV2(h: SendMessageRequestHeader): Record<string, string> {
  const ext: Record<string, string> = {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic,
    d: String(h.defaultTopicQueueNums),
    f: String(h.sysFlag),
    h: String(h.flag),
    j: String(h.reconsumeTimes ?? 0),
    k: h.unitMode ? 'true' : 'false',
    m: h.batch ? 'true' : 'false',
    e: String(h.queueId),
    g: String(h.bornTimestamp),
  };
  if (h.properties !== undefined) ext.i = h.properties;
  if (h.maxReconsumeTimes !== undefined) ext.l = String(h.maxReconsumeTimes);
  if (h.brokerName !== undefined) ext.n = h.brokerName;
  return ext;
}

/** The one-letter V2 keys as bytes. */
const [K_A, K_B, K_C, K_D, K_E, K_F, K_G, K_H, K_I, K_J, K_K, K_L, K_M, K_N] = [...'abcdefghijklmn'].map((c) => Buffer.from(c, 'latin1')) as [
  Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer,
];
/** Bytes of a V2 field besides its value. */
const V2_FIELD = fieldLen(K_A, 0);

/** Fields a, b, c, d, f, h, j, k and m of a plain send, encoded, with what they were encoded from. */
interface ConstantFields {
  readonly defaultTopic: string;
  readonly defaultTopicQueueNums: number;
  readonly bytes: Buffer;
}

/**
 * The leading fields of plain sends (no sysFlag, flag or reconsume count, not unit mode, not a
 * batch), by producer group, then topic: the same on every such send of a producer to a topic,
 * so they are encoded once and copied. Bounded: a process sending to ever new topics starts over.
 */
const constantFieldsByGroup = new Map<string, Map<string, ConstantFields>>();
let constantFieldsCount = 0;
const CONSTANT_FIELDS_MAX = 10_000;

function constantFieldsOf(h: SendMessageRequestHeader): Buffer | undefined {
  if (h.sysFlag !== 0 || h.flag !== 0 || (h.reconsumeTimes ?? 0) !== 0 || h.unitMode === true || h.batch === true) return undefined;
  let byTopic = constantFieldsByGroup.get(h.producerGroup);
  const known = byTopic?.get(h.topic);
  if (known !== undefined) {
    return known.defaultTopic === h.defaultTopic && known.defaultTopicQueueNums === h.defaultTopicQueueNums ? known.bytes : undefined;
  }
  if (constantFieldsCount >= CONSTANT_FIELDS_MAX) {
    constantFieldsByGroup.clear();
    constantFieldsCount = 0;
    byTopic = undefined;
  }
  const bytes = Buffer.allocUnsafe(constantLen(h));
  writeConstant(bytes, 0, h);
  if (byTopic === undefined) constantFieldsByGroup.set(h.producerGroup, (byTopic = new Map()));
  byTopic.set(h.topic, { defaultTopic: h.defaultTopic, defaultTopicQueueNums: h.defaultTopicQueueNums, bytes });
  constantFieldsCount++;
  return bytes;
}

/** Bytes of fields a, b, c, d, f, h, j, k and m. */
function constantLen(h: SendMessageRequestHeader): number {
  return 9 * V2_FIELD + strByteLength(h.producerGroup) + strByteLength(h.topic) + strByteLength(h.defaultTopic)
    + numLen(h.defaultTopicQueueNums) + numLen(h.sysFlag) + numLen(h.flag) + numLen(h.reconsumeTimes ?? 0)
    + (h.unitMode ? 4 : 5) + (h.batch ? 4 : 5);
}

/** Writes fields a, b, c, d, f, h, j, k and m at `p`; returns the end. */
function writeConstant(buf: Buffer, p: number, h: SendMessageRequestHeader): number {
  p = strField(buf, p, K_A, h.producerGroup);
  p = strField(buf, p, K_B, h.topic);
  p = strField(buf, p, K_C, h.defaultTopic);
  p = numField(buf, p, K_D, h.defaultTopicQueueNums);
  p = numField(buf, p, K_F, h.sysFlag);
  p = numField(buf, p, K_H, h.flag);
  p = numField(buf, p, K_J, h.reconsumeTimes ?? 0);
  p = strField(buf, p, K_K, h.unitMode ? 'true' : 'false');
  return strField(buf, p, K_M, h.batch ? 'true' : 'false');
}

/**
 * The V2 header writing its own binary extFields section: the same fields, in the same order,
 * as `encodeSendMessageRequestHeaderV2`, with numbers written as digits straight into the
 * frame. A producer sends one per message, so this skips a field object and seven number
 * strings, and copies the leading fields of a plain send encoded once (`constantFieldsOf`).
 */
export class SendHeaderV2Ext implements BinaryExt {
  readonly byteLength: number;
  private readonly constant: Buffer | undefined;

  constructor(private readonly h: SendMessageRequestHeader) {
    const constant = constantFieldsOf(h);
    this.constant = constant;
    let len = (constant !== undefined ? constant.length : constantLen(h)) + 2 * V2_FIELD + numLen(h.queueId) + numLen(h.bornTimestamp);
    if (h.properties !== undefined) len += V2_FIELD + strByteLength(h.properties);
    if (h.maxReconsumeTimes !== undefined) len += V2_FIELD + numLen(h.maxReconsumeTimes);
    if (h.brokerName !== undefined) len += V2_FIELD + strByteLength(h.brokerName);
    this.byteLength = len;
  }

  write(buf: Buffer, pos: number): void {
    const h = this.h;
    const constant = this.constant;
    let p = constant !== undefined ? pos + constant.copy(buf, pos) : writeConstant(buf, pos, h);
    p = numField(buf, p, K_E, h.queueId);
    p = numField(buf, p, K_G, h.bornTimestamp);
    if (h.properties !== undefined) p = strField(buf, p, K_I, h.properties);
    if (h.maxReconsumeTimes !== undefined) p = numField(buf, p, K_L, h.maxReconsumeTimes);
    if (h.brokerName !== undefined) strField(buf, p, K_N, h.brokerName);
  }

  toFields(): Record<string, string> {
    return encodeSendMessageRequestHeaderV2(this.h);
  }
}

/** Decimal digits of a non-negative safe integer, else the length of its string form. */
function numLen(n: number): number {
  if (!(n >= 0 && Number.isSafeInteger(n))) return String(n).length;
  if (n < 1e9) return digits32(n);
  return 9 + digits32(Math.floor(n / 1e9));
}

/** Decimal digits of 0 ≤ n < 2^31, by comparison: no division. */
function digits32(n: number): number {
  let len = 1;
  for (let limit = 10; len < 10 && n >= limit; limit *= 10) len++;
  return len;
}

/**
 * Writes the `len` digits of 0 ≤ v < 2^31 ending before `end`, in int32 arithmetic. A digit
 * loop on a timestamp (above 2^32, so a double) costs a C `fmod` call per digit.
 */
function putDigits32(buf: Buffer, end: number, v: number, len: number): void {
  for (let i = end - 1; i >= end - len; i--) {
    const q = (v / 10) | 0;
    buf[i] = 48 + v - q * 10;
    v = q;
  }
}

/** Number of bytes of a field with key `key` and a value of `valueLen` bytes (`short keyLen, key, int valueLen, value`). */
function fieldLen(key: Buffer, valueLen: number): number {
  return 6 + key.length + valueLen;
}

/** Writes a field's key (`short keyLen, key`) and value length at `p`; returns where the value goes. */
function fieldKey(buf: Buffer, p: number, key: Buffer, valueLen: number): number {
  put16(buf, p, key.length);
  p = putSmall(buf, p + 2, key);
  put32(buf, p, valueLen);
  return p + 4;
}

function strField(buf: Buffer, p: number, key: Buffer, v: string): number {
  const at = p + 6 + key.length;
  const vl = writeStr(buf, v, at);
  fieldKey(buf, p, key, vl);
  return at + vl;
}

function numField(buf: Buffer, p: number, key: Buffer, n: number): number {
  if (!(n >= 0 && Number.isSafeInteger(n))) return strField(buf, p, key, String(n));
  const len = numLen(n);
  p = fieldKey(buf, p, key, len);
  const end = p + len;
  if (n < 1e9) {
    putDigits32(buf, end, n, len);
  } else {
    // Nine low digits (zero-padded), then the rest: each part fits in an int32.
    const hi = Math.floor(n / 1e9);
    putDigits32(buf, end, n - hi * 1e9, 9);
    putDigits32(buf, end - 9, hi, len - 9);
  }
  return end;
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

/**
 * V2 header read straight from a binary extFields section (see `rawExtOf`): the same result
 * and the same errors as `decodeSendMessageRequestHeaderV2`, without building the field
 * object or a string per number. Every send pays this, so it walks the bytes once.
 */
export function decodeSendMessageRequestHeaderV2Raw(buf: Buffer): DecodedSendMessageRequestHeader {
  let producerGroup: string | undefined;
  let topic: string | undefined;
  let defaultTopic: string | undefined;
  let defaultTopicQueueNums: number | undefined;
  let queueId: number | undefined;
  let sysFlag: number | undefined;
  let bornTimestamp: number | undefined;
  let flag: number | undefined;
  let properties: string | undefined;
  let reconsumeTimes: number | undefined;
  let unitMode: boolean | undefined;
  let maxReconsumeTimes: number | undefined;
  let batch: boolean | undefined;
  let brokerName: string | undefined;
  const end = buf.length;
  let p = 0;
  while (p < end) {
    const kl = int16At(buf, p);
    const key = kl === 1 ? buf[p + 2]! : 0;
    p += 2 + kl;
    const vl = int32At(buf, p);
    p += 4;
    const vs = p;
    p += vl;
    if (vl === 0) continue; // an empty value reads as absent, as in the field object
    switch (key) {
      case 0x61: producerGroup = internString(buf, vs, p); break; // a
      case 0x62: topic = internString(buf, vs, p); break; // b
      case 0x63: defaultTopic = internString(buf, vs, p); break; // c
      case 0x64: defaultTopicQueueNums = rawInt(buf, vs, p, 'd'); break;
      case 0x65: queueId = rawInt(buf, vs, p, 'e'); break;
      case 0x66: sysFlag = rawInt(buf, vs, p, 'f'); break;
      case 0x67: bornTimestamp = rawInt(buf, vs, p, 'g'); break;
      case 0x68: flag = rawInt(buf, vs, p, 'h'); break;
      case 0x69: properties = buf.toString('utf8', vs, p); break; // i
      case 0x6a: reconsumeTimes = rawInt(buf, vs, p, 'j'); break;
      case 0x6b: unitMode = rawTrue(buf, vs, p); break; // k
      case 0x6c: maxReconsumeTimes = rawInt(buf, vs, p, 'l'); break;
      case 0x6d: batch = rawTrue(buf, vs, p); break; // m
      case 0x6e: brokerName = internString(buf, vs, p); break; // n
      default: break; // fields of other versions are ignored, as by the object decoder
    }
  }
  if (producerGroup === undefined) throw missing('a');
  if (topic === undefined) throw missing('b');
  if (queueId === undefined) throw missing('e');
  return {
    producerGroup, topic, defaultTopic: defaultTopic ?? 'TBW102', defaultTopicQueueNums: defaultTopicQueueNums ?? 4, queueId,
    sysFlag: sysFlag ?? 0, bornTimestamp: bornTimestamp ?? Date.now(), flag: flag ?? 0, properties: properties ?? '',
    reconsumeTimes: reconsumeTimes ?? 0, unitMode: unitMode ?? false, maxReconsumeTimes, batch: batch ?? false, brokerName,
  };
}

function missing(key: string): HeaderError {
  return new HeaderError(`the custom field <${key}> is null: the request header must carry it`);
}

/** Decimal digits of [s, e) with an optional '-' (Java `Long.parseLong`); anything else goes through the string parser for its error. */
function rawInt(buf: Buffer, s: number, e: number, key: string): number {
  let i = s;
  const neg = buf[i] === 0x2d;
  if (neg || buf[i] === 0x2b) i++;
  if (i < e && e - i <= 15) {
    let n = 0;
    for (; i < e; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === e) return neg ? -n : n;
  }
  return parseIntStrict(buf.toString('utf8', s, e), key);
}

/** `"true"` in any case, as `Boolean.parseBoolean`. */
function rawTrue(buf: Buffer, s: number, e: number): boolean {
  return e - s === 4 && (buf[s]! | 0x20) === 0x74 && (buf[s + 1]! | 0x20) === 0x72 && (buf[s + 2]! | 0x20) === 0x75 && (buf[s + 3]! | 0x20) === 0x65;
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

const RESPONSE_KEYS = ['msgId', 'queueId', 'queueOffset', 'transactionId', 'batchUniqId', 'recallHandle', 'MSG_REGION', 'TRACE_ON'].map((k) => Buffer.from(k));

/** Index in RESPONSE_KEYS of the key at [ks, ks + kl), or -1. */
function responseKey(buf: Buffer, ks: number, kl: number): number {
  for (let k = 0; k < RESPONSE_KEYS.length; k++) {
    const key = RESPONSE_KEYS[k]!;
    if (key.length !== kl || key[0] !== buf[ks]) continue;
    let i = 1;
    while (i < kl && key[i] === buf[ks + i]) i++;
    if (i === kl) return k;
  }
  return -1;
}

const DEFAULT_REGION = 'DefaultRegion';
const DEFAULT_REGION_BYTES = Buffer.from(DEFAULT_REGION);
const FALSE_BYTES = Buffer.from('false');

/** Whether [s, e) of `buf` holds exactly `bytes`. */
function bytesEqual(buf: Buffer, s: number, e: number, bytes: Buffer): boolean {
  if (e - s !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[s + i] !== bytes[i]) return false;
  return true;
}

/**
 * The send response header read straight from a binary extFields section (see `rawExtOf`):
 * the same result and errors as `decodeSendMessageResponseHeader`, for the producer's hot path.
 * Every send pays this, so only the offset msgId and the rare optional fields become strings:
 * the numbers are read from their digits, and MSG_REGION (nearly always DefaultRegion) and
 * TRACE_ON are compared as bytes. The numbers are located first and read after the walk, so
 * errors come in the object decoder's order.
 */
export function decodeSendMessageResponseHeaderRaw(buf: Buffer): SendMessageResponseHeader {
  let msgId: string | undefined;
  let qs = -1;
  let qe = -1;
  let os = -1;
  let oe = -1;
  let transactionId: string | undefined;
  let batchUniqId: string | undefined;
  let recallHandle: string | undefined;
  let regionId = DEFAULT_REGION;
  let traceOn = true;
  const end = buf.length;
  let p = 0;
  while (p < end) {
    const kl = int16At(buf, p);
    const ks = p + 2;
    p = ks + kl;
    const vl = int32At(buf, p);
    p += 4;
    const vs = p;
    p += vl;
    if (vl === 0) continue; // an empty value reads as absent, as in the field object
    switch (responseKey(buf, ks, kl)) {
      case 0: msgId = buf.toString('utf8', vs, p); break;
      case 1: qs = vs; qe = p; break;
      case 2: os = vs; oe = p; break;
      case 3: transactionId = buf.toString('utf8', vs, p); break;
      case 4: batchUniqId = buf.toString('utf8', vs, p); break;
      case 5: recallHandle = buf.toString('utf8', vs, p); break;
      case 6: regionId = bytesEqual(buf, vs, p, DEFAULT_REGION_BYTES) ? DEFAULT_REGION : buf.toString('utf8', vs, p); break;
      case 7: traceOn = !bytesEqual(buf, vs, p, FALSE_BYTES); break;
      default: break;
    }
  }
  // In the object decoder's order: each field is checked, then read, before the next one.
  if (msgId === undefined) throw missing('msgId');
  if (qs < 0) throw missing('queueId');
  const queueId = rawInt(buf, qs, qe, 'queueId');
  if (os < 0) throw missing('queueOffset');
  const queueOffset = rawInt(buf, os, oe, 'queueOffset');
  return { msgId, queueId, queueOffset, transactionId, batchUniqId, recallHandle, regionId, traceOn };
}

/**
 * Ext fields of a send response; Java clients dereference MSG_REGION and TRACE_ON, so both are
 * always set. Strings only, in one shape for the common case, so the frame encoder takes them as they are.
 */
export function encodeSendMessageResponseHeader(h: SendMessageResponseHeader): Record<string, string> {
  const ext: Record<string, string> = {
    msgId: h.msgId, queueId: String(h.queueId), queueOffset: String(h.queueOffset), MSG_REGION: h.regionId, TRACE_ON: h.traceOn ? 'true' : 'false',
  };
  if (h.transactionId !== undefined) ext.transactionId = h.transactionId;
  if (h.batchUniqId !== undefined) ext.batchUniqId = h.batchUniqId;
  if (h.recallHandle !== undefined) ext.recallHandle = h.recallHandle;
  return ext;
}

const [R_MSG_ID, R_QUEUE_ID, R_QUEUE_OFFSET, R_TRANSACTION_ID, R_BATCH_UNIQ_ID, R_RECALL_HANDLE, R_MSG_REGION, R_TRACE_ON] = RESPONSE_KEYS as [
  Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer,
];

/** MSG_REGION and TRACE_ON encoded, for the last region and trace switch asked: a broker's own. */
let lastRegionAndTrace: { regionId: string; traceOn: boolean; bytes: Buffer } | undefined;

/** Fields MSG_REGION and TRACE_ON as bytes: the same in every answer of a broker, so encoded once. */
function regionAndTraceOf(regionId: string, traceOn: boolean): Buffer {
  const last = lastRegionAndTrace;
  if (last !== undefined && last.regionId === regionId && last.traceOn === traceOn) return last.bytes;
  const bytes = Buffer.allocUnsafe(fieldLen(R_MSG_REGION, strByteLength(regionId)) + fieldLen(R_TRACE_ON, traceOn ? 4 : 5));
  strField(bytes, strField(bytes, 0, R_MSG_REGION, regionId), R_TRACE_ON, traceOn ? 'true' : 'false');
  lastRegionAndTrace = { regionId, traceOn, bytes };
  return bytes;
}

/**
 * The send response header writing its own binary extFields section: the fields, in the same
 * order, of `encodeSendMessageResponseHeader`, with the numbers written as digits and the keys
 * copied from bytes. The broker answers every send with one, so this skips a field object, two
 * number strings and the generic walk over the fields (measured, then written).
 */
export class SendResponseExt implements BinaryExt {
  readonly byteLength: number;
  private readonly regionAndTrace: Buffer;

  /** `msgId` may be an OffsetMessageId, whose digits are written without making it a string. */
  constructor(private readonly h: Omit<SendMessageResponseHeader, 'msgId'> & { msgId: string | OffsetMessageId }) {
    const id = h.msgId;
    const regionAndTrace = regionAndTraceOf(h.regionId, h.traceOn);
    this.regionAndTrace = regionAndTrace;
    let len = fieldLen(R_MSG_ID, typeof id === 'string' ? strByteLength(id) : id.length) + fieldLen(R_QUEUE_ID, numLen(h.queueId))
      + fieldLen(R_QUEUE_OFFSET, numLen(h.queueOffset)) + regionAndTrace.length;
    if (h.transactionId !== undefined) len += fieldLen(R_TRANSACTION_ID, strByteLength(h.transactionId));
    if (h.batchUniqId !== undefined) len += fieldLen(R_BATCH_UNIQ_ID, strByteLength(h.batchUniqId));
    if (h.recallHandle !== undefined) len += fieldLen(R_RECALL_HANDLE, strByteLength(h.recallHandle));
    this.byteLength = len;
  }

  write(buf: Buffer, pos: number): void {
    const h = this.h;
    let p = pos;
    const id = h.msgId;
    p = typeof id === 'string' ? strField(buf, p, R_MSG_ID, id) : id.writeTo(buf, fieldKey(buf, p, R_MSG_ID, id.length));
    p = numField(buf, p, R_QUEUE_ID, h.queueId);
    p = numField(buf, p, R_QUEUE_OFFSET, h.queueOffset);
    p += this.regionAndTrace.copy(buf, p);
    if (h.transactionId !== undefined) p = strField(buf, p, R_TRANSACTION_ID, h.transactionId);
    if (h.batchUniqId !== undefined) p = strField(buf, p, R_BATCH_UNIQ_ID, h.batchUniqId);
    if (h.recallHandle !== undefined) strField(buf, p, R_RECALL_HANDLE, h.recallHandle);
  }

  toFields(): Record<string, string> {
    return encodeSendMessageResponseHeader({ ...this.h, msgId: String(this.h.msgId) });
  }
}
