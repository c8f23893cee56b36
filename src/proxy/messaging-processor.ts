import type { PopAckResult, PopResult } from '../broker/pop/pop-message-service.js';
import type { EndTransactionRequestHeader } from '../broker/processors/end-transaction.js';
import type { ExtraInfo } from '../broker/pop/pop-checkpoint.js';
import type { GrpcClientChannel } from './grpc-client-channel.js';

/**
 * What the gRPC endpoint needs from the brokers (upstream proxy `MessagingProcessor`). In
 * local mode the broker of this process serves it directly; in cluster mode brokers are
 * reached over Remoting.
 */

/** A topic's message type (upstream `TopicMessageType`, attribute `message.type`); undefined = not set, accepts all. */
export type TopicMessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'MIXED';

export interface BrokerQueues {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
}

export interface TopicRouteView {
  topic: string;
  messageType?: TopicMessageType;
  brokers: BrokerQueues[];
}

export interface GroupView {
  consumeMessageOrderly: boolean;
  retryMaxTimes: number;
  consumeEnable: boolean;
}

export interface SendRequest {
  brokerName: string;
  topic: string;
  queueId: number;
  producerGroup: string;
  sysFlag: number;
  bornTimestamp: number;
  properties: string;
  body: Buffer;
  channel: GrpcClientChannel;
}

export interface SendOutcome {
  /** Remoting response code of the send. */
  code: number;
  remark?: string;
  /** Offset message id. */
  msgId?: string;
  queueOffset?: number;
  recallHandle?: string;
}

export interface PopFilterExpression {
  type: 'TAG' | 'SQL92';
  expression: string;
}

export interface PopCall {
  group: string;
  topic: string;
  maxMsgNums: number;
  invisibleTime: number;
  filter: PopFilterExpression;
  order: boolean;
  /** FIFO: the client's receive attempt id (ReceiveMessageRequest.attempt_id), reused when it retries. */
  attemptId?: string;
  pollTime: number;
  maxAttempts: number;
  renewFor?: string;
  signal?: AbortSignal;
}

/** The END_TRANSACTION header, with the transaction id the gRPC API always carries. */
export type EndTransactionCall = EndTransactionRequestHeader & { transactionId: string };

export interface MessagingProcessor {
  start(): Promise<void>;
  shutdown(): Promise<void>;
  topicRoute(topic: string): Promise<TopicRouteView | undefined>;
  /** The group's config, or undefined when it does not exist (and is not auto-created). */
  groupConfig(group: string): Promise<GroupView | undefined>;
  /** Largest message body the brokers take. */
  maxMessageSize(): number;
  /** Whether delivery timestamps can be honoured exactly (timer wheel), else they map to delay levels. */
  timerEnabled(): boolean;
  /** The brokers' delay levels, ms (for delivery timestamps when the timer is off). */
  delayLevels(): readonly number[];
  sendMessage(req: SendRequest): Promise<SendOutcome>;
  endTransaction(brokerName: string, call: EndTransactionCall): Promise<{ code: number; remark?: string }>;
  recallMessage(topic: string, recallHandle: string, channel: GrpcClientChannel): Promise<{ code: number; remark?: string; messageId?: string }>;
  popMessage(brokerName: string, call: PopCall): Promise<PopResult>;
  ackMessage(brokerName: string, group: string, topic: string, info: ExtraInfo): Promise<PopAckResult>;
  changeInvisibleTime(brokerName: string, group: string, topic: string, info: ExtraInfo, invisibleTime: number): Promise<PopAckResult>;
  /**
   * Stops keeping the message of a client's handle invisible (upstream `removeReceiptHandle`) and
   * returns the newest handle's fields to end it with: `info` itself when nothing renews it.
   */
  removeReceiptHandle(brokerName: string, group: string, topic: string, info: ExtraInfo): Promise<ExtraInfo>;
  /** Moves a message to the group's DLQ (CONSUMER_SEND_MSG_BACK, delay level −1). */
  forwardToDeadLetterQueue(brokerName: string, group: string, commitLogOffset: number, originTopic: string, originMsgId: string): Promise<{ code: number; remark?: string }>;
  registerProducer(channel: GrpcClientChannel, group: string): void;
  registerConsumer(channel: GrpcClientChannel, group: string, consumeType: 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY', subscriptions: Array<{ topic: string; filter: PopFilterExpression }>): void;
  unregisterClient(channel: GrpcClientChannel, producerGroups: string[], consumerGroup?: string): void;
  /** Tells the brokers which clients are alive (receipts of auto-renewing consumers are renewed while they are). */
  setClientAlive(fn: (clientId: string) => boolean): void;
}
