import { RequestCode, ResponseCode, SerializeType } from '../../remoting/codes.js';
import { createRequest, createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optBoolean, optNumber, reqLongSaturated, reqString } from '../../remoting/header.js';
import { encodeJson } from '../../common/json.js';
import type { BrokerController } from '../broker-controller.js';
import { messageQueueJsonKey } from '../../common/json.js';

/**
 * INVOKE_BROKER_TO_RESET_OFFSET (222) (upstream `AdminBrokerProcessor.resetOffset` with
 * `Broker2Client.resetOffset`): the broker computes each queue's new offset — the first message
 * stored at or after `timestamp` (negative: the max offset), or the given `offset` for one queue —
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
    // Saturated: a Java tool may send up to Long.MAX_VALUE (a time after every message).
    const timestamp = reqLongSaturated(ext, 'timestamp');
    const isForce = optBoolean(ext, 'isForce') ?? true;
    const queueId = optNumber(ext, 'queueId') ?? -1;
    const offset = optNumber(ext, 'offset');
    const b = this.broker;
    // As upstream's resetOffsetInner: offsets are the master's; a slave only copies them.
    if (b.brokerConfig.brokerRole === 'SLAVE') return createResponse(req, ResponseCode.SYSTEM_ERROR, 'Can not reset offset in slave broker');
    const tc = b.topicConfigManager.get(topic);
    if (!tc) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `[reset-offset] reset offset failed, topic ${topic} does not exist on broker ${b.brokerConfig.brokerName}`);
    // As upstream's resetOffsetInner: a group the broker does not know is refused, so a mistyped
    // name does not leave offsets of a group nobody has behind.
    if (!b.subscriptionGroupManager.table.has(group)) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `Group ${group} does not exist on broker ${b.brokerConfig.brokerName}: create it (updateSubGroup) or let its consumers connect first`);
    }
    const queueNums = Math.max(tc.readQueueNums, tc.writeQueueNums);
    if (queueId >= queueNums) return createResponse(req, ResponseCode.INVALID_PARAMETER, `[reset-offset] queueId ${queueId} out of range: topic ${topic} has ${queueNums} queues`);
    const store = b.messageStore;
    // An explicit offset for one queue (−1: none, as upstream) must lie in the queue, up to one past
    // its last message; upstream refuses it otherwise instead of moving the group somewhere else.
    const explicit = queueId >= 0 && offset !== undefined && offset !== -1 ? offset : undefined;
    if (explicit !== undefined) {
      const min = store.getMinOffsetInQueue(topic, queueId);
      const max = store.getMaxOffsetInQueue(topic, queueId);
      if ((min >= 0 && explicit < min) || explicit > max + 1) {
        return createResponse(req, ResponseCode.SYSTEM_ERROR, `Target offset ${explicit} not in consume queue range [${min}-${max}]`);
      }
    }
    // As upstream: every read queue (those consumers are given), or the one named.
    const queues = queueId >= 0 ? [queueId] : Array.from({ length: tc.readQueueNums }, (_, i) => i);
    if (queues.length === 0) return createResponse(req, ResponseCode.SYSTEM_ERROR, `No queues to reset: topic ${topic} has no read queues`);
    const brokerName = b.brokerConfig.brokerName;
    const offsetTable: Record<string, number> = {};
    for (const q of queues) {
      let target: number;
      if (explicit !== undefined) target = explicit;
      // As upstream: any negative timestamp means the queue's max offset.
      else if (timestamp < 0) target = Math.max(0, store.getMaxOffsetInQueue(topic, q));
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
