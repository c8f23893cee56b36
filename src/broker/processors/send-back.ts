import { MessageConst } from '../../common/message-const.js';
import { getProperty } from '../../common/properties.js';
import { getDLQTopic, getRetryTopic } from '../../common/topic.js';
import { isWriteable } from '../../common/perm.js';
import { retryDelayLevel } from '../../common/delay-level.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optNumber, optString, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import type { BrokerController } from '../broker-controller.js';
import { editProperties, putInputFromRecord, tagsCodeOf, toScheduleTopic } from '../message-util.js';

/** CONSUMER_SEND_MSG_BACK (36) header (upstream `ConsumerSendMsgBackRequestHeader`). */
export interface ConsumerSendMsgBackRequestHeader {
  /** CommitLog offset of the consumed message. */
  offset: number;
  group: string;
  /** −1: straight to the DLQ; 0: the broker picks 3 + reconsumeTimes; > 0: that level. */
  delayLevel: number;
  originMsgId?: string;
  originTopic?: string;
  maxReconsumeTimes?: number;
}

export function decodeConsumerSendMsgBackRequestHeader(ext: Ext): ConsumerSendMsgBackRequestHeader {
  return {
    offset: reqNumber(ext, 'offset'),
    group: reqString(ext, 'group'),
    delayLevel: optNumber(ext, 'delayLevel') ?? 0,
    originMsgId: optString(ext, 'originMsgId'),
    originTopic: optString(ext, 'originTopic'),
    maxReconsumeTimes: optNumber(ext, 'maxReconsumeTimes'),
  };
}

/**
 * A consumer gives a message back (upstream `AbstractSendMessageProcessor#consumerSendMsgBack`):
 * it is re-stored on `%RETRY%<group>` with delay level 3 + reconsumeTimes and reconsumeTimes + 1,
 * or on `%DLQ%<group>` once reconsumeTimes reaches the group's maximum (16 by default) or when
 * the consumer asks for it (delayLevel < 0).
 */
export class SendMessageBackProcessor {
  constructor(private readonly broker: BrokerController) {}

  async process(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeConsumerSendMsgBackRequestHeader(req.extFields);
    const b = this.broker;
    const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(h.group);
    if (!group) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${h.group}; create it with mqadmin updateSubGroup`);
    }
    // As upstream: a broker that takes no writes takes no messages back either (the consumer then
    // re-sends the message itself, as a new message to the retry topic).
    if (!isWriteable(b.brokerConfig.brokerPermission)) {
      return createResponse(req, ResponseCode.NO_PERMISSION, `the broker[${b.brokerConfig.brokerName}] sending message is forbidden`);
    }
    if (group.retryQueueNums <= 0) return createResponse(req, ResponseCode.SUCCESS);
    // As upstream, the retry topic is made before the message is looked up, and must be writable.
    const retryTopic = b.topicConfigManager.createRetryTopicIfAbsent(h.group, group.retryQueueNums);
    if (!isWriteable(retryTopic.perm)) {
      return createResponse(req, ResponseCode.NO_PERMISSION, `the topic[${retryTopic.topicName}] sending message is forbidden`);
    }
    const rec = b.messageStore.lookMessageByOffset(h.offset);
    if (!rec) return createResponse(req, ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${h.offset}: it is not in the CommitLog`);
    const { ext, input } = putInputFromRecord(rec);
    // Clients older than V3_4_9 do not send a maximum; the group's applies.
    const maxReconsumeTimes = h.maxReconsumeTimes !== undefined && req.version >= 121 ? h.maxReconsumeTimes : group.retryMaxTimes;
    const toDLQ = ext.reconsumeTimes >= maxReconsumeTimes || h.delayLevel < 0;
    let topic: string;
    let queueId: number;
    if (toDLQ) {
      topic = getDLQTopic(h.group);
      queueId = 0;
      b.topicConfigManager.createGroupSystemTopicIfAbsent(topic, 1);
    } else {
      topic = getRetryTopic(h.group);
      queueId = Math.floor(Math.random() * Math.max(1, retryTopic.writeQueueNums));
    }
    // As upstream: the first stored copy's id (its offset message id), kept through every retry.
    // The header's originMsgId is the client's own view of the id (a Java consumer sends the
    // unique key) and is not what the property holds.
    const originMsgId = getProperty(ext.properties, MessageConst.ORIGIN_MESSAGE_ID) || ext.offsetMsgId;
    input.topic = topic;
    input.queueId = queueId;
    input.reconsumeTimes = ext.reconsumeTimes + 1;
    input.properties = editProperties(ext.properties, (p) => {
      if (!p.has(MessageConst.RETRY_TOPIC)) p.set(MessageConst.RETRY_TOPIC, ext.topic);
      if (!p.has(MessageConst.ORIGIN_MESSAGE_ID)) p.set(MessageConst.ORIGIN_MESSAGE_ID, originMsgId);
      p.delete(MessageConst.DELAY_TIME_LEVEL);
    });
    input.tagsCode = tagsCodeOf(input.properties);
    input.bornTimestamp = ext.bornTimestamp;
    if (!toDLQ) {
      const level = h.delayLevel > 0 ? h.delayLevel : retryDelayLevel(ext.reconsumeTimes);
      toScheduleTopic(input, level, b.messageStore.delayLevels.length);
    }
    const r = await b.messageStore.putMessage(input);
    if (r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT') {
      // Counted under the message's own topic, as upstream (its RETRY_TOPIC when it came back before).
      b.brokerStatsManager.incSendBackNums(h.group, getProperty(ext.properties, MessageConst.RETRY_TOPIC) ?? ext.topic);
      return createResponse(req, ResponseCode.SUCCESS);
    }
    return createResponse(req, ResponseCode.SYSTEM_ERROR, `send message back failed: ${r.status}`);
  }
}
