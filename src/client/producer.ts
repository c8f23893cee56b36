import { deflateSync } from 'node:zlib';
import { encodeProperties } from '../common/properties.js';
import { MessageConst } from '../common/message-const.js';
import { localIPv4, MessageIdGenerator } from '../common/message-id.js';
import { MessageSysFlag } from '../common/sysflag.js';
import { getReplyTopic, isDLQTopic, isNotAllowedSendTopic, isRetryTopic, SystemTopic, validateGroup, validateTopic } from '../common/topic.js';
import { decodeRecallHandle } from '../common/recall-handle.js';
import { createLogger, type Logger } from '../common/logger.js';
import { MQBrokerError, RequestCode, ResponseCode } from '../remoting/index.js';
import { ClientErrorCode, isRetriable, MQClientError } from './errors.js';
import type { HeartbeatData, SendMessageRequestHeader } from './headers.js';
import { buildMessageProperties, encodeBatchBody, type BatchEntry, type Message, type MessageExt } from './message.js';
import { isReplyMessage, receiveReplyMessage } from './request-reply.js';
import { RequestFutureHolder, type RequestCallback } from './request-future-holder.js';
import { MQClientAPI, type SendResult } from './mq-client-api.js';
import { NamesrvAddressList } from './namesrv-list.js';
import type { MessageQueue } from './route.js';
import { AsyncTraceDispatcher } from './trace/trace-dispatcher.js';
import { LatencyFaultTolerance } from './latency-fault-tolerance.js';
import { javaStringHashCode } from '../common/java.js';
import { DEFAULT_TRACE_TOPIC, TraceMessageType } from './trace/trace-data.js';
import { ProduceAccumulator, type AccumulatorLimits } from './produce-accumulator.js';
import { adaptDefaultTopicRoute, topicRouteData2TopicPublishInfo, type TopicPublishInfo } from './topic-publish-info.js';
import { checkNamespace, queueWithNamespace, queueWithoutNamespace, wrapNamespace } from './namespace.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';

export interface ProducerOptions {
  /** Producer group (matters for transactions only). Default `DEFAULT_PRODUCER`. */
  group?: string;
  /**
   * Client namespace (upstream `ClientConfig.namespace`): the group and every topic are
   * `<namespace>%<name>` on the wire (system topics excepted); send results and the queues
   * handed to selectors name the plain topic. Default none.
   */
  namespace?: string;
  /** `host:9876;host2:9876`; defaults to the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  /** Total time for one send, retries included (ms). Default 3000. */
  sendMsgTimeout?: number;
  /** Extra attempts, each on another broker when there is one. Default 2. */
  retryTimesWhenSendFailed?: number;
  /**
   * A send stored but answered FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE is
   * tried again on another broker (within the retries), as upstream's option. Default false: the
   * answer is returned as it is (the message is stored; only its durability is in doubt).
   */
  retryAnotherBrokerWhenNotStoreOK?: boolean;
  /** Bodies of at least this many bytes are zlib-compressed (single messages only). Default 4096. */
  compressMsgBodyOverHowmuch?: number;
  /** zlib level. Default 5, as upstream. */
  compressLevel?: number;
  /** Largest body accepted (bytes). Default 4 MiB. */
  maxMessageSize?: number;
  /** Queues a topic auto-created from the template gets. Default 4. */
  defaultTopicQueueNums?: number;
  /** Template topic for auto-creation. Default TBW102. */
  createTopicKey?: string;
  /** Route refresh period (ms). Default 30000. */
  pollNameServerInterval?: number;
  /** Heartbeat period to the brokers in use (ms). Default 30000. */
  heartbeatBrokerInterval?: number;
  /** Request header serialization. Default ROCKETMQ (binary). */
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** ACL credentials every request is signed with (upstream `AclClientRPCHook`); needed when the broker has authenticationEnabled. */
  sessionCredentials?: SessionCredentials;
  /** Share an MQClientAPI (and its connections); by default the producer owns one. */
  api?: MQClientAPI;
  clientIP?: string;
  instanceName?: string;
  logger?: Logger;
  /**
   * Avoid for a while a broker whose send failed or was slow (upstream `sendLatencyFaultEnable`).
   * Default false, as upstream: a failed send is still retried on another broker, but the next
   * send goes round robin over every broker again.
   */
  sendLatencyFaultEnable?: boolean;
  /** Write a trace record of every send to the trace topic (upstream `enableMsgTrace`). */
  enableTrace?: boolean;
  /** Topic of trace records (default RMQ_SYS_TRACE_TOPIC). */
  traceTopic?: string;
  /**
   * Batch single sends made close together into one request (upstream 5.x `autoBatch`); each
   * send still resolves with its own message's result. Default false. Messages with a delay or
   * delivery time, retry topics, transaction halves, bodies that would be compressed, and sends
   * with a selector, sharding key or timeout of their own always go alone.
   */
  autoBatch?: boolean;
  /** autoBatch: longest a message is held for others (ms), 0-30000; 0 batches only the sends of one event-loop turn. Default 10. */
  batchMaxDelayMs?: number;
  /** autoBatch: a batch leaves once its bodies exceed this (bytes), 1 B-2 MiB. Default 32 KiB. */
  batchMaxBytes?: number;
  /** autoBatch: bodies held in all batches at most (bytes); past it sends go alone. Default 32 MiB. */
  totalBatchMaxBytes?: number;
}

