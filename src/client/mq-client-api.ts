import { aclRpcHook, type SessionCredentials } from '../remoting/acl-signature.js';
import type { AclInfo, UserInfo } from '../common/acl-info.js';
import { popReceipts, type AckMessageRequestHeader, type PopMessageRequestHeader, type PopReceipt } from '../remoting/protocol/pop-message-header.js';
import {
  decodeNotificationResponseHeader, decodePollingInfoResponseHeader, encodeNotificationRequestHeader, encodePollingInfoRequestHeader,
  type NotificationRequestHeader, type NotificationResponseHeader, type PollingInfoRequestHeader,
} from '../remoting/protocol/notification-header.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../common/topic.js';
import { attributeModificationToString } from '../common/attributes.js';
import { parseLenientJson } from '../common/json.js';
import { MessageConst } from '../common/message-const.js';
import { getProperty } from '../common/properties.js';
import { parseProperties, stringifyProperties } from '../common/properties-file.js';
import {
  decodeClusterInfo,
  decodeTopicRouteData,
  toTopicConfig,
  toTopicConfigSerializeWrapper,
  type ClusterInfo,
  type TopicConfig,
  type TopicConfigSerializeWrapper,
  type TopicRouteData,
} from '../common/route.js';
import {
  decodeMessageRequestModeTable, decodeQueryAssignmentResponseBody,
  type MessageQueueAssignment, type MessageRequestModeTable, type QueryAssignmentRequestBody, type SetMessageRequestModeRequestBody,
} from '../common/message-request-mode.js';
import { ExpressionType, type SubscriptionData } from '../common/subscription.js';
import { PullSysFlag } from '../common/sysflag.js';
import {
  CURRENT_VERSION,
  RemotingClient,
  RequestCode,
  ResponseCode,
  SerializeType,
  toExtFields,
  createResponse,
  type Connection,
  type RemotingCommand,
  type RequestHandler,
  type SerializeTypeValue,
} from '../remoting/index.js';
import {
  decodeConsumeMessageDirectlyResult, decodeConsumerRunningInfo, type ConsumeMessageDirectlyResult, type ConsumerRunningInfo,
} from './consumer-running-info.js';
import { brokerError, ClientErrorCode, MQClientError } from './errors.js';
import {
  decodeNumberField,
  decodePullMessageResponseHeader,
  decodeSendMessageResponseHeader,
  encodePullMessageRequestHeader,
  encodeSendMessageRequestHeaderV2,
  SendHeaderV2Ext,
  type HeartbeatData,
  type HeartbeatResult,
  type LockBatchRequestBody,
  type PullMessageRequestHeader,
  type QueryConsumerOffsetRequestHeader,
  type SearchOffsetBoundaryType,
  type SendMessageRequestHeader,
  type UpdateConsumerOffsetRequestHeader,
} from './headers.js';
import { decodeBatchBody, decodeReceivedMessages, type MessageExt } from './message.js';
import { messageQueueKey, toMessageQueue, type MessageQueue } from './route.js';
import { tagFilterOf } from './subscription.js';
import {
  decodeConsumeStats,
  decodeConsumerConnection,
  decodeTimerCheckpoint,
  decodeTimerMetrics,
  decodeProducerConnection,
  decodeProducerTableInfo,
  decodeSubscriptionData,
  decodeQueryConsumeTimeSpanBody,
  decodeResetOffsetBody,
  decodeSubscriptionGroupConfig,
  decodeTopicList,
  decodeTopicStatsTable,
  mqEntries,
  type ConsumeStats,
  type ConsumerConnection,
  type ProducerConnection,
  type ProducerInfo,
  type QueueTimeSpan,
  type SubscriptionGroupConfig,
  type TimerCheckpointBody,
  type TimerMetricsBody,
  type TopicList,
  type TopicStatsTable,
  decodeHARuntimeInfo,
  type HARuntimeInfo,
} from './admin-bodies.js';

export const SendStatus = {
  SEND_OK: 'SEND_OK',
  FLUSH_DISK_TIMEOUT: 'FLUSH_DISK_TIMEOUT',
  FLUSH_SLAVE_TIMEOUT: 'FLUSH_SLAVE_TIMEOUT',
  SLAVE_NOT_AVAILABLE: 'SLAVE_NOT_AVAILABLE',
} as const;
export type SendStatusValue = (typeof SendStatus)[keyof typeof SendStatus];

export interface SendResult {
  sendStatus: SendStatusValue;
  /** The message's UNIQ_KEY (comma-joined for a batch). */
  msgId: string;
  /** Offset msgId(s) the broker assigned. */
  offsetMsgId: string;
  messageQueue: MessageQueue;
  queueOffset: number;
  transactionId?: string;
  /** For a timer message (TIMER_DELIVER_MS / TIMER_DELAY_*), what `Producer.recallMessage` takes to cancel it. */
  recallHandle?: string;
  regionId: string;
  traceOn: boolean;
}

export const PullStatus = {
  FOUND: 'FOUND',
  NO_NEW_MSG: 'NO_NEW_MSG',
  NO_MATCHED_MSG: 'NO_MATCHED_MSG',
  OFFSET_ILLEGAL: 'OFFSET_ILLEGAL',
} as const;
export type PullStatusValue = (typeof PullStatus)[keyof typeof PullStatus];

export interface PullResult {
  pullStatus: PullStatusValue;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** 0 = pull from the master next time, else the slave id the broker suggests. */
  suggestWhichBrokerId: number;
  msgFoundList: MessageExt[];
}

export interface MQClientAPIOptions {
  /** Share an existing Remoting client (not closed by shutdown); by default the API owns one. */
  remotingClient?: RemotingClient;
  /** Header serialization of requests: ROCKETMQ binary (default) or JSON. */
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** Language name sent in every request header. */
  language?: string;
  connectTimeoutMs?: number;
  /** Handles requests brokers send on our connections (NOTIFY_CONSUMER_IDS_CHANGED, …). */
  onRequest?: RequestHandler;
  /**
   * ACL credentials: every request is signed with them (upstream `AclClientRPCHook`), as a
   * broker with `authenticationEnabled` requires. Ignored when `remotingClient` is given.
   */
  sessionCredentials?: SessionCredentials;
}

const DEFAULT_TIMEOUT = 3000;

/** Requests brokers relay to one consumer group of a client, which must answer them. */
const ASKS_A_CONSUMER: ReadonlySet<number> = new Set([RequestCode.GET_CONSUMER_RUNNING_INFO, RequestCode.CONSUME_MESSAGE_DIRECTLY, RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT]);

function sendStatusOf(code: number): SendStatusValue | undefined {
  switch (code) {
    case ResponseCode.SUCCESS: return SendStatus.SEND_OK;
    case ResponseCode.FLUSH_DISK_TIMEOUT: return SendStatus.FLUSH_DISK_TIMEOUT;
    case ResponseCode.FLUSH_SLAVE_TIMEOUT: return SendStatus.FLUSH_SLAVE_TIMEOUT;
    case ResponseCode.SLAVE_NOT_AVAILABLE: return SendStatus.SLAVE_NOT_AVAILABLE;
    default: return undefined;
  }
}

function pullStatusOf(code: number): PullStatusValue | undefined {
  switch (code) {
    case ResponseCode.SUCCESS: return PullStatus.FOUND;
    case ResponseCode.PULL_NOT_FOUND: return PullStatus.NO_NEW_MSG;
    case ResponseCode.PULL_RETRY_IMMEDIATELY: return PullStatus.NO_MATCHED_MSG;
    case ResponseCode.PULL_OFFSET_MOVED: return PullStatus.OFFSET_ILLEGAL;
    default: return undefined;
  }
}

/** Whether a group may pull a topic (upstream `GroupForbidden`). */
export interface GroupForbidden {
  group: string;
  topic: string;
  readable: boolean;
}

function bodyOf(res: RemotingCommand, addr: string, what: string): Buffer {
  if (!res.body || res.body.length === 0) {
    throw new MQClientError(`${what} from ${addr} came without a body`, ClientErrorCode.BAD_RESPONSE);
  }
  return res.body;
}

/** Runs a body decoder (JSON or a common/route.ts codec); whatever it rejects is a BAD_RESPONSE. */
function decodeBody<T>(addr: string, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof MQClientError) throw err;
    throw new MQClientError(`${what} from ${addr} is not valid: ${(err as Error).message}`, ClientErrorCode.BAD_RESPONSE, false, { cause: err });
  }
}

