import type { Logger } from '../common/logger.js';
import { PermName } from '../common/perm.js';
import {
  dataVersionEquals,
  type BrokerData,
  type BrokerMemberGroup,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type TopicConfig,
  type TopicConfigSerializeWrapper,
  type TopicList,
  type TopicRouteData,
} from '../common/route.js';
import { MASTER_ID, SYNC_BROKER_MEMBER_GROUP_PREFIX } from '../common/topic.js';
import type { Connection } from '../remoting/connection.js';

/** A broker group as the NameServer keeps it: addresses keyed by numeric broker id. */
interface BrokerGroup {
  cluster: string;
  brokerName: string;
  brokerAddrs: Map<number, string>;
  enableActingMaster: boolean;
  zoneName?: string;
}

/** Liveness of one registered broker address (upstream `BrokerLiveInfo`). */
export interface BrokerLiveInfo {
  readonly clusterName: string;
  readonly brokerAddr: string;
  lastUpdateTimestamp: number;
  heartbeatTimeoutMillis: number;
  dataVersion: DataVersion;
  /** The connection the broker registered over; its close unregisters the broker. */
  channel?: Connection;
  haServerAddr: string;
}

export interface RegisterBrokerParams {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  zoneName?: string;
  /** Per-broker expiry; the NameServer default applies when absent. */
  heartbeatTimeoutMillis?: number;
  /** Absent for brokers older than 5.0 ("old version broker" upstream). */
  enableActingMaster?: boolean;
  topicConfigWrapper: TopicConfigSerializeWrapper;
  /** undefined = leave the filter servers as they are; [] = drop them. */
  filterServerList?: string[];
  channel?: Connection;
}

/** What a slave learns from registering: where its master and the master's HA port are. */
export interface RegisterBrokerResult {
  haServerAddr?: string;
  masterAddr?: string;
}

export interface RouteInfoManagerOptions {
  /** Expiry of a silent broker that did not send its own heartbeatTimeoutMillis. */
  brokerChannelExpiredTime: number;
  logger: Logger;
  now?: () => number;
  /** Upstream `deleteTopicWithBrokerRegistration`: a full registration also removes what the broker no longer has. */
  deleteTopicWithBrokerRegistration?: boolean;
  /** Upstream `supportActingMaster`: see `pickupTopicRouteData`. */
  supportActingMaster?: boolean;
}

/** Upstream keys the live table by `BrokerAddrInfo(clusterName, brokerAddr)`. */
function liveKey(clusterName: string, brokerAddr: string): string {
  return `${clusterName}\u0001${brokerAddr}`;
}