export interface SendOptions {
  /** Overrides sendMsgTimeout for this send. */
  timeout?: number;
  /** Send to this queue (no retry on another broker). */
  queue?: MessageQueue;
  /** Picks the queue (upstream `MessageQueueSelector`); called with `arg`. No retry on another broker. */
  selector?: (queues: readonly MessageQueue[], msg: Message, arg: unknown) => MessageQueue;
  arg?: unknown;
  /** Same key, same queue (upstream `SelectMessageQueueByHash`): for partition-ordered messages. */
  shardingKey?: string;
}

/** How `Producer.request` sends its request: the send options that make sense for one message. */
export type RequestOptions = Pick<SendOptions, 'timeout' | 'queue' | 'selector' | 'arg' | 'shardingKey'>;

function isRequestCallback(v: unknown): v is RequestCallback {
  return typeof v === 'object' && v !== null && typeof (v as RequestCallback).onSuccess === 'function' && typeof (v as RequestCallback).onException === 'function';
}

const DEFAULT_PRODUCER_GROUP = 'DEFAULT_PRODUCER';

/** What one send() puts on the wire, computed once before the retry loop. */
interface PreparedSend {
  topic: string;
  body: Buffer;
  sysFlag: number;
  flag: number;
  properties: string;
  /** SendResult.msgId: the UNIQ_KEY, comma-joined for a batch. */
  msgId: string;
  batch: boolean;
  /** A reply (MSG_TYPE=reply): sent as SEND_REPLY_MESSAGE_V2. */
  reply?: boolean;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
}

let instanceCounter = 0;

/**
 * A lean producer (upstream `DefaultMQProducer`): routes cached per topic and refreshed every
 * 30 s, TBW102 fallback for topics without a route, round-robin over the masters' write queues,
 * retries on another broker for retriable failures within the total timeout, zlib for large
 * bodies, batches.
 */
export class Producer {
  /** The group as the brokers know it: wrapped in the namespace, if any (as upstream after start). */
  readonly group: string;
  /** The client namespace, undefined when there is none. */
  readonly namespace: string | undefined;
  readonly clientId: string;
  private readonly api: MQClientAPI;
  private readonly ownsApi: boolean;
  private readonly namesrv: NamesrvAddressList;
  private readonly ids: MessageIdGenerator;
  private readonly log: Logger;
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  private readonly routeInflight = new Map<string, Promise<TopicPublishInfo | undefined>>();
  private readonly sendMsgTimeout: number;
  private readonly retryTimes: number;
  private readonly retryAnotherBrokerWhenNotStoreOK: boolean;
  private readonly compressOver: number;
  private readonly compressLevel: number;
  private readonly maxMessageSize: number;
  private readonly defaultTopicQueueNums: number;
  private readonly createTopicKey: string;
  private readonly pollInterval: number;
  private readonly heartbeatInterval: number;
  private routeTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private unregisterConnect?: () => void;
  private unregisterReply?: () => void;
  private readonly requests = RequestFutureHolder.instance;
  private state: 'created' | 'running' | 'shutdown' = 'created';
  private readonly trace?: AsyncTraceDispatcher;
  private readonly faults?: LatencyFaultTolerance;
  private readonly accumulator?: ProduceAccumulator;

