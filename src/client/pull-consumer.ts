import { buildPullSysFlag } from '../common/sysflag.js';
import { createLogger, type Logger } from '../common/logger.js';
import { masterAddrOf, type TopicRouteData } from '../common/route.js';
import { ExpressionType, SUB_ALL, type ExpressionTypeValue } from '../common/subscription.js';
import { MQBrokerError, ResponseCode } from '../remoting/index.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { checkGroup } from './consumer-core.js';
import type { SearchOffsetBoundaryType } from './headers.js';
import { MQClientAPI, type PullResult } from './mq-client-api.js';
import { NamesrvAddressList } from './namesrv-list.js';
import type { MessageQueue } from './route.js';
import { topicRouteData2TopicSubscribeInfo } from './topic-publish-info.js';
import { checkNamespace, queueWithNamespace, queueWithoutNamespace, withoutNamespace, wrapNamespace } from './namespace.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';

export interface PullConsumerOptions {
  /** Consumer group; offsets are stored per group. */
  group: string;
  /**
   * Client namespace (upstream `ClientConfig.namespace`): group and topics are
   * `<namespace>%<name>` on the wire; queues and pulled messages name the plain topic. Default none.
   */
  namespace?: string;
  /** `host:9876;host2:9876`; defaults to the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** ACL credentials every request is signed with (upstream `AclClientRPCHook`); needed when the broker has authenticationEnabled. */
  sessionCredentials?: SessionCredentials;
  /** Share an MQClientAPI (and its connections); by default the consumer owns one. */
  api?: MQClientAPI;
  /** Route refresh period (ms). Default 30000. */
  pollNameServerInterval?: number;
  logger?: Logger;
}

export interface PullOptions {
  /** Let the broker hold the request until a message arrives (long polling). Default false. */
  suspend?: boolean;
  /** Longest the broker may hold a suspended pull (ms). Default 20000, or timeout − 1000. */
  suspendTimeoutMs?: number;
  /** RPC timeout (ms). Default 10000; 30000 when suspended. */
  timeout?: number;
  /** Also store this consumer offset on the broker (PullSysFlag commit bit). */
  commitOffset?: number;
  expressionType?: ExpressionTypeValue;
}

interface TopicRoute {
  route: TopicRouteData;
  /** brokerName → master address. */
  masters: Map<string, string>;
}

/**
 * A minimal pull consumer (upstream `DefaultMQPullConsumer`, reduced): the caller chooses queues
 * and offsets; the consumer finds brokers through the NameServer, pulls, and reads or stores
 * offsets on the broker.
 */
export class PullConsumer {
  /** The group as the brokers know it: wrapped in the namespace, if any. */
  readonly group: string;
  /** The client namespace, undefined when there is none. */
  readonly namespace: string | undefined;
  private readonly api: MQClientAPI;
  private readonly ownsApi: boolean;
  private readonly namesrv: NamesrvAddressList;
  private readonly routes = new Map<string, TopicRoute>();
  private readonly routeInflight = new Map<string, Promise<TopicRoute>>();
  private readonly pollInterval: number;
  private readonly log: Logger;
  private routeTimer?: NodeJS.Timeout;
  private state: 'created' | 'running' | 'shutdown' = 'created';

