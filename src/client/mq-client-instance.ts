import { createLogger, type Logger } from '../common/logger.js';
import { localIPv4 } from '../common/message-id.js';
import type { TopicRouteData } from '../common/route.js';
import { ExpressionType, type SubscriptionData } from '../common/subscription.js';
import { MQBrokerError, ResponseCode, ResponseCodeName } from '../remoting/index.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import type { HeartbeatData } from './headers.js';
import { MQClientAPI } from './mq-client-api.js';
import { NamesrvAddressList } from './namesrv-list.js';
import type { MessageQueue } from './route.js';
import { topicRouteData2TopicSubscribeInfo } from './topic-publish-info.js';
import type { SessionCredentials } from '../remoting/acl-signature.js';

/** Settings of an MQClientInstance. */
export interface MQClientInstanceOptions {
  /** `host:9876;host2:9876`; defaults to the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  /** Share an MQClientAPI (and its connections); by default the instance owns one. */
  api?: MQClientAPI;
  /** Request header serialization. Default ROCKETMQ (binary). */
  serializeType?: 'ROCKETMQ' | 'JSON';
  /** ACL credentials every request is signed with (upstream `AclClientRPCHook`); needed when the broker has authenticationEnabled. */
  sessionCredentials?: SessionCredentials;
  /** IP part of the client id. Default: this machine's first non-internal IPv4 address. */
  clientIP?: string;
  /** Instance part of the client id. Default: `<pid>#<counter>`, unique in the process. */
  instanceName?: string;
  /** Route refresh period (ms). Default 30000. */
  pollNameServerInterval?: number;
  /** Default: a child of the process logger named client-instance. */
  logger?: Logger;
}

let instanceCounter = 0;

/**
 * What a consumer needs from the cluster (a lean upstream `MQClientInstance`): its client id,
 * the routes of the topics it reads, broker addresses by name and id, the group's member list,
 * heartbeats and unregistration. One per consumer; it owns the connections unless given an API.
 */
export class MQClientInstance {
  /** `ip@instanceName`, the id brokers list the consumer under. */
  readonly clientId: string;
  /** IP part of the client id. */
  readonly clientIP: string;
  /** Instance part of the client id. */
  readonly instanceName: string;
  /** The Remoting calls, over this instance's connections. */
  readonly api: MQClientAPI;
  /** The NameServers, with fail-over. */
  readonly namesrv: NamesrvAddressList;
  private readonly ownsApi: boolean;
  private readonly log: Logger;
  private readonly routes = new Map<string, TopicRouteData>();
  /** brokerName → brokerId → address. */
  private readonly brokerAddrTable = new Map<string, Record<string, string>>();
  private readonly routeInflight = new Map<string, Promise<TopicRouteData | undefined>>();
  private readonly pollInterval: number;
  private routeTimer?: NodeJS.Timeout;
  /** Topics whose routes are refreshed periodically. */
  topicsToRefresh: () => Iterable<string> = () => this.routes.keys();

  constructor(opts: MQClientInstanceOptions = {}) {
    this.namesrv = new NamesrvAddressList(opts.namesrvAddr ?? process.env.NAMESRV_ADDR);
    this.api = opts.api ?? new MQClientAPI({ serializeType: opts.serializeType, sessionCredentials: opts.sessionCredentials });
    this.ownsApi = !opts.api;
    this.clientIP = opts.clientIP ?? localIPv4();
    this.instanceName = opts.instanceName ?? `${process.pid}#${++instanceCounter}`;
    this.clientId = `${this.clientIP}@${this.instanceName}`;
    this.pollInterval = opts.pollNameServerInterval ?? 30_000;
    this.log = opts.logger ?? createLogger('client-instance', { clientId: this.clientId });
  }

  /** Checks the NameServer list and starts the route refresh. */
  start(): void {
    if (this.namesrv.list.length === 0) {
      throw new MQClientError('no NameServer address: pass namesrvAddr (host:9876;host2:9876) or set the NAMESRV_ADDR environment variable', ClientErrorCode.NO_NAMESRV);
    }
    this.routeTimer = setInterval(() => void this.refreshRoutes(), this.pollInterval);
    this.routeTimer.unref();
  }

  /** Stops the route refresh and closes the connections it owns. */
  async shutdown(): Promise<void> {
    clearInterval(this.routeTimer);
    this.routeTimer = undefined;
    if (this.ownsApi) await this.api.shutdown();
  }

  private async refreshRoutes(): Promise<void> {
    await Promise.all([...this.topicsToRefresh()].map((t) => this.updateTopicRoute(t).catch((err: Error) =>
      this.log.warn(`route refresh of topic ${t} failed: ${err.message}`))));
  }

  /**
   * Loads the route of `topic` from the NameServer (one request at a time per topic); undefined
   * when the NameServer does not know it. Connection failures throw.
   */
  updateTopicRoute(topic: string): Promise<TopicRouteData | undefined> {
    let p = this.routeInflight.get(topic);
    if (!p) {
      p = this.loadRoute(topic).finally(() => this.routeInflight.delete(topic));
      this.routeInflight.set(topic, p);
    }
    return p;
  }

  private async loadRoute(topic: string): Promise<TopicRouteData | undefined> {
    let route: TopicRouteData;
    try {
      route = await this.namesrv.invoke((addr) => this.api.getTopicRouteInfoFromNameServer(addr, topic));
    } catch (err) {
      if (err instanceof MQBrokerError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
        this.routes.delete(topic);
        return undefined;
      }
      throw err;
    }
    this.routes.set(topic, route);
    for (const bd of route.brokerDatas) this.brokerAddrTable.set(bd.brokerName, { ...bd.brokerAddrs });
    return route;
  }

