import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { reqString } from '../../remoting/header.js';
import { decodeQueryConsumerOffsetRequestHeader, decodeUpdateConsumerOffsetRequestHeader } from '../../remoting/protocol/index.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15) and GET_CONSUMER_LIST_BY_GROUP (38)
 * (upstream `ConsumerManageProcessor`).
 */
export class ConsumerManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  queryConsumerOffset(req: RemotingCommand): RemotingCommand {
    const h = decodeQueryConsumerOffsetRequestHeader(req.extFields);
    const b = this.broker;
    const offset = b.consumerOffsetManager.queryOffset(h.consumerGroup, h.topic, h.queueId);
    if (offset >= 0) return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { offset } });
    // As upstream: a group with no offset on a young queue (its first message still hot) starts at 0,
    // so a new LAST_OFFSET consumer of a fresh topic still gets the first messages.
    const min = b.messageStore.getMinOffsetInQueue(h.topic, h.queueId);
    if (h.setZeroIfNotFound !== false && min <= 0 && !b.messageStore.checkInDiskByConsumeOffset(h.topic, h.queueId, 0)) {
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
}
