export { MQClientAPI, SendStatus, PullStatus } from './mq-client-api.js';
export type { MQClientAPIOptions, SendResult, SendStatusValue, PullResult, PullStatusValue } from './mq-client-api.js';
export { Producer } from './producer.js';
export type { ProducerOptions, SendOptions } from './producer.js';
export { PullConsumer } from './pull-consumer.js';
export type { PullConsumerOptions, PullOptions } from './pull-consumer.js';
export { Message, buildMessageProperties, encodeBatchBody, decodeBatchBody, toMessageExt, splitKeys } from './message.js';
export type { MessageOptions, MessageExt, BatchEntry } from './message.js';
export { messageQueueKey, masterAddress, parseTopicRouteData, parseClusterInfo, toClusterInfo, toTopicRouteData, toMessageQueue } from './route.js';
export type { MessageQueue, QueueData, BrokerData, TopicRouteData, ClusterInfo } from './route.js';
export { TopicPublishInfo, topicRouteData2TopicPublishInfo, topicRouteData2TopicSubscribeInfo, adaptDefaultTopicRoute } from './topic-publish-info.js';
export { buildSubscriptionData, tagFilterOf, ExpressionType, SUB_ALL } from './subscription.js';
export type { SubscriptionData, ExpressionTypeValue } from './subscription.js';
export {
  SendHeaderV2Key, encodeSendMessageRequestHeaderV2, encodePullMessageRequestHeader, ConsumeType, MessageModel, ConsumeFromWhere,
} from './headers.js';
export type {
  SendMessageRequestHeader, SendMessageResponseHeader, PullMessageRequestHeader, PullMessageResponseHeader,
  QueryConsumerOffsetRequestHeader, UpdateConsumerOffsetRequestHeader, SearchOffsetBoundaryType, TopicConfig,
  TopicConfigSerializeWrapper, DataVersion, HeartbeatData, HeartbeatResult, ConsumerData, ProducerData, LockBatchRequestBody,
} from './headers.js';
export { MQClientError, ClientErrorCode, RETRIABLE_RESPONSE_CODES, GO_AWAY, isRetriable, isRetriableResponseCode, brokerError } from './errors.js';
export type { ClientErrorCodeValue } from './errors.js';
export { NamesrvAddressList, parseNamesrvAddr } from './namesrv-list.js';
export { parseLenientJson, parseLenientJsonBuffer, LenientJsonError } from './lenient-json.js';
export { MQBrokerError, RemotingError, RemotingConnectError, RemotingTimeoutError, RemotingSendRequestError } from '../remoting/errors.js';
