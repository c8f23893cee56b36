import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import { readLong } from '../../common/bytes.js';
import { CQ_STORE_UNIT_SIZE } from '../../store/consume-queue.js';
import { encodeJson, messageQueueJsonKey } from '../../common/json.js';
import type { StatsSnapshot } from '../../store/stats/stats-item.js';
import type { BrokerController } from '../broker-controller.js';

/** GET_CONSUME_STATS (208) header (upstream `GetConsumeStatsRequestHeader`). */
export interface GetConsumeStatsRequestHeader {
  consumerGroup: string;
  topic?: string;
  /** Topics named in `topicList` (`;`-separated upstream); when any, `topic` is ignored. */
  topicList: string[];
}

export function decodeGetConsumeStatsRequestHeader(ext: Ext): GetConsumeStatsRequestHeader {
  const topic = optString(ext, 'topic')?.trim();
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: topic ? topic : undefined,
    topicList: (optString(ext, 'topicList') ?? '').split(';').map((t) => t.trim()).filter(Boolean),
  };
}

/**
 * GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208), VIEW_BROKER_STATS_DATA (315),
 * GET_BROKER_CONSUME_STATS (317) and QUERY_CONSUME_QUEUE (321) (upstream `AdminBrokerProcessor`): per-queue offsets of a topic, a
 * group's or every group's progress, and the raw entries of one ConsumeQueue.
 */
export class StatsProcessor {
  constructor(private readonly broker: BrokerController) {}

