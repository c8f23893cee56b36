import type { TopicConfig } from '../../common/route.js';
import { decodeBatchBody, type BatchEntry } from '../../common/batch-body.js';
import { encodeSocketAddress } from '../../common/socket-address.js';
import { javaStringHashCode, timeMillisToHumanString2 } from '../../common/java.js';
import { MessageConst, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from '../../common/message-const.js';
import { getProperties, getProperty } from '../../common/properties.js';
import { getDLQTopic, isNotAllowedSendTopic, isRetryTopic, RETRY_GROUP_TOPIC_PREFIX, SystemTopic, validateTopic } from '../../common/topic.js';
import { delayLevelRefusal, editProperties, parseDelayLevel, timerRefusal, toScheduleTopic, toTimerTopic, type TimerRoute } from '../message-util.js';
import { TIMER_TOPIC, TimerProp } from '../timer/timer-const.js';
import { buildRecallHandle } from '../../common/recall-handle.js';
import { MessageSysFlag, transactionValue } from '../../common/sysflag.js';
import { isWriteable } from '../../common/perm.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import { rawExtOf } from '../../remoting/codec.js';
import {
  decodeSendMessageRequestHeader, decodeSendMessageRequestHeaderV2, decodeSendMessageRequestHeaderV2Raw, SendResponseExt,
  type DecodedSendMessageRequestHeader,
} from '../../remoting/protocol/index.js';
import type { PutMessageInput, PutMessageResult } from '../../store/message-store.js';
import type { BrokerController } from '../broker-controller.js';

const FAQ = ' See http://rocketmq.apache.org/docs/faq/ for further details.';

/** The properties a send reads, found in one pass (SendProps indexes them). */
const SEND_PROP_NAMES = [
  MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, MessageConst.CLUSTER, MessageConst.TAGS, MessageConst.WAIT_STORE_MSG_OK, MessageConst.DELAY_TIME_LEVEL,
  TimerProp.DELAY_SEC, TimerProp.DELAY_MS, TimerProp.DELIVER_MS, MessageConst.INNER_NUM,
];
const enum SendProp { UNIQ, CLUSTER, TAGS, WAIT, DELAY, TIMER_SEC, TIMER_MS, TIMER_AT, INNER_NUM }
const NOT_TIMED: TimerRoute = { kind: 'NONE' };

/**
 * Handles SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) (upstream
 * `SendMessageProcessor`): validates, auto-creates the topic from its template when allowed,
 * builds the record once and answers when the store has it as the flush mode requires.
 */
export class SendMessageProcessor {
  private readonly bornHosts = new WeakMap<Connection, Buffer>();
  /** Values of SEND_PROP_NAMES of the message at hand, set by completeProperties (reused: the send path is synchronous up to the store). */
  private readonly propValues: Array<string | undefined> = [];

  /** The timer store's flow control, made once (timerRefusal asks it only for timer messages). */
  private readonly timerCongested = (timerOutMs: number): boolean => this.broker.timerMessageStore.isReject(timerOutMs);

  constructor(private readonly broker: BrokerController) {}

  process(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> | RemotingCommand {
    const header = decodeSendHeader(req, req.code === 10);
    if (req.code === 320) header.batch = true;
    const tc = this.check(req, header);
    if (!('topicName' in tc)) return tc;
    let queueId = header.queueId;
    if (queueId < 0) queueId = Math.floor(Math.random() * tc.writeQueueNums);
    const body = req.body ?? Buffer.alloc(0);
    const bornHost = this.bornHost(conn);
    if (header.batch) return this.sendBatch(req, header, tc, queueId, body, bornHost);
    if (body.length > this.broker.storeConfig.maxMessageSize) {
      return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, `the message body size ${body.length} is over the max value ${this.broker.storeConfig.maxMessageSize} (maxMessageSize); send a smaller body or raise maxMessageSize in broker.conf`);
    }
    const { properties, uniqKey } = this.completeProperties(header.properties);
    // Read in the same pass as the other properties: ordinary sends pay no further look.
    if (this.propValues[SendProp.INNER_NUM] !== undefined || (header.sysFlag & MessageSysFlag.INNER_BATCH_FLAG) !== 0) {
      const refused = this.checkInnerBatch(req, tc, header.sysFlag, this.propValues[SendProp.INNER_NUM] !== undefined);
      if (refused) return refused;
    }
    const tags = this.propValues[SendProp.TAGS];
    const input: PutMessageInput = {
      topic: header.topic, queueId, flag: header.flag, sysFlag: header.sysFlag, bornTimestamp: header.bornTimestamp,
      bornHost, reconsumeTimes: header.reconsumeTimes, preparedTransactionOffset: 0, body, properties,
      tagsCode: tags ? javaStringHashCode(tags) : 0,
      waitStoreMsgOK: this.propValues[SendProp.WAIT] !== 'false',
    };
    if (transactionValue(input.sysFlag) === MessageSysFlag.TRANSACTION_PREPARED_TYPE) {
      if (this.broker.brokerConfig.rejectTransactionMessage) {
        return createResponse(req, ResponseCode.NO_PERMISSION, `the broker[${this.broker.brokerConfig.brokerName}] sending transaction message is forbidden (rejectTransactionMessage)`);
      }
      this.broker.transactionalMessageService.toHalf(input);
    } else {
      const special = this.routeRetryAndDelay(req, header, input);
      if (special) return special;
    }
    const recallHandle = this.recallHandleOf(input, uniqKey);
    let put = this.broker.messageStore.putMessage(input);
    if (input.topic === SystemTopic.TRANS_HALF_TOPIC) {
      // As upstream SendMessageProcessor: a stored half counts as an open transaction of its real
      // topic. Only halves take this extra step: other sends go on without another promise hop.
      put = put.then((r) => {
        if (r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT') this.broker.transactionalMessageService.onHalfStored(input);
        return r;
      });
    }
    if (!this.waitsForSlaves() || !input.waitStoreMsgOK) return put.then((r) => this.respond(req, r, queueId, uniqKey, recallHandle));
    return put.then(async (r) => this.respond(req, r, queueId, uniqKey, recallHandle, await this.replicated(r)));
  }

  /**
   * A SYNC_MASTER: the ack of a message that asks to wait (WAIT, default true) waits for the
   * slaves (upstream `needHandleHA`). Asked first, so other brokers never look at the messages' flag.
   */
  private waitsForSlaves(): boolean {
    return this.broker.brokerConfig.brokerRole === 'SYNC_MASTER' && this.broker.haService !== undefined;
  }

  /**
   * The status a stored message's sender gets once the slaves have it (upstream
   * `handleDiskFlushAndHA`): the replication outcome when it failed, else the flush's. Starts
   * after the store's own write and flush, so no ack precedes those.
   */
  private async replicated(r: PutMessageResult): Promise<PutMessageResult['status']> {
    if (r.status !== 'PUT_OK' && r.status !== 'FLUSH_DISK_TIMEOUT') return r.status;
    const ha = await this.broker.haService!.waitForReplicas(r.phyOffset + r.size);
    return ha === 'PUT_OK' ? r.status : ha;
  }

  /**
   * The handle RECALL_MESSAGE takes to cancel a timer message (upstream `attachRecallHandle`):
   * real topic, broker, TIMER_OUT_MS + 1 and the unique key; none for a retry topic.
   */
  private recallHandleOf(input: PutMessageInput, uniqKey: string): string | undefined {
    if (input.topic !== TIMER_TOPIC) return undefined;
    const out = Number(getProperty(input.properties, TimerProp.OUT_MS));
    const realTopic = getProperty(input.properties, MessageConst.REAL_TOPIC);
    if (!Number.isFinite(out) || !realTopic || isRetryTopic(realTopic)) return undefined;
    return buildRecallHandle(realTopic, this.broker.brokerConfig.brokerName, out + 1, uniqKey);
  }

  /** The sender's address in the record's layout, encoded once per connection. */
  bornHost(conn: Connection): Buffer {
    let b = this.bornHosts.get(conn);
    if (!b) {
      const i = conn.remoteAddress.lastIndexOf(':');
      b = encodeSocketAddress(conn.remoteAddress.slice(0, i), Number(conn.remoteAddress.slice(i + 1)));
      this.bornHosts.set(conn, b);
    }
    return b;
  }

  /**
   * Upstream `preSend` and `msgCheck` plus topic auto-creation (every send and reply passes here);
   * returns the topic's config or an error response.
   */
  check(req: RemotingCommand, h: DecodedSendMessageRequestHeader): TopicConfig | RemotingCommand {
    const b = this.broker;
    if (b.isSlave) {
      // As upstream, whose store refuses a put on a slave (checkStoreStatus) with this answer.
      return createResponse(req, ResponseCode.SERVICE_NOT_AVAILABLE, putStatusRemark('SERVICE_NOT_AVAILABLE', b.storeConfig.maxMessageSize, () => b.messageStore.diskUtil()));
    }
    const acceptFrom = b.brokerConfig.startAcceptSendRequestTimeStamp;
    if (acceptFrom > 0 && Date.now() < acceptFrom) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `broker unable to service, until ${timeMillisToHumanString2(acceptFrom)} (startAcceptSendRequestTimeStamp)`);
    }
    if (!isWriteable(b.brokerConfig.brokerPermission)) {
      return createResponse(req, ResponseCode.NO_PERMISSION, `the broker[${b.brokerConfig.brokerName}] sending message is forbidden`);
    }
    let tc = b.topicConfigManager.get(h.topic);
    if (!tc) {
      // Names of existing topics were validated when they were created.
      const invalid = validateTopic(h.topic);
      if (invalid) return createResponse(req, ResponseCode.INVALID_PARAMETER, invalid);
    }
    if (isNotAllowedSendTopic(h.topic)) {
      return createResponse(req, ResponseCode.NO_PERMISSION, `Sending message to topic[${h.topic}] is forbidden.`);
    }
    if (!tc) {
      tc = isRetryTopic(h.topic)
        ? b.topicConfigManager.createRetryTopicIfAbsent(h.topic.slice('%RETRY%'.length), 1)
        : b.topicConfigManager.createTopicInSendMessageMethod(h.topic, h.defaultTopic, h.defaultTopicQueueNums, 0);
      if (!tc) {
        return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please! Create it with mqadmin updateTopic, or enable autoCreateTopicEnable on the broker.${FAQ}`);
      }
    }
    if (!isWriteable(tc.perm)) {
      return createResponse(req, ResponseCode.NO_PERMISSION, `the topic[${h.topic}] sending message is forbidden: its permission is ${tc.perm}`);
    }
    const idValid = Math.max(tc.writeQueueNums, tc.readQueueNums);
    if (h.queueId >= idValid) {
      return createResponse(req, ResponseCode.INVALID_PARAMETER, `request queueId[${h.queueId}] is illegal, topic ${h.topic} has ${idValid} queues; choose a queue id below that`);
    }
    return tc;
  }

  /**
   * Where a message really goes (upstream `handleRetryAndDLQ` and `handleScheduleMessage`): a
   * send to `%RETRY%<group>` past the group's maximum reconsume times goes to `%DLQ%<group>`;
   * a message with a delay level waits on SCHEDULE_TOPIC_XXXX. Returns an error response or undefined.
   */
  private routeRetryAndDelay(req: RemotingCommand, h: DecodedSendMessageRequestHeader, input: PutMessageInput): RemotingCommand | undefined {
    const b = this.broker;
    if (isRetryTopic(input.topic)) {
      const groupName = input.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
      const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(groupName);
      if (!group) return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${groupName}; create it with mqadmin updateSubGroup`);
      const max = h.maxReconsumeTimes !== undefined && req.version >= 121 ? h.maxReconsumeTimes : group.retryMaxTimes;
      // As upstream (ISSUE #6163): a group holding queue locks consumes orderly; what it sends
      // back has used up its local retries and goes to the DLQ, or it would loop forever.
      if (h.reconsumeTimes > max || !b.rebalanceLockManager.isLockAllExpired(groupName)) {
        input.topic = getDLQTopic(groupName);
        input.queueId = 0;
        input.properties = editProperties(input.properties, (p) => p.delete(MessageConst.DELAY_TIME_LEVEL));
        b.topicConfigManager.createGroupSystemTopicIfAbsent(input.topic, 1);
        return undefined;
      }
    }
    const v = this.propValues;
    // As upstream, whose put hook reads the level with Integer.parseInt and so fails the send
    // (SYSTEM_ERROR, the NumberFormatException's text) when DELAY is not an int.
    const level = parseDelayLevel(v[SendProp.DELAY]);
    if (level === undefined) {
      const r = delayLevelRefusal(v[SendProp.DELAY]);
      return createResponse(req, r.code, r.remark);
    }
    // Timer properties: parked on the timer topic, or refused (a DELAY level drops them). Most
    // messages have none (read in the same pass as the others), and need no second look.
    const timer = v[SendProp.TIMER_SEC] === undefined && v[SendProp.TIMER_MS] === undefined && v[SendProp.TIMER_AT] === undefined
      ? NOT_TIMED
      : toTimerTopic(input, b.storeConfig);
    const refused = timerRefusal(timer, b.storeConfig, this.timerCongested);
    if (refused) return createResponse(req, refused.code, refused.remark);
    // The level completeProperties read: only the DLQ branch above edits it, and it returned.
    if (level > 0) toScheduleTopic(input, level, b.messageStore.delayLevels.length);
    return undefined;
  }

  /**
   * Adds the broker-side properties: UNIQ_KEY when the client set none (5.x) and CLUSTER (this
   * broker's cluster, replacing a client's).
   * Leaves the values of SEND_PROP_NAMES in `this.propValues` (TAGS, WAIT, DELAY and the timer ones as the client sent them).
   */
  private completeProperties(props: string): { properties: string; uniqKey: string } {
    let p = props;
    getProperties(p, SEND_PROP_NAMES, this.propValues);
    if (p.length > 0 && !p.endsWith(PROPERTY_SEPARATOR)) p += PROPERTY_SEPARATOR;
    let uniqKey = this.propValues[SendProp.UNIQ];
    if (!uniqKey) {
      uniqKey = this.broker.msgIdGenerator.next();
      p += MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX + NAME_VALUE_SEPARATOR + uniqKey + PROPERTY_SEPARATOR;
    }
    // Upstream sets CLUSTER on every send, whatever the client put there. Appended, ours is the
    // last of the name, which is the one every reader (ours and Java's property map) keeps.
    const cluster = this.broker.brokerConfig.brokerClusterName;
    if (this.propValues[SendProp.CLUSTER] !== cluster) {
      p += MessageConst.CLUSTER + NAME_VALUE_SEPARATOR + cluster + PROPERTY_SEPARATOR;
    }
    return { properties: p, uniqKey };
  }

  /**
   * Upstream's `innerBatchChecker` put hook (`HookUtils.checkInnerBatch`): INNER_NUM belongs to an
   * inner-batch record, and an inner-batch record to a BatchCQ topic; anything else is refused
   * (and logged as a client bug), as upstream. Called only when the flag or the property is there.
   */
  private checkInnerBatch(req: RemotingCommand, tc: TopicConfig, sysFlag: number, hasInnerNum: boolean): RemotingCommand | undefined {
    const innerBatch = (sysFlag & MessageSysFlag.INNER_BATCH_FLAG) !== 0;
    let why: string;
    if (hasInnerNum && !innerBatch) {
      this.broker.logger.warn(`[BUG]The message had property ${MessageConst.INNER_NUM} but is not an inner batch (topic ${tc.topicName})`);
      why = `it carries the ${MessageConst.INNER_NUM} property but not the INNER_BATCH sysflag; do not set ${MessageConst.INNER_NUM} yourself`;
    } else if (innerBatch && !isBatchCqTopic(tc)) {
      this.broker.logger.error(`[BUG]The message is an inner batch but cq type is not batch cq (topic ${tc.topicName})`);
      why = `it is an inner batch (INNER_BATCH sysflag) but topic ${tc.topicName} is not a BatchCQ topic (queue.type)`;
    } else {
      return undefined;
    }
    return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, `${illegalRemark(this.broker.storeConfig.maxMessageSize)} Refused because ${why}.`);
  }

  private sendBatch(req: RemotingCommand, h: DecodedSendMessageRequestHeader, tc: TopicConfig, queueId: number, body: Buffer, bornHost: Buffer): Promise<RemotingCommand> | RemotingCommand {
    if (isRetryTopic(h.topic)) return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, `batch request does not support retry group ${h.topic}`);
    // As upstream, whose put hook sees the batch as one message: its sysFlag and the properties
    // of the request's header, not those of the messages inside.
    if ((h.sysFlag & MessageSysFlag.INNER_BATCH_FLAG) !== 0 || h.properties.includes(MessageConst.INNER_NUM)) {
      const refused = this.checkInnerBatch(req, tc, h.sysFlag, getProperty(h.properties, MessageConst.INNER_NUM) !== undefined);
      if (refused) return refused;
    }
    let msgs: BatchEntry[];
    try {
      msgs = decodeBatchBody(body);
      if (msgs.length === 0) throw new Error('batch body holds no message');
    } catch (e) {
      return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, (e as Error).message);
    }
    const max = this.broker.storeConfig.maxMessageSize;
    const inputs: PutMessageInput[] = [];
    for (const m of msgs) {
      if (m.body.length > max) {
        return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, `a message body of the batch is ${m.body.length} bytes, over the max value ${max} (maxMessageSize)`);
      }
      const { properties } = this.completeProperties(m.properties);
      if (this.propValues[SendProp.DELAY]) {
        return createResponse(req, ResponseCode.MESSAGE_ILLEGAL, 'TimeDelayLevel is not supported for batch messages');
      }
      const tags = this.propValues[SendProp.TAGS];
      inputs.push({
        topic: h.topic, queueId, flag: m.flag, sysFlag: h.sysFlag, bornTimestamp: h.bornTimestamp, bornHost,
        reconsumeTimes: h.reconsumeTimes, preparedTransactionOffset: 0, body: m.body, properties,
        tagsCode: tags ? javaStringHashCode(tags) : 0,
        waitStoreMsgOK: this.propValues[SendProp.WAIT] !== 'false',
      });
    }
    const put = this.broker.messageStore.putMessages(inputs);
    if (!this.waitsForSlaves() || !inputs.some((m) => m.waitStoreMsgOK)) return put.then((r) => this.respond(req, r, queueId, undefined));
    return put.then(async (r) => this.respond(req, r, queueId, undefined, undefined, await this.replicated(r)));
  }

  private respond(req: RemotingCommand, r: PutMessageResult, queueId: number, uniqKey: string | undefined, recallHandle?: string, status = r.status): RemotingCommand {
    const code = PUT_STATUS_TO_CODE[status];
    if (!STORED_CODES.has(code)) {
      const store = this.broker.messageStore;
      return createResponse(req, code, putStatusRemark(status, this.broker.storeConfig.maxMessageSize, () => store.diskUtil()));
    }
    // Java clients dereference these ext fields of every send response, stored-but codes included
    // (upstream: the message is stored, only its durability or replication is not confirmed).
    const res = createResponse(req, code, status === 'SLAVE_NOT_AVAILABLE' ? 'no in-sync slave to replicate to; the message is stored on the master only' : undefined);
    // A single record's id is written from its parts: reading r.msgId would build the string.
    res.binaryExt = new SendResponseExt({
      msgId: r.offsetId ?? r.msgId, queueId, queueOffset: r.queueOffset, transactionId: uniqKey, recallHandle,
      regionId: this.broker.brokerConfig.regionId, traceOn: this.broker.brokerConfig.traceOn,
    });
    return res;
  }
}

