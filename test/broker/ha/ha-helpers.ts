import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { BrokerController } from '../../../src/broker/index.js';
import type { BrokerConfig, MessageStoreConfig } from '../../../src/common/config.js';
import { defaultBrokerConfig, defaultMessageStoreConfig } from '../../../src/common/config.js';
import type { Logger } from '../../../src/common/logger.js';
import { startStandalone, type Standalone } from '../../../src/standalone.js';
import { tempDir } from '../../helpers/tmp.js';
import { memoryLogger, type LogLine } from '../helpers.js';

/** Replication tests: a master (standalone: NameServer + broker) and slaves on 127.0.0.1, each over a temp store. */

export const BROKER_NAME = 'ha-broker';
/** Small segments, so that tests roll the CommitLog over. */
export const SMALL_STORE: Partial<MessageStoreConfig> = { mappedFileSizeCommitLog: 256 * 1024, mappedFileSizeConsumeQueue: 6000 * 20, maxMessageSize: 64 * 1024 };

export interface Master {
  mq: Standalone;
  lines: LogLine[];
  dir: string;
  close(): Promise<void>;
}

export async function startMaster(store: Partial<MessageStoreConfig> = {}, broker: Partial<BrokerConfig> = {}): Promise<Master> {
  const { dir, cleanup } = tempDir('rmq-ha-master-');
  const { logger, lines } = memoryLogger();
  const mq = await startStandalone({
    storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger,
    brokerConfig: { brokerName: BROKER_NAME, ...broker },
    storeConfig: { ...SMALL_STORE, ...store },
  }).catch((err: unknown) => {
    cleanup();
    throw err;
  });
  return { mq, lines, dir, close: async () => { try { await mq.shutdown(); } finally { cleanup(); } } };
}

export interface Slave {
  broker: BrokerController;
  lines: LogLine[];
  dir: string;
  logger: Logger;
  /** Stops the broker (clean shutdown); the store stays until `close`. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** A slave (brokerId 1) of BROKER_NAME over `dir` (a new temp dir by default), registered with `namesrvAddr`. */
export async function startSlave(namesrvAddr: string, store: Partial<MessageStoreConfig> = {}, broker: Partial<BrokerConfig> = {}, dir?: string): Promise<Slave> {
  const t = dir === undefined ? tempDir('rmq-ha-slave-') : { dir, cleanup: () => undefined };
  const { logger, lines } = memoryLogger();
  const b = new BrokerController({
    brokerConfig: { ...defaultBrokerConfig(), brokerName: BROKER_NAME, brokerClusterName: 'DefaultCluster', brokerId: 1, brokerRole: 'SLAVE', namesrvAddr, listenPort: 0, brokerIP1: '127.0.0.1', fastListenPortEnable: false, ...broker },
    storeConfig: { ...defaultMessageStoreConfig(), ...SMALL_STORE, ...store, storePathRootDir: t.dir },
    host: '127.0.0.1',
    logger,
  });
  try {
    await b.start();
  } catch (err) {
    await b.shutdown().catch(() => undefined);
    t.cleanup();
    throw err;
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await b.shutdown();
  };
  return { broker: b, lines, dir: t.dir, logger, stop, close: async () => { try { await stop(); } finally { t.cleanup(); } } };
}

/** The CommitLog bytes of a store from `from` to `to`, read from its segment files. */
export function commitLogBytes(storeDir: string, from: number, to: number, fileSize: number): Buffer {
  const dir = join(storeDir, 'commitlog');
  const out = Buffer.alloc(to - from);
  const files = readdirSync(dir).filter((n) => /^\d{20}$/.test(n)).sort();
  for (const name of files) {
    const start = Number(name);
    if (start + fileSize <= from || start >= to) continue;
    const data = readFileSync(join(dir, name));
    const a = Math.max(from, start);
    const b = Math.min(to, start + fileSize);
    data.copy(out, a - from, a - start, Math.min(b - start, data.length));
  }
  return out;
}

/** A port free right now (bound and released), for a role that must keep its port across a restart. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const a = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}
