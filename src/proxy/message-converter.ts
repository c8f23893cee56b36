import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { MessageConst } from '../common/message-const.js';
import { decodeProperties, encodeProperties } from '../common/properties.js';
import { MessageSysFlag, transactionValue } from '../common/sysflag.js';
import type { MessageExt } from '../common/message-record.js';
import { Code, D, timestampMs, timestampOf, type df } from './proto.js';
import { ProxyError } from './status.js';
import { hostOf } from '../common/socket-address.js';

/**
 * gRPC `Message` ↔ stored message (upstream proxy `GrpcConverter` and
 * `SendMessageActivity.buildMessage`). Keys, tags and user properties land in the same
 * properties string a Remoting producer writes, so either protocol reads what the other wrote.
 */

/** Properties that are the system's, never user properties (upstream `MessageConst.STRING_HASH_SET`). */
export const SYSTEM_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  ...Object.values(MessageConst),
  'POP_CK', 'POP_CK_OFFSET', '1ST_POP_TIME', 'DUP_INFO', 'EXTEND_UNIQ_INFO', 'INNER_MULTI_DISPATCH', 'INNER_MULTI_QUEUE_OFFSET',
  'TRACE_CONTEXT', '__BORNHOST', '__STARTDELIVERTIME', 'TIMER_OUT_MS', 'TIMER_ENQUEUE_MS', 'TIMER_DEQUEUE_MS', 'TIMER_ROLL_TIMES',
  'TIMER_DEL_UNIQKEY', 'TIMER_DELETE_UNIQUE_KEY', 'INNER_NUM', 'INNER_BASE', 'bname', 'DLQ_ORIGIN_TOPIC', 'DLQ_ORIGIN_MESSAGE_ID',
  'NORMAL_TOPIC', 'SHARDING_KEY', 'CRC32', '__CRC32#', 'RECALL_TAG',
]);

/** Property names of the 5.x proxy (upstream `MessageConst`). */
export const ProxyProp = {
  BORN_HOST: '__BORNHOST',
  TRACE_CONTEXT: 'TRACE_CONTEXT',
  START_DELIVER_TIME: '__STARTDELIVERTIME',
  DLQ_ORIGIN_TOPIC: 'DLQ_ORIGIN_TOPIC',
  DLQ_ORIGIN_MESSAGE_ID: 'DLQ_ORIGIN_MESSAGE_ID',
} as const;

/** A message group must be shorter than this many bytes (upstream `maxMessageGroupSize`, checked with `>=`). */
const MAX_MESSAGE_GROUP_SIZE = 64;

export interface ConvertLimits {
  maxUserPropertyCount: number;
  maxMessagePropertySize: number;
  maxTransactionRecoverySecond: number;
}

/** A gRPC message ready for the broker's send path. */
export interface OutgoingMessage {
  topic: string;
  messageId: string;
  messageType: number;
  messageGroup?: string;
  deliveryTimestamp?: number;
  /** Properties as a map; the send path adds what depends on the broker (timer, transaction). */
  properties: Map<string, string>;
  body: Buffer;
  bornTimestamp: number;
}

