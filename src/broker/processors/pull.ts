import { PullSysFlag } from '../../common/sysflag.js';
import { isReadable } from '../../common/perm.js';
import { ForbiddenType, RequestCode, ResponseCode } from '../../remoting/codes.js';
import { PermName } from '../../common/perm.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import { decodePullMessageRequestHeader, type PullMessageRequestHeader } from '../../remoting/protocol/index.js';
import type { GetMessageResult } from '../../store/get-message-result.js';
import type { BrokerController } from '../broker-controller.js';
import type { SubscriptionData } from '../client/heartbeat.js';
import { buildSubscription } from '../../common/subscription.js';
import { buildTagSubscription, chooseMessageFilter, isTagExpressionType } from '../filter.js';

/**
 * Handles PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361) (upstream `PullMessageProcessor`):
 * reads from the group's offset with the tag filter, answers with the stored records as they
 * are, parks empty suspendable pulls for long polling, and commits the piggybacked offset.
 */
export class PullMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  process(req: RemotingCommand, conn: Connection): Promise<RemotingCommand | null> | RemotingCommand {
    return this.processRequest(req, conn, true);
  }

  /** Re-run of a parked pull: answers directly on its connection. */
  rerun(req: RemotingCommand, conn: Connection): void {
    const r = this.processRequest(req, conn, false);
    if (r instanceof Promise) {
      r.then((res) => { if (res) conn.reply(req, res); }, (err: Error) => conn.reply(req, createResponse(req, ResponseCode.SYSTEM_ERROR, err.message)));
    } else {
      conn.reply(req, r);
    }
  }

  private processRequest(req: RemotingCommand, conn: Connection, brokerAllowSuspend: boolean): Promise<RemotingCommand | null> | RemotingCommand {
    const b = this.broker;
    if (b.isSlave && !b.brokerConfig.slaveReadEnable) {
      // As upstream's rejectRequest: a slave serves no pull unless slaveReadEnable.
      return createResponse(req, ResponseCode.SYSTEM_BUSY, '[REJECTREQUEST]system busy, start flow control for a while');
    }
    const h = decodePullMessageRequestHeader(req.extFields);
    if (!isReadable(b.brokerConfig.brokerPermission)) {
      return forbidden(req, ForbiddenType.BROKER_FORBIDDEN, `the broker[${b.brokerConfig.brokerName}] pulling message is forbidden`);
    }
    if (req.code === RequestCode.LITE_PULL_MESSAGE && !b.brokerConfig.litePullMessageEnable) {
      return forbidden(req, ForbiddenType.BROKER_FORBIDDEN, `the broker[${b.brokerConfig.brokerName}] for lite pull consumer is forbidden (litePullMessageEnable=false)`);
    }
    const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(h.consumerGroup);
    if (!group) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group [${h.consumerGroup}] does not exist; create it with mqadmin updateSubGroup or enable autoCreateSubscriptionGroup`);
    }
    if (!group.consumeEnable) {
      return forbidden(req, ForbiddenType.GROUP_FORBIDDEN, `subscription group [${h.consumerGroup}] has consumption disabled (consumeEnable=false)`);
    }
    const tc = b.topicConfigManager.get(h.topic);
    if (!tc) {
      return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please! Create it with mqadmin updateTopic.`);
    }
    if (!isReadable(tc.perm)) {
      return forbidden(req, ForbiddenType.TOPIC_FORBIDDEN, `the topic[${h.topic}] pulling message is forbidden`);
    }
    if (h.queueId < 0 || h.queueId >= tc.readQueueNums) {
      return createResponse(req, ResponseCode.INVALID_PARAMETER, `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${tc.readQueueNums}] consumer:[${conn.remoteAddress}]`);
    }
    let sub: SubscriptionData | undefined;
    if ((h.sysFlag & PullSysFlag.FLAG_SUBSCRIPTION) !== 0) {
      sub = isTagExpressionType(h.expressionType)
        ? buildTagSubscription(h.topic, h.subscription, h.subVersion)
        : buildSubscription(h.topic, h.subscription, h.expressionType, h.subVersion);
    } else {
      const info = b.consumerManager.get(h.consumerGroup);
      if (!info) {
        return createResponse(req, ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist: send a heartbeat for group ${h.consumerGroup} before pulling`);
      }
      if (info.messageModel === 'BROADCASTING' && !group.consumeBroadcastEnable) {
        return forbidden(req, ForbiddenType.BROADCASTING_DISABLE_FORBIDDEN, `the consumer group[${h.consumerGroup}] can not consume by broadcast way`);
      }
      // As upstream, checked only for pulls that take the subscription from the heartbeat (push
      // consumers), with its remark to the letter (UPDATE_AND_GET_GROUP_FORBIDDEN readable=true allows it again).
      if (b.subscriptionGroupManager.isForbidden(group.groupName, h.topic, PermName.INDEX_PERM_READ)) {
        return forbidden(req, ForbiddenType.SUBSCRIPTION_FORBIDDEN, `the consumer group[${h.consumerGroup}] is forbidden for topic[${h.topic}]`);
      }
      sub = info.subscriptions.get(h.topic);
      if (!sub) {
        return createResponse(req, ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist: group ${h.consumerGroup} has no subscription to ${h.topic}`);
      }
      if (sub.subVersion < h.subVersion) {
        return createResponse(req, ResponseCode.SUBSCRIPTION_NOT_LATEST, `the consumer's subscription not latest: send a heartbeat with the new subscription`);
      }
    }
    // TAG → tag codes; SQL92 → compiled expression (parse error 23, SYSTEM_ERROR unless enablePropertyFilter).
    const chosen = chooseMessageFilter(sub, {
      enablePropertyFilter: b.brokerConfig.enablePropertyFilter,
      filterSupportRetry: b.brokerConfig.filterSupportRetry,
      subscriptionOf: (topic) => b.consumerManager.get(h.consumerGroup)?.subscriptions.get(topic),
    });
    if (chosen.filter === undefined) return createResponse(req, chosen.code, chosen.remark);
    const filter = chosen.filter;
    const maxBytes = h.maxMsgBytes && h.maxMsgBytes > 0 ? h.maxMsgBytes : undefined;
    // Pooled: the records' memory is reused once the response is written (toResponse hands it on).
    return b.messageStore.getMessage(h.topic, h.queueId, h.queueOffset, h.maxMsgNums, filter, maxBytes, true).then((r) => {
      const suggest = this.suggestWhichBrokerId(r, group);
      const res = this.toResponse(req, r, tc.topicSysFlag, group.groupSysFlag, suggest);
      this.redirectToMaster(res, r);
      if (res.code === ResponseCode.PULL_OFFSET_MOVED && b.isSlave && !b.storeConfig.offsetCheckInSlave) {
        // As upstream's DefaultPullMessageResultHandler: a slave does not correct a consumer's
        // offset unless offsetCheckInSlave. Its queue may lag the master's, or (a slave that
        // started empty) begin at the master's last segment: moving the consumer there would
        // make it skip or consume again; it retries, sent to the group's broker.
        res.code = ResponseCode.PULL_RETRY_IMMEDIATELY;
        res.extFields!.suggestWhichBrokerId = String(group.brokerId);
        b.logger.warn(`PULL_OFFSET_MOVED:none correction. topic=${h.topic}, groupId=${h.consumerGroup}, requestOffset=${h.queueOffset}, suggestBrokerId=${group.brokerId}`);
      } else if (res.code === ResponseCode.PULL_OFFSET_MOVED) {
        // As upstream's DefaultPullMessageResultHandler: a consumer moved (behind retention, or past the end) is logged.
        b.logger.warn(`PULL_OFFSET_MOVED:correction offset. topic=${h.topic}, groupId=${h.consumerGroup}, requestOffset=${h.queueOffset}, newOffset=${r.nextBeginOffset}, suggestBrokerId=${suggest}`);
      }
      const hasSuspend = (h.sysFlag & PullSysFlag.FLAG_SUSPEND) !== 0;
      if (res.code === ResponseCode.PULL_NOT_FOUND && brokerAllowSuspend && hasSuspend) {
        const timeout = b.brokerConfig.longPollingEnable ? h.suspendTimeoutMillis : b.brokerConfig.shortPollingTimeMills;
        b.pullRequestHoldService.suspendPullRequest(h.topic, h.queueId, {
          conn, request: req, pullFromThisOffset: h.queueOffset, suspendTimestamp: Date.now(), timeoutMillis: timeout, filter,
        });
        this.commitOffset(h, brokerAllowSuspend, r.nextBeginOffset);
        return null;
      }
      this.commitOffset(h, brokerAllowSuspend, r.nextBeginOffset);
      if (res.code === ResponseCode.SUCCESS) b.brokerStatsManager.incGroupGet(h.consumerGroup, h.topic, r.messageCount, r.bufferTotalSize, r.tookMs);
      return res;
    });
  }

  /**
   * Upstream: with slaveReadEnable, a pull whose messages are no longer in memory is sent to the
   * group's whichBrokerWhenConsumeSlowly (a slave), others to the group's brokerId; without it,
   * always to the master.
   */
  private suggestWhichBrokerId(r: GetMessageResult, group: { whichBrokerWhenConsumeSlowly: number; brokerId: number }): number {
    if (!this.broker.brokerConfig.slaveReadEnable) return 0;
    return r.suggestPullingFromSlave ? group.whichBrokerWhenConsumeSlowly : group.brokerId;
  }

  /**
   * Upstream: a slave sends a consumer that is not slow back to the master, an empty pull with
   * PULL_RETRY_IMMEDIATELY. Upstream does so while the least broker id of the group is 0; here
   * while the master is up (the NameServer knows it and the slave is connected to it), so a
   * consumer whose master is down long-polls the slave instead of bouncing between it and nothing.
   */
  private redirectToMaster(res: RemotingCommand, r: GetMessageResult): void {
    const b = this.broker;
    if (!b.isSlave || r.suggestPullingFromSlave || (b.slaveSynchronize?.masterAddr ?? '') === '' || b.haClient?.isConnected !== true) return;
    res.extFields!.suggestWhichBrokerId = '0';
    if (res.code !== ResponseCode.SUCCESS) res.code = ResponseCode.PULL_RETRY_IMMEDIATELY;
  }

  /** Upstream `tryCommitOffset`: records where this pull ended, and commits the offset the consumer sent. */
  private commitOffset(h: PullMessageRequestHeader, brokerAllowSuspend: boolean, nextBeginOffset: number): void {
    this.broker.consumerOffsetManager.commitPullOffset(h.consumerGroup, h.topic, h.queueId, nextBeginOffset);
    if (brokerAllowSuspend && (h.sysFlag & PullSysFlag.FLAG_COMMIT_OFFSET) !== 0 && this.broker.brokerConfig.brokerRole !== 'SLAVE') {
      this.broker.consumerOffsetManager.commitOffset(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    }
  }

  /**
   * Maps a store result to the response code (upstream's table), always with the four offsets and,
   * as upstream's composeResponseHeader, the topic's and the group's sysflags.
   */
  private toResponse(req: RemotingCommand, r: GetMessageResult, topicSysFlag: number, groupSysFlag: number, suggestWhichBrokerId: number): RemotingCommand {
    let code: number;
    let remark: string | undefined;
    switch (r.status) {
      case 'FOUND': code = ResponseCode.SUCCESS; break;
      case 'MESSAGE_WAS_REMOVING':
      case 'NO_MATCHED_MESSAGE': code = ResponseCode.PULL_RETRY_IMMEDIATELY; break;
      case 'NO_MATCHED_LOGIC_QUEUE':
      case 'NO_MESSAGE_IN_QUEUE':
        if (Number(req.extFields?.queueOffset ?? 0) !== 0) {
          code = ResponseCode.PULL_OFFSET_MOVED;
          remark = `the requested offset is illegal: the queue is empty`;
        } else {
          code = ResponseCode.PULL_NOT_FOUND;
        }
        break;
      case 'OFFSET_FOUND_NULL':
      case 'OFFSET_OVERFLOW_ONE': code = ResponseCode.PULL_NOT_FOUND; break;
      case 'OFFSET_OVERFLOW_BADLY':
      case 'OFFSET_TOO_SMALL':
        code = ResponseCode.PULL_OFFSET_MOVED;
        remark = `the requested offset is out of [${r.minOffset}, ${r.maxOffset}]; continue from ${r.nextBeginOffset}`;
        break;
      default: code = ResponseCode.SYSTEM_ERROR;
    }
    const res = createResponse(req, code, remark, {
      extFields: { suggestWhichBrokerId, nextBeginOffset: r.nextBeginOffset, minOffset: r.minOffset, maxOffset: r.maxOffset, topicSysFlag, groupSysFlag },
    });
    if (code === ResponseCode.SUCCESS) {
      res.bodyParts = r.buffers;
      res.onWritten = r.release;
    } else {
      r.release?.();
    }
    return res;
  }
}

/** NO_PERMISSION with the reason's `forbiddenType` in the header, as upstream's pull answers. */
function forbidden(req: RemotingCommand, type: number, remark: string): RemotingCommand {
  return createResponse(req, ResponseCode.NO_PERMISSION, remark, { extFields: { forbiddenType: String(type) } });
}
