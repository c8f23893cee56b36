import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import { optString, reqString } from '../../remoting/header.js';
import type { BrokerController } from '../broker-controller.js';
import { clientBodyObject, decodeHeartbeatData, objectsOf, toSubscriptionData } from '../client/heartbeat.js';
import { isTagExpressionType, sql92SubscriptionError } from '../filter.js';
import { ExpressionType, type SubscriptionData } from '../../common/subscription.js';
import type { MessageQueueData } from '../rebalance-lock-manager.js';

interface LockBatchRequestBody {
  consumerGroup: string;
  clientId: string;
  onlyThisBroker: boolean;
  mqSet: MessageQueueData[];
}

function decodeLockBatchBody(body: Buffer | undefined): LockBatchRequestBody {
  const raw = clientBodyObject(body, 'lock/unlock request', ResponseCode.SYSTEM_ERROR);
  return {
    consumerGroup: String(raw.consumerGroup ?? ''),
    clientId: String(raw.clientId ?? ''),
    onlyThisBroker: raw.onlyThisBroker === true,
    mqSet: objectsOf(raw.mqSet).map((o) => ({ topic: String(o.topic ?? ''), brokerName: String(o.brokerName ?? ''), queueId: Number(o.queueId ?? 0) })),
  };
}

/** CHECK_CLIENT_CONFIG (46) body (upstream `CheckClientRequestBody`). */
export interface CheckClientRequestBody {
  clientId: string;
  group: string;
  /** Absent: nothing to check (upstream answers SUCCESS). */
  subscriptionData?: SubscriptionData;
  namespace?: string;
}

export function decodeCheckClientRequestBody(body: Buffer | undefined): CheckClientRequestBody {
  const o = clientBodyObject(body, 'check client config request');
  const sub = o.subscriptionData;
  const out: CheckClientRequestBody = { clientId: String(o.clientId ?? ''), group: String(o.group ?? '') };
  if (typeof sub === 'object' && sub !== null && !Array.isArray(sub)) out.subscriptionData = toSubscriptionData(sub as Record<string, unknown>);
  if (typeof o.namespace === 'string') out.namespace = o.namespace;
  return out;
}

/**
 * HEART_BEAT (34), UNREGISTER_CLIENT (35), LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42) and
 * CHECK_CLIENT_CONFIG (46) (upstream `ClientManageProcessor`, `AdminBrokerProcessor#lockBatchMQ`).
 */
export class ClientManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  heartBeat(req: RemotingCommand, conn: Connection): RemotingCommand {
    const data = decodeHeartbeatData(req.body);
    const b = this.broker;
    // A malformed SQL92 subscription is refused before anything of this heartbeat is registered.
    for (const c of data.consumerDataSet) {
      for (const s of c.subscriptionDataSet) {
        const err = sql92SubscriptionError(s);
        if (err) {
          return createResponse(req, ResponseCode.SUBSCRIPTION_PARSE_FAILED, `parse the consumer's subscription failed: group ${c.groupName} topic ${s.topic}: ${err.message}`);
        }
      }
    }
    conn.attrs.language = req.language;
    conn.attrs.version = req.version;
    conn.attrs.clientId = data.clientID;
    for (const c of data.consumerDataSet) {
      const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(c.groupName);
      // As upstream: a consumer of a group the broker does not have (autoCreateSubscriptionGroup
      // off and never created) is not registered; the heartbeat still succeeds.
      if (!group) continue;
      // As upstream: every consumer group gets its retry topic, so failed messages can come back.
      b.topicConfigManager.createRetryTopicIfAbsent(c.groupName, group.retryQueueNums);
      b.consumerManager.register(conn, data.clientID, c, { notify: group.notifyConsumerIdsChangedEnable });
    }
    for (const p of data.producerDataSet) b.producerManager.register(p.groupName, conn, data.clientID);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  unregisterClient(req: RemotingCommand, conn: Connection): RemotingCommand {
    reqString(req.extFields, 'clientID');
    const producerGroup = optString(req.extFields, 'producerGroup');
    const consumerGroup = optString(req.extFields, 'consumerGroup');
    if (producerGroup) this.broker.producerManager.unregister(producerGroup, conn);
    if (consumerGroup) {
      // As upstream: the group's notifyConsumerIdsChangedEnable decides whether the rest hear of it (a group unknown here: they do).
      const notify = this.broker.subscriptionGroupManager.findSubscriptionGroupConfig(consumerGroup)?.notifyConsumerIdsChangedEnable ?? true;
      this.broker.consumerManager.unregister(consumerGroup, conn, notify);
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /**
   * CHECK_CLIENT_CONFIG (46), as upstream's `checkClientConfig`: a TAG subscription (or none) is
   * fine; any other needs `enablePropertyFilter` (SYSTEM_ERROR otherwise), then an expression the
   * broker's filter compiles (SUBSCRIPTION_PARSE_FAILED with the parse error otherwise). A Java
   * push consumer asks this at start and does not start on an error.
   */
  checkClientConfig(req: RemotingCommand): RemotingCommand {
    const body = decodeCheckClientRequestBody(req.body);
    const sub = body.subscriptionData;
    if (!sub || isTagExpressionType(sub.expressionType)) return createResponse(req, ResponseCode.SUCCESS);
    if (!this.broker.brokerConfig.enablePropertyFilter) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `The broker does not support consumer to filter message by ${sub.expressionType}`);
    }
    // Upstream has a filter factory by type; SQL92 is the one type there is.
    const err = sub.expressionType === ExpressionType.SQL92
      ? sql92SubscriptionError(sub)
      : new Error(`expression type ${sub.expressionType} is not supported; use TAG or SQL92`);
    if (err) {
      this.broker.logger.warn(`client ${body.clientId}@${body.group} filters ${sub.topic} by ${sub.expressionType} "${sub.subString}", which does not compile: ${err.message}`);
      return createResponse(req, ResponseCode.SUBSCRIPTION_PARSE_FAILED, err.message);
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }

  lockBatchMQ(req: RemotingCommand): RemotingCommand {
    const body = decodeLockBatchBody(req.body);
    const locked = this.broker.rebalanceLockManager.tryLockBatch(body.consumerGroup, body.mqSet, body.clientId);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(JSON.stringify({ lockOKMQSet: locked })) });
  }

  unlockBatchMQ(req: RemotingCommand): RemotingCommand {
    const body = decodeLockBatchBody(req.body);
    this.broker.rebalanceLockManager.unlockBatch(body.consumerGroup, body.mqSet, body.clientId);
    return createResponse(req, ResponseCode.SUCCESS);
  }
}
