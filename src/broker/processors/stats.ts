import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqString } from '../../remoting/header.js';
import { encodeJson, messageQueueJsonKey } from '../../common/json.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * GET_TOPIC_STATS_INFO (202) and GET_CONSUME_STATS (208) (upstream `AdminBrokerProcessor`
 * getTopicStatsInfo / getConsumeStats): per-queue offsets of a topic, and a group's progress.
 */
export class StatsProcessor {
  constructor(private readonly broker: BrokerController) {}

  /** TopicStatsTable `{offsetTable: {<MQ>: {minOffset, maxOffset, lastUpdateTimestamp}}, topicPutTps}`. */
  getTopicStatsInfo(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const b = this.broker;
    const tc = b.topicConfigManager.get(topic);
    if (!tc) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist`);
    const store = b.messageStore;
    const brokerName = b.brokerConfig.brokerName;
    const offsetTable: Record<string, { minOffset: number; maxOffset: number; lastUpdateTimestamp: number }> = {};
    for (let queueId = 0; queueId < tc.writeQueueNums; queueId++) {
      const minOffset = Math.max(0, store.getMinOffsetInQueue(topic, queueId));
      const maxOffset = Math.max(0, store.getMaxOffsetInQueue(topic, queueId));
      const lastUpdateTimestamp = maxOffset > 0 ? Math.max(0, store.getMessageStoreTimeStamp(topic, queueId, maxOffset - 1)) : 0;
      offsetTable[messageQueueJsonKey(topic, brokerName, queueId)] = { minOffset, maxOffset, lastUpdateTimestamp };
    }
    // No put-rate statistics are kept per topic: the rate is reported as 0.
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ offsetTable, topicPutTps: 0 }) });
  }

  /**
   * ConsumeStats `{offsetTable: {<MQ>: {brokerOffset, consumerOffset, pullOffset, lastTimestamp}}, consumeTps}`
   * over `topic`, or every topic the group has committed offsets on.
   */
  getConsumeStats(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'consumerGroup');
    const only = optString(req.extFields, 'topic');
    const b = this.broker;
    const topics = only ? [only] : b.consumerOffsetManager.whichTopicByGroup(group).sort();
    const brokerName = b.brokerConfig.brokerName;
    const offsetTable: Record<string, { brokerOffset: number; consumerOffset: number; pullOffset: number; lastTimestamp: number }> = {};
    const g = b.consumerManager.get(group);
    for (const topic of topics) {
      const tc = b.topicConfigManager.get(topic);
      if (!tc) {
        b.logger.warn(`consume stats of group ${group}: topic ${topic} does not exist on this broker`);
        continue;
      }
      // As upstream: an online group that no longer subscribes to the topic is not reported on it.
      if (g && g.subscriptions.size > 0 && !g.subscriptions.has(topic)) continue;
      for (let queueId = 0; queueId < tc.readQueueNums; queueId++) {
        const brokerOffset = Math.max(0, b.messageStore.getMaxOffsetInQueue(topic, queueId));
        const consumerOffset = Math.max(0, b.consumerOffsetManager.queryOffset(group, topic, queueId));
        const lastTimestamp = consumerOffset > 0 ? Math.max(0, b.messageStore.getMessageStoreTimeStamp(topic, queueId, consumerOffset - 1)) : 0;
        // Pull offsets are not tracked apart from committed ones.
        offsetTable[messageQueueJsonKey(topic, brokerName, queueId)] = { brokerOffset, consumerOffset, pullOffset: consumerOffset, lastTimestamp };
      }
    }
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ consumeTps: 0, offsetTable }) });
  }
}