  /** The cached route of `topic`. */
  route(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic);
  }

  /** Readable queues of `topic` from the cached route; undefined when it has no route. */
  subscribeQueues(topic: string): MessageQueue[] | undefined {
    const r = this.routes.get(topic);
    return r ? topicRouteData2TopicSubscribeInfo(topic, r) : undefined;
  }

  /** The master's address of `brokerName`. */
  findBrokerAddressInPublish(brokerName: string): string | undefined {
    return this.brokerAddrTable.get(brokerName)?.['0'];
  }

  /** The address of `brokerId` in `brokerName`, else its master, else any member. */
  findBrokerAddressInSubscribe(brokerName: string, brokerId = 0): string | undefined {
    return this.findBrokerInSubscribe(brokerName, brokerId)?.addr;
  }

  /**
   * Upstream `findBrokerAddressInSubscribe`: `brokerId`'s address, else for a slave id the next
   * one, else (unless `onlyThisBroker`) the master or, with the master gone, a slave: consumers
   * go on pulling, and committing offsets, on a slave while its master is down. `slave` says the
   * address is not the master's (a pull then must not ask it to commit the offset).
   */
  findBrokerInSubscribe(brokerName: string, brokerId = 0, onlyThisBroker = false): { addr: string; slave: boolean } | undefined {
    const addrs = this.brokerAddrTable.get(brokerName);
    if (!addrs) return undefined;
    const exact = addrs[String(brokerId)] ?? (brokerId !== 0 ? addrs[String(brokerId + 1)] : undefined);
    if (exact !== undefined) return { addr: exact, slave: brokerId !== 0 && addrs['0'] !== exact };
    if (onlyThisBroker) return undefined;
    if (addrs['0'] !== undefined) return { addr: addrs['0'], slave: false };
    const ids = Object.keys(addrs).map(Number).sort((a, b) => a - b);
    return ids.length > 0 ? { addr: addrs[String(ids[0])]!, slave: true } : undefined;
  }

  /** Every known broker address (masters and slaves). */
  allBrokerAddrs(): string[] {
    const out = new Set<string>();
    for (const addrs of this.brokerAddrTable.values()) for (const a of Object.values(addrs)) out.add(a);
    return [...out];
  }

  /**
   * The group's members as one broker of `topic` knows them (upstream `findConsumerIdList`);
   * undefined when it cannot tell (no route, broker unreachable, group unknown to it).
   */
  async findConsumerIdList(topic: string, group: string): Promise<string[] | undefined> {
    const route = this.routes.get(topic);
    if (!route || route.brokerDatas.length === 0) return undefined;
    const bd = route.brokerDatas[Math.floor(Math.random() * route.brokerDatas.length)]!;
    const addr = bd.brokerAddrs['0'] ?? Object.values(bd.brokerAddrs)[0];
    if (!addr) return undefined;
    try {
      return await this.api.getConsumerIdListByGroup(addr, group);
    } catch (err) {
      this.log.warn(`getting the consumer list of group ${group} from ${addr} failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Sends `data` to every known broker; resolves with how many accepted it. */
  async sendHeartbeatToAllBrokers(data: HeartbeatData): Promise<number> {
    const results = await Promise.all(this.allBrokerAddrs().map((addr) =>
      this.api.sendHeartbeat(addr, data).then(() => true, (err: Error) => {
        this.log.warn(`heartbeat to broker ${addr} failed: ${err.message}`);
        return false;
      })));
    return results.filter(Boolean).length;
  }

  /**
   * Asks a broker of each subscribed topic whether it can filter by the non-TAG subscriptions
   * (upstream `MQClientInstance.checkClientInBroker`, called at consumer start): a broker that
   * refuses the expression, or cannot be asked, fails the start with the reason. TAG subscriptions
   * and topics without a known broker are not checked, as upstream.
   */
  async checkClientInBroker(group: string, subscriptions: Iterable<SubscriptionData>): Promise<void> {
    for (const sub of subscriptions) {
      if (sub.expressionType === '' || sub.expressionType === ExpressionType.TAG) continue;
      const bd = this.routes.get(sub.topic)?.brokerDatas[0];
      const addr = bd ? (bd.brokerAddrs['0'] ?? Object.values(bd.brokerAddrs)[0]) : undefined;
      if (!addr) continue;
      try {
        await this.api.checkClientInBroker(addr, group, this.clientId, sub);
      } catch (err) {
        const why = err instanceof MQBrokerError ? `${err.remark ?? ''} (${ResponseCodeName[err.responseCode] ?? err.responseCode})` : (err as Error).message;
        throw new MQClientError(`consumer ${group}: broker ${addr} cannot filter topic ${sub.topic} by ${sub.expressionType} "${sub.subString}": ${why}`
          + (err instanceof MQBrokerError && err.responseCode === ResponseCode.SYSTEM_ERROR ? '; set enablePropertyFilter=true in the broker config' : ''),
        ClientErrorCode.ARGUMENT_ILLEGAL, false, { cause: err });
      }
    }
  }

  /** UNREGISTER_CLIENT for `group` on every known broker (failures only logged). */
  async unregisterConsumer(group: string): Promise<void> {
    await Promise.all(this.allBrokerAddrs().map((addr) =>
      this.api.unregisterClient(addr, this.clientId, undefined, group, 3000).catch((err: Error) =>
        this.log.warn(`unregistering group ${group} from broker ${addr} failed: ${err.message}`))));
  }
}
