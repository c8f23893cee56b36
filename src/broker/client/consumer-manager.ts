import type { Logger } from '../../common/logger.js';
import type { Connection } from '../../remoting/connection.js';
import { createRequest } from '../../remoting/command.js';
import { RequestCode, SerializeType } from '../../remoting/codes.js';
import type { ConsumerData, SubscriptionData } from './heartbeat.js';

export interface ClientChannelInfo {
  conn: Connection;
  clientId: string;
  language: string;
  version: number;
  lastUpdateTimestamp: number;
}

/** One consumer group's members and subscriptions (upstream `ConsumerGroupInfo`). */
export class ConsumerGroupInfo {
  readonly channels = new Map<Connection, ClientChannelInfo>();
  readonly subscriptions = new Map<string, SubscriptionData>();
  consumeType = 'CONSUME_PASSIVELY';
  messageModel = 'CLUSTERING';
  consumeFromWhere = 'CONSUME_FROM_LAST_OFFSET';
  lastUpdateTimestamp = Date.now();

  constructor(readonly groupName: string) {}

  allClientIds(): string[] {
    return [...this.channels.values()].map((c) => c.clientId);
  }

  findChannel(clientId: string): ClientChannelInfo | undefined {
    for (const c of this.channels.values()) if (c.clientId === clientId) return c;
    return undefined;
  }
}

/** Upstream `isBroadcastMode`: a broadcasting group has nothing to rebalance. */
function isBroadcast(g: ConsumerGroupInfo): boolean {
  return g.messageModel === 'BROADCASTING';
}

/**
 * Live consumers by group (upstream `ConsumerManager`). Membership changes are pushed to the
 * group's clients with NOTIFY_CONSUMER_IDS_CHANGED so they rebalance at once.
 */
export class ConsumerManager {
  readonly groups = new Map<string, ConsumerGroupInfo>();

  constructor(private readonly logger: Logger, private readonly notifyEnabled: () => boolean) {}

  /**
   * Registers (or refreshes) a consumer; returns true when the group's membership or its set of
   * subscribed topics changed (upstream `registerConsumer`: updateChannel || updateSubscription).
   * The group's members are then told to rebalance, unless `notify` is off (the group's
   * `notifyConsumerIdsChangedEnable`) or the group consumes by broadcast, where every member reads
   * every queue anyway.
   */
  register(conn: Connection, clientId: string, data: ConsumerData, { notify = true, now = Date.now() }: { notify?: boolean; now?: number } = {}): boolean {
    let g = this.groups.get(data.groupName);
    if (!g) {
      g = new ConsumerGroupInfo(data.groupName);
      this.groups.set(data.groupName, g);
    }
    g.consumeType = data.consumeType;
    g.messageModel = data.messageModel;
    g.consumeFromWhere = data.consumeFromWhere;
    g.lastUpdateTimestamp = now;
    let changed = false;
    const existing = g.channels.get(conn);
    if (!existing) {
      g.channels.set(conn, { conn, clientId, language: conn.attrs.language as string ?? 'JAVA', version: (conn.attrs.version as number) ?? 0, lastUpdateTimestamp: now });
      changed = true;
      this.logger.info(`new consumer connected, group: ${data.groupName} clientId: ${clientId} ${conn.remoteAddress}`);
    } else {
      existing.lastUpdateTimestamp = now;
      if (existing.clientId !== clientId) { existing.clientId = clientId; changed = true; }
    }
    // Subscriptions are kept as sent (codeSet included), as upstream does. As upstream's
    // updateSubscription, a topic added or dropped is a change the members must rebalance for;
    // a new expression on a topic already subscribed is not (the queues stay the same).
    const topics = new Set<string>();
    for (const s of data.subscriptionDataSet) {
      topics.add(s.topic);
      const old = g.subscriptions.get(s.topic);
      if (!old) changed = true;
      if (!old || old.subVersion < s.subVersion || old.subString !== s.subString) g.subscriptions.set(s.topic, s);
    }
    if (data.subscriptionDataSet.length > 0) {
      for (const t of [...g.subscriptions.keys()]) {
        if (!topics.has(t)) {
          g.subscriptions.delete(t);
          changed = true;
        }
      }
    }
    if (changed && notify && !isBroadcast(g)) this.notifyIdsChanged(g);
    return changed;
  }

  /** UNREGISTER_CLIENT: the rest of the group is told unless `notify` is off or it consumes by broadcast (upstream `unregisterConsumer`). */
  unregister(group: string, conn: Connection, notify = true): void {
    const g = this.groups.get(group);
    if (!g || !g.channels.delete(conn)) return;
    this.logger.info(`consumer unregistered, group: ${group} ${conn.remoteAddress}`);
    if (g.channels.size === 0) this.groups.delete(group);
    else if (notify && !isBroadcast(g)) this.notifyIdsChanged(g);
  }

  /** A connection closed: drop it from every group. */
  onConnectionClosed(conn: Connection): void {
    for (const g of [...this.groups.values()]) {
      if (g.channels.delete(conn)) {
        this.logger.info(`consumer connection closed, group: ${g.groupName} ${conn.remoteAddress}`);
        // As upstream's doChannelCloseEvent: the group's own notify setting is not consulted here.
        if (g.channels.size === 0) this.groups.delete(g.groupName);
        else if (!isBroadcast(g)) this.notifyIdsChanged(g);
      }
    }
  }

  /** Closes channels silent for longer than `expiredMs` (upstream `scanNotActiveChannel`). */
  scanNotActiveChannel(expiredMs: number, now = Date.now()): void {
    for (const g of [...this.groups.values()]) {
      for (const [conn, info] of [...g.channels]) {
        if (now - info.lastUpdateTimestamp > expiredMs) {
          this.logger.warn(`consumer channel ${conn.remoteAddress} (${info.clientId}) of group ${g.groupName} silent for ${now - info.lastUpdateTimestamp} ms, removing it`);
          g.channels.delete(conn);
          conn.close();
        }
      }
      if (g.channels.size === 0) this.groups.delete(g.groupName);
    }
  }

  get(group: string): ConsumerGroupInfo | undefined {
    return this.groups.get(group);
  }

  findSubscription(group: string, topic: string): SubscriptionData | undefined {
    return this.groups.get(group)?.subscriptions.get(topic);
  }

  /** Groups subscribing to `topic`. */
  queryTopicConsumeByWho(topic: string): string[] {
    return [...this.groups.values()].filter((g) => g.subscriptions.has(topic)).map((g) => g.groupName);
  }

  private notifyIdsChanged(g: ConsumerGroupInfo): void {
    if (!this.notifyEnabled()) return;
    for (const info of g.channels.values()) {
      const req = createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, {
        extFields: { consumerGroup: g.groupName },
        // JSON is understood by every client; ali-ons reads nothing else.
        serializeType: SerializeType.JSON,
        language: 'JAVA',
      });
      try {
        info.conn.invokeOneway(req);
      } catch (err) {
        this.logger.warn(`notify consumer ${info.clientId} failed: ${(err as Error).message}`);
      }
    }
  }
}