function minKey(m: Map<number, string>): number {
  let min = Infinity;
  for (const k of m.keys()) if (k < min) min = k;
  return min;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The route registry (upstream `RouteInfoManager`): which brokers exist, where, and which
 * queues each hosts for every topic. Every operation runs to completion on the event loop, so
 * the tables need no lock (upstream guards them with a read/write lock).
 */
export class RouteInfoManager {
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerAddrTable = new Map<string, BrokerGroup>();
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();
  private readonly filterServerTable = new Map<string, string[]>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly defaultExpiry: number;
  private readonly deleteTopicWithBrokerRegistration: boolean;
  private readonly supportActingMaster: boolean;

  constructor(opts: RouteInfoManagerOptions) {
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.defaultExpiry = opts.brokerChannelExpiredTime;
    this.deleteTopicWithBrokerRegistration = opts.deleteTopicWithBrokerRegistration ?? false;
    this.supportActingMaster = opts.supportActingMaster ?? false;
  }

  registerBroker(p: RegisterBrokerParams): RegisterBrokerResult {
    const result: RegisterBrokerResult = {};
    const { clusterName, brokerAddr, brokerName, brokerId } = p;

    let names = this.clusterAddrTable.get(clusterName);
    if (!names) {
      names = new Set();
      this.clusterAddrTable.set(clusterName, names);
    }
    names.add(brokerName);

    let registerFirst = false;
    let group = this.brokerAddrTable.get(brokerName);
    if (!group) {
      registerFirst = true;
      group = { cluster: clusterName, brokerName, brokerAddrs: new Map(), enableActingMaster: false };
      this.brokerAddrTable.set(brokerName, group);
    }
    const oldVersionBroker = p.enableActingMaster === undefined;
    group.enableActingMaster = !oldVersionBroker && p.enableActingMaster === true;
    group.zoneName = p.zoneName;
    const addrs = group.brokerAddrs;

    // A slave switched to master re-registers the same address under id 0: one address, one id.
    for (const [id, addr] of addrs) {
      if (addr === brokerAddr && id !== brokerId) addrs.delete(id);
    }

    // Two addresses claim one id (e.g. a controller-elected failover): the higher stateVersion wins.
    const oldAddr = addrs.get(brokerId);
    if (oldAddr !== undefined && oldAddr !== brokerAddr) {
      const oldLive = this.brokerLiveTable.get(liveKey(clusterName, oldAddr));
      if (oldLive && oldLive.dataVersion.stateVersion > p.topicConfigWrapper.dataVersion.stateVersion) {
        this.logger.warn(`broker ${brokerName}[${brokerId}] at ${brokerAddr} conflicts with ${oldAddr} which has a newer state version; ignoring this registration`);
        this.brokerLiveTable.delete(liveKey(clusterName, brokerAddr));
        return result;
      }
    }

    addrs.set(brokerId, brokerAddr);
    registerFirst = registerFirst || !oldAddr;

    const isMaster = brokerId === MASTER_ID;
    // 5.x: with no master, the lowest-id slave stands in for it ("prime slave").
    const isPrimeSlave = !oldVersionBroker && !isMaster && brokerId === minKey(addrs);
    if (isMaster || isPrimeSlave) {
      const dv = p.topicConfigWrapper.dataVersion;
      if (this.deleteTopicWithBrokerRegistration) this.removeTopicsNotIn(brokerName, p.topicConfigWrapper.topicConfigTable);
      for (const tc of Object.values(p.topicConfigWrapper.topicConfigTable)) {
        if (registerFirst || this.isTopicConfigChanged(clusterName, brokerAddr, dv, brokerName, tc.topicName)) {
          // Acting master mode: a stand-in slave serves reads only.
          const perm = isPrimeSlave && group.enableActingMaster ? tc.perm & ~PermName.PERM_WRITE : tc.perm;
          this.createAndUpdateQueueData(brokerName, { ...tc, perm });
        }
      }
    }

    const key = liveKey(clusterName, brokerAddr);
    const prev = this.brokerLiveTable.get(key);
    this.brokerLiveTable.set(key, {
      clusterName,
      brokerAddr,
      lastUpdateTimestamp: this.now(),
      heartbeatTimeoutMillis: p.heartbeatTimeoutMillis ?? this.defaultExpiry,
      dataVersion: p.topicConfigWrapper.dataVersion,
      channel: p.channel,
      haServerAddr: p.haServerAddr,
    });
    if (!prev) this.logger.info(`new broker registered: ${brokerName}[${brokerId}] ${brokerAddr} in cluster ${clusterName}, HA ${p.haServerAddr || '-'}`);

    if (p.filterServerList) {
      if (p.filterServerList.length === 0) this.filterServerTable.delete(key);
      else this.filterServerTable.set(key, p.filterServerList);
    }

    if (!isMaster) {
      const masterAddr = addrs.get(MASTER_ID);
      const masterLive = masterAddr === undefined ? undefined : this.brokerLiveTable.get(liveKey(clusterName, masterAddr));
      if (masterAddr !== undefined && masterLive) {
        result.haServerAddr = masterLive.haServerAddr;
        result.masterAddr = masterAddr;
      }
    }
    return result;
  }

  /** Drops the group's queues of every topic the registering broker no longer has (a topic deleted on the broker only). */
  private removeTopicsNotIn(brokerName: string, topicConfigTable: Record<string, TopicConfig>): void {
    for (const [topic, map] of this.topicQueueTable) {
      if (Object.hasOwn(topicConfigTable, topic) || !map.delete(brokerName)) continue;
      this.logger.info(`topic ${topic} removed from broker ${brokerName}: its registration no longer has it`);
      if (map.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** True when this broker address has not registered, or registered another version. */
  isBrokerTopicConfigChanged(clusterName: string, brokerAddr: string, dataVersion: DataVersion | undefined): boolean {
    const prev = this.queryBrokerTopicConfig(clusterName, brokerAddr);
    return !prev || !dataVersionEquals(prev, dataVersion);
  }

  /** A topic also counts as changed when its route lost this broker (e.g. deleted by an admin). */
  private isTopicConfigChanged(clusterName: string, brokerAddr: string, dv: DataVersion, brokerName: string, topic: string): boolean {
    if (this.isBrokerTopicConfigChanged(clusterName, brokerAddr, dv)) return true;
    const qd = this.topicQueueTable.get(topic);
    return !qd || qd.size === 0 || !qd.has(brokerName);
  }

  queryBrokerTopicConfig(clusterName: string, brokerAddr: string): DataVersion | undefined {
    return this.brokerLiveTable.get(liveKey(clusterName, brokerAddr))?.dataVersion;
  }

  /** A QUERY_DATA_VERSION counts as a heartbeat. */
  updateBrokerInfoUpdateTimestamp(clusterName: string, brokerAddr: string): void {
    const live = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr));
    if (live) live.lastUpdateTimestamp = this.now();
  }

  private createAndUpdateQueueData(brokerName: string, tc: TopicConfig): void {
    const qd: QueueData = {
      brokerName,
      readQueueNums: tc.readQueueNums,
      writeQueueNums: tc.writeQueueNums,
      perm: tc.perm,
      topicSysFlag: tc.topicSysFlag,
    };
    let map = this.topicQueueTable.get(tc.topicName);
    if (!map) {
      map = new Map();
      this.topicQueueTable.set(tc.topicName, map);
      this.logger.debug(`new topic registered: ${tc.topicName} on ${brokerName}`);
    }
    map.set(brokerName, qd);
  }

  unregisterBroker(clusterName: string, brokerAddr: string, brokerName: string, brokerId: number): void {
    const key = liveKey(clusterName, brokerAddr);
    const removedLive = this.brokerLiveTable.delete(key);
    this.filterServerTable.delete(key);

    let removeBrokerName = false;
    const group = this.brokerAddrTable.get(brokerName);
    if (group) {
      for (const [id, addr] of group.brokerAddrs) {
        if (addr === brokerAddr) group.brokerAddrs.delete(id);
      }
      if (group.brokerAddrs.size === 0) {
        this.brokerAddrTable.delete(brokerName);
        removeBrokerName = true;
      }
    }
    if (removeBrokerName) {
      const names = this.clusterAddrTable.get(clusterName);
      if (names) {
        names.delete(brokerName);
        if (names.size === 0) this.clusterAddrTable.delete(clusterName);
      }
    }
    this.logger.info(`broker unregistered: ${brokerName}[${brokerId}] ${brokerAddr} in cluster ${clusterName}${removedLive ? '' : ' (was not live)'}${removeBrokerName ? ', broker group removed' : ''}`);

    for (const [topic, map] of this.topicQueueTable) {
      if (removeBrokerName) map.delete(brokerName);
      if (map.size === 0) {
        this.topicQueueTable.delete(topic);
        continue;
      }
      // Acting master mode: once the group has no master its queues turn read-only.
      const qd = !removeBrokerName ? map.get(brokerName) : undefined;
      if (qd && group?.enableActingMaster && minKey(group.brokerAddrs) > MASTER_ID) {
        qd.perm &= ~PermName.PERM_WRITE;
      }
    }
  }

  /** Unregisters every broker that registered over this connection (it closed, failed or idled out). */
  onChannelDestroy(conn: Connection): void {
    for (const live of [...this.brokerLiveTable.values()]) {
      if (live.channel === conn) this.unregisterByAddr(live.clusterName, live.brokerAddr, `its connection ${conn.remoteAddress} closed`);
    }
  }

  /** Finds name and id of a live address, as upstream's `setupUnRegisterRequest`, and unregisters it. */
  private unregisterByAddr(clusterName: string, brokerAddr: string, why: string): void {
    for (const group of this.brokerAddrTable.values()) {
      if (group.cluster !== clusterName) continue;
      for (const [id, addr] of group.brokerAddrs) {
        if (addr === brokerAddr) {
          this.logger.info(`unregistering broker ${group.brokerName}[${id}] ${brokerAddr}: ${why}`);
          this.unregisterBroker(clusterName, brokerAddr, group.brokerName, id);
          return;
        }
      }
    }
    // Not in the address table any more: just forget its liveness.
    this.brokerLiveTable.delete(liveKey(clusterName, brokerAddr));
    this.filterServerTable.delete(liveKey(clusterName, brokerAddr));
  }

  /** Removes brokers silent for longer than their timeout and closes their connections; returns how many. */
  scanNotActiveBroker(): number {
    const now = this.now();
    let removed = 0;
    for (const live of [...this.brokerLiveTable.values()]) {
      if (live.lastUpdateTimestamp + live.heartbeatTimeoutMillis >= now) continue;
      this.logger.warn(`broker ${live.brokerAddr} of cluster ${live.clusterName} expired: silent for ${now - live.lastUpdateTimestamp} ms (limit ${live.heartbeatTimeoutMillis} ms)`);
      // Unregister before closing, so the disconnect event that follows finds nothing left to do.
      this.unregisterByAddr(live.clusterName, live.brokerAddr, 'expired');
      live.channel?.close();
      removed++;
    }
    return removed;
  }

  /** The route of a topic, or undefined when no live broker hosts it. */
  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    const map = this.topicQueueTable.get(topic);
    if (!map || map.size === 0) return undefined;
    const queueDatas = [...map.values()].map((qd) => ({ ...qd })).sort((a, b) => byName(a.brokerName, b.brokerName));
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Array<[string, string[]]> = [];
    for (const name of [...map.keys()].sort(byName)) {
      const group = this.brokerAddrTable.get(name);
      if (!group) continue;
      const bd = toBrokerData(group);
      brokerDatas.push(bd);
      if (this.filterServerTable.size === 0) continue;
      for (const addr of Object.values(bd.brokerAddrs)) {
        const fs = this.filterServerTable.get(liveKey(bd.cluster, addr));
        if (fs) filterServerTable.push([addr, [...fs]]);
      }
    }
    if (brokerDatas.length === 0) return undefined;
    if (this.supportActingMaster && !topic.startsWith(SYNC_BROKER_MEMBER_GROUP_PREFIX)) actAsMaster(brokerDatas, queueDatas);
    return { brokerDatas, filterServerTable: Object.fromEntries(filterServerTable), queueDatas };
  }

  getAllClusterInfo(): ClusterInfo {
    // fromEntries: names come off the wire and must stay own properties even if "__proto__".
    const brokerAddrTable = Object.fromEntries(
      [...this.brokerAddrTable.entries()].sort((a, b) => byName(a[0], b[0])).map(([name, g]) => [name, toBrokerData(g)]),
    );
    const clusterAddrTable = Object.fromEntries(
      [...this.clusterAddrTable.entries()].sort((a, b) => byName(a[0], b[0])).map(([c, names]) => [c, [...names].sort(byName)]),
    );
    return { brokerAddrTable, clusterAddrTable };
  }

  /**
   * Upstream `getBrokerMemberGroup`: the group's id → address table, looked up by broker name only
   * (the cluster is echoed back, not checked); an unknown group has no members.
   */
  getBrokerMemberGroup(clusterName: string, brokerName: string): BrokerMemberGroup {
    const group = this.brokerAddrTable.get(brokerName);
    return { cluster: clusterName, brokerName, brokerAddrs: group ? toBrokerData(group).brokerAddrs : {} };
  }

  getAllTopicList(): TopicList {
    return { topicList: [...this.topicQueueTable.keys()].sort(byName) };
  }

  /**
   * Upstream `getSystemTopicList`: the topics every broker has of itself, named after each
   * cluster and each broker, and the address of one broker to ask for the rest
   * (GET_SYSTEM_TOPIC_LIST_FROM_BROKER).
   */
  getSystemTopicList(): TopicList {
    const topics: string[] = [];
    for (const [cluster, names] of this.clusterAddrTable) topics.push(cluster, ...names);
    const out: TopicList = { topicList: topics };
    for (const g of this.brokerAddrTable.values()) {
      const first = g.brokerAddrs.values().next();
      if (!first.done) {
        out.brokerAddr = first.value;
        break;
      }
    }
    return out;
  }

  /**
   * Topics whose (first) queue data carries a unit flag (upstream `getUnitTopics`,
   * `getHasUnitSubTopicList`, `getHasUnitSubUnUnitTopicList`; TopicSysFlag bit 0 = unit, bit 1 =
   * has unit subscriptions).
   */
  getTopicsBySysFlag(test: (topicSysFlag: number) => boolean): TopicList {
    const topics: string[] = [];
    for (const [topic, map] of this.topicQueueTable) {
      const first = map.values().next();
      if (!first.done && test(first.value.topicSysFlag ?? 0)) topics.push(topic);
    }
    return { topicList: topics.sort(byName) };
  }

  /** Topics with queues on any broker of the cluster; empty for an unknown cluster. */
  getTopicsByCluster(cluster: string): TopicList {
    const names = this.clusterAddrTable.get(cluster);
    const topics: string[] = [];
    if (names) {
      for (const [topic, map] of this.topicQueueTable) {
        for (const name of names) {
          if (map.has(name)) {
            topics.push(topic);
            break;
          }
        }
      }
    }
    return { topicList: topics.sort(byName) };
  }

  /** Removes a topic's route everywhere, or only on the brokers of one cluster. */
  deleteTopic(topic: string, clusterName?: string): void {
    if (clusterName === undefined) {
      this.topicQueueTable.delete(topic);
      return;
    }
    const names = this.clusterAddrTable.get(clusterName);
    const map = this.topicQueueTable.get(topic);
    if (!names || !map) return;
    for (const name of names) map.delete(name);
    if (map.size === 0) this.topicQueueTable.delete(topic);
  }

  /**
   * Adds or replaces queue data of a topic (REGISTER_TOPIC_IN_NAMESRV). Every broker named must be
   * registered; otherwise nothing changes and false is returned (upstream logs and ignores it).
   */
  registerTopic(topic: string, queueDatas: QueueData[]): boolean {
    if (queueDatas.length === 0) return true;
    const unknown = queueDatas.find((qd) => !this.brokerAddrTable.has(qd.brokerName));
    if (unknown) {
      this.logger.warn(`register topic ${topic} names broker ${unknown.brokerName}, which is not registered; ignored`);
      return false;
    }
    let map = this.topicQueueTable.get(topic);
    if (!map) {
      map = new Map();
      this.topicQueueTable.set(topic, map);
    }
    for (const qd of queueDatas) map.set(qd.brokerName, { ...qd });
    return true;
  }

  /** Turns the broker's queues read-only (before taking it offline); returns how many topics it touched. */
  wipeWritePermOfBroker(brokerName: string): number {
    return this.operateWritePerm(brokerName, (perm) => perm & ~PermName.PERM_WRITE);
  }

  /** Restores read+write on the broker's queues (upstream sets exactly RW, dropping other bits). */
  addWritePermOfBroker(brokerName: string): number {
    return this.operateWritePerm(brokerName, () => PermName.PERM_READ | PermName.PERM_WRITE);
  }

  private operateWritePerm(brokerName: string, change: (perm: number) => number): number {
    let count = 0;
    for (const map of this.topicQueueTable.values()) {
      const qd = map.get(brokerName);
      if (!qd) continue;
      qd.perm = change(qd.perm);
      count++;
    }
    return count;
  }

  /** Live broker entries (for admin views and tests). */
  liveBrokers(): ReadonlyArray<Readonly<BrokerLiveInfo>> {
    return [...this.brokerLiveTable.values()];
  }
}

/**
 * Upstream `pickupTopicRouteData` with `supportActingMaster`: clients send and commit offsets to
 * broker 0 only, so a group in acting-master mode that lost its master, and whose queues were
 * turned read-only for it, is shown with its lowest-id slave as broker 0 (clients then read
 * from it and update offsets there).
 */
function actAsMaster(brokerDatas: BrokerData[], queueDatas: QueueData[]): void {
  for (const bd of brokerDatas) {
    const ids = Object.keys(bd.brokerAddrs).map(Number);
    if (ids.length === 0 || ids.includes(MASTER_ID) || !bd.enableActingMaster) continue;
    const qd = queueDatas.find((q) => q.brokerName === bd.brokerName);
    if (!qd || (qd.perm & PermName.PERM_WRITE) !== 0) continue;
    const minId = String(Math.min(...ids));
    const addr = bd.brokerAddrs[minId] as string;
    delete bd.brokerAddrs[minId];
    bd.brokerAddrs[String(MASTER_ID)] = addr;
  }
}

function toBrokerData(g: BrokerGroup): BrokerData {
  const brokerAddrs: Record<string, string> = {};
  for (const id of [...g.brokerAddrs.keys()].sort((a, b) => a - b)) brokerAddrs[String(id)] = g.brokerAddrs.get(id) as string;
  const bd: BrokerData = { brokerAddrs, brokerName: g.brokerName, cluster: g.cluster, enableActingMaster: g.enableActingMaster };
  if (g.zoneName !== undefined) bd.zoneName = g.zoneName;
  return bd;
}
