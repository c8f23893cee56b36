import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import {
  decodeQueryAssignmentRequestBody, decodeSetMessageRequestModeBody, MessageRequestMode, RequestBodyError,
  type AssignedQueue, type MessageQueueAssignment, type QueryAssignmentRequestBody, type SetMessageRequestModeRequestBody,
} from '../../common/message-request-mode.js';
import { isRetryTopic } from '../../common/topic.js';
import { AllocateMessageQueueAveragely, AllocateMessageQueueAveragelyByCircle, type AllocateMessageQueueStrategy } from '../../client/rebalance/index.js';
import { compareMessageQueue, messageQueueKey } from '../../client/route.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * QUERY_ASSIGNMENT (400), SET_MESSAGE_REQUEST_MODE (401) and GET_ALL_MESSAGE_REQUEST_MODE (402)
 * (upstream `QueryAssignmentProcessor`, and `AdminBrokerProcessor.getAllMessageRequestMode`):
 * consumers that do not rebalance themselves (`clientRebalance=false`) ask the broker which
 * queues to take and whether to PULL or POP them; admins switch a group to POP per topic.
 */
export class QueryAssignmentProcessor {
  /** The strategies upstream's broker registers, by name; any other name gets no assignment. */
  private readonly strategies = new Map<string, AllocateMessageQueueStrategy>(
    [new AllocateMessageQueueAveragely(), new AllocateMessageQueueAveragelyByCircle()].map((s) => [s.name, s]),
  );

  constructor(private readonly broker: BrokerController) {}

  async queryAssignment(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    let body: QueryAssignmentRequestBody;
    try {
      body = decodeQueryAssignmentRequestBody(req.body);
    } catch (err) {
      return badBody(req, err);
    }
    const b = this.broker;
    const { topic, consumerGroup } = body;
    let mode = b.messageRequestModeManager.get(topic, consumerGroup);
    if (!mode) {
      // As upstream: a group's retry topic is always pulled; anything else follows the broker's default.
      const m = isRetryTopic(topic) ? MessageRequestMode.PULL : b.brokerConfig.defaultMessageRequestMode;
      mode = { topic, consumerGroup, mode: m, popShareQueueNum: m === MessageRequestMode.POP ? b.brokerConfig.defaultPopShareQueueNum : 0 };
    }
    const queues = await this.doLoadBalance(body, mode, conn);
    let assignments: MessageQueueAssignment[] | undefined;
    if (queues) {
      // A set, as upstream's: a queue shared from two neighbours is assigned once.
      const seen = new Map<string, MessageQueueAssignment>();
      for (const q of queues) seen.set(messageQueueKey(q), { messageQueue: { topic: q.topic, brokerName: q.brokerName, queueId: q.queueId }, mode: mode.mode });
      assignments = [...seen.values()];
    }
    // No assignment at all (null upstream, omitted by fastjson) tells the client to keep what it has.
    return createResponse(req, ResponseCode.SUCCESS, undefined, {
      body: Buffer.from(JSON.stringify(assignments ? { messageQueueAssignments: assignments } : {})),
    });
  }

