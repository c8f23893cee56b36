import type { BrokerController } from '../broker/broker-controller.js';
import type { PopAckResult, PopResult } from '../broker/pop/pop-message-service.js';
import type { ExtraInfo } from '../broker/pop/pop-checkpoint.js';
import { chooseMessageFilter, TagMessageFilter } from '../broker/filter.js';
import { EndTransactionProcessor } from '../broker/processors/end-transaction.js';
import { RecallMessageProcessor } from '../broker/processors/recall.js';
import { SendMessageBackProcessor } from '../broker/processors/send-back.js';
import { SendMessageProcessor } from '../broker/processors/send.js';
import { buildSubscription, buildTagSubscription, ExpressionType } from '../common/subscription.js';
import { ResponseCode, RequestCode } from '../remoting/codes.js';
import { createRequest, extFieldsOf, type RemotingCommand } from '../remoting/command.js';
import { encodeSendMessageRequestHeaderV2 } from '../remoting/protocol/index.js';
import type { MessageFilter } from '../store/get-message-result.js';
import type { GrpcClientChannel } from './grpc-client-channel.js';
import type {
  EndTransactionCall, GroupView, MessagingProcessor, PopCall, PopFilterExpression, SendOutcome, SendRequest, TopicMessageType, TopicRouteView,
} from './messaging-processor.js';

import { MESSAGE_TYPE_ATTRIBUTE } from '../common/attributes.js';

export { MESSAGE_TYPE_ATTRIBUTE };

const TYPES: ReadonlySet<string> = new Set(['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION', 'MIXED']);

/** The message type of a topic's attributes (`message.type`, with or without upstream's `+` prefix). */
export function topicMessageTypeOf(attributes: Record<string, string> | undefined): TopicMessageType | undefined {
  const v = attributes?.[MESSAGE_TYPE_ATTRIBUTE] ?? attributes?.[`+${MESSAGE_TYPE_ATTRIBUTE}`];
  const t = v?.toUpperCase();
  return t !== undefined && TYPES.has(t) ? (t as TopicMessageType) : undefined;
}

/** A message filter and, for TAG expressions, the tags themselves. */
export interface BuiltFilter {
  filter: MessageFilter;
  tags?: ReadonlySet<string>;
}

/**
 * Builds the broker filter of a receive's expression; a string error when it does not parse
 * (or SQL92 is off on the broker).
 */
export function buildFilter(topic: string, f: PopFilterExpression, enablePropertyFilter: boolean): BuiltFilter | string {
  if (f.type === 'TAG') {
    const sub = buildTagSubscription(topic, f.expression);
    if (sub.subString !== '*' && sub.tagsSet.length === 0) return `tag expression "${f.expression}" names no tag`;
    return { filter: new TagMessageFilter(sub), tags: sub.tagsSet.length > 0 ? new Set(sub.tagsSet) : undefined };
  }
  const choice = chooseMessageFilter(buildSubscription(topic, f.expression, ExpressionType.SQL92), {
    enablePropertyFilter, filterSupportRetry: true, subscriptionOf: () => undefined,
  });
  if (choice.filter) return { filter: choice.filter };
  return choice.code === ResponseCode.SYSTEM_ERROR ? `${choice.remark}; set enablePropertyFilter=true in broker.conf` : choice.remark;
}

/**
 * Local mode (upstream proxy "local" deployment): the proxy runs inside the broker process and
 * calls its processors and services directly — sends go through the broker's own
 * SendMessageProcessor with a Remoting command, exactly as upstream's LocalMessagingProcessor does.
 */
export class LocalMessagingProcessor implements MessagingProcessor {
  private readonly send: SendMessageProcessor;
  private readonly endTx: EndTransactionProcessor;
  private readonly sendBack: SendMessageBackProcessor;
  private readonly recall: RecallMessageProcessor;

  constructor(readonly broker: BrokerController) {
    this.send = new SendMessageProcessor(broker);
    this.endTx = new EndTransactionProcessor(broker);
    this.sendBack = new SendMessageBackProcessor(broker);
    this.recall = new RecallMessageProcessor(broker);
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.broker.popMessageService.clientAlive = () => false;
  }

  private get brokerName(): string {
    return this.broker.brokerConfig.brokerName;
  }

  async topicRoute(topic: string): Promise<TopicRouteView | undefined> {
    const tc = this.broker.topicConfigManager.get(topic);
    if (!tc) return undefined;
    return {
      topic,
      messageType: topicMessageTypeOf(tc.attributes),
      brokers: [{ brokerName: this.brokerName, readQueueNums: tc.readQueueNums, writeQueueNums: tc.writeQueueNums, perm: tc.perm & this.broker.brokerConfig.brokerPermission }],
    };
  }

  async groupConfig(group: string): Promise<GroupView | undefined> {
    const g = this.broker.subscriptionGroupManager.findSubscriptionGroupConfig(group);
    if (!g) return undefined;
    return { consumeMessageOrderly: g.consumeMessageOrderly, retryMaxTimes: g.retryMaxTimes, consumeEnable: g.consumeEnable };
  }

  maxMessageSize(): number {
    return this.broker.storeConfig.maxMessageSize;
  }