  constructor(opts: ProducerOptions = {}) {
    this.namespace = checkNamespace(opts.namespace);
    this.group = wrapNamespace(this.namespace, opts.group ?? DEFAULT_PRODUCER_GROUP);
    const groupProblem = validateGroup(this.group);
    if (groupProblem) throw new MQClientError(groupProblem, ClientErrorCode.ARGUMENT_ILLEGAL);
    this.namesrv = new NamesrvAddressList(opts.namesrvAddr ?? process.env.NAMESRV_ADDR);
    this.api = opts.api ?? new MQClientAPI({ serializeType: opts.serializeType, sessionCredentials: opts.sessionCredentials });
    this.ownsApi = !opts.api;
    const ip = opts.clientIP ?? localIPv4();
    this.ids = new MessageIdGenerator(ip);
    this.clientId = `${ip}@${opts.instanceName ?? `${process.pid}#${++instanceCounter}`}`;
    this.sendMsgTimeout = opts.sendMsgTimeout ?? 3000;
    this.retryTimes = Math.max(0, opts.retryTimesWhenSendFailed ?? 2);
    this.retryAnotherBrokerWhenNotStoreOK = opts.retryAnotherBrokerWhenNotStoreOK ?? false;
    this.compressOver = opts.compressMsgBodyOverHowmuch ?? 4096;
    this.compressLevel = opts.compressLevel ?? 5;
    this.maxMessageSize = opts.maxMessageSize ?? 4 * 1024 * 1024;
    this.defaultTopicQueueNums = opts.defaultTopicQueueNums ?? 4;
    this.createTopicKey = opts.createTopicKey ?? SystemTopic.AUTO_CREATE_TOPIC_KEY;
    this.pollInterval = opts.pollNameServerInterval ?? 30_000;
    this.heartbeatInterval = opts.heartbeatBrokerInterval ?? 30_000;
    this.log = opts.logger ?? createLogger('producer', { group: this.group });
    if (opts.sendLatencyFaultEnable === true) this.faults = new LatencyFaultTolerance();
    if (opts.autoBatch) {
      const limits = batchLimits(opts);
      // A batch must also encode within maxMessageSize: bodies past half of it leave at once.
      limits.maxBytes = Math.min(limits.maxBytes, Math.floor(this.maxMessageSize / 2));
      this.accumulator = new ProduceAccumulator(limits, (msgs, queue) => this.sendOnce(msgs.length === 1 ? msgs[0]! : msgs, queue ? { queue } : {}));
    }
    if (opts.enableTrace) {
      // Trace records go to the cluster's trace topic, outside any namespace (upstream gives the trace producer namespaceV2 only).
      const inner = new Producer({ ...opts, namespace: undefined, group: `_INNER_TRACE_PRODUCER-${this.group}`, enableTrace: false, api: undefined, instanceName: `${this.clientId.split('@')[1]}-trace` });
      this.trace = new AsyncTraceDispatcher(inner, opts.traceTopic ?? DEFAULT_TRACE_TOPIC, this.log);
    }
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new MQClientError(`producer ${this.group} was already ${this.state === 'running' ? 'started' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    if (this.namesrv.list.length === 0) {
      throw new MQClientError('no NameServer address: pass namesrvAddr (host:9876;host2:9876) or set the NAMESRV_ADDR environment variable', ClientErrorCode.NO_NAMESRV);
    }
    this.state = 'running';
    this.routeTimer = setInterval(() => void this.refreshAllRoutes(), this.pollInterval);
    this.routeTimer.unref();
    this.heartbeatTimer = setInterval(() => void this.sendHeartbeatToAllBrokers(), this.heartbeatInterval);
    this.heartbeatTimer.unref();
    // As upstream 5.x (enableHeartbeatChannelEventListener): a new connection to one of our
    // brokers carries a heartbeat first, so the broker knows the group from the first send on
    // (producerConnection, and the transaction check-back that needs a producer channel).
    this.unregisterConnect = this.api.onConnect((addr) => {
      if (this.state === 'running' && this.brokerAddrs().has(addr)) void this.sendHeartbeat(addr);
    });
    // Replies to this producer's requests come back on its connections (upstream ClientRemotingProcessor).
    this.unregisterReply = this.api.registerRequestHandler(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, (req) => receiveReplyMessage(req, this.requests, this.log, this.namespace));
    await this.trace?.start();
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'shutdown';
      return;
    }
    // Sends held for a batch leave now, and trace records of the last sends before the producer goes.
    await this.accumulator?.drain();
    await this.trace?.shutdown();
    this.state = 'shutdown';
    clearInterval(this.routeTimer);
    clearInterval(this.heartbeatTimer);
    this.unregisterConnect?.();
    this.unregisterReply?.();
    this.requests.close(this);
    await Promise.all([...this.brokerAddrs()].map((addr) =>
      this.api.unregisterClient(addr, this.clientId, this.group, undefined, 1000).catch(() => undefined)));
    if (this.ownsApi) await this.api.shutdown();
  }

  /** Sends one message, or a batch when given an array (same topic, no delay, never compressed). */
  send(msg: Message | readonly Message[], opts: SendOptions = {}): Promise<SendResult> {
    // Not async: each async layer a send passes through costs a promise and microtask hops.
    return this.trace ? this.sendTraced(msg, opts) : this.sendImpl(msg, opts);
  }

  private async sendTraced(msg: Message | readonly Message[], opts: SendOptions): Promise<SendResult> {
    const begin = Date.now();
    const msgs: readonly Message[] = Array.isArray(msg) ? (msg as readonly Message[]) : [msg as Message];
    try {
      const r = await this.sendImpl(msg, opts);
      this.tracePub(msgs, begin, r);
      return r;
    } catch (err) {
      this.tracePub(msgs, begin, undefined);
      throw err;
    }
  }

  /** One `Pub` trace record per message (upstream `SendMessageTraceHookImpl`); the trace is keyed by message id and keys. */
  private tracePub(msgs: readonly Message[], begin: number, r: SendResult | undefined): void {
    const ids = r ? r.msgId.split(',') : [];
    const offsetIds = r ? r.offsetMsgId.split(',') : [];
    const cost = Date.now() - begin;
    msgs.forEach((m, i) => {
      const msgId = ids[i] ?? m.uniqKey ?? '';
      this.trace!.add({
        type: 'Pub', timestamp: begin, regionId: r?.regionId ?? 'DefaultRegion', group: this.group, topic: m.topic, msgId,
        tags: m.tags ?? '', keys: m.keys.join(' '), storeHost: r ? this.brokerAddrByName(r.messageQueue.brokerName) ?? '' : '',
        bodyLength: m.body.length, costTime: cost, msgType: m.delayTimeLevel > 0 ? TraceMessageType.DELAY : TraceMessageType.NORMAL,
        offsetMsgId: offsetIds[i] ?? '', success: r !== undefined && r.sendStatus === 'SEND_OK',
      }, [msgId, ...m.keys]);
    });
  }

  /** The queue a selector or sharding key picks, or undefined for the default round robin. */
  private selectedQueue(queues: readonly MessageQueue[], msg: Message | readonly Message[], opts: SendOptions): MessageQueue | undefined {
    if (!opts.selector && opts.shardingKey === undefined) return undefined;
    if (queues.length === 0) throw new MQClientError('the topic has no writable queue to select from', ClientErrorCode.NO_ROUTE);
    const first = Array.isArray(msg) ? (msg as readonly Message[])[0]! : (msg as Message);
    if (opts.selector) {
      // As upstream: the selector sees the queues by the application's topic name; its pick is wrapped again.
      const ns = this.namespace;
      const offered = ns === undefined ? queues : queues.map((q) => queueWithoutNamespace(ns, q));
      const mq = opts.selector(offered, first, opts.arg);
      if (!mq || !offered.some((q) => q.topic === mq.topic && q.brokerName === mq.brokerName && q.queueId === mq.queueId)) {
        throw new MQClientError('the selector returned a queue that is not one of the topic\'s write queues', ClientErrorCode.ARGUMENT_ILLEGAL);
      }
      return queueWithNamespace(ns, mq);
    }
    return queues[Math.abs(javaStringHashCode(opts.shardingKey!)) % queues.length];
  }

  /** Address of a master of `brokerName` known from the routes of this producer's topics. */
  protected brokerAddress(brokerName: string): string | undefined {
    return this.brokerAddrByName(brokerName);
  }

  private brokerAddrByName(brokerName: string): string | undefined {
    for (const info of this.publishInfo.values()) {
      try {
        return this.brokerAddrOf(info, brokerName);
      } catch {
        // not in this route
      }
    }
    return undefined;
  }

  /** Errors come back as rejections, never thrown: sendOnce and sendChunks are async. */
  private sendImpl(msg: Message | readonly Message[], opts: SendOptions): Promise<SendResult> {
    if (Array.isArray(msg)) {
      let chunks: Message[][];
      try {
        chunks = this.splitBatch(msg as readonly Message[]);
      } catch (err) {
        return Promise.reject(err);
      }
      if (chunks.length > 1) return this.sendChunks(chunks, opts);
    } else if (this.accumulator !== undefined && this.state === 'running' && this.canBatch(msg as Message, opts)) {
      const held = this.accumulator.add(msg as Message, opts.queue);
      if (held !== undefined) return held;
    }
    return this.sendOnce(msg, opts);
  }

  /**
   * autoBatch: whether a single send may wait for others (upstream `canBatch`, plus what a
   * batch cannot carry here). A message that would fail its checks goes alone, so that its
   * error is its own and not its batch's.
   */
  private canBatch(msg: Message, opts: SendOptions): boolean {
    if (opts.selector !== undefined || opts.shardingKey !== undefined || opts.timeout !== undefined) return false;
    if (msg.delayTimeLevel > 0 || msg.deliverTimeMs !== undefined) return false;
    if (msg.getProperty(MessageConst.TIMER_DELAY_SEC) !== undefined || msg.getProperty(MessageConst.TIMER_DELAY_MS) !== undefined) return false;
    if (msg.getProperty(MessageConst.PRODUCER_GROUP) !== undefined || msg.getProperty(MessageConst.TRANSACTION_PREPARED) === 'true') return false;
    if (isRetryTopic(msg.topic) || msg.body.length >= this.compressOver) return false;
    // A reply goes alone: only SEND_REPLY_MESSAGE makes the broker push it to its requester.
    if (isReplyMessage(msg)) return false;
    if (opts.queue !== undefined && opts.queue.topic !== msg.topic) return false;
    try {
      this.checkTopicAndBody(msg.topic, msg.body.length);
    } catch {
      return false;
    }
    return true;
  }

  /**
   * Cuts a batch into pieces that each encode within maxMessageSize (upstream's advice, done
   * here): a single message over the limit is still refused by the size check.
   */
  private splitBatch(msgs: readonly Message[]): Message[][] {
    const chunks: Message[][] = [];
    let cur: Message[] = [];
    let size = 0;
    for (const m of msgs) {
      // Batch entry: TOTALSIZE, MAGIC, BODYCRC, FLAG, BODYLEN (20) + body + PROPLEN (2) + properties.
      const entry = 22 + m.body.length + Buffer.byteLength(buildMessageProperties(m, this.ids), 'utf8');
      if (cur.length > 0 && size + entry > this.maxMessageSize) {
        chunks.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(m);
      size += entry;
    }
    if (cur.length > 0) chunks.push(cur);
    return chunks;
  }

  /** Sends the pieces of a split batch in order; one result with every id, as for a single batch. */
  private async sendChunks(chunks: Message[][], opts: SendOptions): Promise<SendResult> {
    const results: SendResult[] = [];
    for (const c of chunks) results.push(await this.sendOnce(c, opts));
    const first = results[0]!;
    const notOk = results.find((r) => r.sendStatus !== 'SEND_OK');
    return {
      ...first,
      sendStatus: notOk ? notOk.sendStatus : first.sendStatus,
      msgId: results.map((r) => r.msgId).join(','),
      offsetMsgId: results.map((r) => r.offsetMsgId).join(','),
    };
  }

  private async sendOnce(msg: Message | readonly Message[], opts: SendOptions): Promise<SendResult> {
    this.checkRunning();
    const begin = Date.now();
    const timeout = opts.timeout ?? this.sendMsgTimeout;
    const p = Array.isArray(msg) ? this.prepareBatch(msg as readonly Message[]) : this.prepareOne(msg as Message);
    let info = this.publishInfo.get(p.topic);
    if (info === undefined || !info.ok()) info = await this.findTopicPublishInfo(p.topic);
    const queue = opts.queue && queueWithNamespace(this.namespace, opts.queue);
    if (queue) checkQueueOfTopic(queue, p.topic);
    const chosen = queue ?? this.selectedQueue(info.messageQueueList, msg, opts);
    const attempts = chosen ? 1 : 1 + this.retryTimes;
    let lastBrokerName: string | undefined;
    let lastErr: unknown;
    let notStored: SendResult | undefined;
    const available = this.faults ? (b: string): boolean => this.faults!.isAvailable(b) : undefined;
    for (let i = 0; i < attempts; i++) {
      const mq = chosen ?? (available ? info.selectOneMessageQueue(lastBrokerName, available) : info.selectOneMessageQueue(lastBrokerName));
      // The first attempt starts at `begin`: one clock read per send instead of three.
      const sentAt = i === 0 ? begin : Date.now();
      const left = timeout - (sentAt - begin);
      if (left <= 0) break;
      try {
        const addr = this.brokerAddrOf(info, mq.brokerName);
        const r = await this.sendKernel(addr, mq, p, left, sentAt);
        this.faults?.update(mq.brokerName, Date.now() - sentAt, false);
        // As upstream processSendResponse: the result names the queue by the application's topic.
        if (this.namespace !== undefined) r.messageQueue = queueWithoutNamespace(this.namespace, r.messageQueue);
        // Stored but not as durable as asked (flush or slave timeout): upstream may try another broker.
        if (r.sendStatus !== 'SEND_OK' && this.retryAnotherBrokerWhenNotStoreOK && i < attempts - 1) {
          notStored = r;
          lastBrokerName = mq.brokerName;
          continue;
        }
        return r;
      } catch (err) {
        lastErr = err;
        this.faults?.update(mq.brokerName, Date.now() - sentAt, true);
        if (!isRetriable(err)) throw err;
        lastBrokerName = mq.brokerName;
        this.log.debug({ err, attempt: i + 1, brokerName: mq.brokerName }, 'send failed, retrying on another broker');
      }
    }
    if (notStored) return notStored;
    if (Date.now() - begin >= timeout) {
      throw new MQClientError(`send to topic ${p.topic} did not succeed within ${timeout} ms${lastErr ? `; last error: ${(lastErr as Error).message}` : ''}`,
        ClientErrorCode.SEND_TIMEOUT, true, { cause: lastErr });
    }
    throw lastErr;
  }

  /**
   * Sends `msg` as a request and resolves with its reply (upstream `request(msg, timeout)`): a
   * consumer of the topic answers with `createReplyMessage(request, body)` and any producer's
   * `send`, and the broker pushes the reply here. `timeout` (sendMsgTimeout by default) bounds
   * the send and the wait together; past it the promise rejects with REQUEST_TIMEOUT, a failed
   * send with REQUEST_FAILED. `queue`, `selector` + `arg` or `shardingKey` pick the request's
   * queue (upstream's MessageQueue and MessageQueueSelector forms).
   */
  request(msg: Message, opts?: RequestOptions): Promise<MessageExt>;
  /**
   * The callback form (upstream `request(msg, requestCallback, timeout)`): returns at once;
   * `callback.onSuccess` gets the reply, `onException` the REQUEST_TIMEOUT or REQUEST_FAILED error.
   */
  request(msg: Message, callback: RequestCallback, opts?: RequestOptions): void;
  request(msg: Message, callbackOrOpts?: RequestCallback | RequestOptions, maybeOpts?: RequestOptions): Promise<MessageExt> | void {
    this.checkRunning();
    const callback = isRequestCallback(callbackOrOpts) ? callbackOrOpts : undefined;
    const opts = (callback ? maybeOpts : (callbackOrOpts as RequestOptions | undefined)) ?? {};
    const begin = Date.now();
    const timeout = opts.timeout ?? this.sendMsgTimeout;
    const { correlationId, reply } = this.requests.open(this, msg, this.clientId, timeout);
    this.prepareRequest(wrapNamespace(this.namespace, msg.topic))
      .then(() => this.send(msg, { ...opts, timeout: Math.max(1, timeout - (Date.now() - begin)) }))
      .then(() => this.requests.markSent(correlationId), (err: unknown) => this.requests.fail(correlationId, err));
    if (!callback) return reply;
    reply.then((r) => this.callBack(() => callback.onSuccess(r)), (err: Error) => this.callBack(() => callback.onException(err)));
  }

  /** Runs a request callback: what it throws is logged (as upstream's requestFail and timeout scan), never an unhandled rejection. */
  private callBack(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.log.warn(`a request callback threw: ${(err as Error).message}`);
    }
  }

  /**
   * Before the first request on `topic` (upstream `prepareSendRequest`): its route, and a
   * heartbeat to every broker known, so that whichever broker takes the reply can find this
   * producer's connection. The reply goes to any broker of the request's cluster (the replier
   * sends to `<cluster>_REPLY_TOPIC` like any topic), so the brokers of that topic are learnt and
   * told too; upstream reaches only those of the routes it happens to know.
   */
  private async prepareRequest(topic: string): Promise<void> {
    if (this.publishInfo.has(topic)) return;
    const info = await this.findTopicPublishInfo(topic);
    const clusters = new Set(info.route.brokerDatas.map((b) => b.cluster).filter((c) => c !== ''));
    await Promise.all([...clusters].map((c) => getReplyTopic(c)).filter((t) => !this.publishInfo.has(t)).map((t) =>
      this.updateTopicRouteInfo(t).catch((err: Error) => this.log.warn(`route of reply topic ${t} failed: ${err.message}`))));
    await this.sendHeartbeatToAllBrokers();
  }

  /** Sends without waiting for the broker (one attempt; the message is lost if the broker fails). */
  async sendOneway(msg: Message, opts: { queue?: MessageQueue } = {}): Promise<void> {
    this.checkRunning();
    const p = this.prepareOne(msg);
    let info = this.publishInfo.get(p.topic);
    if (info === undefined || !info.ok()) info = await this.findTopicPublishInfo(p.topic);
    const queue = opts.queue && queueWithNamespace(this.namespace, opts.queue);
    if (queue) checkQueueOfTopic(queue, p.topic);
    const mq = queue ?? info.selectOneMessageQueue();
    await this.api.sendOneway(this.brokerAddrOf(info, mq.brokerName), this.header(mq, p), p.body);
  }

  /**
   * Cancels a timer message (sent with a delivery time) before it is delivered, by the
   * `recallHandle` its send result carried (upstream `DefaultMQProducer.recallMessage`, 5.3);
   * resolves with the message id. A message already delivered, or a handle of another topic or
   * broker, is refused by the broker.
   */
  async recallMessage(userTopic: string, recallHandle: string): Promise<string> {
    this.checkRunning();
    const topic = wrapNamespace(this.namespace, userTopic);
    const problem = validateTopic(topic);
    if (problem) throw new MQClientError(problem, ClientErrorCode.ARGUMENT_ILLEGAL);
    if (isRetryTopic(topic) || isDLQTopic(topic)) throw new MQClientError(`topic ${topic} is not supported: messages of retry and dead-letter topics cannot be recalled`, ClientErrorCode.ARGUMENT_ILLEGAL);
    let brokerName: string;
    try {
      brokerName = decodeRecallHandle(recallHandle).brokerName;
    } catch (err) {
      throw new MQClientError(`${(err as Error).message}: pass the recallHandle of a timer message's SendResult`, ClientErrorCode.ARGUMENT_ILLEGAL);
    }
    const info = await this.findTopicPublishInfo(topic);
    // As upstream: the handle's broker, else any broker of the topic (which relays through a proxy).
    const addr = info.brokerAddr(brokerName) ?? info.messageQueueList.map((mq) => info.brokerAddr(mq.brokerName)).find((a) => a !== undefined);
    if (addr === undefined) throw new MQClientError(`The broker service address not found: broker ${brokerName} is not in the route of topic ${topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
    return this.api.recallMessage(addr, { producerGroup: this.group, topic, recallHandle, brokerName }, this.sendMsgTimeout);
  }

  /** The queues a send may pick for `topic` (after a route lookup if needed). */
  async fetchPublishMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.checkRunning();
    const info = await this.findTopicPublishInfo(wrapNamespace(this.namespace, topic));
    const ns = this.namespace;
    return ns === undefined ? [...info.messageQueueList] : info.messageQueueList.map((q) => queueWithoutNamespace(ns, q));
  }

  /**
   * Reloads the route of `topic` (its name on the wire: wrapped, when there is a namespace) from the NameServer; with `useDefault`, builds it from the TBW102
   * template instead. Returns undefined when the NameServer does not know the topic.
   */
  updateTopicRouteInfo(topic: string, useDefault = false): Promise<TopicPublishInfo | undefined> {
    const key = useDefault ? `${topic}\u0000default` : topic;
    let p = this.routeInflight.get(key);
    if (!p) {
      p = this.loadRoute(topic, useDefault).finally(() => this.routeInflight.delete(key));
      this.routeInflight.set(key, p);
    }
    return p;
  }

  private async loadRoute(topic: string, useDefault: boolean): Promise<TopicPublishInfo | undefined> {
    const lookup = useDefault ? this.createTopicKey : topic;
    let route;
    try {
      route = await this.namesrv.invoke((addr) => this.api.getTopicRouteInfoFromNameServer(addr, lookup));
    } catch (err) {
      if (err instanceof MQBrokerError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) return undefined;
      throw err;
    }
    const info = useDefault
      ? topicRouteData2TopicPublishInfo(topic, adaptDefaultTopicRoute(route, this.defaultTopicQueueNums), false)
      : topicRouteData2TopicPublishInfo(topic, route, true);
    // A template-derived route never replaces a real one.
    const old = this.publishInfo.get(topic);
    if (!useDefault || !old?.haveTopicRouterInfo || !old.ok()) this.publishInfo.set(topic, info);
    return info;
  }

  /** As upstream `tryToFindTopicPublishInfo`: the topic's own route, else the TBW102 template's. */
  private async findTopicPublishInfo(topic: string): Promise<TopicPublishInfo> {
    let info = this.publishInfo.get(topic);
    if (info === undefined || !info.ok()) {
      await this.updateTopicRouteInfo(topic);
      info = this.publishInfo.get(topic);
    }
    if (info === undefined || !info.ok()) {
      await this.updateTopicRouteInfo(topic, true);
      info = this.publishInfo.get(topic);
    }
    if (info === undefined || !info.ok()) {
      throw new MQClientError(
        `No route info of topic ${topic}: is a broker registered with the NameServer at ${this.namesrv.list.join(';')}, ` +
        `with the topic created or autoCreateTopicEnable=true?`,
        ClientErrorCode.NO_ROUTE, true);
    }
    return info;
  }

  private brokerAddrOf(info: TopicPublishInfo, brokerName: string): string {
    const addr = info.brokerAddr(brokerName);
    if (addr === undefined) {
      throw new MQClientError(`broker ${brokerName} has no master address in the route of topic ${info.messageQueueList[0]?.topic ?? ''}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
    }
    return addr;
  }

