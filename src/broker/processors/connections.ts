import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optString, reqString } from '../../remoting/header.js';
import { encodeJson } from '../../common/json.js';
import type { BrokerController } from '../broker-controller.js';
import type { ClientChannelInfo } from '../client/consumer-manager.js';

/** Upstream `Connection`: how a client channel is described in admin bodies. */
function connectionOf(c: ClientChannelInfo): { clientAddr: string; clientId: string; language: string; version: number } {
  return { clientAddr: c.conn.remoteAddress, clientId: c.clientId, language: c.language, version: c.version };
}

function byClientId(a: { clientId: string }, b: { clientId: string }): number {
  return a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0;
}

/**
 * GET_CONSUMER_CONNECTION_LIST (203), GET_PRODUCER_CONNECTION_LIST (204), GET_ALL_PRODUCER_INFO (328),
 * QUERY_TOPIC_CONSUME_BY_WHO (300), QUERY_TOPICS_BY_CONSUMER (343) and
 * QUERY_SUBSCRIPTION_BY_CONSUMER (345) (upstream `AdminBrokerProcessor`): who is connected, who
 * consumes what.
 */
export class ConnectionsProcessor {
  constructor(private readonly broker: BrokerController) {}

  /** ConsumerConnection of an online group; CONSUMER_NOT_ONLINE when no client of it is connected. */
  getConsumerConnectionList(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'consumerGroup');
    const g = this.broker.consumerManager.get(group);
    const live = g ? [...g.channels.values()].filter((c) => !c.conn.isClosed) : [];
    if (!g || live.length === 0) return createResponse(req, ResponseCode.CONSUMER_NOT_ONLINE, `the consumer group[${group}] not online`);
    const body = {
      connectionSet: live.map(connectionOf).sort(byClientId),
      consumeFromWhere: g.consumeFromWhere,
      consumeType: g.consumeType,
      messageModel: g.messageModel,
      subscriptionTable: Object.fromEntries(g.subscriptions),
    };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /** ProducerConnection of a group; SYSTEM_ERROR when no producer of it is connected (as upstream). */
  getProducerConnectionList(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'producerGroup');
    const m = this.broker.producerManager.groups.get(group);
    const live = m ? [...m.values()].filter((c) => !c.conn.isClosed) : [];
    if (live.length === 0) return createResponse(req, ResponseCode.SYSTEM_ERROR, `the producer group[${group}] not exist`);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ connectionSet: live.map(connectionOf).sort(byClientId) }) });
  }

  /**
   * ProducerTableInfo `{data: {group: [ProducerInfo]}}`: every live producer of every group
   * (upstream `getAllProducerInfo`). `remoteIP` is written as Java prints a socket address.
   */
  getAllProducerInfo(req: RemotingCommand): RemotingCommand {
    const data: Record<string, Array<{ clientId: string; remoteIP: string; language: string; version: number; lastUpdateTimestamp: number }>> = {};
    for (const [group, m] of this.broker.producerManager.groups) {
      const live = [...m.values()].filter((c) => !c.conn.isClosed).sort(byClientId);
      if (live.length === 0) continue;
      data[group] = live.map((c) => ({ clientId: c.clientId, remoteIP: `/${c.conn.remoteAddress}`, language: c.language, version: c.version, lastUpdateTimestamp: c.lastUpdateTimestamp }));
    }
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ data }) });
  }

  /** GroupList: groups online and subscribing to the topic, plus groups with offsets committed on it. */
  queryTopicConsumeByWho(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const b = this.broker;
    const groups = new Set([...b.consumerManager.queryTopicConsumeByWho(topic), ...b.consumerOffsetManager.whichGroupByTopic(topic)]);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ groupList: [...groups].sort() }) });
  }

  /** TopicList `{topicList, brokerAddr}`: the topics the group has committed offsets on (upstream `queryTopicsByConsumer`). */
  queryTopicsByConsumer(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'group');
    const b = this.broker;
    const body = { brokerAddr: b.address, topicList: b.consumerOffsetManager.whichTopicByGroup(group).sort() };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /**
   * QuerySubscriptionResponseBody `{group, topic, subscriptionData}`: the online group's
   * subscription to the topic, as its heartbeats registered it; no subscriptionData when none is
   * (upstream `querySubscriptionByConsumer`).
   */
  querySubscriptionByConsumer(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'group');
    // Upstream's header does not mark the topic required; without it there is nothing to find.
    const topic = optString(req.extFields, 'topic') ?? '';
    const subscriptionData = this.broker.consumerManager.findSubscription(group, topic);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ group, topic, subscriptionData }) });
  }
}
