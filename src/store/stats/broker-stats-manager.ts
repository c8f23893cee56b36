import { isSystemTopic } from '../../common/topic.js';
import type { Logger } from '../../common/logger.js';
import { StatsName, statsKey, type StatsNameValue } from '../../common/stats.js';
import {
  HOUR_SAMPLING_MS, MINUTE_SAMPLING_MS, SECOND_SAMPLING_MS, StatsItemSet, type StatsItem,
} from './stats-item.js';


/** The sets keyed `topic@group`: what a deleted topic (prefix) or group (suffix) takes with it. */
const GROUP_KEYED: readonly StatsNameValue[] = [
  StatsName.GROUP_GET_NUMS, StatsName.GROUP_GET_SIZE, StatsName.GROUP_GET_LATENCY,
  StatsName.GROUP_ACK_NUMS, StatsName.GROUP_CK_NUMS, StatsName.SNDBCK_PUT_NUMS,
];
/** What idle clean-up looks at (upstream `NEED_CLEAN_STATS_SET`): sets whose keys come and go. */
const CLEANED: readonly StatsNameValue[] = [
  StatsName.TOPIC_PUT_NUMS, StatsName.TOPIC_PUT_SIZE, StatsName.GROUP_GET_NUMS, StatsName.GROUP_GET_SIZE,
  StatsName.SNDBCK_PUT_NUMS, StatsName.GROUP_GET_LATENCY,
];

/**
 * A topic's put counters, held by the store's own topic entry so a put finds them without a
 * lookup. `removed` says the items left their sets (topic deleted, idle clean-up).
 */
export class TopicPutStats {
  constructor(private readonly nums: StatsItem, private readonly size: StatsItem, private readonly brokerNoSys: StatsItem | undefined,
    private readonly broker: StatsItem) {}

  get removed(): boolean { return this.nums.removed || this.size.removed; }

  add(msgNum: number, bytes: number): void {
    this.nums.add(msgNum, 1);
    this.size.add(bytes, 1);
    this.broker.value += msgNum;
    if (this.brokerNoSys !== undefined) this.brokerNoSys.value += msgNum;
  }
}

export interface BrokerStatsManagerOptions {
  /** Keys of the broker-wide items (upstream uses the cluster name). */
  clusterName: string;
  /** Upstream `maxStatsIdleTimeInMinutes`, read at each hourly clean-up: < 0 never cleans; 0–10 means 30. */
  maxStatsIdleTimeInMinutes?: () => number;
  logger?: Logger;
  now?: () => number;
}

/**
 * The broker's message statistics (upstream `BrokerStatsManager`): puts per topic, gets per
 * `topic@group`, sends back, POP checkpoints and acks, and broker-wide totals, each sampled
 * into minute, hour and day windows. mqadmin statsAll, the topic and consume stats and the
 * runtime info read them.
 */
export class BrokerStatsManager {
  private readonly sets = new Map<string, StatsItemSet>();
  private readonly timers: NodeJS.Timeout[] = [];
  readonly now: () => number;
  private readonly brokerPut: StatsItem;
  private readonly brokerGet: StatsItem;
  private readonly brokerPutNoSys: StatsItem;
  private readonly brokerGetNoSys: StatsItem;
  /** The sets every pull adds to, held to spare their lookup. */
  private readonly groupGetNums: StatsItemSet;
  private readonly groupGetSize: StatsItemSet;
  private readonly groupGetLatency: StatsItemSet;

  constructor(private readonly opts: BrokerStatsManagerOptions) {
    this.now = opts.now ?? Date.now;
    for (const name of Object.values(StatsName)) this.sets.set(name, new StatsItemSet(name, this.now));
    this.brokerPut = this.set(StatsName.BROKER_PUT_NUMS).getAndCreate(opts.clusterName);
    this.brokerGet = this.set(StatsName.BROKER_GET_NUMS).getAndCreate(opts.clusterName);
    this.brokerPutNoSys = this.set(StatsName.BROKER_PUT_NUMS_WITHOUT_SYSTEM_TOPIC).getAndCreate(opts.clusterName);
    this.brokerGetNoSys = this.set(StatsName.BROKER_GET_NUMS_WITHOUT_SYSTEM_TOPIC).getAndCreate(opts.clusterName);
    this.groupGetNums = this.set(StatsName.GROUP_GET_NUMS);
    this.groupGetSize = this.set(StatsName.GROUP_GET_SIZE);
    this.groupGetLatency = this.set(StatsName.GROUP_GET_LATENCY);
  }

  /** Samples at once and then every 10 s, 10 min and hour, as upstream's schedules. */
  start(): void {
    if (this.timers.length > 0) return;
    this.samplingInSeconds();
    this.samplingInMinutes();
    this.samplingInHour();
    this.every(SECOND_SAMPLING_MS, () => this.samplingInSeconds());
    this.every(MINUTE_SAMPLING_MS, () => this.samplingInMinutes());
    this.every(HOUR_SAMPLING_MS, () => this.samplingInHour());
    this.every(HOUR_SAMPLING_MS, () => this.cleanIdle());
  }

