import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { buildSubscription, buildTagSubscription, ExpressionType } from '../../common/subscription.js';
import type { BrokerController } from '../broker-controller.js';
import { chooseMessageFilter, TagMessageFilter } from '../filter.js';
import { decodeAckMessageRequestHeader, decodeBatchAckBody, decodePopMessageRequestHeader, encodePopOffsetInfos } from '../../remoting/protocol/pop-message-header.js';
import { parseLenientJson } from '../../common/json.js';
import { decodeExtraInfo, PopConstants, popRetryTopic } from './pop-checkpoint.js';

/** Request codes of POP over Remoting (upstream `RequestCode`). */
export const PopRequestCode = {
  POP_MESSAGE: RequestCode.POP_MESSAGE,
  ACK_MESSAGE: RequestCode.ACK_MESSAGE,
  BATCH_ACK_MESSAGE: RequestCode.BATCH_ACK_MESSAGE,
  PEEK_MESSAGE: RequestCode.PEEK_MESSAGE,
  CHANGE_MESSAGE_INVISIBLETIME: RequestCode.CHANGE_MESSAGE_INVISIBLETIME,
} as const;

/** Response codes of POP (upstream `ResponseCode`). */
export const PopResponseCode = {
  POLLING_FULL: ResponseCode.POLLING_FULL,
  POLLING_TIMEOUT: ResponseCode.POLLING_TIMEOUT,
} as const;

/** Messages one POP may ask for (upstream PopMessageProcessor refuses more). */
export const MAX_POP_MSG_NUMS = 32;

/**
 * POP_MESSAGE, ACK_MESSAGE and CHANGE_MESSAGE_INVISIBLETIME over Remoting (upstream
 * `PopMessageProcessor`, `AckMessageProcessor`, `ChangeInvisibleTimeProcessor`), for proxies in
 * cluster mode and POP-mode push consumers. The POP response carries the stored records as the
 * body and upstream's header: `popTime / invisibleTime / reviveQid / restNum` and, per queue, the
 * check point's start offset (`startOffsetInfo`), the messages' offsets (`msgOffsetInfo`) and for
 * FIFO pops how often each was delivered before (`orderCountInfo`), from which clients build each
 * message's receipt (`popReceipts`).
 */
export class PopRemotingProcessor {
  constructor(private readonly broker: BrokerController) {}

  async popMessage(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodePopMessageRequestHeader(req.extFields);
    const b = this.broker;
    // As upstream PopMessageProcessor: more than 32 messages per POP is refused, not trimmed.
    if (h.maxMsgNums > MAX_POP_MSG_NUMS) {
      return createResponse(req, ResponseCode.INVALID_PARAMETER, `the broker[${b.brokerConfig.brokerName}] pop message's num is greater than ${MAX_POP_MSG_NUMS}`);
    }
    const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(h.consumerGroup);
    let filter;
    let tags: ReadonlySet<string> | undefined;
    if (h.expType === ExpressionType.SQL92) {
      const choice = chooseMessageFilter(buildSubscription(h.topic, h.exp ?? '', ExpressionType.SQL92), {
        enablePropertyFilter: b.brokerConfig.enablePropertyFilter, filterSupportRetry: true, subscriptionOf: () => undefined,
      });
      if (!choice.filter) return createResponse(req, choice.code, choice.remark);
      filter = choice.filter;
    } else {
      const sub = buildTagSubscription(h.topic, h.exp ?? '*');
      filter = new TagMessageFilter(sub);
      if (sub.tagsSet.length > 0) tags = new Set(sub.tagsSet);
    }
    const r = await b.popMessageService.pop({
      group: h.consumerGroup, topic: h.topic, queueId: h.queueId, maxMsgNums: Math.max(1, h.maxMsgNums), invisibleTime: h.invisibleTime,
      filter, tags, order: h.order ?? false, attemptId: h.attemptId, pollTime: h.pollTime, maxAttempts: h.maxAttempts ?? (group ? group.retryMaxTimes + 1 : 17),
    });
    switch (r.status) {
      case 'ERROR': return createResponse(req, r.code, r.remark);
      case 'POLLING_FULL': return createResponse(req, PopResponseCode.POLLING_FULL, 'the broker has too many receives waiting');
      case 'NO_MESSAGE': return createResponse(req, PopResponseCode.POLLING_TIMEOUT, 'no new message');
      default: {
        const first = r.messages[0]!.extraInfo;
        return createResponse(req, ResponseCode.SUCCESS, undefined, {
          extFields: {
            popTime: first.popTime, invisibleTime: first.invisibleTime, reviveQid: first.reviveQid, restNum: 0,
            ...encodePopOffsetInfos(r.messages.map((m) => ({
              mark: String(m.extraInfo.topicType), queueId: m.queueId, ckQueueOffset: m.extraInfo.ckQueueOffset,
              queueOffset: m.queueOffset, consumedTimes: m.deliveryAttempt - 1,
            })), h.order ?? false),
          },
          body: Buffer.concat(r.messages.map((m) => m.record)),
        });
      }
    }
  }