function jsonBody(res: RemotingCommand, addr: string, what: string): Record<string, unknown> {
  const body = bodyOf(res, addr, what);
  const v = decodeBody(addr, what, () => parseLenientJson(body));
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new MQClientError(`${what} from ${addr} is not a JSON object`, ClientErrorCode.BAD_RESPONSE);
  }
  return v as Record<string, unknown>;
}

function jsonArray(res: RemotingCommand, addr: string, what: string): unknown[] {
  const body = bodyOf(res, addr, what);
  const v = decodeBody(addr, what, () => parseLenientJson(body));
  if (!Array.isArray(v)) throw new MQClientError(`${what} from ${addr} is not a JSON array`, ClientErrorCode.BAD_RESPONSE);
  return v;
}

function stringList(v: unknown, addr: string, what: string): string[] {
  if (!Array.isArray(v)) throw new MQClientError(`${what} from ${addr} has no list`, ClientErrorCode.BAD_RESPONSE);
  return v.map(String);
}

function toJsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Typed Remoting calls of a RocketMQ client (upstream `MQClientAPIImpl`). Each method sends one
 * request, decodes the response header into a typed result, and throws MQBrokerError (with
 * `responseCode` and `retriable`) on a code it does not expect. Connection failures and
 * timeouts surface as retriable RemotingErrors.
 */
/** Body of GET_ALL_SUBSCRIPTIONGROUP_CONFIG (upstream `SubscriptionGroupWrapper`); dataVersion kept as sent. */
export interface SubscriptionGroupWrapper {
  subscriptionGroupTable: Record<string, SubscriptionGroupConfig>;
  forbiddenTable: Record<string, Record<string, number>>;
  dataVersion: unknown;
}

export class MQClientAPI {
  readonly remoting: RemotingClient;
  private readonly ownsRemoting: boolean;
  private readonly connectListeners = new Set<(addr: string) => void>();
  private readonly serializeType: SerializeTypeValue;
  private readonly language: string;
  private readonly requestHandlers = new Map<number, Set<RequestHandler>>();
  private readonly fallbackHandler?: RequestHandler;

  constructor(opts: MQClientAPIOptions = {}) {
    this.serializeType = opts.serializeType === 'JSON' ? SerializeType.JSON : SerializeType.ROCKETMQ;
    this.language = opts.language ?? 'NODE_JS';
    this.ownsRemoting = !opts.remotingClient;
    this.fallbackHandler = opts.onRequest;
    this.remoting = opts.remotingClient ?? new RemotingClient({
      connectTimeoutMs: opts.connectTimeoutMs,
      onRequest: (req, conn) => this.dispatchRequest(req, conn),
      onConnect: (addr) => { for (const l of [...this.connectListeners]) l(addr); },
      rpcHook: aclRpcHook(opts.sessionCredentials),
    });
  }