  timerEnabled(): boolean {
    return this.broker.storeConfig.timerWheelEnable;
  }

  delayLevels(): readonly number[] {
    return this.broker.messageStore.delayLevels;
  }

  async sendMessage(req: SendRequest): Promise<SendOutcome> {
    const cmd = createRequest(RequestCode.SEND_MESSAGE_V2, {
      extFields: encodeSendMessageRequestHeaderV2({
        producerGroup: req.producerGroup, topic: req.topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: req.queueId,
        sysFlag: req.sysFlag, bornTimestamp: req.bornTimestamp, flag: 0, properties: req.properties, reconsumeTimes: 0,
      }),
      body: req.body,
    });
    const res = await this.send.process(cmd, req.channel.asConnection());
    const f = extFieldsOf(res) ?? {};
    return {
      code: res.code, remark: res.remark, msgId: f.msgId, queueOffset: f.queueOffset !== undefined ? Number(f.queueOffset) : undefined,
      recallHandle: f.recallHandle,
    };
  }

  async endTransaction(_brokerName: string, call: EndTransactionCall): Promise<{ code: number; remark?: string }> {
    const cmd = createRequest(RequestCode.END_TRANSACTION, {
      extFields: {
        producerGroup: call.producerGroup, tranStateTableOffset: call.tranStateTableOffset, commitLogOffset: call.commitLogOffset,
        commitOrRollback: call.commitOrRollback, fromTransactionCheck: call.fromTransactionCheck, msgId: call.msgId, transactionId: call.transactionId,
      },
    });
    const res = await this.endTx.process(cmd);
    return res ? { code: res.code, remark: res.remark } : { code: ResponseCode.SUCCESS };
  }

  async recallMessage(topic: string, recallHandle: string, channel: GrpcClientChannel): Promise<{ code: number; remark?: string; messageId?: string }> {
    const cmd = createRequest(RequestCode.RECALL_MESSAGE, { extFields: { topic, recallHandle, producerGroup: topic } });
    const res: RemotingCommand = await this.recall.process(cmd, channel.asConnection());
    return { code: res.code, remark: res.remark, messageId: res.extFields?.msgId };
  }

  async popMessage(_brokerName: string, call: PopCall): Promise<PopResult> {
    const built = buildFilter(call.topic, call.filter, this.broker.brokerConfig.enablePropertyFilter);
    if (typeof built === 'string') return { status: 'ERROR', code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: built };
    return this.broker.popMessageService.pop({
      group: call.group, topic: call.topic, maxMsgNums: call.maxMsgNums, invisibleTime: call.invisibleTime,
      filter: built.filter, tags: built.tags, order: call.order, attemptId: call.attemptId, pollTime: call.pollTime, maxAttempts: call.maxAttempts,
      renewFor: call.renewFor, signal: call.signal,
    });
  }

  ackMessage(_brokerName: string, group: string, topic: string, info: ExtraInfo): Promise<PopAckResult> {
    return this.broker.popMessageService.ack(group, topic, info);
  }

  changeInvisibleTime(_brokerName: string, group: string, topic: string, info: ExtraInfo, invisibleTime: number): Promise<PopAckResult> {
    return this.broker.popMessageService.changeInvisibleTime(group, topic, info, invisibleTime);
  }

  /** The broker renews in place (the handle stays valid) and forgets a receipt once it is acked. */
  async removeReceiptHandle(_brokerName: string, _group: string, _topic: string, info: ExtraInfo): Promise<ExtraInfo> {
    return info;
  }

  async forwardToDeadLetterQueue(_brokerName: string, group: string, commitLogOffset: number, originTopic: string, originMsgId: string): Promise<{ code: number; remark?: string }> {
    const cmd = createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      extFields: { offset: commitLogOffset, group, delayLevel: -1, originMsgId, originTopic, maxReconsumeTimes: 0 },
    });
    const res = await this.sendBack.process(cmd);
    return { code: res.code, remark: res.remark };
  }

  registerProducer(channel: GrpcClientChannel, group: string): void {
    this.broker.producerManager.register(group, channel.asConnection(), channel.clientId);
  }

  registerConsumer(channel: GrpcClientChannel, group: string, consumeType: 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY', subscriptions: Array<{ topic: string; filter: PopFilterExpression }>): void {
    this.broker.consumerManager.register(channel.asConnection(), channel.clientId, {
      groupName: group, consumeType, messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', unitMode: false,
      subscriptionDataSet: subscriptions.map((s) => buildSubscription(s.topic, s.filter.expression, s.filter.type === 'SQL92' ? ExpressionType.SQL92 : ExpressionType.TAG, 0)),
    });
  }

  unregisterClient(channel: GrpcClientChannel, producerGroups: string[], consumerGroup?: string): void {
    const conn = channel.asConnection();
    for (const g of producerGroups) this.broker.producerManager.unregister(g, conn);
    if (consumerGroup) this.broker.consumerManager.unregister(consumerGroup, conn);
  }

  setClientAlive(fn: (clientId: string) => boolean): void {
    this.broker.popMessageService.clientAlive = fn;
  }
}
