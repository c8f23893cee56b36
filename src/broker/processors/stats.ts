import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqString } from '../../remoting/header.js';
import { encodeJson, messageQueueJsonKey } from '../../common/json.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208) and GET_BROKER_CONSUME_STATS (317) (upstream
 * `AdminBrokerProcessor`): per-queue offsets of a topic, and a group's or every group's progress.
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
    const topics = only ? [only] : this.broker.consumerOffsetManager.whichTopicByGroup(group).sort();
    const offsetTable: Record<string, OffsetEntry> = {};
    for (const topic of topics) this.addConsumeStats(offsetTable, group, topic, false);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ consumeTps: 0, offsetTable }) });
  }

  /**
   * GET_BROKER_CONSUME_STATS (317, upstream `fetchAllConsumeStatsInBroker`): ConsumeStatsList
   * `{brokerAddr, consumeStatsList: [{<group>: [ConsumeStats per topic]}], totalDiff, totalInflightDiff}`
   * over every subscription group with committed offsets here; with `isOrder`, order topics only.
   */
  getBrokerConsumeStats(req: RemotingCommand): RemotingCommand {
    const isOrder = optString(req.extFields, 'isOrder') === 'true';
    const b = this.broker;
    const consumeStatsList: Array<Record<string, Array<{ consumeTps: number; offsetTable: Record<string, OffsetEntry> }>>> = [];
    let totalDiff = 0;
    for (const group of b.subscriptionGroupManager.groups().sort()) {
      const perTopic: Array<{ consumeTps: number; offsetTable: Record<string, OffsetEntry> }> = [];
      for (const topic of b.consumerOffsetManager.whichTopicByGroup(group).sort()) {
        const offsetTable: Record<string, OffsetEntry> = {};
        if (!this.addConsumeStats(offsetTable, group, topic, isOrder)) continue;
        for (const o of Object.values(offsetTable)) totalDiff += o.brokerOffset - o.consumerOffset;
        perTopic.push({ consumeTps: 0, offsetTable });
      }
      consumeStatsList.push({ [group]: perTopic });
    }
    const body = { brokerAddr: b.address, consumeStatsList, totalDiff, totalInflightDiff: 0 };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /**
   * Adds the group's offsets on each queue of `topic` to `offsetTable`; false when the topic is
   * not reported: unknown here, not an order topic when only those are asked for, or (as upstream)
   * no longer subscribed by the online group.
   */
  private addConsumeStats(offsetTable: Record<string, OffsetEntry>, group: string, topic: string, orderOnly: boolean): boolean {
    const b = this.broker;
    const tc = b.topicConfigManager.get(topic);
    if (!tc) {
      b.logger.warn(`consume stats of group ${group}: topic ${topic} does not exist on this broker`);
      return false;
    }
    if (orderOnly && !tc.order) return false;
    const g = b.consumerManager.get(group);
    if (g && g.subscriptions.size > 0 && !g.subscriptions.has(topic)) return false;
    const brokerName = b.brokerConfig.brokerName;
    for (let queueId = 0; queueId < tc.readQueueNums; queueId++) {
      const brokerOffset = Math.max(0, b.messageStore.getMaxOffsetInQueue(topic, queueId));
      const consumerOffset = Math.max(0, b.consumerOffsetManager.queryOffset(group, topic, queueId));
      const lastTimestamp = consumerOffset > 0 ? Math.max(0, b.messageStore.getMessageStoreTimeStamp(topic, queueId, consumerOffset - 1)) : 0;
      // Pull offsets are not tracked apart from committed ones.
      offsetTable[messageQueueJsonKey(topic, brokerName, queueId)] = { brokerOffset, consumerOffset, pullOffset: consumerOffset, lastTimestamp };
    }
    return true;
  }
}

interface OffsetEntry { brokerOffset: number; consumerOffset: number; pullOffset: number; lastTimestamp: number }