  /**
   * Adds a handler for requests brokers send on this API's connections with `code`
   * (NOTIFY_CONSUMER_IDS_CHANGED, RESET_CONSUMER_CLIENT_OFFSET, …); several consumers sharing the
   * API may each register one, and every one is called (the first non-null answer is the reply).
   * Not called when the API was given an external `remotingClient`. Returns the removal function.
   */
  registerRequestHandler(code: number, handler: RequestHandler): () => void {
    let set = this.requestHandlers.get(code);
    if (!set) this.requestHandlers.set(code, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.requestHandlers.get(code) === set) this.requestHandlers.delete(code);
    };
  }

  /**
   * Calls `listener` whenever a connection of this API opens, before its first request is
   * written (upstream's channel-active event). Not called when the API was given an external
   * `remotingClient`. Returns the removal function.
   */
  onConnect(listener: (addr: string) => void): () => void {
    this.connectListeners.add(listener);
    return () => { this.connectListeners.delete(listener); };
  }

  private async dispatchRequest(req: RemotingCommand, conn: Connection): Promise<RemotingCommand | null> {
    const handlers = this.requestHandlers.get(req.code);
    if (handlers && handlers.size > 0) {
      let answer: RemotingCommand | null = null;
      for (const h of [...handlers]) {
        const r = await h(req, conn);
        if (answer === null && r) answer = r;
      }
      if (answer !== null || !ASKS_A_CONSUMER.has(req.code)) return answer;
    } else if (this.fallbackHandler) {
      return this.fallbackHandler(req, conn);
    }
    if (ASKS_A_CONSUMER.has(req.code)) {
      // As upstream's ClientRemotingProcessor: the client has no consumer of that group.
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `The Consumer Group <${req.extFields?.consumerGroup ?? ''}> not exist in this consumer`);
    }
    return createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${req.code} not supported`);
  }

  async shutdown(): Promise<void> {
    if (this.ownsRemoting) await this.remoting.shutdown();
  }

  private command(code: number, extFields?: Record<string, string>, body?: Buffer): RemotingCommand {
    return { code, language: this.language, version: CURRENT_VERSION, opaque: 0, flag: 0, extFields, body, serializeType: this.serializeType };
  }

  private header(h: object): Record<string, string> | undefined {
    return toExtFields(h as Record<string, string | number | boolean | undefined>);
  }

  /** Sends and requires SUCCESS. */
  private async invokeOk(addr: string, cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const res = await this.remoting.invoke(addr, cmd, timeoutMs);
    if (res.code !== ResponseCode.SUCCESS) throw brokerError(res, addr);
    return res;
  }

  // ---- NameServer ----

  /** GET_ROUTEINFO_BY_TOPIC; an unknown topic throws MQBrokerError TOPIC_NOT_EXIST (17). */
  async getTopicRouteInfoFromNameServer(namesrvAddr: string, topic: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TopicRouteData> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }), timeoutMs);
    const what = `route of topic ${topic}`;
    const body = bodyOf(res, namesrvAddr, what);
    return decodeBody(namesrvAddr, what, () => decodeTopicRouteData(body));
  }

  async getBrokerClusterInfo(namesrvAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<ClusterInfo> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.GET_BROKER_CLUSTER_INFO), timeoutMs);
    const body = bodyOf(res, namesrvAddr, 'cluster info');
    return decodeBody(namesrvAddr, 'cluster info', () => decodeClusterInfo(body));
  }

  async deleteTopicInNameServer(namesrvAddr: string, topic: string, clusterName?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(namesrvAddr, this.command(RequestCode.DELETE_TOPIC_IN_NAMESRV, this.header({ topic, clusterName })), timeoutMs);
  }

  async putKVConfig(namesrvAddr: string, namespace: string, key: string, value: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(namesrvAddr, this.command(RequestCode.PUT_KV_CONFIG, { namespace, key, value }), timeoutMs);
  }

  /** GET_KV_CONFIG; undefined when the key is not set (QUERY_NOT_FOUND). */
  async getKVConfig(namesrvAddr: string, namespace: string, key: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string | undefined> {
    const res = await this.remoting.invoke(namesrvAddr, this.command(RequestCode.GET_KV_CONFIG, { namespace, key }), timeoutMs);
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    if (res.code !== ResponseCode.SUCCESS) throw brokerError(res, namesrvAddr);
    return res.extFields?.value;
  }

  async deleteKVConfig(namesrvAddr: string, namespace: string, key: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(namesrvAddr, this.command(RequestCode.DELETE_KV_CONFIG, { namespace, key }), timeoutMs);
  }

  /** WIPE_WRITE_PERM_OF_BROKER: the NameServer drops write from every route of `brokerName`; returns how many topics changed. */
  async wipeWritePermOfBroker(namesrvAddr: string, brokerName: string, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName }), timeoutMs);
    return decodeNumberField(res.extFields, 'wipeTopicCount', 'wipe write perm result', namesrvAddr);
  }

  /** ADD_WRITE_PERM_OF_BROKER: the NameServer gives write back to every route of `brokerName`; returns how many topics changed. */
  async addWritePermOfBroker(namesrvAddr: string, brokerName: string, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName }), timeoutMs);
    return decodeNumberField(res.extFields, 'addTopicCount', 'add write perm result', namesrvAddr);
  }

  /** GET_NAMESRV_CONFIG: the NameServer's settings, key → value. */
  async getNamesrvConfig(namesrvAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<Map<string, string>> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.GET_NAMESRV_CONFIG), timeoutMs);
    return decodeBody(namesrvAddr, 'NameServer config', () => parseProperties(res.body?.toString('utf8') ?? ''));
  }

  /** UPDATE_NAMESRV_CONFIG: changes settings of a running NameServer (refused as a whole when one key cannot change). */
  async updateNamesrvConfig(namesrvAddr: string, props: ReadonlyMap<string, string>, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(namesrvAddr, this.command(RequestCode.UPDATE_NAMESRV_CONFIG, undefined, Buffer.from(stringifyProperties(props), 'utf8')), timeoutMs);
  }

  // ---- Send ----

  /**
   * RECALL_MESSAGE (upstream `MQClientAPIImpl.recallMessage`): cancels the timer message the
   * handle names before it is delivered; resolves with its message id.
   */
  async recallMessage(brokerAddr: string, header: { producerGroup: string; topic: string; recallHandle: string; brokerName: string }, timeoutMs = DEFAULT_TIMEOUT): Promise<string> {
    const { brokerName, ...rest } = header;
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.RECALL_MESSAGE, { ...rest, bname: brokerName }), timeoutMs);
    return res.extFields?.msgId ?? '';
  }

  private sendResult(res: RemotingCommand, addr: string, brokerName: string, topic: string, msgId: string): SendResult {
    const sendStatus = sendStatusOf(res.code);
    if (sendStatus === undefined) throw brokerError(res, addr);
    const h = decodeSendMessageResponseHeader(res, addr);
    const result: SendResult = {
      sendStatus,
      msgId: h.batchUniqId ?? msgId,
      offsetMsgId: h.msgId,
      messageQueue: { topic, brokerName, queueId: h.queueId },
      queueOffset: h.queueOffset,
      regionId: h.regionId,
      traceOn: h.traceOn,
    };
    if (h.transactionId !== undefined) result.transactionId = h.transactionId;
    if (h.recallHandle !== undefined) result.recallHandle = h.recallHandle;
    return result;
  }

  /**
   * SEND_MESSAGE_V2 (SEND_REPLY_MESSAGE_V2 for a `reply`). `msgId` is what SendResult.msgId
   * reports; by default the UNIQ_KEY found in the header's properties. Codes 10/11/12 are
   * stored-but-not-confirmed statuses, not errors.
   */
  sendMessage(brokerAddr: string, brokerName: string, header: SendMessageRequestHeader, body: Buffer, timeoutMs = DEFAULT_TIMEOUT, msgId?: string, reply = false): Promise<SendResult> {
    const cmd = this.command(reply ? RequestCode.SEND_REPLY_MESSAGE_V2 : RequestCode.SEND_MESSAGE_V2, undefined, body);
    cmd.binaryExt = new SendHeaderV2Ext(header);
    // A plain continuation, not an async function: every send pays for each await layer.
    return this.remoting.invoke(brokerAddr, cmd, timeoutMs).then((res) => {
      const id = msgId ?? getProperty(header.properties ?? '', MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '';
      return this.sendResult(res, brokerAddr, brokerName, header.topic, id);
    });
  }

  /**
   * SEND_BATCH_MESSAGE: `body` is a batch body (`encodeBatchBody`), the header's properties the
   * batch's own. SendResult.msgId = the inner UNIQ_KEYs, comma-joined (read from the body unless
   * given). The header is sent with `m=true`.
   */
  async sendBatch(brokerAddr: string, brokerName: string, header: SendMessageRequestHeader, body: Buffer, timeoutMs = DEFAULT_TIMEOUT, msgId?: string): Promise<SendResult> {
    const cmd = this.command(RequestCode.SEND_BATCH_MESSAGE, encodeSendMessageRequestHeaderV2({ ...header, batch: true }), body);
    const res = await this.remoting.invoke(brokerAddr, cmd, timeoutMs);
    const ids = msgId ?? decodeBatchBody(body)
      .map((e) => getProperty(e.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '')
      .join(',');
    return this.sendResult(res, brokerAddr, brokerName, header.topic, ids);
  }

  /** Oneway SEND_MESSAGE_V2 (or SEND_BATCH_MESSAGE when `header.batch`): no answer, no result. */
  async sendOneway(brokerAddr: string, header: SendMessageRequestHeader, body: Buffer): Promise<void> {
    const code = header.batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2;
    await this.remoting.invokeOneway(brokerAddr, this.command(code, encodeSendMessageRequestHeaderV2(header), body));
  }

  // ---- Pull ----

  /**
   * PULL_MESSAGE (LITE_PULL_MESSAGE when the lite flag is set). FOUND bodies are decoded, zlib
   * bodies inflated, and — as upstream's `PullAPIWrapper.processPullResult` — messages whose TAGS
   * are not in a TAG subscription dropped (the broker filters by hash code only).
   */
  async pullMessage(brokerAddr: string, header: PullMessageRequestHeader, timeoutMs: number): Promise<PullResult> {
    const code = (header.sysFlag & PullSysFlag.FLAG_LITE_PULL_MESSAGE) !== 0 ? RequestCode.LITE_PULL_MESSAGE : RequestCode.PULL_MESSAGE;
    const res = await this.remoting.invoke(brokerAddr, this.command(code, encodePullMessageRequestHeader(header)), timeoutMs);
    const pullStatus = pullStatusOf(res.code);
    if (pullStatus === undefined) throw brokerError(res, brokerAddr);
    const h = decodePullMessageResponseHeader(res.extFields, brokerAddr);
    const result: PullResult = { pullStatus, ...h, msgFoundList: [] };
    if (pullStatus !== PullStatus.FOUND || !res.body) return result;
    const tags = header.subscription !== undefined && (header.expressionType ?? ExpressionType.TAG) === ExpressionType.TAG
      ? tagFilterOf(header.subscription)
      : undefined;
    const range = [[MessageConst.MIN_OFFSET, String(h.minOffset)], [MessageConst.MAX_OFFSET, String(h.maxOffset)]] as const;
    const msgs = decodeReceivedMessages(res.body, range);
    result.msgFoundList = tags === undefined ? msgs : msgs.filter((msg) => msg.tags !== undefined && tags.has(msg.tags));
    return result;
  }

  // ---- Offsets ----

  /** QUERY_CONSUMER_OFFSET; -1 when the broker has no offset for the group (QUERY_NOT_FOUND). */
  async queryConsumerOffset(brokerAddr: string, header: QueryConsumerOffsetRequestHeader, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const res = await this.remoting.invoke(brokerAddr, this.command(RequestCode.QUERY_CONSUMER_OFFSET, this.header(header)), timeoutMs);
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    if (res.code !== ResponseCode.SUCCESS) throw brokerError(res, brokerAddr);
    return decodeNumberField(res.extFields, 'offset', 'consumer offset', brokerAddr);
  }

  async updateConsumerOffset(brokerAddr: string, header: UpdateConsumerOffsetRequestHeader, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_CONSUMER_OFFSET, this.header(header)), timeoutMs);
  }

  async updateConsumerOffsetOneway(brokerAddr: string, header: UpdateConsumerOffsetRequestHeader): Promise<void> {
    await this.remoting.invokeOneway(brokerAddr, this.command(RequestCode.UPDATE_CONSUMER_OFFSET, this.header(header)));
  }

  /** GET_MAX_OFFSET: the offset the next message of the queue will get. */
  async getMaxOffset(brokerAddr: string, topic: string, queueId: number, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_MAX_OFFSET, { topic, queueId: String(queueId), committed: 'true' }), timeoutMs);
    return decodeNumberField(res.extFields, 'offset', 'max offset', brokerAddr);
  }

  async getMinOffset(brokerAddr: string, topic: string, queueId: number, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_MIN_OFFSET, { topic, queueId: String(queueId) }), timeoutMs);
    return decodeNumberField(res.extFields, 'offset', 'min offset', brokerAddr);
  }

  /** SEARCH_OFFSET_BY_TIMESTAMP: the queue offset of the first message stored at or after `timestamp` (ms). */
  async searchOffset(brokerAddr: string, topic: string, queueId: number, timestamp: number, boundaryType?: SearchOffsetBoundaryType, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const ext = this.header({ topic, queueId, timestamp, boundaryType });
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext), timeoutMs);
    return decodeNumberField(res.extFields, 'offset', 'searched offset', brokerAddr);
  }

  async getEarliestMsgStoretime(brokerAddr: string, topic: string, queueId: number, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_EARLIEST_MSG_STORETIME, { topic, queueId: String(queueId) }), timeoutMs);
    return decodeNumberField(res.extFields, 'timestamp', 'earliest store time', brokerAddr);
  }

  // ---- Client management ----

  async sendHeartbeat(brokerAddr: string, data: HeartbeatData, timeoutMs = DEFAULT_TIMEOUT): Promise<HeartbeatResult> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.HEART_BEAT, {}, toJsonBody(data)), timeoutMs);
    return {
      version: res.version,
      supportHeartbeatV2: res.extFields?.IS_SUPPORT_HEART_BEAT_V2 === 'true',
      subChange: res.extFields?.IS_SUB_CHANGE === 'true',
    };
  }

  /**
   * CHECK_CLIENT_CONFIG: whether the broker can filter by a non-TAG subscription (upstream
   * `checkClientInBroker`, body `CheckClientRequestBody`). Throws MQBrokerError when it cannot.
   */
  async checkClientInBroker(brokerAddr: string, group: string, clientId: string, subscriptionData: SubscriptionData, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.CHECK_CLIENT_CONFIG, {}, toJsonBody({ clientId, group, subscriptionData })), timeoutMs);
  }

  async unregisterClient(brokerAddr: string, clientID: string, producerGroup?: string, consumerGroup?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.UNREGISTER_CLIENT, this.header({ clientID, producerGroup, consumerGroup })), timeoutMs);
  }

  /** GET_CONSUMER_LIST_BY_GROUP; a group without consumers is an error from the broker (SYSTEM_ERROR), as upstream. */
  async getConsumerIdListByGroup(brokerAddr: string, consumerGroup: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup }), timeoutMs);
    const list = jsonBody(res, brokerAddr, 'consumer list').consumerIdList;
    if (!Array.isArray(list)) throw new MQClientError(`consumer list from ${brokerAddr} has no consumerIdList array`, ClientErrorCode.BAD_RESPONSE);
    return list.map(String);
  }

  /** LOCK_BATCH_MQ: returns the queues the broker locked for this client. */
  async lockBatchMQ(brokerAddr: string, body: LockBatchRequestBody, timeoutMs = DEFAULT_TIMEOUT): Promise<MessageQueue[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.LOCK_BATCH_MQ, {}, toJsonBody(body)), timeoutMs);
    const set = jsonBody(res, brokerAddr, 'lock result').lockOKMQSet ?? [];
    if (!Array.isArray(set)) throw new MQClientError(`lock result from ${brokerAddr} has no lockOKMQSet array`, ClientErrorCode.BAD_RESPONSE);
    return set.map(toMessageQueue);
  }

  async unlockBatchMQ(brokerAddr: string, body: LockBatchRequestBody, timeoutMs = DEFAULT_TIMEOUT, oneway = false): Promise<void> {
    const cmd = this.command(RequestCode.UNLOCK_BATCH_MQ, {}, toJsonBody(body));
    if (oneway) await this.remoting.invokeOneway(brokerAddr, cmd);
    else await this.invokeOk(brokerAddr, cmd, timeoutMs);
  }

  // ---- Admin ----

  /** UPDATE_AND_CREATE_TOPIC on one broker (which then re-registers with its NameServers). */
  async createTopic(brokerAddr: string, defaultTopic: string, config: TopicConfig, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const ext = this.header({
      topic: config.topicName,
      defaultTopic,
      readQueueNums: config.readQueueNums,
      writeQueueNums: config.writeQueueNums,
      perm: config.perm,
      topicFilterType: config.topicFilterType,
      topicSysFlag: config.topicSysFlag,
      order: config.order,
      attributes: config.attributes && Object.keys(config.attributes).length > 0 ? attributeModificationToString(config.attributes) : undefined,
    });
    await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_AND_CREATE_TOPIC, ext), timeoutMs);
  }

  /** UPDATE_AND_CREATE_TOPIC_LIST on one broker: body `CreateTopicListRequestBody {topicConfigList}`; attributes as `+key`/`-key` modifications. */
  async createTopicList(brokerAddr: string, configs: readonly TopicConfig[], timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {}, toJsonBody({ topicConfigList: configs })), timeoutMs);
  }

  async deleteTopicInBroker(brokerAddr: string, topic: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.DELETE_TOPIC_IN_BROKER, { topic }), timeoutMs);
  }

  async getAllTopicConfig(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TopicConfigSerializeWrapper> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_ALL_TOPIC_CONFIG), timeoutMs);
    const o = jsonBody(res, brokerAddr, 'topic config table');
    const table = o.topicConfigTable;
    if (typeof table !== 'object' || table === null || Array.isArray(table)) {
      throw new MQClientError(`topic config table from ${brokerAddr} has no topicConfigTable object`, ClientErrorCode.BAD_RESPONSE);
    }
    return decodeBody(brokerAddr, 'topic config table', () => toTopicConfigSerializeWrapper(o));
  }

  /** GET_TOPIC_CONFIG: one topic's config on one broker; MQBrokerError TOPIC_NOT_EXIST when it has none. */
  async getTopicConfig(brokerAddr: string, topic: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TopicConfig> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_TOPIC_CONFIG, { topic }), timeoutMs);
    return decodeBody(brokerAddr, 'topic config', () => toTopicConfig(jsonBody(res, brokerAddr, 'topic config'), topic));
  }

  /** VIEW_MESSAGE_BY_ID: the message stored at CommitLog offset `phyOffset`. */
  async viewMessage(brokerAddr: string, phyOffset: number, timeoutMs = DEFAULT_TIMEOUT): Promise<MessageExt> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(phyOffset) }), timeoutMs);
    const [msg] = res.body ? decodeReceivedMessages(res.body) : [];
    if (!msg) throw new MQClientError(`no message record in the answer of ${brokerAddr} for offset ${phyOffset}`, ClientErrorCode.BAD_RESPONSE);
    return msg;
  }

  /** GET_BROKER_CONFIG: the broker's settings (broker.conf keys), key → value. */
  async getBrokerConfig(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<Map<string, string>> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_BROKER_CONFIG), timeoutMs);
    return decodeBody(brokerAddr, 'broker config', () => parseProperties(res.body?.toString('utf8') ?? ''));
  }

  /** UPDATE_BROKER_CONFIG: changes settings of a running broker (refused as a whole when one key cannot change). */
  async updateBrokerConfig(brokerAddr: string, props: ReadonlyMap<string, string>, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_BROKER_CONFIG, undefined, Buffer.from(stringifyProperties(props), 'utf8')), timeoutMs);
  }

  /** GET_BROKER_RUNTIME_INFO: the broker's KVTable of statistics. */
  async getBrokerRuntimeInfo(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<Record<string, string>> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_BROKER_RUNTIME_INFO), timeoutMs);
    const table = jsonBody(res, brokerAddr, 'broker runtime info').table;
    if (typeof table !== 'object' || table === null) throw new MQClientError(`broker runtime info from ${brokerAddr} has no table`, ClientErrorCode.BAD_RESPONSE);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(table as Record<string, unknown>)) out[k] = String(v);
    return out;
  }

  /** GET_BROKER_HA_STATUS (upstream `MQClientAPIImpl.getBrokerHAStatus`): the broker's replication state. */
  async getBrokerHAStatus(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<HARuntimeInfo> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_BROKER_HA_STATUS), timeoutMs);
    return decodeHARuntimeInfo(jsonBody(res, brokerAddr, 'broker HA status'));
  }

  /** GET_TIMER_CHECK_POINT (upstream `BrokerOuterAPI.getTimerCheckPoint`): the broker's timer checkpoint. */
  async getTimerCheckPoint(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TimerCheckpointBody> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_TIMER_CHECK_POINT), timeoutMs);
    const body = bodyOf(res, brokerAddr, 'timer checkpoint');
    return decodeBody(brokerAddr, 'timer checkpoint', () => decodeTimerCheckpoint(body));
  }

  /** GET_TIMER_METRICS (upstream `BrokerOuterAPI.getTimerMetrics`): timer messages pending per topic. */
  async getTimerMetrics(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TimerMetricsBody> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_TIMER_METRICS), timeoutMs);
    const o = jsonBody(res, brokerAddr, 'timer metrics');
    return decodeBody(brokerAddr, 'timer metrics', () => decodeTimerMetrics(o));
  }

  // ---- Retry ----

  /**
   * CONSUMER_SEND_MSG_BACK: asks the broker to re-deliver a consumed message later through
   * `%RETRY%<group>` (or `%DLQ%<group>` when `delayLevel` is -1 or retries are exhausted).
   * `delayLevel` 0 lets the broker choose (3 + reconsumeTimes).
   */
  async consumerSendMessageBack(brokerAddr: string, brokerName: string | undefined, msg: MessageExt, consumerGroup: string, delayLevel: number,
    timeoutMs = 5000, maxConsumeRetryTimes?: number): Promise<void> {
    const ext = this.header({
      offset: msg.commitLogOffset,
      group: consumerGroup,
      delayLevel,
      originMsgId: msg.msgId,
      originTopic: msg.topic,
      unitMode: false,
      maxReconsumeTimes: maxConsumeRetryTimes,
      bname: brokerName,
    });
    await this.invokeOk(brokerAddr, this.command(RequestCode.CONSUMER_SEND_MSG_BACK, ext), timeoutMs);
  }

  // ---- Admin: NameServer lists ----

  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER: every topic any broker registered. */
  async getAllTopicListFromNameServer(namesrvAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER), timeoutMs);
    return stringList(jsonBody(res, namesrvAddr, 'topic list').topicList, namesrvAddr, 'topic list');
  }

  /** GET_TOPICS_BY_CLUSTER: the topics of one cluster's brokers. */
  async getTopicsByCluster(namesrvAddr: string, cluster: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster }), timeoutMs);
    return stringList(jsonBody(res, namesrvAddr, 'topic list').topicList, namesrvAddr, 'topic list');
  }

  /**
   * GET_SYSTEM_TOPIC_LIST_FROM_NS (upstream `getSystemTopicList`): the topics named after each
   * cluster and broker, with the system topics of the broker the NameServer names added
   * (GET_SYSTEM_TOPIC_LIST_FROM_BROKER).
   */
  async getSystemTopicList(namesrvAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const res = await this.invokeOk(namesrvAddr, this.command(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS), timeoutMs);
    const o = jsonBody(res, namesrvAddr, 'system topic list');
    const topics = stringList(o.topicList, namesrvAddr, 'system topic list');
    if (topics.length > 0 && typeof o.brokerAddr === 'string' && o.brokerAddr !== '') {
      topics.push(...await this.getSystemTopicListFromBroker(o.brokerAddr, timeoutMs));
    }
    return topics;
  }

  /** GET_SYSTEM_TOPIC_LIST_FROM_BROKER: the system topics one broker knows. */
  async getSystemTopicListFromBroker(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER), timeoutMs);
    return stringList(jsonBody(res, brokerAddr, 'system topic list').topicList, brokerAddr, 'system topic list');
  }

  /**
   * GET_UNIT_TOPIC_LIST / GET_HAS_UNIT_SUB_TOPIC_LIST / GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST
   * (upstream `getUnitTopicList` …): topics by their unit flags; retry topics only with `containRetry`.
   */
  async getUnitTopicList(namesrvAddr: string, which: 'unit' | 'hasUnitSub' | 'hasUnitSubUnUnit', containRetry: boolean, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const code = which === 'unit' ? RequestCode.GET_UNIT_TOPIC_LIST
      : which === 'hasUnitSub' ? RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST : RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST;
    const res = await this.invokeOk(namesrvAddr, this.command(code), timeoutMs);
    const topics = stringList(jsonBody(res, namesrvAddr, 'topic list').topicList, namesrvAddr, 'topic list');
    return containRetry ? topics : topics.filter((t) => !t.startsWith(RETRY_GROUP_TOPIC_PREFIX));
  }

  // ---- Admin: broker statistics and connections ----

  /** GET_TOPIC_STATS_INFO: min/max offset of every queue of `topic` on one broker. */
  async getTopicStatsInfo(brokerAddr: string, topic: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TopicStatsTable> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_TOPIC_STATS_INFO, { topic }), timeoutMs);
    return decodeBody(brokerAddr, 'topic stats', () => decodeTopicStatsTable(jsonBody(res, brokerAddr, 'topic stats')));
  }

  /** GET_CONSUME_STATS: the group's progress on one broker (all its topics, or `topic`). */
  async getConsumeStats(brokerAddr: string, consumerGroup: string, topic?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<ConsumeStats> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_CONSUME_STATS, this.header({ consumerGroup, topic })), timeoutMs);
    return decodeBody(brokerAddr, 'consume stats', () => decodeConsumeStats(jsonBody(res, brokerAddr, 'consume stats')));
  }

  /**
   * GET_BROKER_CONSUME_STATS: every group's progress on one broker (upstream `ConsumeStatsList`),
   * one ConsumeStats per group and topic; with `isOrder`, on order topics only.
   */
  async getBrokerConsumeStats(brokerAddr: string, isOrder: boolean, timeoutMs = DEFAULT_TIMEOUT): Promise<ConsumeStatsList> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: String(isOrder) }), timeoutMs);
    return decodeBody(brokerAddr, 'broker consume stats', () => {
      const o = jsonBody(res, brokerAddr, 'broker consume stats');
      const list = Array.isArray(o.consumeStatsList) ? o.consumeStatsList as unknown[] : [];
      const consumeStatsList = list.map((entry) => new Map(Object.entries(entry as Record<string, unknown>).map(
        ([group, stats]) => [group, (Array.isArray(stats) ? stats : []).map((cs) => decodeConsumeStats(cs as Record<string, unknown>))],
      )));
      return { brokerAddr: String(o.brokerAddr ?? brokerAddr), consumeStatsList, totalDiff: Number(o.totalDiff ?? 0), totalInflightDiff: Number(o.totalInflightDiff ?? 0) };
    });
  }

  /**
   * VIEW_BROKER_STATS_DATA: one statistics item of a broker (e.g. TOPIC_PUT_NUMS of a topic,
   * GROUP_GET_NUMS of `topic@group`) over its last minute, hour and day.
   */
  async viewBrokerStatsData(brokerAddr: string, statsName: string, statsKey: string, timeoutMs = DEFAULT_TIMEOUT): Promise<BrokerStatsData> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.VIEW_BROKER_STATS_DATA, { statsName, statsKey }), timeoutMs);
    return decodeBody(brokerAddr, 'broker stats data', () => {
      const o = jsonBody(res, brokerAddr, 'broker stats data');
      const item = (v: unknown): BrokerStatsItem => {
        const w = (v ?? {}) as Record<string, unknown>;
        return { sum: Number(w.sum ?? 0), tps: Number(w.tps ?? 0), avgpt: Number(w.avgpt ?? 0) };
      };
      return { statsMinute: item(o.statsMinute), statsHour: item(o.statsHour), statsDay: item(o.statsDay) };
    });
  }

  /**
   * QUERY_CONSUME_QUEUE: up to `count` raw ConsumeQueue entries of one queue from logical offset
   * `index`, with the queue's bounds (and, for a group, its subscription as the broker holds it).
   */
  async queryConsumeQueue(brokerAddr: string, q: { topic: string; queueId: number; index: number; count: number; consumerGroup?: string }, timeoutMs = DEFAULT_TIMEOUT): Promise<QueryConsumeQueueResult> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_CONSUME_QUEUE, this.header(q)), timeoutMs);
    return decodeBody(brokerAddr, 'consume queue', () => {
      const o = jsonBody(res, brokerAddr, 'consume queue');
      const queueData = (Array.isArray(o.queueData) ? o.queueData as Array<Record<string, unknown>> : []).map((e) => ({
        physicOffset: Number(e.physicOffset), physicSize: Number(e.physicSize), tagsCode: Number(e.tagsCode), eval: e.eval === true,
        extendDataJson: e.extendDataJson as string | undefined, bitMap: e.bitMap as string | undefined, msg: e.msg as string | undefined,
      }));
      return {
        maxQueueIndex: Number(o.maxQueueIndex ?? 0), minQueueIndex: Number(o.minQueueIndex ?? 0), queueData,
        subscriptionData: o.subscriptionData as Record<string, unknown> | undefined, filterData: o.filterData as string | undefined, remark: res.remark,
      };
    });
  }

  /** GET_CONSUMER_CONNECTION_LIST: the group's live connections and subscriptions on one broker. */
  async getConsumerConnectionList(brokerAddr: string, consumerGroup: string, timeoutMs = DEFAULT_TIMEOUT): Promise<ConsumerConnection> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup }), timeoutMs);
    return decodeBody(brokerAddr, 'consumer connection', () => decodeConsumerConnection(jsonBody(res, brokerAddr, 'consumer connection')));
  }

  /** GET_CONSUMER_RUNNING_INFO through a broker: one client's report on its consumer of `consumerGroup`. */
  async getConsumerRunningInfo(brokerAddr: string, consumerGroup: string, clientId: string, jstack: boolean, timeoutMs = DEFAULT_TIMEOUT): Promise<ConsumerRunningInfo> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup, clientId, jstackEnable: String(jstack) }), timeoutMs);
    return decodeBody(brokerAddr, 'consumer running info', () => decodeConsumerRunningInfo(jsonBody(res, brokerAddr, 'consumer running info')));
  }

  /** CONSUME_MESSAGE_DIRECTLY through a broker: the message stored at offset id `msgId` goes to one client's listener. */
  async consumeMessageDirectly(brokerAddr: string, consumerGroup: string, clientId: string, topic: string, msgId: string,
    brokerName: string | undefined, timeoutMs = DEFAULT_TIMEOUT): Promise<ConsumeMessageDirectlyResult> {
    const ext: Record<string, string> = { consumerGroup, clientId, msgId, topic };
    if (brokerName) ext.brokerName = brokerName;
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.CONSUME_MESSAGE_DIRECTLY, ext), timeoutMs);
    return decodeBody(brokerAddr, 'consume result', () => decodeConsumeMessageDirectlyResult(jsonBody(res, brokerAddr, 'consume result')));
  }

  /** GET_PRODUCER_CONNECTION_LIST: the producer group's live connections on one broker. */
  async getProducerConnectionList(brokerAddr: string, producerGroup: string, timeoutMs = DEFAULT_TIMEOUT): Promise<ProducerConnection> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup }), timeoutMs);
    return decodeBody(brokerAddr, 'producer connection', () => decodeProducerConnection(jsonBody(res, brokerAddr, 'producer connection')));
  }

  /** GET_ALL_PRODUCER_INFO: every live producer on one broker, by group. */
  async getAllProducerInfo(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<Map<string, ProducerInfo[]>> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_ALL_PRODUCER_INFO, {}), timeoutMs);
    return decodeBody(brokerAddr, 'producer table', () => decodeProducerTableInfo(jsonBody(res, brokerAddr, 'producer table')));
  }

  /**
   * INVOKE_BROKER_TO_GET_CONSUMER_STATUS (upstream `invokeBrokerToGetConsumerStatus`): each online
   * consumer's in-memory offsets on `topic`, client id → queue key → { mq, offset }; `clientAddr`
   * (a client id) asks only that consumer.
   */
  async invokeBrokerToGetConsumerStatus(brokerAddr: string, topic: string, group: string, clientAddr?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<Map<string, Map<string, { mq: MessageQueue; offset: number }>>> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, this.header({ topic, group, clientAddr })), timeoutMs);
    return decodeBody(brokerAddr, 'consumer status', () => {
      const table = jsonBody(res, brokerAddr, 'consumer status').consumerTable;
      const out = new Map<string, Map<string, { mq: MessageQueue; offset: number }>>();
      for (const [clientId, queues] of Object.entries(typeof table === 'object' && table !== null ? table : {})) {
        out.set(clientId, new Map(mqEntries(queues, 'consumer status').map(([mq, offset]) => [messageQueueKey(mq), { mq, offset: Number(offset) }])));
      }
      return out;
    });
  }

  /** QUERY_TOPIC_CONSUME_BY_WHO: the groups consuming `topic` on one broker. */
  async queryTopicConsumeByWho(brokerAddr: string, topic: string, timeoutMs = DEFAULT_TIMEOUT): Promise<string[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic }), timeoutMs);
    return stringList(jsonBody(res, brokerAddr, 'group list').groupList, brokerAddr, 'group list');
  }

  /** QUERY_TOPICS_BY_CONSUMER: the topics `group` has committed offsets on, on one broker. */
  async queryTopicsByConsumer(brokerAddr: string, group: string, timeoutMs = DEFAULT_TIMEOUT): Promise<TopicList> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_TOPICS_BY_CONSUMER, { group }), timeoutMs);
    return decodeBody(brokerAddr, 'topic list', () => decodeTopicList(jsonBody(res, brokerAddr, 'topic list')));
  }

  /** QUERY_SUBSCRIPTION_BY_CONSUMER: the online group's subscription to `topic` on one broker; undefined when it has none. */
  async querySubscriptionByConsumer(brokerAddr: string, group: string, topic: string, timeoutMs = DEFAULT_TIMEOUT): Promise<SubscriptionData | undefined> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_SUBSCRIPTION_BY_CONSUMER, { group, topic }), timeoutMs);
    return decodeBody(brokerAddr, 'subscription', () => {
      const sd = jsonBody(res, brokerAddr, 'subscription').subscriptionData;
      return sd && typeof sd === 'object' ? decodeSubscriptionData(sd as Record<string, unknown>, topic) : undefined;
    });
  }

  /** QUERY_CONSUME_TIME_SPAN: per queue of `topic` on one broker, its first / last store times and where `group` is in time. */
  async queryConsumeTimeSpan(brokerAddr: string, topic: string, group: string, timeoutMs = DEFAULT_TIMEOUT): Promise<QueueTimeSpan[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic, group }), timeoutMs);
    return decodeBody(brokerAddr, 'consume time span', () => decodeQueryConsumeTimeSpanBody(jsonBody(res, brokerAddr, 'consume time span')));
  }

  // ---- Admin: messages and offsets ----

  /**
   * QUERY_MESSAGE: messages of `topic` indexed under `key` (a KEYS token, or with `uniqueKey` the
   * UNIQ_KEY) stored between the two timestamps. An empty list when the broker finds none.
   */
  async queryMessage(brokerAddr: string, topic: string, key: string, maxNum: number, beginTimestamp: number, endTimestamp: number,
    uniqueKey = false, timeoutMs = 15_000): Promise<MessageExt[]> {
    const ext = this.header({ topic, key, maxNum, beginTimestamp, endTimestamp });
    if (uniqueKey && ext) ext._UNIQUE_KEY_QUERY = 'true';
    const res = await this.remoting.invoke(brokerAddr, this.command(RequestCode.QUERY_MESSAGE, ext), timeoutMs);
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return [];
    if (res.code !== ResponseCode.SUCCESS) throw brokerError(res, brokerAddr);
    return res.body ? decodeReceivedMessages(res.body) : [];
  }

  /**
   * INVOKE_BROKER_TO_RESET_OFFSET: the broker moves the group's offsets of `topic` to the first
   * message stored at or after `timestamp` and tells the online consumers. Returns the new offsets.
   */
  async invokeBrokerToResetOffset(brokerAddr: string, topic: string, group: string, timestamp: number, isForce: boolean,
    queueId?: number, timeoutMs = DEFAULT_TIMEOUT): Promise<Map<string, { mq: MessageQueue; offset: number }>> {
    const ext = this.header({ topic, group, timestamp, isForce, queueId: queueId ?? -1 });
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, ext), timeoutMs);
    if (!res.body || res.body.length === 0) return new Map();
    return decodeBody(brokerAddr, 'reset offset result', () => decodeResetOffsetBody(jsonBody(res, brokerAddr, 'reset offset result')));
  }

  /** CLONE_GROUP_OFFSET on one broker: `destGroup` gets the offsets `srcGroup` committed (on `topic`, or on every topic). */
  async cloneGroupOffset(brokerAddr: string, srcGroup: string, destGroup: string, topic: string | undefined, offline: boolean, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.CLONE_GROUP_OFFSET, this.header({ srcGroup, destGroup, topic, offline })), timeoutMs);
  }

  /** CLEAN_EXPIRED_CONSUMEQUEUE on one broker: it drops the ConsumeQueues whose messages are all gone. */
  async cleanExpiredConsumeQueue(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE, {}), timeoutMs);
  }

  /** DELETE_EXPIRED_COMMITLOG on one broker: its next cleanup rounds delete the expired CommitLog files whatever the hour. */
  async deleteExpiredCommitLog(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.DELETE_EXPIRED_COMMITLOG, {}), timeoutMs);
  }

  /** CLEAN_UNUSED_TOPIC on one broker: it drops the ConsumeQueues of topics it no longer has. */
  async cleanUnusedTopic(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.CLEAN_UNUSED_TOPIC, {}), timeoutMs);
  }

  // ---- Admin: subscription groups ----

  /** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP on one broker. */
  async createSubscriptionGroup(brokerAddr: string, config: SubscriptionGroupConfig, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, toJsonBody(config)), timeoutMs);
  }

  /** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST on one broker: body `SubscriptionGroupList {groupConfigList}`. */
  async createSubscriptionGroupList(brokerAddr: string, configs: readonly SubscriptionGroupConfig[], timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, {}, toJsonBody({ groupConfigList: configs })), timeoutMs);
  }

  /**
   * GET_ALL_SUBSCRIPTIONGROUP_CONFIG (upstream `getAllSubscriptionGroup`): one broker's
   * `SubscriptionGroupWrapper {subscriptionGroupTable, forbiddenTable, dataVersion}`.
   */
  async getAllSubscriptionGroup(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<SubscriptionGroupWrapper> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG), timeoutMs);
    const o = jsonBody(res, brokerAddr, 'subscription group table');
    const table = o.subscriptionGroupTable;
    if (typeof table !== 'object' || table === null || Array.isArray(table)) {
      throw new MQClientError(`subscription group table from ${brokerAddr} has no subscriptionGroupTable object`, ClientErrorCode.BAD_RESPONSE);
    }
    return decodeBody(brokerAddr, 'subscription group table', () => ({
      subscriptionGroupTable: Object.fromEntries(Object.entries(table as Record<string, Record<string, unknown>>).map(([k, v]) => [k, decodeSubscriptionGroupConfig(v)])),
      forbiddenTable: (typeof o.forbiddenTable === 'object' && o.forbiddenTable !== null ? o.forbiddenTable : {}) as Record<string, Record<string, number>>,
      dataVersion: o.dataVersion,
    }));
  }

  /** GET_SUBSCRIPTIONGROUP_CONFIG: one group's config on one broker; MQBrokerError SUBSCRIPTION_GROUP_NOT_EXIST when it has none. */
  async getSubscriptionGroupConfig(brokerAddr: string, group: string, timeoutMs = DEFAULT_TIMEOUT): Promise<SubscriptionGroupConfig> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group }), timeoutMs);
    return decodeBody(brokerAddr, 'subscription group config', () => decodeSubscriptionGroupConfig(jsonBody(res, brokerAddr, 'subscription group config')));
  }

  /** DELETE_SUBSCRIPTIONGROUP on one broker; `cleanOffset` also drops the group's committed offsets. */
  async deleteSubscriptionGroup(brokerAddr: string, groupName: string, cleanOffset = false, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName, cleanOffset: String(cleanOffset) }), timeoutMs);
  }

  /**
   * UPDATE_AND_GET_GROUP_FORBIDDEN on one broker (upstream `updateAndGetGroupForbidden`): with
   * `readable`, forbids (false) or allows (true) `group` to pull `topic`; answers whether it may.
   */
  async updateAndGetGroupForbidden(brokerAddr: string, group: string, topic: string, readable?: boolean, timeoutMs = DEFAULT_TIMEOUT): Promise<GroupForbidden> {
    const header: Record<string, string> = { group, topic };
    if (readable !== undefined) header.readable = String(readable);
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.UPDATE_AND_GET_GROUP_FORBIDDEN, header), timeoutMs);
    const o = jsonBody(res, brokerAddr, 'group forbidden');
    if (typeof o.readable !== 'boolean') throw new MQClientError(`group forbidden from ${brokerAddr} has no readable flag`, ClientErrorCode.BAD_RESPONSE);
    return { group: typeof o.group === 'string' ? o.group : group, topic: typeof o.topic === 'string' ? o.topic : topic, readable: o.readable };
  }

  /**
   * QUERY_CORRECTION_OFFSET on one broker (upstream `queryCorrectionOffset`): per queue of
   * `topic`, the lowest offset of every group but `filterGroups`; Infinity where `compareGroup`
   * is behind it (the broker's Long.MAX_VALUE).
   */
  async queryCorrectionOffset(brokerAddr: string, topic: string, compareGroup: string, filterGroups: readonly string[] = [], timeoutMs = DEFAULT_TIMEOUT): Promise<Map<number, number>> {
    const header: Record<string, string> = { topic, compareGroup };
    if (filterGroups.length > 0) header.filterGroups = filterGroups.join(',');
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_CORRECTION_OFFSET, header), timeoutMs);
    const o = jsonBody(res, brokerAddr, 'correction offsets');
    const table = o.correctionOffsets ?? {};
    if (typeof table !== 'object' || table === null) throw new MQClientError(`correction offsets from ${brokerAddr} are not a map`, ClientErrorCode.BAD_RESPONSE);
    const out = new Map<number, number>();
    for (const [k, v] of Object.entries(table)) {
      if (typeof v !== 'number') throw new MQClientError(`correction offset of queue ${k} from ${brokerAddr} is not a number`, ClientErrorCode.BAD_RESPONSE);
      out.set(Number(k), v >= 2 ** 63 ? Infinity : v);
    }
    return out;
  }

  /** RESUME_CHECK_HALF_MESSAGE on one broker: the half message `msgId` (an offset id) is checked again from a count of 0. */
  async resumeCheckHalfMessage(brokerAddr: string, topic: string, msgId: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.RESUME_CHECK_HALF_MESSAGE, { topic, msgId }), timeoutMs);
  }

  // ---- Server-side assignment and POP ----

  /**
   * QUERY_ASSIGNMENT: the queues the broker gives this consumer and their modes; undefined when it
   * has no valid answer (unknown topic or strategy, no members yet), to be kept as it is.
   */
  async queryAssignment(brokerAddr: string, body: QueryAssignmentRequestBody, timeoutMs = DEFAULT_TIMEOUT): Promise<MessageQueueAssignment[] | undefined> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.QUERY_ASSIGNMENT, undefined, Buffer.from(JSON.stringify(body))), timeoutMs);
    return decodeBody(brokerAddr, 'QueryAssignmentResponseBody', () => decodeQueryAssignmentResponseBody(res.body));
  }

  /** SET_MESSAGE_REQUEST_MODE: how a group consumes a topic on this broker (upstream `setMessageRequestMode`). */
  async setMessageRequestMode(brokerAddr: string, body: SetMessageRequestModeRequestBody, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.SET_MESSAGE_REQUEST_MODE, undefined, Buffer.from(JSON.stringify(body))), timeoutMs);
  }

  /** GET_ALL_MESSAGE_REQUEST_MODE: every topic's and group's mode on this broker. */
  async getAllMessageRequestMode(brokerAddr: string, timeoutMs = DEFAULT_TIMEOUT): Promise<MessageRequestModeTable> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.GET_ALL_MESSAGE_REQUEST_MODE), timeoutMs);
    const body = bodyOf(res, brokerAddr, 'message request modes');
    return decodeBody(brokerAddr, 'message request modes', () => decodeMessageRequestModeTable(body));
  }

  /**
   * POP_MESSAGE (upstream `MQClientAPIImpl.popMessageAsync` / `processPopResponse`): each message's
   * receipt, built from the response header (`popReceipts`), becomes its POP_CK property, and for
   * a FIFO pop its earlier deliveries its reconsume times; the topic is set to the one popped, also
   * for messages that came back through the group's POP retry topic.
   */
  async popMessage(brokerAddr: string, brokerName: string, header: PopMessageRequestHeader, timeoutMs: number): Promise<PopResult> {
    const cmd = this.command(RequestCode.POP_MESSAGE, this.header(header));
    // The code does not fit the binary header's 16-bit field.
    cmd.serializeType = SerializeType.JSON;
    const res = await this.remoting.invoke(brokerAddr, cmd, timeoutMs);
    const ext = res.extFields ?? {};
    const base = { msgFoundList: [] as MessageExt[], popTime: Number(ext.popTime ?? 0), invisibleTime: Number(ext.invisibleTime ?? 0), restNum: Number(ext.restNum ?? 0) };
    switch (res.code) {
      case ResponseCode.SUCCESS: break;
      case ResponseCode.POLLING_FULL: return { popStatus: PopStatus.POLLING_FULL, ...base };
      case ResponseCode.POLLING_TIMEOUT:
      case ResponseCode.PULL_NOT_FOUND:
        return { popStatus: PopStatus.POLLING_NOT_FOUND, ...base };
      default: throw brokerError(res, brokerAddr);
    }
    const msgs = res.body ? decodeReceivedMessages(res.body) : [];
    let receipts: PopReceipt[];
    try {
      receipts = popReceipts(ext, msgs, brokerName, header.order ?? false);
    } catch (err) {
      throw new MQClientError(`POP response from ${brokerAddr} is unreadable: ${(err as Error).message}`, ClientErrorCode.BAD_RESPONSE);
    }
    msgs.forEach((m, i) => {
      const r = receipts[i]!;
      m.propertyMap.set(MessageConst.POP_CK, r.extraInfo);
      if (r.consumedTimes !== undefined && r.consumedTimes > 0) m.reconsumeTimes = r.consumedTimes;
      if (!m.propertyMap.has(MessageConst.FIRST_POP_TIME)) m.propertyMap.set(MessageConst.FIRST_POP_TIME, String(base.popTime));
      m.brokerName = brokerName;
      m.topic = header.topic;
    });
    return { popStatus: PopStatus.FOUND, ...base, msgFoundList: msgs };
  }

  /** ACK_MESSAGE: the popped message is consumed. */
  async ackMessage(brokerAddr: string, header: AckMessageRequestHeader, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const cmd = this.command(RequestCode.ACK_MESSAGE, this.header(header));
    cmd.serializeType = SerializeType.JSON;
    await this.invokeOk(brokerAddr, cmd, timeoutMs);
  }

  /** CHANGE_MESSAGE_INVISIBLETIME: the popped message comes back after `invisibleTime` ms (a failed consumption). */
  async changeInvisibleTime(brokerAddr: string, header: AckMessageRequestHeader & { invisibleTime: number }, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const cmd = this.command(RequestCode.CHANGE_MESSAGE_INVISIBLETIME, this.header(header));
    cmd.serializeType = SerializeType.JSON;
    await this.invokeOk(brokerAddr, cmd, timeoutMs);
  }

  /**
   * NOTIFICATION (upstream `MQClientAPIExt.notificationWithPollingStats`): whether a POP of the
   * group would find a message on the broker, the broker waiting up to `header.pollTime` for one.
   * `timeoutMs` must exceed the poll time.
   */
  async notification(brokerAddr: string, header: NotificationRequestHeader, timeoutMs: number): Promise<NotificationResponseHeader> {
    const cmd = this.command(RequestCode.NOTIFICATION, encodeNotificationRequestHeader(header));
    // The code does not fit the binary header's 16-bit field.
    cmd.serializeType = SerializeType.JSON;
    const res = await this.invokeOk(brokerAddr, cmd, timeoutMs);
    return decodeNotificationResponseHeader(res.extFields);
  }

  /** POLLING_INFO: how many POPs of the group wait on the broker for `header.queueId` of the topic (−1: POPs of every queue). */
  async pollingInfo(brokerAddr: string, header: PollingInfoRequestHeader, timeoutMs = DEFAULT_TIMEOUT): Promise<number> {
    const cmd = this.command(RequestCode.POLLING_INFO, encodePollingInfoRequestHeader(header));
    cmd.serializeType = SerializeType.JSON;
    const res = await this.invokeOk(brokerAddr, cmd, timeoutMs);
    return decodeBody(brokerAddr, 'polling info', () => decodePollingInfoResponseHeader(res.extFields));
  }

  // ---- ACL 2.0 users and ACLs of a broker (AUTH_* 3001-3010, upstream MQClientAPIImpl) ----

  async createUser(brokerAddr: string, user: UserInfo, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_CREATE_USER, this.header({ username: user.username }), toJsonBody(user)), timeoutMs);
  }

  /** Only the fields given change (password, userType, userStatus). */
  async updateUser(brokerAddr: string, user: UserInfo, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_UPDATE_USER, this.header({ username: user.username }), toJsonBody(user)), timeoutMs);
  }

  async deleteUser(brokerAddr: string, username: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_DELETE_USER, { username }), timeoutMs);
  }

  /** The user, or undefined when the broker has none of that name. */
  async getUser(brokerAddr: string, username: string, timeoutMs = DEFAULT_TIMEOUT): Promise<UserInfo | undefined> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_GET_USER, { username }), timeoutMs);
    return res.body && res.body.length > 0 ? jsonBody(res, brokerAddr, 'user') as UserInfo : undefined;
  }

  /** Users whose name contains `filter` (all without one). */
  async listUser(brokerAddr: string, filter?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<UserInfo[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_LIST_USER, this.header({ filter })), timeoutMs);
    return res.body && res.body.length > 0 ? jsonArray(res, brokerAddr, 'user list') as UserInfo[] : [];
  }

  async createAcl(brokerAddr: string, acl: AclInfo, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_CREATE_ACL, this.header({ subject: acl.subject }), toJsonBody(acl)), timeoutMs);
  }

  /** Entries of the same resource are replaced, others added. */
  async updateAcl(brokerAddr: string, acl: AclInfo, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_UPDATE_ACL, this.header({ subject: acl.subject }), toJsonBody(acl)), timeoutMs);
  }

  /** One resource's entry (`resource` like `Topic:t`), or the subject's whole ACL without one. */
  async deleteAcl(brokerAddr: string, subject: string, resource?: string, policyType?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_DELETE_ACL, this.header({ subject, policyType, resource })), timeoutMs);
  }

  async getAcl(brokerAddr: string, subject: string, timeoutMs = DEFAULT_TIMEOUT): Promise<AclInfo | undefined> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_GET_ACL, { subject }), timeoutMs);
    return res.body && res.body.length > 0 ? jsonBody(res, brokerAddr, 'acl') as AclInfo : undefined;
  }

  async listAcl(brokerAddr: string, subjectFilter?: string, resourceFilter?: string, timeoutMs = DEFAULT_TIMEOUT): Promise<AclInfo[]> {
    const res = await this.invokeOk(brokerAddr, this.command(RequestCode.AUTH_LIST_ACL, this.header({ subjectFilter, resourceFilter })), timeoutMs);
    return res.body && res.body.length > 0 ? jsonArray(res, brokerAddr, 'acl list') as AclInfo[] : [];
  }
}

/** Outcome of a POP_MESSAGE (upstream `PopStatus`). */
export const PopStatus = {
  FOUND: 'FOUND',
  /** Too many receives wait on the broker: try again later. */
  POLLING_FULL: 'POLLING_FULL',
  /** Nothing arrived within the poll time. */
  POLLING_NOT_FOUND: 'POLLING_NOT_FOUND',
} as const;
export type PopStatusValue = (typeof PopStatus)[keyof typeof PopStatus];

export interface PopResult {
  popStatus: PopStatusValue;
  /** FOUND: the messages, each with its receipt in the POP_CK property, topic set to the one popped. */
  msgFoundList: MessageExt[];
  popTime: number;
  invisibleTime: number;
  restNum: number;
}

/** GET_BROKER_CONSUME_STATS body (upstream `ConsumeStatsList`). */
export interface ConsumeStatsList {
  brokerAddr: string;
  /** One map per group: the group's name to its ConsumeStats, one per topic. */
  consumeStatsList: Array<Map<string, ConsumeStats[]>>;
  /** Sum over every queue of broker offset − consumer offset. */
  totalDiff: number;
  totalInflightDiff: number;
}

/** One window of a statistics item (upstream `BrokerStatsItem`): sum, per second, per call. */
export interface BrokerStatsItem { sum: number; tps: number; avgpt: number }

/** VIEW_BROKER_STATS_DATA body (upstream `BrokerStatsData`). */
export interface BrokerStatsData { statsMinute: BrokerStatsItem; statsHour: BrokerStatsItem; statsDay: BrokerStatsItem }

/** QUERY_CONSUME_QUEUE body (upstream `QueryConsumeQueueResponseBody`), plus the broker's remark. */
export interface QueryConsumeQueueResult {
  maxQueueIndex: number;
  minQueueIndex: number;
  queueData: Array<{ physicOffset: number; physicSize: number; tagsCode: number; eval: boolean; extendDataJson?: string; bitMap?: string; msg?: string }>;
  subscriptionData?: Record<string, unknown>;
  filterData?: string;
  /** Why no entries came back (the index is outside the queue), when none did. */
  remark?: string;
}

export type { AckMessageRequestHeader, PopMessageRequestHeader };