/**
 * The header of a send: long field names (SEND_MESSAGE, SEND_REPLY_MESSAGE) or the V2 short ones,
 * read straight from the binary header when it came that way.
 */
export function decodeSendHeader(req: RemotingCommand, longNames: boolean): DecodedSendMessageRequestHeader {
  const raw = longNames ? undefined : rawExtOf(req);
  return raw ? decodeSendMessageRequestHeaderV2Raw(raw)
    : longNames ? decodeSendMessageRequestHeader(req.extFields) : decodeSendMessageRequestHeaderV2(req.extFields);
}

/** Upstream `handlePutMessageResult`'s remark for an illegal message, whatever made it illegal. */
function illegalRemark(maxSize: number): string {
  return `the message is illegal, maybe msg body or properties length not matched. msg body length limit ${maxSize}B, msg properties length limit 32KB.`;
}

/** Upstream `QueueTypeUtils.isBatchCq`: the topic's queue.type attribute (plain names since load) says BatchCQ. */
function isBatchCqTopic(tc: TopicConfig): boolean {
  return tc.attributes?.['queue.type'] === 'BatchCQ';
}

const PUT_STATUS_TO_CODE: Record<PutMessageResult['status'], number> = {
  PUT_OK: ResponseCode.SUCCESS,
  FLUSH_DISK_TIMEOUT: ResponseCode.FLUSH_DISK_TIMEOUT,
  FLUSH_SLAVE_TIMEOUT: ResponseCode.FLUSH_SLAVE_TIMEOUT,
  SLAVE_NOT_AVAILABLE: ResponseCode.SLAVE_NOT_AVAILABLE,
  SERVICE_NOT_AVAILABLE: ResponseCode.SERVICE_NOT_AVAILABLE,
  MESSAGE_ILLEGAL: ResponseCode.MESSAGE_ILLEGAL,
  PROPERTIES_SIZE_EXCEEDED: ResponseCode.MESSAGE_ILLEGAL,
  UNKNOWN_ERROR: ResponseCode.SYSTEM_ERROR,
};

