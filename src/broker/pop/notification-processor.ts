import { setMaxListeners } from 'node:events';
import { isReadable } from '../../common/perm.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import {
  decodeNotificationRequestHeader, decodePollingInfoRequestHeader, encodeNotificationResponseHeader,
} from '../../remoting/protocol/notification-header.js';
import type { BrokerController } from '../broker-controller.js';
import { popRetryTopic } from './pop-checkpoint.js';
import { hostOf } from '../../common/socket-address.js';

/**
 * NOTIFICATION (200054) and POLLING_INFO (200055) (upstream `NotificationProcessor`,
 * `PollingInfoProcessor`): before it pops, a proxy asks whether a POP of the group on the topic
 * would find anything, and waits on the broker until one would; POLLING_INFO says how many POPs
 * wait. Both are served on the main port only, as upstream registers them.
 */
export class NotificationProcessor {
  /** Per connection, one signal that aborts when it closes, however many notifications wait on it. */
  private readonly closeSignals = new WeakMap<Connection, AbortSignal>();

  constructor(private readonly broker: BrokerController) {}

  private closeSignalOf(conn: Connection): AbortSignal {
    let signal = this.closeSignals.get(conn);
    if (!signal) {
      const ac = new AbortController();
      signal = ac.signal;
      // A proxy keeps many notifications waiting on one connection: no listener-leak warning for them.
      setMaxListeners(0, signal);
      if (conn.isClosed) ac.abort();
      else conn.once('close', () => ac.abort());
      this.closeSignals.set(conn, signal);
    }
    return signal;
  }

  async notification(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    const h = decodeNotificationRequestHeader(req.extFields);
    const now = Date.now();
    const checked = this.check(req, conn, h.topic, h.consumerGroup, h.queueId);
    if ('refusal' in checked) return checked.refusal;
    const pop = this.broker.popMessageService;
    const hasMessage = (): boolean => pop.hasMessage(h.consumerGroup, h.topic, checked.readQueueNums, h.queueId, h.order, h.attemptId);
    let hasMsg = hasMessage();
    let pollingFull = false;
    // As upstream: the poll ends pollTime after the client sent it (bornTime), and never later
    // than pollTime from now, whatever the client's clock says.
    const deadline = Math.min((h.bornTime ?? now) + h.pollTime, now + h.pollTime);
    if (!hasMsg && h.pollTime > 0 && deadline > Date.now()) {
      // The client going away ends the wait (upstream skips the polls of inactive channels).
      const r = await pop.longPoll<true>(
        { watched: [h.topic, popRetryTopic(h.consumerGroup, h.topic)], deadline, signal: this.closeSignalOf(conn) },
        () => (hasMessage() ? { found: true as const } : { busy: false }),
      );
      hasMsg = typeof r === 'object';
      pollingFull = r === 'FULL';
    }
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: encodeNotificationResponseHeader({ hasMsg, pollingFull }) });
  }

  pollingInfo(req: RemotingCommand, conn: Connection): RemotingCommand {
    const h = decodePollingInfoRequestHeader(req.extFields);
    const checked = this.check(req, conn, h.topic, h.consumerGroup, h.queueId);
    if ('refusal' in checked) return checked.refusal;
    const pollingNum = this.broker.popMessageService.pollingNum(h.topic, h.consumerGroup, h.queueId);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { pollingNum } });
  }

  /** The checks both make, in upstream's order and with its codes and remarks: the topic's read queues, or the refusal. */
  private check(req: RemotingCommand, conn: Connection, topic: string, group: string, queueId: number): { readQueueNums: number } | { refusal: RemotingCommand } {
    const b = this.broker;
    const refuse = (code: number, remark: string): { refusal: RemotingCommand } => ({ refusal: createResponse(req, code, remark) });
    if (!isReadable(b.brokerConfig.brokerPermission)) {
      return refuse(ResponseCode.NO_PERMISSION, `the broker[${b.brokerConfig.brokerIP1 || hostOf(b.address)}] peeking message is forbidden`);
    }
    const tc = b.topicConfigManager.get(topic);
    if (!tc) {
      b.logger.warn(`The topic ${topic} not exist, consumer: ${conn.remoteAddress}`);
      return refuse(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please! Create it with mqadmin updateTopic.`);
    }
    if (!isReadable(tc.perm)) return refuse(ResponseCode.NO_PERMISSION, `the topic[${topic}] peeking message is forbidden`);
    if (queueId >= tc.readQueueNums) {
      return refuse(ResponseCode.INVALID_PARAMETER, `queueId[${queueId}] is illegal, topic:[${topic}] topicConfig.readQueueNums:[${tc.readQueueNums}] consumer:[${conn.remoteAddress}]`);
    }
    const cfg = b.subscriptionGroupManager.findSubscriptionGroupConfig(group);
    if (!cfg) {
      return refuse(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group [${group}] does not exist; create it with mqadmin updateSubGroup or enable autoCreateSubscriptionGroup`);
    }
    if (!cfg.consumeEnable) return refuse(ResponseCode.NO_PERMISSION, `subscription group no permission, ${group}`);
    return { readQueueNums: tc.readQueueNums };
  }
}