  /**
   * TopicStatsTable `{offsetTable: {<MQ>: {minOffset, maxOffset, lastUpdateTimestamp}}, topicPutTps}`,
   * over max(read, write) queues as upstream's `getTopicStatsInfo`: a topic whose read queues
   * outnumber its write queues still shows (and lets `topicStatus` see) the queues only read.
   */
  getTopicStatsInfo(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const b = this.broker;
    const tc = b.topicConfigManager.get(topic);
    if (!tc) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist`);
    const store = b.messageStore;
    const brokerName = b.brokerConfig.brokerName;
    const offsetTable: Record<string, { minOffset: number; maxOffset: number; lastUpdateTimestamp: number }> = {};
    const queueNums = Math.max(tc.readQueueNums, tc.writeQueueNums);
    for (let queueId = 0; queueId < queueNums; queueId++) {
      const minOffset = Math.max(0, store.getMinOffsetInQueue(topic, queueId));
      const maxOffset = Math.max(0, store.getMaxOffsetInQueue(topic, queueId));
      const lastUpdateTimestamp = maxOffset > 0 ? Math.max(0, store.getMessageStoreTimeStamp(topic, queueId, maxOffset - 1)) : 0;
      offsetTable[messageQueueJsonKey(topic, brokerName, queueId)] = { minOffset, maxOffset, lastUpdateTimestamp };
    }
    const topicPutTps = b.brokerStatsManager.tpsTopicPutNums(topic);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ offsetTable, topicPutTps }) });
  }

  /**
   * ConsumeStats `{offsetTable: {<MQ>: {brokerOffset, consumerOffset, pullOffset, lastTimestamp}}, consumeTps}`
   * over `topic`, or every topic the group has committed offsets on. A `topicList` (upstream
   * `GetConsumeStatsRequestHeader.topicList`, `;`-separated) takes the place of both and, as
   * upstream, is reported whether or not the online group subscribes its topics.
   */
  getConsumeStats(req: RemotingCommand): RemotingCommand {
    const { consumerGroup: group, topic: only, topicList } = decodeGetConsumeStatsRequestHeader(req.extFields);
    const topics = topicList.length > 0 ? [...new Set(topicList)]
      : only ? [only] : this.broker.consumerOffsetManager.whichTopicByGroup(group).sort();
    const offsetTable: Record<string, OffsetEntry> = {};
    let consumeTps = 0;
    for (const topic of topics) {
      if (this.addConsumeStats(offsetTable, group, topic, false, topicList.length > 0)) consumeTps += this.broker.brokerStatsManager.tpsGroupGetNums(group, topic);
    }
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ consumeTps, offsetTable }) });
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
    let totalInflightDiff = 0;
    for (const group of b.subscriptionGroupManager.groups().sort()) {
      const perTopic: Array<{ consumeTps: number; offsetTable: Record<string, OffsetEntry> }> = [];
      for (const topic of b.consumerOffsetManager.whichTopicByGroup(group).sort()) {
        const offsetTable: Record<string, OffsetEntry> = {};
        if (!this.addConsumeStats(offsetTable, group, topic, isOrder)) continue;
        for (const o of Object.values(offsetTable)) {
          totalDiff += o.brokerOffset - o.consumerOffset;
          totalInflightDiff += o.pullOffset - o.consumerOffset;
        }
        perTopic.push({ consumeTps: b.brokerStatsManager.tpsGroupGetNums(group, topic), offsetTable });
      }
      consumeStatsList.push({ [group]: perTopic });
    }
    const body = { brokerAddr: b.address, consumeStatsList, totalDiff, totalInflightDiff };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /**
   * VIEW_BROKER_STATS_DATA (315, upstream `ViewBrokerStatsData`): one statistics item's minute,
   * hour and day windows, BrokerStatsData `{statsMinute, statsHour, statsDay: {sum, tps, avgpt}}`.
   */
  viewBrokerStatsData(req: RemotingCommand): RemotingCommand {
    const statsName = reqString(req.extFields, 'statsName');
    const statsKey = reqString(req.extFields, 'statsKey');
    const item = this.broker.brokerStatsManager.statsItem(statsName, statsKey);
    if (!item) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `The stats <${statsName}> <${statsKey}> not exist: nothing was counted under that name and key on this broker (keys are a topic, or topic@group)`);
    }
    const window = (ss: StatsSnapshot) => ({ sum: ss.sum, tps: ss.tps, avgpt: ss.avgpt });
    const body = { statsMinute: window(item.statsDataInMinute()), statsHour: window(item.statsDataInHour()), statsDay: window(item.statsDataInDay()) };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /**
   * QUERY_CONSUME_QUEUE (321, upstream `queryConsumeQueue`): up to `count` ConsumeQueue entries of
   * one queue from logical offset `index`, the queue's bounds and, for a `consumerGroup`, its
   * subscription. Entries carry no extension unit here (no ConsumeQueueExt), so `eval` stays false.
   */
  queryConsumeQueue(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const queueId = reqNumber(req.extFields, 'queueId');
    const index = reqNumber(req.extFields, 'index');
    const count = reqNumber(req.extFields, 'count');
    const group = optString(req.extFields, 'consumerGroup');
    const cq = this.broker.messageStore.findConsumeQueue(topic, queueId);
    if (!cq) return createResponse(req, ResponseCode.SYSTEM_ERROR, `${queueId}@${topic} is not exist!`);
    const body: Record<string, unknown> = { maxQueueIndex: cq.maxOffsetInQueue, minQueueIndex: cq.minOffsetInQueue };
    if (group !== undefined) {
      const sub = this.broker.consumerManager.get(group)?.subscriptions.get(topic);
      body.subscriptionData = sub;
      // Upstream keeps filter data only for SQL92 subscriptions; the text is its JSON, or "null".
      body.filterData = !sub ? `${group}@${topic} is not online!`
        : JSON.stringify(sub.expressionType === 'SQL92' ? { consumerGroup: group, topic, expression: sub.subString, expressionType: sub.expressionType, version: sub.subVersion } : null);
    }
    const entries = index < cq.minOffsetInQueue ? Buffer.alloc(0) : cq.getEntries(index, Math.max(0, count));
    if (entries.length === 0) {
      return createResponse(req, ResponseCode.SUCCESS, `Index ${index} of ${queueId}@${topic} is not exist!`, { body: encodeJson(body) });
    }
    const queueData = [];
    for (let p = 0; p + CQ_STORE_UNIT_SIZE <= entries.length; p += CQ_STORE_UNIT_SIZE) {
      queueData.push({ physicOffset: readLong(entries, p), physicSize: entries.readInt32BE(p + 8), tagsCode: readLong(entries, p + 12), eval: false });
    }
    body.queueData = queueData;
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /**
   * Adds the group's offsets on each queue of `topic` to `offsetTable`; false when the topic is
   * not reported: unknown here, not an order topic when only those are asked for, or (as upstream)
   * no longer subscribed by the online group (unless `anySubscription`, for a listed topic).
   */
  private addConsumeStats(offsetTable: Record<string, OffsetEntry>, group: string, topic: string, orderOnly: boolean, anySubscription = false): boolean {
    const b = this.broker;
    const tc = b.topicConfigManager.get(topic);
    if (!tc) {
      b.logger.warn(`consume stats of group ${group}: topic ${topic} does not exist on this broker`);
      return false;
    }
    if (orderOnly && !tc.order) return false;
    const g = b.consumerManager.get(group);
    if (!anySubscription && g && g.subscriptions.size > 0 && !g.subscriptions.has(topic)) return false;
    const brokerName = b.brokerConfig.brokerName;
    for (let queueId = 0; queueId < tc.readQueueNums; queueId++) {
      const brokerOffset = Math.max(0, b.messageStore.getMaxOffsetInQueue(topic, queueId));
      const consumerOffset = Math.max(0, b.consumerOffsetManager.queryOffset(group, topic, queueId));
      const lastTimestamp = consumerOffset > 0 ? Math.max(0, b.messageStore.getMessageStoreTimeStamp(topic, queueId, consumerOffset - 1)) : 0;
      const pullOffset = Math.max(consumerOffset, b.consumerOffsetManager.queryPullOffset(group, topic, queueId));
      offsetTable[messageQueueJsonKey(topic, brokerName, queueId)] = { brokerOffset, consumerOffset, pullOffset, lastTimestamp };
    }
    return true;
  }
}

interface OffsetEntry { brokerOffset: number; consumerOffset: number; pullOffset: number; lastTimestamp: number }