  /** `bornTimestamp` is the clock read the send attempt starts with (upstream reads it when building the header, as close). */
  private header(mq: MessageQueue, p: PreparedSend, bornTimestamp = Date.now()): SendMessageRequestHeader {
    return {
      producerGroup: this.group,
      topic: p.topic,
      defaultTopic: this.createTopicKey,
      defaultTopicQueueNums: this.defaultTopicQueueNums,
      queueId: mq.queueId,
      sysFlag: p.sysFlag,
      bornTimestamp,
      flag: p.flag,
      properties: p.properties,
      reconsumeTimes: p.reconsumeTimes ?? 0,
      unitMode: false,
      maxReconsumeTimes: p.maxReconsumeTimes,
      batch: p.batch,
      brokerName: mq.brokerName,
    };
  }

  private sendKernel(addr: string, mq: MessageQueue, p: PreparedSend, timeoutMs: number, sentAt: number): Promise<SendResult> {
    const header = this.header(mq, p, sentAt);
    return p.batch
      ? this.api.sendBatch(addr, mq.brokerName, header, p.body, timeoutMs, p.msgId)
      : this.api.sendMessage(addr, mq.brokerName, header, p.body, timeoutMs, p.msgId, p.reply === true);
  }

  private checkTopicAndBody(topic: string, bodyLength: number): void {
    const problem = validateTopic(topic);
    if (problem) throw new MQClientError(problem, ClientErrorCode.MESSAGE_ILLEGAL);
    if (isNotAllowedSendTopic(topic)) throw new MQClientError(`sending a message to topic ${topic} is forbidden: it is a system topic`, ClientErrorCode.MESSAGE_ILLEGAL);
    if (bodyLength === 0) throw new MQClientError('the message body is empty', ClientErrorCode.MESSAGE_ILLEGAL);
    if (bodyLength > this.maxMessageSize) {
      throw new MQClientError(`the message body is ${bodyLength} bytes; at most ${this.maxMessageSize} (maxMessageSize) are allowed`, ClientErrorCode.MESSAGE_ILLEGAL);
    }
  }

