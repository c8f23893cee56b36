import { connect, type Socket } from 'node:net';
import { after, before } from 'node:test';
import { pino } from 'pino';
import type { BrokerConfig, MessageStoreConfig } from '../../src/common/config.js';
import type { Logger } from '../../src/common/logger.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords, type MessageExt } from '../../src/common/message-record.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { decodeCommand, FrameDecoder } from '../../src/remoting/codec.js';
import { RequestCode, SerializeType, type SerializeTypeValue } from '../../src/remoting/codes.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { RemotingClient } from '../../src/remoting/client.js';
import type { RequestHandler } from '../../src/remoting/connection.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

/** Broker tests: a real NameServer + Broker on 127.0.0.1 and raw Remoting requests against them. */

export interface LogLine {
  level: number;
  msg?: string;
  role?: string;
  [k: string]: unknown;
}

/** A logger that keeps its lines in memory, so tests stay quiet and can count what was logged. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } });
  return { logger, lines };
}

/** pino's numeric level for warn. */
export const WARN = 40;

export interface TestMQ {
  mq: Standalone;
  lines: LogLine[];
  /** Shuts both roles down and removes the store directory. */
  close(): Promise<void>;
}

export interface StartMQOptions {
  brokerConfig?: Partial<BrokerConfig>;
  storeConfig?: Partial<MessageStoreConfig>;
}

