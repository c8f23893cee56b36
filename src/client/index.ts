export { MQClientAPI, SendStatus, PullStatus } from './mq-client-api.js';
export type { MQClientAPIOptions, SendResult, SendStatusValue, PullResult, PullStatusValue } from './mq-client-api.js';
export { Producer } from './producer.js';
export type { ProducerOptions, SendOptions, RequestOptions } from './producer.js';
export { PullConsumer } from './pull-consumer.js';
export type { PullConsumerOptions, PullOptions } from './pull-consumer.js';
export { Message, buildMessageProperties, encodeBatchBody, decodeBatchBody, toMessageExt, splitKeys } from './message.js';
export type { MessageOptions, MessageExt, BatchEntry } from './message.js';
export { messageQueueKey, toMessageQueue } from './route.js';
export type { MessageQueue } from './route.js';
export { masterAddrOf, selectBrokerAddr, decodeTopicRouteData, decodeClusterInfo, RouteDataError } from '../common/route.js';
export type { QueueData, BrokerData, TopicRouteData, ClusterInfo, TopicConfig, TopicConfigSerializeWrapper, DataVersion } from '../common/route.js';
export { TopicPublishInfo, topicRouteData2TopicPublishInfo, topicRouteData2TopicSubscribeInfo, adaptDefaultTopicRoute } from './topic-publish-info.js';
export { buildSubscriptionData, tagFilterOf } from './subscription.js';
export { ExpressionType, SUB_ALL } from '../common/subscription.js';
export type { SubscriptionData, ExpressionTypeValue } from '../common/subscription.js';
export {
  SendHeaderV2Key, encodeSendMessageRequestHeaderV2, encodePullMessageRequestHeader, ConsumeType, MessageModel, ConsumeFromWhere,
} from './headers.js';
export type {
  SendMessageRequestHeader, SendMessageResponseHeader, PullMessageRequestHeader, PullMessageResponseHeader,
  QueryConsumerOffsetRequestHeader, UpdateConsumerOffsetRequestHeader, SearchOffsetBoundaryType,
  HeartbeatData, HeartbeatResult, ConsumerData, ProducerData, LockBatchRequestBody,
} from './headers.js';
export { MQClientError, ClientErrorCode, RETRIABLE_RESPONSE_CODES, GO_AWAY, isRetriable, isRetriableResponseCode, brokerError } from './errors.js';
export type { ClientErrorCodeValue } from './errors.js';
export { NamesrvAddressList, parseNamesrvAddr } from './namesrv-list.js';
export { parseLenientJson, LenientJsonError } from '../common/json.js';
export { MQBrokerError, RemotingError, RemotingConnectError, RemotingTimeoutError, RemotingSendRequestError } from '../remoting/errors.js';
export { PushConsumer } from './push-consumer.js';
export { parseConsumeTimestamp } from './consumer-core.js';
export type { PushConsumerOptions } from './push-consumer.js';
export type { ConsumerOptions } from './consumer-core.js';
export { ConsumeConcurrentlyStatus, ConsumeOrderlyStatus } from './consume-message-service.js';
export type {
  ConsumeConcurrentlyStatusValue, ConsumeOrderlyStatusValue, ConsumeConcurrentlyContext, ConsumeOrderlyContext,
  MessageListenerConcurrently, MessageListenerOrderly,
} from './consume-message-service.js';
export { MQClientInstance } from './mq-client-instance.js';
export type { MQClientInstanceOptions } from './mq-client-instance.js';
export { ProcessQueue } from './process-queue.js';
export { RemoteBrokerOffsetStore, LocalFileOffsetStore, ReadOffsetType, defaultLocalOffsetStoreDir } from './offset-store.js';
export type { OffsetStore, ReadOffsetTypeValue, BrokerOffsetAccess } from './offset-store.js';
export type { MessageModelValue, ConsumeFromWhereValue } from './rebalance-impl.js';
export * from './rebalance/index.js';
export { compareMessageQueue, messageQueueToString } from './route.js';
export { newSubscriptionGroupConfig } from './admin-bodies.js';
export type {
  TopicOffset, TopicStatsTable, OffsetWrapper, ConsumeStats, ClientConnection, ConsumerConnection, ProducerConnection, SubscriptionGroupConfig,
} from './admin-bodies.js';
export { LitePullConsumer } from './lite-pull-consumer.js';
export type { LitePullConsumerOptions, TopicMessageQueueChangeListener } from './lite-pull-consumer.js';
export * from './trace/trace-data.js';
export { AsyncTraceDispatcher } from './trace/trace-dispatcher.js';
export { TransactionProducer, LocalTransactionState } from './transaction-producer.js';
export { createReplyMessage } from './request-reply.js';
export type { RequestCallback } from './request-future-holder.js';
export type { TransactionProducerOptions, TransactionSendResult, LocalTransactionStateValue } from './transaction-producer.js';
export { LatencyFaultTolerance } from './latency-fault-tolerance.js';
export {
  CMResult, RunningInfoProp, formatConsumerRunningInfo, analyzeSubscription, analyzeProcessQueue, consumeMessageDirectlyResultString,
} from './consumer-running-info.js';
export type { ConsumerRunningInfo, ProcessQueueInfo, ConsumeMessageDirectlyResult, CMResultValue } from './consumer-running-info.js';
export type { ConsumeStatus } from './consumer-stats.js';
export { wrapNamespace, withoutNamespace, isAlreadyWithNamespace, getNamespaceFromResource, NAMESPACE_SEPARATOR } from './namespace.js';