  async ackMessage(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeAckMessageRequestHeader(req.extFields);
    h.topic = originalTopic(h.consumerGroup, h.topic);
    const info = decodeExtraInfo(h.extraInfo.split(' '));
    if (!info) return createResponse(req, ResponseCode.INVALID_PARAMETER, `extraInfo "${h.extraInfo}" is not a POP extra info`);
    const r = await this.broker.popMessageService.ack(h.consumerGroup, h.topic, { ...info, queueId: h.queueId, queueOffset: h.offset });
    if (r.status === 'OK' || r.status === 'NOT_FOUND') return createResponse(req, ResponseCode.SUCCESS);
    return createResponse(req, ResponseCode.NO_MESSAGE, 'remark' in r ? r.remark : undefined);
  }

  /**
   * BATCH_ACK_MESSAGE (upstream `AckMessageProcessor`, the code upstream's proxy acks with): the
   * acks of several check points in one body; each acked message as a single ACK_MESSAGE would.
   * As upstream, a body without acks is NO_MESSAGE, and acks that find nothing are not errors.
   */
  async batchAckMessage(req: RemotingCommand): Promise<RemotingCommand> {
    let body;
    try {
      body = decodeBatchAckBody(req.body && req.body.length > 0 ? parseLenientJson(req.body) : {});
    } catch (err) {
      return createResponse(req, ResponseCode.INVALID_PARAMETER, `the BatchAckMessageRequestBody is unreadable: ${(err as Error).message}`);
    }
    if (body.acks.length === 0) return createResponse(req, ResponseCode.NO_MESSAGE, 'the batch holds no ack');
    const brokerName = body.brokerName ?? this.broker.brokerConfig.brokerName;
    for (const a of body.acks) {
      const topic = originalTopic(a.consumerGroup, a.topic);
      const topicType = a.retry === '1' ? PopConstants.TOPIC_TYPE_RETRY_V1 : PopConstants.TOPIC_TYPE_NORMAL;
      for (const delta of a.offsets) {
        await this.broker.popMessageService.ack(a.consumerGroup, topic, {
          ckQueueOffset: a.startOffset, popTime: a.popTime, invisibleTime: a.invisibleTime, reviveQid: a.reviveQueueId,
          topicType, brokerName, queueId: a.queueId, queueOffset: a.startOffset + delta,
        });
      }
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }

  async changeInvisibleTime(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeAckMessageRequestHeader(req.extFields);
    h.topic = originalTopic(h.consumerGroup, h.topic);
    const info = decodeExtraInfo(h.extraInfo.split(' '));
    if (!info || h.invisibleTime === undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, 'extraInfo and invisibleTime are required');
    const r = await this.broker.popMessageService.changeInvisibleTime(h.consumerGroup, h.topic, { ...info, queueId: h.queueId, queueOffset: h.offset }, h.invisibleTime);
    if (r.status !== 'OK' || !r.extraInfo) return createResponse(req, ResponseCode.NO_MESSAGE, 'remark' in r ? r.remark : undefined);
    return createResponse(req, ResponseCode.SUCCESS, undefined, {
      extFields: { popTime: r.extraInfo.popTime, invisibleTime: r.extraInfo.invisibleTime, reviveQid: r.extraInfo.reviveQid },
    });
  }
}

/**
 * The topic a receipt belongs to. Upstream clients ack a message of the group's POP retry topic
 * under that topic's name (`%RETRY%group_topic`, from the receipt's retry mark); check points here
 * are kept under the topic the consumer asked for.
 */
function originalTopic(group: string, topic: string): string {
  const retryPrefix = popRetryTopic(group, '');
  return topic.startsWith(retryPrefix) && topic.length > retryPrefix.length ? topic.slice(retryPrefix.length) : topic;
}