  private prepareOne(msg: Message): PreparedSend {
    // As upstream `msg.setTopic(withNamespace(...))`, without changing the application's message.
    const topic = this.namespace === undefined ? msg.topic : wrapNamespace(this.namespace, msg.topic);
    this.checkTopicAndBody(topic, msg.body.length);
    let body = msg.body;
    let sysFlag = 0;
    if (body.length >= this.compressOver) {
      body = deflateSync(body, { level: this.compressLevel });
      sysFlag |= MessageSysFlag.COMPRESSED_FLAG | MessageSysFlag.COMPRESSION_ZLIB;
    }
    // As upstream: a message marked TRAN_MSG is sent as a prepared (half) transaction message.
    if (msg.getProperty(MessageConst.TRANSACTION_PREPARED) === 'true') sysFlag |= MessageSysFlag.TRANSACTION_PREPARED_TYPE;
    const properties = buildMessageProperties(msg, this.ids);
    const p: PreparedSend = {
      topic,
      body,
      sysFlag,
      flag: msg.flag,
      properties,
      msgId: msg.uniqKey!,
      batch: false,
    };
    if (isReplyMessage(msg)) p.reply = true;
    if (isRetryTopic(msg.topic)) {
      const rt = msg.getProperty(MessageConst.RECONSUME_TIME);
      const max = msg.getProperty(MessageConst.MAX_RECONSUME_TIMES);
      if (rt !== undefined) p.reconsumeTimes = Number(rt) || 0;
      if (max !== undefined) p.maxReconsumeTimes = Number(max) || 0;
    }
    return p;
  }

