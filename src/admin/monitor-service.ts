import type { ConsumerRunningInfo } from '../client/consumer-running-info.js';
import type { PullConsumer } from '../client/pull-consumer.js';
import type { MessageQueue } from '../client/route.js';
import type { OffsetWrapper } from '../client/admin-bodies.js';
import { RETRY_GROUP_TOPIC_PREFIX } from '../common/topic.js';
import type { Admin } from './admin.js';

/** A group's backlog on one topic in a round (upstream `tools.monitor.UndoneMsgs`). */
export interface UndoneMsgs {
  consumerGroup: string;
  topic: string;
  /** Messages not yet consumed over the topic's queues. */
  undoneMsgsTotal: number;
  /** The largest backlog of one queue. */
  undoneMsgsSingleMQ: number;
  /** How far the last consumed message lies behind the newest one, in ms (largest over the queues). */
  undoneMsgsDelayTimeMills: number;
}

/** Upstream `UndoneMsgs.toString`. */
export function undoneMsgsString(u: UndoneMsgs): string {
  return `UndoneMsgs [consumerGroup=${u.consumerGroup}, topic=${u.topic}, undoneMsgsTotal=${u.undoneMsgsTotal}, `
    + `undoneMsgsSingleMQ=${u.undoneMsgsSingleMQ}, undoneMsgsDelayTimeMills=${u.undoneMsgsDelayTimeMills}]`;
}

/** What a round reports to (upstream `MonitorListener`). */
export interface MonitorListener {
  beginRound(): void;
  reportUndoneMsgs(undone: UndoneMsgs): void;
  /** The running info of each online client of one group, by client id. */
  reportConsumerRunningInfo(group: string, byClient: ReadonlyMap<string, ConsumerRunningInfo>): void;
  endRound(): void;
}

export interface MonitorConfig {
  /** Between the starts of two rounds (upstream `MonitorConfig.roundInterval`, 60 s). */
  roundInterval: number;
  /** Before the first round (upstream's fixed 20 s). */
  firstDelay: number;
  /** Stop after this many rounds; unbounded when absent (upstream runs until the process ends). */
  rounds?: number;
}

export const DEFAULT_MONITOR_CONFIG: Readonly<MonitorConfig> = { roundInterval: 60_000, firstDelay: 20_000 };

/**
 * Upstream `tools.monitor.MonitorService`: every round, for each group that has a retry topic,
 * its backlog per topic and its clients' running info go to the listener. The pull consumer reads
 * the newest message of a queue to measure the delay. Not here: upstream's push consumer on
 * OFFSET_MOVED_EVENT (reportDeleteMsgsEvent), which this broker does not publish to.
 */
export class MonitorService {
  private timer: NodeJS.Timeout | undefined;
  private roundsDone = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private finish!: () => void;
  /** Settles when the service stops: after its last round, or on shutdown. */
  readonly done: Promise<void>;

  constructor(private readonly admin: Admin, private readonly consumer: PullConsumer, private readonly listener: MonitorListener,
    private readonly config: MonitorConfig = DEFAULT_MONITOR_CONFIG) {
    this.done = new Promise((resolve) => { this.finish = resolve; });
  }

  /** Schedules the rounds (the admin and the consumer are started by the caller). */
  start(): void {
    this.schedule(this.config.firstDelay);
  }

  /** Stops scheduling and waits for a round under way; no timer is left. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.finish();
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const started = Date.now();
      this.running = this.doMonitorWork().catch(() => undefined).then(() => {
        this.running = undefined;
        this.roundsDone++;
        if (this.config.rounds !== undefined && this.roundsDone >= this.config.rounds) {
          void this.shutdown();
          return;
        }
        // As upstream's fixed-rate schedule: the next round starts one interval after this one started.
        this.schedule(Math.max(0, this.config.roundInterval - (Date.now() - started)));
      });
    }, delay);
  }

  /** One round (upstream `doMonitorWork`). A group that cannot be examined is left out of it. */
  async doMonitorWork(): Promise<void> {
    this.listener.beginRound();
    for (const topic of await this.admin.fetchAllTopicList()) {
      if (!topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) continue;
      const group = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length).split('+')[0] ?? '';
      if (!group) continue;
      try {
        await this.reportUndoneMsgs(group);
      } catch {
        // As upstream: no stats for the group this round.
      }
      try {
        await this.reportConsumerRunningInfo(group);
      } catch {
        // As upstream: no online clients to ask.
      }
    }
    this.listener.endRound();
  }

  private async reportUndoneMsgs(group: string): Promise<void> {
    const cs = await this.admin.examineConsumeStats(group);
    // As upstream: only for a group with online consumers.
    await this.admin.examineConsumerConnectionInfo(group);
    const byTopic = new Map<string, Array<{ mq: MessageQueue; offset: OffsetWrapper }>>();
    for (const e of cs.offsetTable.values()) {
      const list = byTopic.get(e.mq.topic) ?? [];
      list.push(e);
      byTopic.set(e.mq.topic, list);
    }
    for (const [topic, entries] of [...byTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      this.listener.reportUndoneMsgs({ consumerGroup: group, topic, ...await this.computeUndoneMsgs(entries) });
    }
  }

  /** Upstream `computeUndoneMsgs`: total and largest backlog, and the delay of the last consumed message behind the newest. */
  private async computeUndoneMsgs(entries: ReadonlyArray<{ mq: MessageQueue; offset: OffsetWrapper }>):
    Promise<Pick<UndoneMsgs, 'undoneMsgsTotal' | 'undoneMsgsSingleMQ' | 'undoneMsgsDelayTimeMills'>> {
    let total = 0;
    let singleMax = 0;
    let delayMax = 0;
    for (const { mq, offset } of entries) {
      const diff = offset.brokerOffset - offset.consumerOffset;
      if (diff > singleMax) singleMax = diff;
      if (diff > 0) total += diff;
      if (offset.lastTimestamp <= 0) continue;
      try {
        const max = await this.consumer.maxOffset(mq);
        if (max <= 0) continue;
        const pulled = await this.consumer.pull(mq, '*', max - 1, 1);
        const newest = pulled.msgFoundList[0];
        if (newest) delayMax = Math.max(delayMax, newest.storeTimestamp - offset.lastTimestamp);
      } catch {
        // As upstream: the delay of an unreadable queue is not counted.
      }
    }
    return { undoneMsgsTotal: total, undoneMsgsSingleMQ: singleMax, undoneMsgsDelayTimeMills: delayMax };
  }

  private async reportConsumerRunningInfo(group: string): Promise<void> {
    const cc = await this.admin.examineConsumerConnectionInfo(group);
    const byClient = new Map<string, ConsumerRunningInfo>();
    for (const c of [...cc.connectionSet].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))) {
      try {
        byClient.set(c.clientId, await this.admin.getConsumerRunningInfo(group, c.clientId, false));
      } catch {
        // A client that does not answer is left out.
      }
    }
    if (byClient.size > 0) this.listener.reportConsumerRunningInfo(group, byClient);
  }
}
