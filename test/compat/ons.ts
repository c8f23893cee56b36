import { after, before } from 'node:test';
import { createRequire } from 'node:module';
import { startStandalone, type Standalone, type StandaloneOptions } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

// ali-ons, the Node SDK many applications use, set up for the compatibility tests: it is
// CommonJS, and it is used exactly as an application would use it.

export interface OnsClient {
  ready(): Promise<void>;
  close(): Promise<void>;
  on(ev: string, fn: (err: Error) => void): void;
}

/** A message as an ali-ons Consumer hands it to its handler. */
export interface OnsMessage {
  msgId: string;
  tags: string;
  /** Space-separated keys string. */
  keys: string;
  body: Buffer;
  topic: string;
  queueId: number;
  queueOffset: number;
  reconsumeTimes: number;
  properties: Record<string, string>;
}

export interface OnsProducer extends OnsClient {
  send(msg: unknown): Promise<{ sendStatus: string; msgId: string; messageQueue: { queueId: number } }>;
}

export interface OnsConsumer extends OnsClient {
  /** `expr`: a TAG expression, or `{ expressionType: 'SQL92', subString }`. */
  subscribe(topic: string, expr: string | { expressionType: string; subString: string }, handler: (msg: OnsMessage) => Promise<void>): void;
}

const require = createRequire(import.meta.url);
export const ons = require('ali-ons') as {
  Producer: new (opts: Record<string, unknown>) => OnsProducer;
  Consumer: new (opts: Record<string, unknown>) => OnsConsumer;
  Message: new (topic: string, tags: string, body: string | Buffer) => {
    keys: string[];
    properties: Record<string, string>;
    delayTimeLevel: number;
    setStartDeliverTime?(t: number): void;
  };
};

// ali-ons looks NameServers up over HTTP only when given onsAddr; with nameSrv it never calls this.
const httpclient = { request: () => Promise.reject(new Error('no HTTP lookup: nameSrv is configured')) };

/** A standalone NameServer + Broker for ali-ons clients, and the clients the tests opened. */
export interface OnsStandalone {
  /** The roles (set once they are up). */
  readonly mq: Standalone;
  /** Options of an ali-ons client of these roles: their NameServer, test credentials, short intervals. */
  options(): Record<string, unknown>;
  /** An ali-ons Producer of `group`, ready. */
  producer(group: string): Promise<OnsProducer>;
  /** An ali-ons Consumer of `group` that ignores its 'error' events; subscribe, then await its ready(). */
  consumer(group: string, instanceName?: string): OnsConsumer;
  /** Has `client` closed after the tests (newest first). */
  track<T extends OnsClient>(client: T): T;
  /** Forgets a client the test closed itself. */
  untrack(client: OnsClient): void;
}

/** What the compatibility tests may change. */
export interface OnsStandaloneSettings extends Pick<StandaloneOptions, 'brokerConfig' | 'storeConfig'> {
  /** ali-ons client options on top of the defaults (heartbeat and rebalance intervals). */
  clientOptions?: Record<string, unknown>;
  /** Runs after the tests, before the ali-ons clients close: shut our own clients down here. */
  stopping?(): Promise<void>;
}

/**
 * Registers `before`/`after` hooks that run a standalone NameServer + Broker on free ports over a
 * temporary store directory (prefixed `tmpPrefix`); after the tests, the tracked ali-ons clients
 * are closed, the roles stopped and the directory removed.
 */
export function useOnsStandalone(tmpPrefix: string, settings: OnsStandaloneSettings = {}): OnsStandalone {
  const { clientOptions, stopping, ...roles } = settings;
  const clients: OnsClient[] = [];
  let mq: Standalone | undefined;
  let tmp: { dir: string; cleanup: () => void } | undefined;
  before(async () => {
    tmp = tempDir(tmpPrefix);
    mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, ...roles });
  });
  after(async () => {
    await stopping?.();
    for (const c of clients.reverse()) await c.close().catch(() => undefined);
    await mq?.shutdown();
    tmp?.cleanup();
  });
  const env: OnsStandalone = {
    get mq(): Standalone {
      if (!mq) throw new Error('the standalone is not started yet');
      return mq;
    },
    options: () => ({
      httpclient, nameSrv: env.mq.namesrvAddr, accessKeyId: 'test-key', accessKeySecret: 'test-secret',
      heartbeatBrokerInterval: 2000, rebalanceInterval: 1000, persistConsumerOffsetInterval: 500, ...clientOptions,
    }),
    async producer(group) {
      const p = env.track(new ons.Producer({ ...env.options(), producerGroup: group }));
      await p.ready();
      return p;
    },
    consumer(group, instanceName = group) {
      const c = new ons.Consumer({ ...env.options(), consumerGroup: group, instanceName });
      c.on('error', () => undefined);
      return env.track(c);
    },
    track(client) {
      clients.push(client);
      return client;
    },
    untrack(client) {
      const i = clients.indexOf(client);
      if (i >= 0) clients.splice(i, 1);
    },
  };
  return env;
}