  /** Upstream `doLoadBalance`: undefined is "no valid result" (the client skips the round), [] is "nothing for you". */
  private async doLoadBalance(body: QueryAssignmentRequestBody, mode: SetMessageRequestModeRequestBody, conn: Connection): Promise<AssignedQueue[] | undefined> {
    const { topic, consumerGroup: group, clientId, strategyName } = body;
    const b = this.broker;
    const mqSet = await b.topicRouteInfoManager.getTopicSubscribeInfo(topic);
    if (body.messageModel === 'BROADCASTING') {
      if (!mqSet) b.logger.warn(`QueryLoad: no assignment for group[${group}], the topic[${topic}] does not exist.`);
      return mqSet;
    }
    if (!mqSet) {
      if (!isRetryTopic(topic)) b.logger.warn(`QueryLoad: no assignment for group[${group}], the topic[${topic}] does not exist.`);
      return undefined;
    }
    if (!b.brokerConfig.serverLoadBalancerEnable) return mqSet;
    const cidAll = b.consumerManager.get(group)?.allClientIds();
    if (!cidAll || cidAll.length === 0) {
      b.logger.warn(`QueryLoad: no assignment for group[${group}] topic[${topic}], get consumer id list failed`);
      return undefined;
    }
    const mqAll = [...mqSet].sort(compareMessageQueue);
    cidAll.sort();
    const strategy = this.strategies.get(strategyName);
    if (!strategy) {
      b.logger.warn(`QueryLoad: unsupported strategy [${strategyName}], ${conn.remoteAddress}`);
      return undefined;
    }
    try {
      return mode.mode === MessageRequestMode.POP
        ? allocate4Pop(strategy, group, clientId, mqAll, cidAll, mode.popShareQueueNum)
        : strategy.allocate(group, clientId, mqAll, cidAll);
    } catch (err) {
      b.logger.error(`QueryLoad: no assignment for group[${group}] topic[${topic}], allocate message queue exception. strategy name: ${strategyName}, ex: ${(err as Error).message}`);
      return undefined;
    }
  }

  setMessageRequestMode(req: RemotingCommand): RemotingCommand {
    let body: SetMessageRequestModeRequestBody;
    try {
      body = decodeSetMessageRequestModeBody(req.body);
    } catch (err) {
      return badBody(req, err);
    }
    const b = this.broker;
    if (isRetryTopic(body.topic)) return createResponse(req, ResponseCode.NO_PERMISSION, 'retry topic is not allowed to set mode');
    if (!b.topicConfigManager.get(body.topic)) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${body.topic}] not exist`);
    if (!b.subscriptionGroupManager.findSubscriptionGroupConfig(body.consumerGroup)) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, 'subscription group does not exist');
    }
    b.messageRequestModeManager.set(body);
    b.messageRequestModeManager.persist();
    b.logger.info(`set message request mode of group ${body.consumerGroup} on topic ${body.topic} to ${body.mode} (popShareQueueNum ${body.popShareQueueNum})`);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  getAllMessageRequestMode(req: RemotingCommand): RemotingCommand {
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(this.broker.messageRequestModeManager.encode()) });
  }
}

/** A body that could not be decoded: SYSTEM_ERROR, what upstream's failed decode (an exception in the processor) answers. */
function badBody(req: RemotingCommand, err: unknown): RemotingCommand {
  if (!(err instanceof RequestBodyError)) throw err;
  return createResponse(req, ResponseCode.SYSTEM_ERROR, err.message);
}

/**
 * Upstream `QueryAssignmentProcessor.allocate4Pop`: with popShareQueueNum ≤ 0 or ≥ consumers − 1
 * every consumer pops every broker's queues (queueId −1); otherwise a consumer takes its own
 * share plus the shares of the popShareQueueNum consumers after it in the sorted list, and when
 * there are more consumers than queues, consumer i takes queue i mod queues so none is idle.
 */
export function allocate4Pop(strategy: AllocateMessageQueueStrategy, group: string, clientId: string,
  mqAll: readonly AssignedQueue[], cidAll: readonly string[], popShareQueueNum: number): AssignedQueue[] {
  if (popShareQueueNum <= 0 || popShareQueueNum >= cidAll.length - 1) {
    const byBroker = new Map<string, AssignedQueue>();
    for (const mq of mqAll) byBroker.set(`${mq.topic}@${mq.brokerName}`, { topic: mq.topic, brokerName: mq.brokerName, queueId: -1 });
    return [...byBroker.values()];
  }
  if (cidAll.length <= mqAll.length) {
    const out = strategy.allocate(group, clientId, mqAll, cidAll);
    let index = cidAll.indexOf(clientId);
    if (index >= 0) {
      for (let i = 1; i <= popShareQueueNum; i++) {
        index = (index + 1) % cidAll.length;
        out.push(...strategy.allocate(group, cidAll[index]!, mqAll, cidAll));
      }
    }
    return out;
  }
  if (!clientId) throw new Error('currentCID is empty');
  const index = cidAll.indexOf(clientId);
  if (index < 0) return [];
  return [mqAll[index % mqAll.length]!];
}