  private prepareBatch(msgs: readonly Message[]): PreparedSend {
    const first = msgs[0];
    if (!first) throw new MQClientError('a batch needs at least one message', ClientErrorCode.MESSAGE_ILLEGAL);
    const topic = first.topic;
    const wireTopic = wrapNamespace(this.namespace, topic);
    const wait = first.waitStoreMsgOK;
    const entries: BatchEntry[] = new Array(msgs.length);
    const ids: string[] = new Array(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (m.topic !== topic) throw new MQClientError(`all messages of a batch must have one topic: ${m.topic} differs from ${topic}`, ClientErrorCode.MESSAGE_ILLEGAL);
      if (isRetryTopic(m.topic)) throw new MQClientError('retry-group topics are not supported for batching', ClientErrorCode.MESSAGE_ILLEGAL);
      if (m.delayTimeLevel > 0) throw new MQClientError('delay levels are not supported for batching', ClientErrorCode.MESSAGE_ILLEGAL);
      if (m.waitStoreMsgOK !== wait) throw new MQClientError('all messages of a batch must have the same waitStoreMsgOK', ClientErrorCode.MESSAGE_ILLEGAL);
      this.checkTopicAndBody(wireTopic, m.body.length);
      entries[i] = { flag: m.flag, body: m.body, properties: buildMessageProperties(m, this.ids) };
      ids[i] = m.uniqKey!;
    }
    const body = encodeBatchBody(entries);
    if (body.length > this.maxMessageSize) {
      throw new MQClientError(`the batch encodes to ${body.length} bytes; at most ${this.maxMessageSize} (maxMessageSize) are allowed: split it`, ClientErrorCode.MESSAGE_ILLEGAL);
    }
    // The batch's own properties, as upstream's MessageBatch: WAIT of its messages and a UNIQ_KEY.
    const batchProps = new Map<string, string>([
      [MessageConst.WAIT_STORE_MSG_OK, wait ? 'true' : 'false'],
      [MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, this.ids.next()],
    ]);
    return { topic: wireTopic, body, sysFlag: 0, flag: 0, properties: encodeProperties(batchProps), msgId: ids.join(','), batch: true };
  }