  shutdown(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private set(name: StatsNameValue): StatsItemSet {
    return this.sets.get(name)!;
  }

  samplingInSeconds(): void { const now = this.now(); for (const s of this.sets.values()) s.samplingInSeconds(now); }
  samplingInMinutes(): void { const now = this.now(); for (const s of this.sets.values()) s.samplingInMinutes(now); }
  samplingInHour(): void { const now = this.now(); for (const s of this.sets.values()) s.samplingInHour(now); }

  /** Upstream `cleanAllResource`: items idle for maxStatsIdleTimeInMinutes (at least 30) go. */
  cleanIdle(): void {
    let minutes = this.opts.maxStatsIdleTimeInMinutes?.() ?? -1;
    if (minutes < 0) return;
    if (minutes <= 10) minutes = 30;
    const now = this.now();
    let n = 0;
    for (const name of CLEANED) n += this.set(name).cleanIdle(minutes * 60_000, now);
    if (n > 0) this.opts.logger?.info(`stats: removed ${n} item(s) idle for over ${minutes} minutes`);
  }

  /** The put counters of `topic` (its TOPIC_PUT_NUMS / TOPIC_PUT_SIZE items and the broker totals). */
  topicPutStats(topic: string): TopicPutStats {
    return new TopicPutStats(this.set(StatsName.TOPIC_PUT_NUMS).getAndCreate(topic), this.set(StatsName.TOPIC_PUT_SIZE).getAndCreate(topic),
      isSystemTopic(topic) ? undefined : this.brokerPutNoSys, this.brokerPut);
  }

  /**
   * Messages a group received from a topic by pull, POP or peek (upstream incGroupGetNums/Size,
   * incBrokerGetNums) and, when given, how long the get took to be answered in ms
   * (incGroupGetLatency, an RT item: read its avgpt).
   */
  incGroupGet(group: string, topic: string, msgNum: number, bytes: number, latencyMs?: number): void {
    const key = statsKey(topic, group);
    this.groupGetNums.addValue(key, msgNum, 1);
    this.groupGetSize.addValue(key, bytes, 1);
    if (latencyMs !== undefined) this.groupGetLatency.addValue(key, latencyMs, 1);
    this.brokerGet.value += msgNum;
    if (!isSystemTopic(topic)) this.brokerGetNoSys.value += msgNum;
  }

  /** A message a consumer of `group` sent back (upstream incSendBackNums). */
  incSendBackNums(group: string, topic: string): void {
    this.set(StatsName.SNDBCK_PUT_NUMS).addValue(statsKey(topic, group), 1, 1);
  }

  incGroupCkNums(group: string, topic: string, n: number): void {
    this.set(StatsName.GROUP_CK_NUMS).addValue(statsKey(topic, group), n, 1);
    this.set(StatsName.BROKER_CK_NUMS).addValue(this.opts.clusterName, n, 1);
  }

  incGroupAckNums(group: string, topic: string, n: number): void {
    this.set(StatsName.GROUP_ACK_NUMS).addValue(statsKey(topic, group), n, 1);
    this.set(StatsName.BROKER_ACK_NUMS).addValue(this.opts.clusterName, n, 1);
  }

  /** One item, or undefined when nothing was ever counted under that name and key. */
  statsItem(name: string, key: string): StatsItem | undefined {
    return this.sets.get(name)?.get(key);
  }

  /** Messages put per second over the last minute (upstream tpsTopicPutNums). */
  tpsTopicPutNums(topic: string): number {
    return this.set(StatsName.TOPIC_PUT_NUMS).snapshotInMinute(topic).tps;
  }

  /** Messages a group got from a topic per second over the last minute (upstream tpsGroupGetNums). */
  tpsGroupGetNums(group: string, topic: string): number {
    return this.set(StatsName.GROUP_GET_NUMS).snapshotInMinute(statsKey(topic, group)).tps;
  }

  /** Broker-wide totals of user topics since start (what msgPut/GetTotal* of the runtime info count). */
  get brokerPutNumsWithoutSystemTopic(): number { return this.brokerPutNoSys.value; }
  get brokerGetNumsWithoutSystemTopic(): number { return this.brokerGetNoSys.value; }

  onTopicDeleted(topic: string): void {
    this.set(StatsName.TOPIC_PUT_NUMS).deleteWhere((k) => k === topic);
    this.set(StatsName.TOPIC_PUT_SIZE).deleteWhere((k) => k === topic);
    const prefix = `${topic}@`;
    for (const name of GROUP_KEYED) this.set(name).deleteWhere((k) => k.startsWith(prefix));
  }

  onGroupDeleted(group: string): void {
    const suffix = `@${group}`;
    for (const name of GROUP_KEYED) this.set(name).deleteWhere((k) => k.endsWith(suffix));
  }
}
