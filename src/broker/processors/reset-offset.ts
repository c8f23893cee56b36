import { RequestCode, ResponseCode, SerializeType } from '../../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optBoolean, optNumber, reqNumber, reqString } from '../../remoting/header.js';
import { encodeJson } from '../../common/json.js';
import type { BrokerController } from '../broker-controller.js';
import { messageQueueJsonKey } from '../../common/json.js';

/**
 * INVOKE_BROKER_TO_RESET_OFFSET (222) (upstream `AdminBrokerProcessor.resetOffset` with
 * `Broker2Client.resetOffset`): the broker computes each queue's new offset — the first message
 * stored at or after `timestamp` (−1: the max offset), or the given `offset` for one queue —
 * commits it, and pushes RESET_CONSUMER_CLIENT_OFFSET (220, oneway, same ResetOffsetBody) to every
 * online consumer of the group. Without `isForce` offsets only move back. Answers the
 * ResetOffsetBody `{offsetTable: {<MQ>: offset}}`; the offsets are committed even when no
 * consumer is online (5.x server-side reset).
 */
export class ResetOffsetProcessor {
  constructor(private readonly broker: BrokerController) {}

  process(req: RemotingCommand): RemotingCommand {
    const ext = req.extFields;
    const topic = reqString(ext, 'topic');
    const group = reqString(ext, 'group');
    const timestamp = reqNumber(ext, 'timestamp');
    const isForce = optBoolean(ext, 'isForce') ?? true;
    const queueId = optNumber(ext, 'queueId') ?? -1;
    const offset = optNumber(ext, 'offset');
    const b = this.broker;
    const tc = b.topicConfigManager.get(topic);
    if (!tc) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `[reset-offset] reset offset failed, topic ${topic} does not exist on broker ${b.brokerConfig.brokerName}`);
    const queueNums = Math.max(tc.readQueueNums, tc.writeQueueNums);
    if (queueId >= queueNums) return createResponse(req, ResponseCode.INVALID_PARAMETER, `[reset-offset] queueId ${queueId} out of range: topic ${topic} has ${queueNums} queues`);
    const queues = queueId >= 0 ? [queueId] : Array.from({ length: queueNums }, (_, i) => i);
    const store = b.messageStore;
    const brokerName = b.brokerConfig.brokerName;
    const offsetTable: Record<string, number> = {};
    for (const q of queues) {
      const min = Math.max(0, store.getMinOffsetInQueue(topic, q));
      const max = Math.max(0, store.getMaxOffsetInQueue(topic, q));
      let target: number;
      if (offset !== undefined && queueId >= 0) target = Math.min(max, Math.max(min, offset));
      else if (timestamp === -1) target = max;
      else target = Math.max(0, store.getOffsetInQueueByTime(topic, q, timestamp));
      const committed = b.consumerOffsetManager.queryOffset(group, topic, q);
      if (!isForce && committed >= 0 && target > committed) target = committed;
      b.consumerOffsetManager.commitOffset(group, topic, q, target);
      offsetTable[messageQueueJsonKey(topic, brokerName, q)] = target;
    }
    // Pulls before the reset ended elsewhere: nothing of them is in flight any more.
    b.consumerOffsetManager.clearPullOffset(group, topic);
    const body = encodeJson({ offsetTable });
    const g = b.consumerManager.get(group);
    let pushed = 0;
    for (const info of g?.channels.values() ?? []) {
      if (info.conn.isClosed) continue;
      const push = createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, {
        extFields: { topic, group, timestamp, isForce },
        body,
        // JSON is understood by every client.
        serializeType: SerializeType.JSON,
        language: 'JAVA',
      });
      try {
        info.conn.invokeOneway(push);
        pushed++;
      } catch (err) {
        b.logger.warn(`[reset-offset] notifying consumer ${info.clientId} of group ${group} failed: ${(err as Error).message}`);
      }
    }
    b.logger.info(`[reset-offset] group ${group} topic ${topic} timestamp ${timestamp} force ${isForce}: ${queues.length} queue(s) reset, ${pushed} consumer(s) notified`);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body });
  }
}