  private checkRunning(): void {
    if (this.state !== 'running') {
      throw new MQClientError(`producer ${this.group} is ${this.state === 'created' ? 'not started: call start() first' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    }
  }

  private brokerAddrs(): Set<string> {
    const out = new Set<string>();
    for (const info of this.publishInfo.values()) for (const a of info.brokerAddrs.values()) out.add(a);
    return out;
  }

  private async refreshAllRoutes(): Promise<void> {
    await Promise.all([...this.publishInfo.keys()].map((topic) =>
      this.updateTopicRouteInfo(topic).catch((err: Error) => this.log.warn(`route refresh of topic ${topic} failed: ${err.message}`))));
  }

  private async sendHeartbeatToAllBrokers(): Promise<void> {
    await Promise.all([...this.brokerAddrs()].map((addr) => this.sendHeartbeat(addr)));
  }

  private sendHeartbeat(addr: string): Promise<void> {
    const data: HeartbeatData = { clientID: this.clientId, producerDataSet: [{ groupName: this.group }], consumerDataSet: [] };
    return this.api.sendHeartbeat(addr, data).then(() => undefined, (err: Error) => this.log.warn(`heartbeat to broker ${addr} failed: ${err.message}`));
  }
}

/** The autoBatch limits of `opts`, checked as upstream checks them (0 ms is ours: one event-loop turn). */
function batchLimits(opts: ProducerOptions): AccumulatorLimits {
  const maxDelayMs = opts.batchMaxDelayMs ?? 10;
  const maxBytes = opts.batchMaxBytes ?? 32 * 1024;
  const totalMaxBytes = opts.totalBatchMaxBytes ?? 32 * 1024 * 1024;
  if (!Number.isInteger(maxDelayMs) || maxDelayMs < 0 || maxDelayMs > 30_000) {
    throw new MQClientError(`batchMaxDelayMs must be an integer from 0 to 30000 ms, got ${maxDelayMs}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > 2 * 1024 * 1024) {
    throw new MQClientError(`batchMaxBytes must be an integer from 1 byte to 2 MiB, got ${maxBytes}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
  if (!Number.isInteger(totalMaxBytes) || totalMaxBytes < 1) {
    throw new MQClientError(`totalBatchMaxBytes must be a positive integer, got ${totalMaxBytes}`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
  return { maxDelayMs, maxBytes, totalMaxBytes };
}

/** As upstream ("message's topic not equal mq's topic"): a send to a chosen queue must name its topic. */
function checkQueueOfTopic(queue: MessageQueue, topic: string): void {
  if (queue.topic !== topic) {
    throw new MQClientError(`queue ${queue.topic}/${queue.brokerName}/${queue.queueId} is not a queue of topic ${topic}; pick a queue from fetchPublishMessageQueues('${topic}')`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
}
