import { inflateSync } from 'node:zlib';
import { MessageConst, SYSTEM_PROPERTY_NAMES } from '../common/message-const.js';
import { decodeProperties, encodeProperties } from '../common/properties.js';
import { MessageSysFlag } from '../common/sysflag.js';
import { decodeRecords, StoredRecord, type MessageExt as StoredMessage } from '../common/message-record.js';
import type { MessageIdGenerator } from '../common/message-id.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import type { BatchEntry } from '../common/batch-body.js';

export { decodeBatchBody, type BatchEntry } from '../common/batch-body.js';

export interface MessageOptions {
  tags?: string;
  /** One key, or several (stored space-separated, each indexed by the broker). */
  keys?: string | string[];
  /** User properties. */
  properties?: Record<string, string> | Map<string, string>;
  /** User flag, stored as-is. */
  flag?: number;
  /** Delay level 1..18 (1s 5s 10s 30s 1m … 2h); 0 = deliver now. */
  delayTimeLevel?: number;
  /** Deliver at this time (ms since the epoch; a timer message, TIMER_DELIVER_MS, up to the broker's timerMaxDelaySec). */
  deliverTimeMs?: number;
  /** Whether the broker answers only once the message is stored (WAIT, default true). */
  waitStoreMsgOK?: boolean;
}

const KEY_SEPARATOR = ' ';

/**
 * A message to send (upstream `Message`). Tags, keys, delay level and the rest live in the
 * property map under their wire names, so the properties string is one encoding of the map.
 */
export class Message {
  body: Buffer;
  flag: number;
  readonly properties: Map<string, string>;

  constructor(public topic: string, body: Buffer | string, opts: MessageOptions = {}) {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.flag = opts.flag ?? 0;
    this.properties = new Map();
    if (opts.properties) {
      const entries = opts.properties instanceof Map ? opts.properties.entries() : Object.entries(opts.properties);
      for (const [k, v] of entries) this.putUserProperty(k, v);
    }
    if (opts.tags) this.tags = opts.tags;
    if (opts.keys !== undefined) this.keys = opts.keys;
    if (opts.delayTimeLevel) this.delayTimeLevel = opts.delayTimeLevel;
    if (opts.deliverTimeMs !== undefined) this.deliverTimeMs = opts.deliverTimeMs;
    // As upstream's constructors: WAIT is always present, true unless told otherwise.
    this.waitStoreMsgOK = opts.waitStoreMsgOK ?? true;
  }

  get tags(): string | undefined {
    return this.properties.get(MessageConst.TAGS);
  }

  set tags(tags: string | undefined) {
    if (tags) this.properties.set(MessageConst.TAGS, tags);
    else this.properties.delete(MessageConst.TAGS);
  }

  get keys(): string[] {
    return splitKeys(this.properties.get(MessageConst.KEYS));
  }

  set keys(keys: string | string[] | undefined) {
    const joined = Array.isArray(keys) ? keys.filter((k) => k.length > 0).join(KEY_SEPARATOR) : (keys ?? '');
    if (joined) this.properties.set(MessageConst.KEYS, joined);
    else this.properties.delete(MessageConst.KEYS);
  }

  /** Delivery time of a timer message (TIMER_DELIVER_MS), or undefined. */
  get deliverTimeMs(): number | undefined {
    const v = this.properties.get(MessageConst.TIMER_DELIVER_MS);
    return v === undefined ? undefined : Number(v);
  }

  set deliverTimeMs(at: number | undefined) {
    if (at === undefined) this.properties.delete(MessageConst.TIMER_DELIVER_MS);
    else this.properties.set(MessageConst.TIMER_DELIVER_MS, String(Math.floor(at)));
  }

  get delayTimeLevel(): number {
    const v = this.properties.get(MessageConst.DELAY_TIME_LEVEL);
    return v === undefined ? 0 : Number(v) || 0;
  }

  set delayTimeLevel(level: number) {
    if (level > 0) this.properties.set(MessageConst.DELAY_TIME_LEVEL, String(level));
    else this.properties.delete(MessageConst.DELAY_TIME_LEVEL);
  }

  get waitStoreMsgOK(): boolean {
    return this.properties.get(MessageConst.WAIT_STORE_MSG_OK) !== 'false';
  }

  set waitStoreMsgOK(wait: boolean) {
    this.properties.set(MessageConst.WAIT_STORE_MSG_OK, wait ? 'true' : 'false');
  }