/** Codes whose message was stored: the sender gets its ids (upstream `handlePutMessageResult`'s sendOK). */
const STORED_CODES: ReadonlySet<number> = new Set([ResponseCode.SUCCESS, ResponseCode.FLUSH_DISK_TIMEOUT, ResponseCode.FLUSH_SLAVE_TIMEOUT, ResponseCode.SLAVE_NOT_AVAILABLE]);

/**
 * The remark of a refused put. `diskUtil` is the disk use the send path shows for
 * SERVICE_NOT_AVAILABLE (upstream SendMessageProcessor); without it, the text upstream's reply
 * path logs.
 */
export function putStatusRemark(status: PutMessageResult['status'], maxSize: number, diskUtil?: () => string): string {
  switch (status) {
    case 'SERVICE_NOT_AVAILABLE':
      return 'service not available now. It may be caused by one of the following reasons: ' +
        `the broker's disk is full${diskUtil ? ` [${diskUtil()}]` : ''}, messages are put to the slave, message store has been shut down, etc.`;
    // Upstream's wording for both, then what to do about it.
    case 'MESSAGE_ILLEGAL':
      return `${illegalRemark(maxSize)} Send a smaller body or raise maxMessageSize in broker.conf; a message must also fit in one CommitLog file.`;
    case 'PROPERTIES_SIZE_EXCEEDED':
      return `${illegalRemark(maxSize)} Its properties are over 32767 bytes: carry less in properties.`;
    default: return `put message failed: ${status}`;
  }
}

