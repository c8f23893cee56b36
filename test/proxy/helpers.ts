import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer, type MessageView, type SimpleConsumer } from 'rocketmq-client-nodejs';
import { MessagingServiceClient } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { startStandalone, type Standalone, type StandaloneOptions } from '../../src/standalone.js';
import { newTopicConfig } from '../../src/broker/topic-config-manager.js';
import { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../../src/broker/subscription-group-manager.js';
import type { ProxyConfig } from '../../src/proxy/proxy-config.js';

/** Proxy settings that keep tests fast: short invisible times and long polls are allowed. */
export const FAST_PROXY: Partial<ProxyConfig> = { minInvisibleTimeMillsForRecv: 1000, minLongPollingTimeoutMillis: 0 };

export interface ProxyFixture {
  mq: Standalone;
  storeDir: string;
  /** Stops the standalone (idempotent) and removes the store unless `keepStore`. */
  stop(keepStore?: boolean): Promise<void>;
}

/** A standalone (NameServer + Broker + Proxy) on free ports over a fresh store. */
export async function startProxyStandalone(opts: Partial<StandaloneOptions> = {}, storeDir?: string): Promise<ProxyFixture> {
  const dir = storeDir ?? mkdtempSync(join(tmpdir(), 'rmq-proxy-'));
  const mq = await startStandalone({
    ...opts,
    storeDir: dir,
    host: '127.0.0.1',
    ports: { namesrv: 0, broker: 0, proxy: 0 },
    proxyConfig: opts.proxyConfig === false ? false : { ...FAST_PROXY, ...opts.proxyConfig },
  });
  return {
    mq,
    storeDir: dir,
    async stop(keepStore = false) {
      await mq.shutdown();
      if (!keepStore) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a topic on the broker, with a `message.type` attribute when given (as `mqadmin updateTopic -a +message.type=…`). */
export function createTopic(mq: Standalone, topic: string, queues = 4, messageType?: string): void {
  const tc = newTopicConfig(topic, queues, queues);
  if (messageType) tc.attributes = { 'message.type': messageType };
  mq.broker.topicConfigManager.update(tc);
}

/** Creates or updates a consumer group (as `mqadmin updateSubGroup`). */
export function createGroup(mq: Standalone, group: string, cfg: Partial<SubscriptionGroupConfig> = {}): void {
  mq.broker.subscriptionGroupManager.update({ ...newSubscriptionGroupConfig(group), ...cfg, groupName: group });
}

/** A logger for the 5.x client that keeps quiet (its default writes to ~/logs and closes a shared stream). */
export function quietLogger(): { info(): void; warn(): void; error(): void; debug(): void; close(): void } {
  const noop = (): void => undefined;
  return { info: noop, warn: noop, error: noop, debug: noop, close: noop };
}

/** Polls `fn` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let seq = 0;
/** A unique name for a test's topic or group. */
/** Receives until `n` messages came or `timeoutMs` passed. */
export async function receiveN(c: SimpleConsumer, n: number, invisibleMs: number, timeoutMs = 8000): Promise<MessageView[]> {
  const out: MessageView[] = [];
  const end = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < end) out.push(...await c.receive(32, invisibleMs));
  return out;
}

export function uniq(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now() % 1_000_000}_${seq++}`;
}

/** A raw gRPC client of the proxy, for requests the 5.x SDK never sends malformed. */
export class RawClient {
  readonly client: MessagingServiceClient;

  constructor(address: string, readonly clientId = `raw@${process.pid}@${seq++}`) {
    this.client = new MessagingServiceClient(address, credentials.createInsecure());
  }

  metadata(extra: Record<string, string> = {}): Metadata {
    const md = new Metadata();
    md.set('x-mq-client-id', this.clientId);
    md.set('x-mq-protocol', 'v2');
    md.set('x-mq-language', 'HTTP');
    md.set('x-mq-client-version', '1.0.8');
    for (const [k, v] of Object.entries(extra)) md.set(k, v);
    return md;
  }

  /** Calls a unary method and resolves with its response. */
  call<Req, Res>(method: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md = this.metadata()): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.client, req, md, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Announces `raw` as a producer of `topics` on a Telemetry stream, as the SDKs do before they send,
 * and waits for the server's settings. The returned handle ends the stream.
 */
export async function announceProducer(raw: RawClient, topics: string[]): Promise<{ shutdown(): Promise<void> }> {
  const stream = raw.client.telemetry(raw.metadata());
  const answered = new Promise((resolve) => stream.once('data', resolve));
  stream.write(new S.TelemetryCommand().setSettings(new D.Settings().setClientType(D.ClientType.PRODUCER)
    .setPublishing(new D.Publishing().setTopicsList(topics.map((t) => new D.Resource().setName(t))))));
  await answered;
  return { shutdown: async () => { stream.on('data', () => undefined); stream.on('error', () => undefined); stream.end(); } };
}

/** A started 5.x SDK producer of `topic` at `endpoints`, added to `clients` for the file's cleanup. */
export async function startProducer(endpoints: string, topic: string, clients: Array<{ shutdown(): Promise<void> }>): Promise<Producer> {
  const p = new Producer({ endpoints, namespace: '', topic, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  return p;
}