  constructor(opts: PullConsumerOptions) {
    this.namespace = checkNamespace(opts.namespace);
    this.group = wrapNamespace(this.namespace, opts.group);
    checkGroup(this.group);
    this.namesrv = new NamesrvAddressList(opts.namesrvAddr ?? process.env.NAMESRV_ADDR);
    this.api = opts.api ?? new MQClientAPI({ serializeType: opts.serializeType, sessionCredentials: opts.sessionCredentials });
    this.ownsApi = !opts.api;
    this.pollInterval = opts.pollNameServerInterval ?? 30_000;
    this.log = opts.logger ?? createLogger('pull-consumer', { group: this.group });
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new MQClientError(`consumer ${this.group} was already ${this.state === 'running' ? 'started' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    if (this.namesrv.list.length === 0) {
      throw new MQClientError('no NameServer address: pass namesrvAddr (host:9876;host2:9876) or set the NAMESRV_ADDR environment variable', ClientErrorCode.NO_NAMESRV);
    }
    this.state = 'running';
    this.routeTimer = setInterval(() => void this.refreshAllRoutes(), this.pollInterval);
    this.routeTimer.unref();
  }

  async shutdown(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'shutdown';
    if (!wasRunning) return;
    clearInterval(this.routeTimer);
    if (this.ownsApi) await this.api.shutdown();
  }

  /** The readable queues of `topic`, fresh from the NameServer. */
  async fetchSubscribeMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.checkRunning();
    const ns = this.namespace;
    const wire = wrapNamespace(ns, topic);
    const r = await this.loadRoute(wire);
    const mqs = topicRouteData2TopicSubscribeInfo(wire, r.route);
    if (mqs.length === 0) {
      throw new MQClientError(`topic ${topic} has no readable queue in its route`, ClientErrorCode.NO_ROUTE);
    }
    // As upstream `parseSubscribeMessageQueues`: the queues by the application's topic name.
    return ns === undefined ? mqs : mqs.map((mq) => queueWithoutNamespace(ns, mq));
  }

  /**
   * Pulls up to `maxNums` messages of `mq` from `offset`, filtered by `subExpression`
   * (`*` or `TagA || TagB`). The result's nextBeginOffset is where the next pull starts.
   */
  async pull(userMq: MessageQueue, subExpression: string | undefined, offset: number, maxNums: number, opts: PullOptions = {}): Promise<PullResult> {
    this.checkRunning();
    if (!Number.isInteger(offset) || offset < 0) throw new MQClientError(`pull offset ${offset} must be a non-negative integer`, ClientErrorCode.ARGUMENT_ILLEGAL);
    if (!Number.isInteger(maxNums) || maxNums <= 0) throw new MQClientError(`maxNums ${maxNums} must be a positive integer`, ClientErrorCode.ARGUMENT_ILLEGAL);
    const suspend = opts.suspend ?? false;
    let timeout = opts.timeout ?? (suspend ? 30_000 : 10_000);
    let suspendTimeoutMs = 0;
    if (suspend) {
      suspendTimeoutMs = opts.suspendTimeoutMs ?? (opts.timeout !== undefined ? Math.max(0, opts.timeout - 1000) : 20_000);
      if (opts.timeout === undefined) timeout = Math.max(timeout, suspendTimeoutMs + 10_000);
      if (timeout <= suspendTimeoutMs) {
        throw new MQClientError(`pull timeout ${timeout} ms must exceed the broker suspend time ${suspendTimeoutMs} ms`, ClientErrorCode.ARGUMENT_ILLEGAL);
      }
    }
    const mq = this.wire(userMq);
    const addr = await this.findBrokerAddr(mq);
    const result = await this.api.pullMessage(addr, {
      consumerGroup: this.group,
      topic: mq.topic,
      queueId: mq.queueId,
      queueOffset: offset,
      maxMsgNums: maxNums,
      sysFlag: buildPullSysFlag(opts.commitOffset !== undefined, suspend, true),
      commitOffset: opts.commitOffset ?? 0,
      suspendTimeoutMillis: suspendTimeoutMs,
      subscription: subExpression === undefined || subExpression.trim() === '' ? SUB_ALL : subExpression,
      subVersion: Date.now(),
      expressionType: opts.expressionType ?? ExpressionType.TAG,
    }, timeout);
    // As upstream DefaultMQPullConsumerImpl: pulled messages show the topic without the namespace.
    if (this.namespace !== undefined) for (const m of result.msgFoundList) m.topic = withoutNamespace(m.topic, this.namespace);
    return result;
  }

  /** `mq` as the brokers name it (upstream `queueWithNamespace`). */
  private wire(mq: MessageQueue): MessageQueue {
    return queueWithNamespace(this.namespace, mq);
  }

  /** The group's stored offset of `mq`, or -1 when it has none. */
  async queryConsumerOffset(userMq: MessageQueue): Promise<number> {
    this.checkRunning();
    const mq = this.wire(userMq);
    return this.api.queryConsumerOffset(await this.findBrokerAddr(mq), { consumerGroup: this.group, topic: mq.topic, queueId: mq.queueId });
  }

  /** Stores the group's offset of `mq` on the broker (oneway: without waiting for the answer). */
  async updateConsumerOffset(userMq: MessageQueue, offset: number, opts: { oneway?: boolean } = {}): Promise<void> {
    this.checkRunning();
    const mq = this.wire(userMq);
    const addr = await this.findBrokerAddr(mq);
    const header = { consumerGroup: this.group, topic: mq.topic, queueId: mq.queueId, commitOffset: offset };
    if (opts.oneway) await this.api.updateConsumerOffsetOneway(addr, header);
    else await this.api.updateConsumerOffset(addr, header);
  }

  async maxOffset(userMq: MessageQueue): Promise<number> {
    this.checkRunning();
    const mq = this.wire(userMq);
    return this.api.getMaxOffset(await this.findBrokerAddr(mq), mq.topic, mq.queueId);
  }

  async minOffset(userMq: MessageQueue): Promise<number> {
    this.checkRunning();
    const mq = this.wire(userMq);
    return this.api.getMinOffset(await this.findBrokerAddr(mq), mq.topic, mq.queueId);
  }

  async searchOffset(userMq: MessageQueue, timestamp: number, boundaryType?: SearchOffsetBoundaryType): Promise<number> {
    this.checkRunning();
    const mq = this.wire(userMq);
    return this.api.searchOffset(await this.findBrokerAddr(mq), mq.topic, mq.queueId, timestamp, boundaryType);
  }

  async earliestMsgStoreTime(userMq: MessageQueue): Promise<number> {
    this.checkRunning();
    const mq = this.wire(userMq);
    return this.api.getEarliestMsgStoretime(await this.findBrokerAddr(mq), mq.topic, mq.queueId);
  }

  /** The master address serving `mq`, from the cached route (loaded on first use). */
  async findBrokerAddr(userMq: MessageQueue): Promise<string> {
    const mq = this.wire(userMq);
    let r = this.routes.get(mq.topic);
    let addr = r?.masters.get(mq.brokerName);
    if (addr === undefined) {
      r = await this.loadRoute(mq.topic);
      addr = r.masters.get(mq.brokerName);
    }
    if (addr === undefined) {
      throw new MQClientError(`broker ${mq.brokerName} has no master address in the route of topic ${mq.topic}`, ClientErrorCode.NO_BROKER_ADDRESS, true);
    }
    return addr;
  }

  private loadRoute(topic: string): Promise<TopicRoute> {
    let p = this.routeInflight.get(topic);
    if (!p) {
      p = this.fetchRoute(topic).finally(() => this.routeInflight.delete(topic));
      this.routeInflight.set(topic, p);
    }
    return p;
  }

  private async fetchRoute(topic: string): Promise<TopicRoute> {
    let route: TopicRouteData;
    try {
      route = await this.namesrv.invoke((addr) => this.api.getTopicRouteInfoFromNameServer(addr, topic));
    } catch (err) {
      if (err instanceof MQBrokerError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
        throw new MQClientError(`No route info of topic ${topic}: has it been created, and is its broker registered with the NameServer at ${this.namesrv.list.join(';')}?`,
          ClientErrorCode.NO_ROUTE, true, { cause: err });
      }
      throw err;
    }
    const masters = new Map<string, string>();
    for (const bd of route.brokerDatas) {
      const a = masterAddrOf(bd);
      if (a) masters.set(bd.brokerName, a);
    }
    const r: TopicRoute = { route, masters };
    this.routes.set(topic, r);
    return r;
  }

  private async refreshAllRoutes(): Promise<void> {
    await Promise.all([...this.routes.keys()].map((topic) =>
      this.loadRoute(topic).catch((err: Error) => this.log.warn(`route refresh of topic ${topic} failed: ${err.message}`))));
  }

  private checkRunning(): void {
    if (this.state !== 'running') {
      throw new MQClientError(`consumer ${this.group} is ${this.state === 'created' ? 'not started: call start() first' : 'shut down'}`, ClientErrorCode.NOT_STARTED);
    }
  }
}