/** Upstream `GrpcValidator.containControlCharacter` (Java's ISO control set: C0, DEL and C1). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Validates a gRPC message and maps it to properties (upstream `SendMessageActivity`). */
export function fromGrpcMessage(msg: df.Message, topic: string, limits: ConvertLimits): OutgoingMessage {
  const sp = msg.getSystemProperties();
  if (!sp) throw new ProxyError(Code.BAD_REQUEST, 'the message has no system_properties');
  const messageId = sp.getMessageId();
  if (!messageId) throw new ProxyError(Code.ILLEGAL_MESSAGE_ID, 'message id cannot be empty');
  if (messageId.length > 128 || hasControl(messageId) || /[\s]/.test(messageId)) throw new ProxyError(Code.ILLEGAL_MESSAGE_ID, `message id "${messageId}" is not a valid id`);
  const props = new Map<string, string>();
  let propBytes = 0;
  const userProps = msg.getUserPropertiesMap();
  if (userProps.getLength() > limits.maxUserPropertyCount) {
    throw new ProxyError(Code.MESSAGE_PROPERTIES_TOO_LARGE, `the message has ${userProps.getLength()} user properties, over the limit of ${limits.maxUserPropertyCount}`);
  }
  for (const [k, v] of userProps.entries()) {
    if (!k || SYSTEM_PROPERTY_KEYS.has(k)) throw new ProxyError(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property "${k}" is reserved for the system; choose another name`);
    if (hasControl(k) || hasControl(v)) throw new ProxyError(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property "${k}" contains control characters`);
    props.set(k, v);
    propBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  // As upstream GrpcValidator.validateTag: an empty tag is no tag; only a non-empty one is checked.
  const tag = sp.getTag() ?? '';
  if (tag !== '') {
    if (tag.trim() === '' || tag.includes('|') || hasControl(tag)) {
      throw new ProxyError(Code.ILLEGAL_MESSAGE_TAG, `tag "${tag}" is illegal: it must not be blank or contain "|" or control characters`);
    }
    props.set(MessageConst.TAGS, tag);
    propBytes += Buffer.byteLength(tag);
  }
  // As upstream SendMessageActivity.validateMessageKey: empty keys are skipped, blank or
  // control-character keys refused. A key with a space in it is accepted and, joined with the
  // KEY_SEPARATOR like every key, reads back as two keys — as upstream stores it.
  const keys = sp.getKeysList().filter((k) => k !== '');
  for (const k of keys) {
    if (k.trim() === '' || hasControl(k)) throw new ProxyError(Code.ILLEGAL_MESSAGE_KEY, `key "${k}" is illegal: keys must not be blank or contain control characters`);
    propBytes += Buffer.byteLength(k);
  }
  if (keys.length > 0) props.set(MessageConst.KEYS, keys.join(' '));
  if (propBytes > limits.maxMessagePropertySize) {
    throw new ProxyError(Code.MESSAGE_PROPERTIES_TOO_LARGE, `tag, keys and user properties take ${propBytes} bytes, over the limit of ${limits.maxMessagePropertySize}`);
  }
  props.set(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, messageId);
  // As upstream validateMessageGroup: an empty group is no group; a non-empty one must not be
  // blank, must stay under maxMessageGroupSize bytes and hold no control character.
  let messageGroup: string | undefined;
  const mg = sp.getMessageGroup() ?? '';
  if (mg !== '') {
    if (mg.trim() === '' || Buffer.byteLength(mg) >= MAX_MESSAGE_GROUP_SIZE || hasControl(mg)) {
      throw new ProxyError(Code.ILLEGAL_MESSAGE_GROUP,
        `message group "${mg}" is illegal: it must not be blank, must be under ${MAX_MESSAGE_GROUP_SIZE} bytes and hold no control characters`);
    }
    messageGroup = mg;
    props.set(MessageConst.SHARDING_KEY, messageGroup);
  }
  if (sp.hasTraceContext() && sp.getTraceContext()) props.set(ProxyProp.TRACE_CONTEXT, sp.getTraceContext()!);
  if (sp.getBornHost()) props.set(ProxyProp.BORN_HOST, sp.getBornHost());
  // As upstream buildMessageProperty: only a transactional message's recovery duration counts,
  // and one longer than maxTransactionRecoverySecond is refused, not shortened.
  if (sp.getMessageType() === D.MessageType.TRANSACTION && sp.hasOrphanedTransactionRecoveryDuration()) {
    const sec = sp.getOrphanedTransactionRecoveryDuration()!.getSeconds();
    if (limits.maxTransactionRecoverySecond > 0 && sec > limits.maxTransactionRecoverySecond) {
      throw new ProxyError(Code.BAD_REQUEST, `the orphaned transaction recovery duration ${sec} s is over the max of ${limits.maxTransactionRecoverySecond} s`);
    }
    if (sec > 0) props.set(MessageConst.CHECK_IMMUNITY_TIME_IN_SECONDS, String(sec));
  }
  const deliveryTimestamp = sp.hasDeliveryTimestamp() ? timestampMs(sp.getDeliveryTimestamp()) : undefined;
  const bornTimestamp = sp.hasBornTimestamp() ? timestampMs(sp.getBornTimestamp()) : Date.now();
  const body = Buffer.from(msg.getBody_asU8());
  return {
    topic, messageId, messageType: sp.getMessageType(), messageGroup, deliveryTimestamp, properties: props, body,
    bornTimestamp: bornTimestamp > 0 ? bornTimestamp : Date.now(),
  };
}

/** Upper-case hex MD5 of a body (what the proxy puts in body_digest). */
export function md5Hex(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex').toUpperCase();
}

/** The message type a stored message shows (upstream `GrpcConverter.buildMessageType`). */
export function messageTypeOf(props: Map<string, string>, sysFlag: number): number {
  const MT = D.MessageType;
  if (props.get(MessageConst.TRANSACTION_PREPARED) === 'true' || transactionValue(sysFlag) !== MessageSysFlag.TRANSACTION_NOT_TYPE) return MT.TRANSACTION;
  if (props.has(MessageConst.DELAY_TIME_LEVEL) || props.has(MessageConst.TIMER_DELIVER_MS) || props.has(MessageConst.TIMER_DELAY_SEC)
    || props.has(MessageConst.TIMER_DELAY_MS) || props.has(ProxyProp.START_DELIVER_TIME) || props.has('TIMER_OUT_MS')) return MT.DELAY;
  if (props.has(MessageConst.SHARDING_KEY)) return MT.FIFO;
  return MT.NORMAL;
}

export interface DeliveryInfo {
  receiptHandle?: string;
  deliveryAttempt?: number;
  /** The topic the consumer asked for (the record may sit on a retry topic). */
  topic: string;
  namespace?: string;
}

/** A stored message as the gRPC `Message` a consumer (or a transaction checker) receives. */
export function toGrpcMessage(ext: MessageExt, info: DeliveryInfo): df.Message {
  const props = decodeProperties(ext.properties);
  const sp = new D.SystemProperties();
  const tag = props.get(MessageConst.TAGS);
  if (tag !== undefined) sp.setTag(tag);
  const keys = props.get(MessageConst.KEYS);
  if (keys) sp.setKeysList(keys.split(' ').filter((k) => k.length > 0));
  sp.setMessageId(props.get(MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? ext.offsetMsgId);
  let body: Buffer = ext.body;
  if ((ext.sysFlag & MessageSysFlag.COMPRESSED_FLAG) !== 0) {
    // Remoting producers compress with zlib; gRPC clients only know gzip: deliver it inflated.
    try {
      body = inflateSync(ext.body);
    } catch {
      body = ext.body;
    }
  }
  const digest = new D.Digest();
  digest.setType(D.DigestType.MD5);
  digest.setChecksum(md5Hex(body));
  sp.setBodyDigest(digest);
  sp.setBodyEncoding(D.Encoding.IDENTITY);
  sp.setMessageType(messageTypeOf(props, ext.sysFlag));
  sp.setBornTimestamp(timestampOf(ext.bornTimestamp));
  sp.setBornHost(props.get(ProxyProp.BORN_HOST) ?? hostOf(ext.bornHost));
  sp.setStoreTimestamp(timestampOf(ext.storeTimestamp));
  sp.setStoreHost(ext.storeHost);
  const deliver = Number(props.get(MessageConst.TIMER_DELIVER_MS) ?? props.get(ProxyProp.START_DELIVER_TIME) ?? NaN);
  if (Number.isFinite(deliver) && deliver > 0) sp.setDeliveryTimestamp(timestampOf(deliver));
  if (info.receiptHandle !== undefined) sp.setReceiptHandle(info.receiptHandle);
  sp.setQueueId(ext.queueId);
  sp.setQueueOffset(ext.queueOffset);
  sp.setDeliveryAttempt(info.deliveryAttempt ?? ext.reconsumeTimes + 1);
  const group = props.get(MessageConst.SHARDING_KEY);
  if (group !== undefined) sp.setMessageGroup(group);
  const trace = props.get(ProxyProp.TRACE_CONTEXT);
  if (trace !== undefined) sp.setTraceContext(trace);
  const dlqTopic = props.get(ProxyProp.DLQ_ORIGIN_TOPIC);
  const dlqId = props.get(ProxyProp.DLQ_ORIGIN_MESSAGE_ID);
  if (dlqTopic !== undefined && dlqId !== undefined) {
    const dlq = new D.DeadLetterQueue();
    dlq.setTopic(dlqTopic);
    dlq.setMessageId(dlqId);
    sp.setDeadLetterQueue(dlq);
  }
  const m = new D.Message();
  const res = new D.Resource();
  res.setName(stripNamespace(info.topic, info.namespace));
  if (info.namespace) res.setResourceNamespace(info.namespace);
  m.setTopic(res);
  const user = m.getUserPropertiesMap();
  for (const [k, v] of props) if (!SYSTEM_PROPERTY_KEYS.has(k)) user.set(k, v);
  m.setSystemProperties(sp);
  m.setBody(body);
  return m;
}


/** Topic and group names with a namespace are `namespace%name` on the broker (upstream `NamespaceUtil`). */
export function wrapNamespace(name: string, namespace: string | undefined): string {
  if (!namespace || name.startsWith(`${namespace}%`)) return name;
  if (name.startsWith('%RETRY%') || name.startsWith('%DLQ%')) {
    const prefix = name.startsWith('%RETRY%') ? '%RETRY%' : '%DLQ%';
    return `${prefix}${namespace}%${name.slice(prefix.length)}`;
  }
  return `${namespace}%${name}`;
}

export function stripNamespace(name: string, namespace: string | undefined): string {
  if (!namespace) return name;
  return name.startsWith(`${namespace}%`) ? name.slice(namespace.length + 1) : name;
}

/** Properties map to the stored string. */
export function propertiesString(props: Map<string, string>): string {
  return encodeProperties(props);
}
