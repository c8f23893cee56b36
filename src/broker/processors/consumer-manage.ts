import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { reqString, type Ext } from '../../remoting/header.js';
import { decodeQueryConsumerOffsetRequestHeader, decodeUpdateConsumerOffsetRequestHeader } from '../../remoting/protocol/index.js';
import type { BrokerController } from '../broker-controller.js';
import { encodeJson } from '../../common/json.js';
import { timeMillisToHumanString2 } from '../../common/java.js';

/** Header of QUERY_CONSUME_TIME_SPAN (303) (upstream `QueryConsumeTimeSpanRequestHeader`). */
export interface QueryConsumeTimeSpanRequestHeader {
  topic: string;
  group: string;
}

export function decodeQueryConsumeTimeSpanHeader(ext: Ext): QueryConsumeTimeSpanRequestHeader {
  return { topic: reqString(ext, 'topic'), group: reqString(ext, 'group') };
}

/**
 * QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), GET_CONSUMER_LIST_BY_GROUP (38)
 * (upstream `ConsumerManageProcessor`) and QUERY_CONSUME_TIME_SPAN (303) (upstream `AdminBrokerProcessor`).
 */
export class ConsumerManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  queryConsumerOffset(req: RemotingCommand): RemotingCommand {
    const h = decodeQueryConsumerOffsetRequestHeader(req.extFields);
    const b = this.broker;
    const offset = b.consumerOffsetManager.queryOffset(h.consumerGroup, h.topic, h.queueId);
    if (offset >= 0) return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { offset } });
    if (h.setZeroIfNotFound === false) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, 'Not found, do not set to zero, maybe this group boot first');
    }
    // As upstream: a group with no offset on a young queue (its first message still hot) starts at 0,
    // so a new LAST_OFFSET consumer of a fresh topic still gets the first messages. Unlike upstream,
    // an empty queue counts as young too: upstream answers QUERY_NOT_FOUND there, and a consumer
    // then asks for the max offset, losing what arrives between the two requests.
    const min = b.messageStore.getMinOffsetInQueue(h.topic, h.queueId);
    if (min <= 0 && !b.messageStore.checkInDiskByConsumeOffset(h.topic, h.queueId, 0)) {
      return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { offset: 0 } });
    }
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, 'Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first');
  }

  updateConsumerOffset(req: RemotingCommand): RemotingCommand {
    const h = decodeUpdateConsumerOffsetRequestHeader(req.extFields);
    const b = this.broker;
    if (!b.topicConfigManager.get(h.topic)) {
      return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, the offset was not committed`);
    }
    b.consumerOffsetManager.commitOffset(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  getConsumerListByGroup(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'consumerGroup');
    const info = this.broker.consumerManager.get(group);
    const ids = info?.allClientIds() ?? [];
    if (ids.length === 0) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `no consumer for this group, ${group}`);
    }
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(JSON.stringify({ consumerIdList: ids })) });
  }

  /**
   * QUERY_CONSUME_TIME_SPAN (303), as upstream's `queryConsumeTimeSpan`: for each write queue of
   * the topic, the store times of its first and last message and of the last one the group
   * consumed (the first message's when it has consumed none), and how long the next unconsumed
   * message has waited (0 when the group is caught up). Body `QueryConsumeTimeSpanBody`.
   */
  queryConsumeTimeSpan(req: RemotingCommand): RemotingCommand {
    const h = decodeQueryConsumeTimeSpanHeader(req.extFields);
    const b = this.broker;
    const tc = b.topicConfigManager.get(h.topic);
    if (!tc) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
    const store = b.messageStore;
    const consumeTimeSpanSet = [];
    for (let queueId = 0; queueId < tc.writeQueueNums; queueId++) {
      const minTimeStamp = store.getEarliestMessageTime(h.topic, queueId);
      const maxOffset = store.getMaxOffsetInQueue(h.topic, queueId);
      const maxTimeStamp = store.getMessageStoreTimeStamp(h.topic, queueId, maxOffset - 1);
      const consumerOffset = b.consumerOffsetManager.queryOffset(h.group, h.topic, queueId);
      const consumeTimeStamp = consumerOffset > 0 ? store.getMessageStoreTimeStamp(h.topic, queueId, consumerOffset - 1) : minTimeStamp;
      // Upstream subtracts the store time even when there is none (-1, e.g. an empty queue and no
      // offset), giving "now" as the delay; no message waiting is no delay here.
      const nextTime = consumerOffset < maxOffset ? store.getMessageStoreTimeStamp(h.topic, queueId, consumerOffset) : -1;
      const delayTime = nextTime >= 0 ? Date.now() - nextTime : 0;
      consumeTimeSpanSet.push({
        consumeTimeStamp, consumeTimeStampStr: timeMillisToHumanString2(consumeTimeStamp), delayTime,
        maxTimeStamp, maxTimeStampStr: timeMillisToHumanString2(maxTimeStamp),
        messageQueue: { brokerName: b.brokerConfig.brokerName, queueId, topic: h.topic },
        minTimeStamp, minTimeStampStr: timeMillisToHumanString2(minTimeStamp),
      });
    }
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ consumeTimeSpanSet }) });
  }
}
