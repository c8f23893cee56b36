import type { Logger } from '../common/logger.js';
import { GrpcClientChannel, type TelemetryStream } from './grpc-client-channel.js';
import type { MessagingProcessor, PopFilterExpression } from './messaging-processor.js';
import { wrapNamespace } from './message-converter.js';
import { D, type df } from './proto.js';

/** One gRPC client, by its `x-mq-client-id` (upstream `GrpcClientSettingsManager` + `GrpcChannelManager`). */
export interface GrpcClient {
  clientId: string;
  channel: GrpcClientChannel;
  /** The settings the client sent on Telemetry; a client without them is not known yet. */
  settings?: df.Settings;
  namespace?: string;
  /** Producer groups it is registered under (5.x: one per publishing topic, named after it). */
  producerGroups: string[];
  consumerGroup?: string;
  lastSeen: number;
}

/**
 * The clients the proxy knows: their settings, their Telemetry stream, and their registration
 * with the brokers as producers or consumers. A client is forgotten when it says goodbye
 * (NotifyClientTermination), when the broker drops its channel, or after channelExpiredTimeout
 * of silence.
 */
export class GrpcClientManager {
  private readonly clients = new Map<string, GrpcClient>();

  constructor(
    private readonly processor: MessagingProcessor,
    private readonly brokerName: () => string,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  get(clientId: string): GrpcClient | undefined {
    return this.clients.get(clientId);
  }

  private getOrCreate(clientId: string, peer: string): GrpcClient {
    let c = this.clients.get(clientId);
    if (!c || c.channel.isClosed) {
      const channel = new GrpcClientChannel(clientId, peer, this.brokerName(), this.logger, (ch) => this.onChannelClosed(ch));
      c = { clientId, channel, producerGroups: [], lastSeen: Date.now() };
      this.clients.set(clientId, c);
    }
    return c;
  }

  /** Settings arrived on Telemetry: remember them and register the client with the brokers. */
  onSettings(clientId: string, peer: string, namespace: string | undefined, settings: df.Settings, stream: TelemetryStream): GrpcClient {
    const c = this.getOrCreate(clientId, peer);
    c.settings = settings;
    c.namespace = namespace;
    c.channel.stream = stream;
    c.lastSeen = Date.now();
    this.register(c);
    return c;
  }

  /** A heartbeat: the client is alive; refresh its registrations. False when it never sent settings. */
  heartbeat(clientId: string): boolean {
    const c = this.clients.get(clientId);
    if (!c?.settings) return false;
    c.lastSeen = Date.now();
    this.register(c);
    return true;
  }

  touch(clientId: string): void {
    const c = this.clients.get(clientId);
    if (c) c.lastSeen = Date.now();
  }

  private register(c: GrpcClient): void {
    const s = c.settings!;
    const ns = c.namespace;
    if (s.getPubSubCase() === D.Settings.PubSubCase.PUBLISHING) {
      const groups = s.getPublishing()!.getTopicsList().map((t) => wrapNamespace(t.getName(), t.getResourceNamespace() || ns));
      for (const g of c.producerGroups) if (!groups.includes(g)) this.processor.unregisterClient(c.channel, [g]);
      c.producerGroups = groups;
      for (const g of groups) this.processor.registerProducer(c.channel, g);
    } else if (s.getPubSubCase() === D.Settings.PubSubCase.SUBSCRIPTION) {
      const sub = s.getSubscription()!;
      const group = sub.getGroup() ? wrapNamespace(sub.getGroup()!.getName(), sub.getGroup()!.getResourceNamespace() || ns) : undefined;
      if (!group) return;
      const subs: Array<{ topic: string; filter: PopFilterExpression }> = sub.getSubscriptionsList().map((e) => ({
        topic: wrapNamespace(e.getTopic()?.getName() ?? '', e.getTopic()?.getResourceNamespace() || ns),
        filter: {
          type: e.getExpression()?.getType() === D.FilterType.SQL ? 'SQL92' : 'TAG',
          expression: e.getExpression()?.getExpression() || '*',
        },
      }));
      c.consumerGroup = group;
      const type = s.getClientType() === D.ClientType.PUSH_CONSUMER ? 'CONSUME_PASSIVELY' : 'CONSUME_ACTIVELY';
      this.processor.registerConsumer(c.channel, group, type, subs);
    }
  }

  /** The Telemetry stream of a client ended: it may reconnect, so only the stream is dropped. */
  onStreamEnd(clientId: string, stream: TelemetryStream): void {
    const c = this.clients.get(clientId);
    if (c && c.channel.stream === stream) c.channel.stream = undefined;
  }

  /** NotifyClientTermination: unregister the client everywhere and forget it. */
  terminate(clientId: string): void {
    const c = this.clients.get(clientId);
    if (!c) return;
    this.clients.delete(clientId);
    c.channel.markClosed();
    this.processor.unregisterClient(c.channel, c.producerGroups, c.consumerGroup);
  }

  private onChannelClosed(ch: GrpcClientChannel): void {
    const c = this.clients.get(ch.clientId);
    if (c && c.channel === ch) {
      this.clients.delete(ch.clientId);
      this.processor.unregisterClient(c.channel, c.producerGroups, c.consumerGroup);
    }
  }

  /** Whether a client still talks to us (its receipts are renewed while it does). */
  isAlive(clientId: string, silentMs = 30_000): boolean {
    const c = this.clients.get(clientId);
    if (!c || c.channel.isClosed) return false;
    return c.channel.stream !== undefined || Date.now() - c.lastSeen < silentMs;
  }

  /** Forgets clients silent for longer than `expiredMs`. */
  sweep(expiredMs: number, now = Date.now()): void {
    for (const c of [...this.clients.values()]) {
      if (now - c.lastSeen > expiredMs) {
        this.logger.info(`gRPC client ${c.clientId} silent for ${now - c.lastSeen} ms, forgetting it`);
        this.terminate(c.clientId);
      }
    }
  }

  /** Ends every Telemetry stream and forgets every client (proxy shutdown). */
  closeAll(): void {
    for (const c of [...this.clients.values()]) {
      try {
        c.channel.stream?.end();
      } catch {
        // gone already
      }
      this.terminate(c.clientId);
    }
  }
}