  /** The client message id (UNIQ_KEY), once the message has been sent or prepared. */
  get uniqKey(): string | undefined {
    return this.properties.get(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
  }

  /**
   * Sets a user property; names RocketMQ reserves for itself (TAGS, KEYS, UNIQ_KEY, …) are
   * refused, and, as upstream, a blank name or value.
   */
  putUserProperty(name: string, value: string): void {
    if (typeof name !== 'string' || typeof value !== 'string' || name.trim() === '' || value.trim() === '') {
      throw new MQClientError(`user property "${name}" needs a non-empty name and value`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    if (SYSTEM_PROPERTY_NAMES.has(name)) {
      throw new MQClientError(`"${name}" is a property name reserved by RocketMQ; use the Message field for it or pick another name`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    this.properties.set(name, value);
  }

  getProperty(name: string): string | undefined {
    return this.properties.get(name);
  }
}

export function splitKeys(keys: string | undefined): string[] {
  if (!keys) return [];
  return keys.split(KEY_SEPARATOR).filter((k) => k.length > 0);
}

/**
 * Gives the message its UNIQ_KEY if it has none (kept across retries, as upstream
 * `MessageClientIDSetter.setUniqID`) and returns the properties string to send.
 */
export function buildMessageProperties(msg: Message, ids: MessageIdGenerator): string {
  if (!msg.properties.has(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)) {
    msg.properties.set(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, ids.next());
  }
  return encodeProperties(msg.properties);
}

/**
 * SEND_BATCH_MESSAGE body (upstream `MessageDecoder.encodeMessages`): per message
 * TOTALSIZE int | MAGICCODE int 0 | BODYCRC int 0 | FLAG int | BODYLEN int + body |
 * PROPLEN short + properties, back to back.
 */
export function encodeBatchBody(entries: readonly BatchEntry[]): Buffer {
  const props: Buffer[] = new Array(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const p = Buffer.from(e.properties, 'utf8');
    if (p.length > 32767) {
      throw new MQClientError(`the properties of batch message ${i} take ${p.length} bytes; at most 32767 fit`, ClientErrorCode.MESSAGE_ILLEGAL);
    }
    props[i] = p;
    total += 4 + 4 + 4 + 4 + 4 + e.body.length + 2 + p.length;
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const p = props[i]!;
    const size = 20 + e.body.length + 2 + p.length;
    buf.writeInt32BE(size, pos);
    buf.writeInt32BE(0, pos + 4);
    buf.writeInt32BE(0, pos + 8);
    buf.writeInt32BE(e.flag, pos + 12);
    buf.writeInt32BE(e.body.length, pos + 16);
    e.body.copy(buf, pos + 20);
    let q = pos + 20 + e.body.length;
    buf.writeInt16BE(p.length, q);
    q += 2;
    p.copy(buf, q);
    pos += size;
  }
  return buf;
}

/** A received message: the stored record with its body inflated and its properties parsed. */
export interface MessageExt extends StoredMessage {
  /** UNIQ_KEY when the message has one, else the offset message id (upstream `MessageClientExt.getMsgId`). */
  msgId: string;
  tags?: string;
  keys: string[];
  propertyMap: Map<string, string>;
  /** The broker the message was pulled from (set by the consumers; absent on messages from other sources). */
  brokerName?: string;
}

const UNCOMPRESSED = ~(MessageSysFlag.COMPRESSED_FLAG | MessageSysFlag.COMPRESSION_TYPE_MASK);

/**
 * The inflated body of a zlib record (sysFlag bit 0 with compression type 0 or ZLIB), whose
 * compression bits the caller then clears; undefined for an LZ4/ZSTD body, or one that fails to
 * inflate, which is left as stored with its flags, so the caller can tell.
 */
function inflatedBody(body: Buffer, sysFlag: number): Buffer | undefined {
  if ((sysFlag & MessageSysFlag.COMPRESSED_FLAG) === 0) return undefined;
  const type = sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK;
  if (type !== 0 && type !== MessageSysFlag.COMPRESSION_ZLIB) return undefined;
  try {
    return inflateSync(body);
  } catch {
    return undefined;
  }
}

/**
 * A received message decoded straight from a record of a response body, its body inflated as in
 * `toMessageExt`. The property map, and the msgId, tags and keys taken from it, are built on first
 * read (with `extraProperties` added, as a pull adds MIN_OFFSET and MAX_OFFSET): a consumer that
 * reads only bodies never parses properties. Values equal those of `toMessageExt(decodeRecord(…))`.
 */
export class ReceivedMessage extends StoredRecord implements MessageExt {
  declare brokerName?: string;
  readonly #extraProperties: readonly (readonly [string, string])[] | undefined;
  #propertyMap: Map<string, string> | undefined;
  /** UNIQ_KEY, TAGS and KEYS as the properties gave them, taken when the map is built. */
  #uniqKey: string | undefined;
  #tags: string | undefined;
  #keysText: string | undefined;
  #msgId: string | undefined;
  #keys: string[] | undefined;

  constructor(buf: Buffer, pos: number, extraProperties?: readonly (readonly [string, string])[]) {
    super(buf, pos);
    const body = inflatedBody(this.body, this.sysFlag);
    if (body !== undefined) {
      this.body = body;
      this.sysFlag &= UNCOMPRESSED;
    }
    this.#extraProperties = extraProperties;
  }

  get propertyMap(): Map<string, string> {
    return this.#propertyMap ?? this.#buildPropertyMap();
  }

  set propertyMap(map: Map<string, string>) {
    this.#propertyMap = map;
  }

  #buildPropertyMap(): Map<string, string> {
    const map = decodeProperties(this.properties);
    this.#uniqKey = map.get(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    this.#tags = map.get(MessageConst.TAGS);
    this.#keysText = map.get(MessageConst.KEYS);
    if (this.#extraProperties !== undefined) for (const [k, v] of this.#extraProperties) map.set(k, v);
    return (this.#propertyMap = map);
  }

  get msgId(): string {
    if (this.#msgId === undefined) {
      this.#parsed();
      this.#msgId = this.#uniqKey ?? this.offsetMsgId;
    }
    return this.#msgId;
  }

  set msgId(id: string) {
    this.#msgId = id;
  }

  get tags(): string | undefined {
    this.#parsed();
    return this.#tags;
  }

  set tags(tags: string | undefined) {
    this.#parsed();
    this.#tags = tags;
  }

  get keys(): string[] {
    if (this.#keys === undefined) {
      this.#parsed();
      this.#keys = splitKeys(this.#keysText);
    }
    return this.#keys;
  }

  set keys(keys: string[]) {
    this.#keys = keys;
  }

  /** Builds the property map if not yet done, so the UNIQ_KEY, TAGS and KEYS taken from it are known. */
  #parsed(): void {
    if (this.#propertyMap === undefined) this.#buildPropertyMap();
  }

  override toJSON(): MessageExt {
    return { ...super.toJSON(), msgId: this.msgId, tags: this.tags, keys: this.keys, propertyMap: this.propertyMap, brokerName: this.brokerName };
  }
}

/** Decodes a response body of records (PULL_MESSAGE, QUERY_MESSAGE, …) into received messages. */
export function decodeReceivedMessages(body: Buffer, extraProperties?: readonly (readonly [string, string])[]): ReceivedMessage[] {
  return decodeRecords(body, (buf, pos) => new ReceivedMessage(buf, pos, extraProperties));
}

/**
 * Stored record → received message, for a record already decoded (a `ReceivedMessage` decodes
 * straight from the bytes instead). A zlib body is inflated and its compression bits cleared, as
 * `inflatedBody` tells.
 */
export function toMessageExt(stored: StoredMessage): MessageExt {
  let body = stored.body;
  let sysFlag = stored.sysFlag;
  const inflated = inflatedBody(body, sysFlag);
  if (inflated !== undefined) {
    body = inflated;
    sysFlag &= UNCOMPRESSED;
  }
  const propertyMap = decodeProperties(stored.properties);
  // One literal with every field (no spread): pulls build thousands of these per second.
  return {
    storeSize: stored.storeSize,
    bodyCRC: stored.bodyCRC,
    queueId: stored.queueId,
    flag: stored.flag,
    queueOffset: stored.queueOffset,
    commitLogOffset: stored.commitLogOffset,
    sysFlag,
    bornTimestamp: stored.bornTimestamp,
    bornHost: stored.bornHost,
    storeTimestamp: stored.storeTimestamp,
    storeHost: stored.storeHost,
    reconsumeTimes: stored.reconsumeTimes,
    preparedTransactionOffset: stored.preparedTransactionOffset,
    body,
    topic: stored.topic,
    properties: stored.properties,
    offsetMsgId: stored.offsetMsgId,
    msgId: propertyMap.get(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? stored.offsetMsgId,
    tags: propertyMap.get(MessageConst.TAGS),
    keys: splitKeys(propertyMap.get(MessageConst.KEYS)),
    propertyMap,
  };
}
