import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { defaultNamesrvConfig, type NamesrvConfig } from '../../src/common/config.js';
import type { Logger } from '../../src/common/logger.js';
import { encodeRegisterBrokerBody, type DataVersion, type TopicConfig } from '../../src/common/route.js';
import { bodyCrc32 } from '../../src/namesrv/processors/broker-registration.js';
import { NamesrvController } from '../../src/namesrv/namesrv-controller.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { RemotingClient } from '../../src/remoting/client.js';
import type { SerializeTypeValue } from '../../src/remoting/codes.js';

/** A logger that keeps its lines in memory (tests stay quiet and can read what was logged). */
export function memoryLogger(level = 'warn'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { logger, lines };
}

export interface TestNamesrv {
  ns: NamesrvController;
  addr: string;
  dir: string;
  config: NamesrvConfig;
  /** Shuts the NameServer down and removes its directory. */
  close(): Promise<void>;
}

/** Starts a NameServer on an ephemeral port with its KV file in a fresh temp directory. */
export async function startNamesrv(overrides: Partial<NamesrvConfig> = {}, opts: { dir?: string; logger?: Logger } = {}): Promise<TestNamesrv> {
  const dir = opts.dir ?? await mkdtemp(join(tmpdir(), 'namesrv-test-'));
  const config: NamesrvConfig = { ...defaultNamesrvConfig(), listenPort: 0, kvConfigPath: join(dir, 'kvConfig.json'), ...overrides };
  const ns = new NamesrvController(config, { host: '127.0.0.1', logger: opts.logger ?? memoryLogger().logger });
  await ns.start();
  return {
    ns,
    dir,
    config,
    addr: `127.0.0.1:${ns.port}`,
    close: async () => {
      await ns.shutdown();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function topicConfig(topicName: string, queues = 4, perm = 6): TopicConfig {
  return { topicName, readQueueNums: queues, writeQueueNums: queues, perm, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false };
}

export interface BrokerSpec {
  cluster?: string;
  brokerName: string;
  brokerAddr: string;
  brokerId?: number;
  haServerAddr?: string;
  topics: TopicConfig[];
  dataVersion?: DataVersion;
  compressed?: boolean;
  serializeType?: SerializeTypeValue;
  /** Override the body CRC sent in the header; default: the correct one. */
  bodyCrc32?: number;
  extra?: Record<string, string>;
}

export function registerRequest(b: BrokerSpec): RemotingCommand {
  const body = encodeRegisterBrokerBody({
    topicConfigSerializeWrapper: {
      topicConfigTable: Object.fromEntries(b.topics.map((t) => [t.topicName, t])),
      dataVersion: b.dataVersion ?? { stateVersion: 0, timestamp: 1_700_000_000_000, counter: 1 },
    },
    filterServerList: [],
  }, b.compressed ?? false);
  return createRequest(RequestCode.REGISTER_BROKER, {
    serializeType: b.serializeType,
    extFields: {
      brokerName: b.brokerName,
      brokerAddr: b.brokerAddr,
      clusterName: b.cluster ?? 'DefaultCluster',
      haServerAddr: b.haServerAddr ?? b.brokerAddr.replace(/:\d+$/, ':10912'),
      brokerId: b.brokerId ?? 0,
      compressed: b.compressed ?? false,
      bodyCrc32: b.bodyCrc32 ?? bodyCrc32(body),
      ...b.extra,
    },
    body,
  });
}

export function request(code: number, extFields: Record<string, string | number | boolean | undefined> = {}, serializeType?: SerializeTypeValue, body?: Buffer): RemotingCommand {
  return createRequest(code, { extFields, serializeType, body });
}

export async function invoke(client: RemotingClient, addr: string, cmd: RemotingCommand): Promise<RemotingCommand> {
  return client.invoke(addr, cmd, 5000);
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
