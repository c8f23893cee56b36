import { encodeSocketAddress } from '../../common/socket-address.js';
import { javaStringHashCode } from '../../common/java.js';
import { MessageConst } from '../../common/message-const.js';
import { encodeProperties } from '../../common/properties.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import { optString, reqString, type Ext } from '../../remoting/header.js';
import type { PutMessageInput } from '../../store/message-store.js';
import type { BrokerController } from '../broker-controller.js';
import { toTimerTopic } from '../message-util.js';
import { buildDeleteKey, TimerProp } from '../timer/timer-const.js';
import { decodeRecallHandle, type RecallHandle } from '../../common/recall-handle.js';

/** RECALL_MESSAGE (370) header (upstream `RecallMessageRequestHeader`). */
export interface RecallMessageRequestHeader {
  producerGroup?: string;
  topic: string;
  recallHandle: string;
}

export function decodeRecallMessageRequestHeader(ext: Ext): RecallMessageRequestHeader {
  return { producerGroup: optString(ext, 'producerGroup'), topic: reqString(ext, 'topic'), recallHandle: reqString(ext, 'recallHandle') };
}

/** Tag of the delete marker a recall stores (upstream). */
const RECALL_MESSAGE_TAG = '_RECALL_TAG_';

/**
 * Handles RECALL_MESSAGE (upstream `RecallMessageProcessor`, 5.3.2+): decodes the handle a
 * timer message's send response carried and stores a delete marker (TIMER_DEL_UNIQKEY) under
 * the same slot, so the message is never delivered. Unlike upstream, which stores the marker
 * blindly, the wheel is looked up first: a handle whose message was already delivered, is
 * unknown, or was already recalled gets a clear error instead of a success that does nothing.
 */
export class RecallMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  async process(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    const b = this.broker;
    const h = decodeRecallMessageRequestHeader(req.extFields);
    const fail = (code: number, remark: string): RemotingCommand => createResponse(req, code, remark, { extFields: { MSG_REGION: b.brokerConfig.regionId } });
    if (b.brokerConfig.brokerRole === 'SLAVE') return fail(ResponseCode.SLAVE_NOT_AVAILABLE, 'recall failed, broker service not available: this broker is a slave; recall on the master');
    // As upstream RecallMessageProcessor: a broker not yet accepting sends takes no recall either.
    if (Date.now() < b.brokerConfig.startAcceptSendRequestTimeStamp) {
      return fail(ResponseCode.SERVICE_NOT_AVAILABLE, 'recall failed, broker service not available: it accepts requests from startAcceptSendRequestTimeStamp on');
    }
    if (!b.topicConfigManager.get(h.topic)) return fail(ResponseCode.TOPIC_NOT_EXIST, `recall failed, the topic[${h.topic}] not exist`);
    let handle: RecallHandle;
    try {
      handle = decodeRecallHandle(h.recallHandle);
    } catch (e) {
      return fail(ResponseCode.ILLEGAL_OPERATION, `${(e as Error).message}: pass the recallHandle of the timer message's send result unchanged`);
    }
    if (handle.topic !== h.topic) return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, topic not match: the handle is for topic ${handle.topic}, the request names ${h.topic}`);
    if (handle.brokerName !== b.brokerConfig.brokerName) {
      return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, broker service not available: the handle belongs to broker ${handle.brokerName}, this is ${b.brokerConfig.brokerName}`);
    }
    const timeLeft = handle.timestampMs - Date.now();
    if (Number.isNaN(timeLeft) || timeLeft >= b.storeConfig.timerMaxDelaySec * 1000) {
      return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, timestamp invalid: ${handle.timestampStr}`);
    }
    if (timeLeft <= 0) {
      return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, the message ${handle.messageId} is already delivered: its delivery time ${new Date(handle.timestampMs - 1).toISOString()} has passed`);
    }
    if (!b.storeConfig.timerWheelEnable) {
      return fail(ResponseCode.SYSTEM_ERROR, 'recall failed, accurate timer message is not enabled, timerWheelEnable is false');
    }
    let putStatus = '';
    const status = await b.timerMessageStore.recall(h.topic, handle.messageId, handle.timestampMs, async () => {
      const marker = this.marker(h, handle, conn);
      if (toTimerTopic(marker, b.storeConfig).kind !== 'TIMER') {
        putStatus = 'its time has passed';
        return false;
      }
      const r = await b.messageStore.putMessage(marker);
      putStatus = r.status;
      return r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT';
    });
    switch (status) {
      case 'RECALLED':
        return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { msgId: handle.messageId, MSG_REGION: b.brokerConfig.regionId } });
      case 'DELIVERED':
        return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, the message ${handle.messageId} is already delivered (or being delivered): its time has come`);
      case 'ALREADY_RECALLED':
        return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, the message ${handle.messageId} of topic ${h.topic} is already recalled`);
      case 'NOT_FOUND':
        return fail(ResponseCode.ILLEGAL_OPERATION, `recall failed, no pending timer message ${handle.messageId} in topic ${h.topic} for ${new Date(handle.timestampMs - 1).toISOString()}: the handle is unknown or its message was already delivered`);
      default:
        return fail(ResponseCode.SYSTEM_ERROR, `recall failed, execute error: the delete marker could not be stored (${putStatus || 'timer store not running'})`);
    }
  }

  /** The delete marker (upstream `buildMessage`): filed under the handle's time, never delivered. */
  private marker(h: RecallMessageRequestHeader, handle: RecallHandle, conn: Connection): PutMessageInput {
    const now = Date.now();
    const props: Record<string, string> = {
      [MessageConst.TAGS]: RECALL_MESSAGE_TAG,
      [TimerProp.DEL_UNIQKEY]: buildDeleteKey(handle.topic, handle.messageId),
      [MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: handle.messageId,
      [TimerProp.DELIVER_MS]: handle.timestampStr,
      BORN_TIMESTAMP: String(now),
    };
    if (h.producerGroup) props[MessageConst.PRODUCER_GROUP] = h.producerGroup;
    const i = conn.remoteAddress.lastIndexOf(':');
    return {
      topic: handle.topic, queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: now,
      bornHost: encodeSocketAddress(conn.remoteAddress.slice(0, i), Number(conn.remoteAddress.slice(i + 1))),
      reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from('0'), properties: encodeProperties(props),
      tagsCode: javaStringHashCode(RECALL_MESSAGE_TAG), waitStoreMsgOK: true,
    };
  }
}