export async function startMQ(opts: StartMQOptions = {}): Promise<TestMQ> {
  const { dir, cleanup } = tempDir('rmq-broker-test-');
  const { logger, lines } = memoryLogger();
  let mq: Standalone;
  try {
    mq = await startStandalone({
      storeDir: dir,
      host: '127.0.0.1',
      ports: { namesrv: 0, broker: 0 },
      brokerConfig: opts.brokerConfig,
      storeConfig: { mappedFileSizeCommitLog: 4 * 1024 * 1024, mappedFileSizeConsumeQueue: 6000 * 20, ...opts.storeConfig },
      logger,
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    mq,
    lines,
    close: async () => {
      try {
        await mq.shutdown();
      } finally {
        cleanup();
      }
    },
  };
}

/** A broker of `startMQ` and one Remoting client to it. */
export interface MQWithClient {
  t: TestMQ;
  client: RemotingClient;
  /** The broker's address. */
  broker: string;
}

/**
 * Registers `before`/`after` hooks for a test file: starts a broker (`startMQ`) and a Remoting
 * client and hands them to `started`; after the tests, shuts the client down and closes the broker.
 */
export function useMQWithClient(started: (s: MQWithClient) => void, opts: StartMQOptions = {}): void {
  let s: MQWithClient | undefined;
  before(async () => {
    const t = await startMQ(opts);
    s = { t, client: newClient(), broker: t.mq.brokerAddr };
    started(s);
  });
  after(async () => {
    await s?.client.shutdown();
    await s?.t.close();
  });
}

/** Warn-or-worse lines that mention `addr` (the server's view of a client: ip:port). */
export function warnLinesAbout(lines: readonly LogLine[], addr: string): LogLine[] {
  return lines.filter((l) => l.level >= WARN && typeof l.msg === 'string' && l.msg.includes(addr));
}

export function request(code: number, extFields?: Record<string, string | number | boolean | undefined>, body?: Buffer, serializeType: SerializeTypeValue = SerializeType.ROCKETMQ): RemotingCommand {
  return createRequest(code, { extFields, body, serializeType });
}

export function newClient(onRequest?: RequestHandler): RemotingClient {
  return new RemotingClient({ onRequest });
}

export interface SendSpec {
  topic: string;
  body: Buffer | string;
  tags?: string;
  keys?: string;
  queueId?: number;
  producerGroup?: string;
  defaultTopicQueueNums?: number;
}

function propertiesOf(s: SendSpec): string {
  const p: Record<string, string> = {};
  if (s.tags !== undefined) p.TAGS = s.tags;
  if (s.keys !== undefined) p.KEYS = s.keys;
  p.WAIT = 'true';
  return encodeProperties(p);
}

/** SEND_MESSAGE_V2 extFields (short keys a..m). */
export function sendV2Ext(s: SendSpec): Record<string, string> {
  return {
    a: s.producerGroup ?? 'test-producer', b: s.topic, c: 'TBW102', d: String(s.defaultTopicQueueNums ?? 4), e: String(s.queueId ?? 0),
    f: '0', g: String(Date.now()), h: '0', i: propertiesOf(s), j: '0', k: 'false', m: 'false',
  };
}

/** SEND_MESSAGE (V1) extFields (long keys). */
export function sendV1Ext(s: SendSpec): Record<string, string> {
  return {
    producerGroup: s.producerGroup ?? 'test-producer', topic: s.topic, defaultTopic: 'TBW102', defaultTopicQueueNums: String(s.defaultTopicQueueNums ?? 4),
    queueId: String(s.queueId ?? 0), sysFlag: '0', bornTimestamp: String(Date.now()), flag: '0', properties: propertiesOf(s),
    reconsumeTimes: '0', unitMode: 'false', batch: 'false',
  };
}

/** UPDATE_AND_CREATE_TOPIC of `topic` with `read`/`write` queues. */
export function createTopicRequest(topic: string, read: number, write: number, perm = 6): RemotingCommand {
  return request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, defaultTopic: 'TBW102', readQueueNums: read, writeQueueNums: write, perm, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
}

export function sendRequest(s: SendSpec, serializeType: SerializeTypeValue = SerializeType.ROCKETMQ): RemotingCommand {
  return request(RequestCode.SEND_MESSAGE_V2, sendV2Ext(s), Buffer.from(s.body), serializeType);
}

export interface PullSpec {
  topic: string;
  queueId?: number;
  queueOffset?: number;
  group?: string;
  maxMsgNums?: number;
  subscription?: string;
  suspendTimeoutMillis?: number;
  suspend?: boolean;
}

export function pullRequest(p: PullSpec, serializeType: SerializeTypeValue = SerializeType.ROCKETMQ): RemotingCommand {
  let sysFlag = PullSysFlag.FLAG_SUBSCRIPTION;
  if (p.suspend) sysFlag |= PullSysFlag.FLAG_SUSPEND;
  return request(RequestCode.PULL_MESSAGE, {
    consumerGroup: p.group ?? 'test-consumer', topic: p.topic, queueId: p.queueId ?? 0, queueOffset: p.queueOffset ?? 0,
    maxMsgNums: p.maxMsgNums ?? 32, sysFlag, commitOffset: 0, suspendTimeoutMillis: p.suspendTimeoutMillis ?? 0,
    subscription: p.subscription ?? '*', subVersion: Date.now(), expressionType: 'TAG',
  }, undefined, serializeType);
}

export function records(res: RemotingCommand): MessageExt[] {
  return res.body ? decodeRecords(res.body) : [];
}

export function bodies(res: RemotingCommand): string[] {
  return records(res).map((m) => m.body.toString('utf8'));
}

/**
 * A raw TCP connection for writing arbitrary bytes: collects the frames the server answers with
 * and notices when the server closes the connection.
 */
export class RawConn {
  readonly frames: RemotingCommand[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly decoder = new FrameDecoder();
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    // Writes after the server closed may fail with EPIPE/ECONNRESET; that is the expected outcome here.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (f) => this.frames.push(decodeCommand(f)));
      } catch {
        // Not our concern: the tests look at what the server did.
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      this.wake();
      resolve();
    }));
  }

  static open(addr: string): Promise<RawConn> {
    const i = addr.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const s = connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
    });
  }

  /** The server's view of this connection (ip:port), as it appears in its log lines. */
  get serverSideName(): string {
    return `127.0.0.1:${this.socket.localPort}`;
  }

  write(data: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return true;
  }

  /** True when the server closed the connection within `timeoutMs`. */
  waitClosed(timeoutMs = 2000): Promise<boolean> {
    return this.until(() => this.isClosed, timeoutMs);
  }

  /** The next response frame; throws if none arrives in time. */
  async response(timeoutMs = 2000): Promise<RemotingCommand> {
    const ok = await this.until(() => this.frames.length > 0 || this.isClosed, timeoutMs);
    const f = this.frames.shift();
    if (!f) throw new Error(ok ? 'connection closed without a response' : `no response within ${timeoutMs} ms`);
    return f;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A frame from its parts: `total | type<<24 | headerLen | header | body`. */
export function frame(type: number, header: Buffer, body: Buffer = Buffer.alloc(0), total?: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(total ?? 4 + header.length + body.length, 0);
  head.writeUInt32BE(((type & 0xff) << 24 | (header.length & 0xffffff)) >>> 0, 4);
  return Buffer.concat([head, header, body]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
