import { MQClientAPI } from '../../src/client/index.js';
import type { MessageStoreConfig } from '../../src/common/config.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import type { MessageExt } from '../../src/common/message-record.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { RemotingClient, createRequest, type RemotingCommand } from '../../src/remoting/index.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { memoryLogger } from './helpers.js';

/** Timer-message test helpers: a standalone broker, raw sends that show the response's ext fields, full-queue pulls. */

export async function startTimerMQ(dir: string, storeConfig: Partial<MessageStoreConfig> = {}, brokerName = 'broker-timer'): Promise<Standalone> {
  return startStandalone({
    storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, logger: memoryLogger().logger,
    brokerConfig: { brokerName },
    storeConfig: { mappedFileSizeCommitLog: 4 * 1024 * 1024, mappedFileSizeConsumeQueue: 6000 * 20, timerMaxDelaySec: 60, ...storeConfig },
  });
}

export interface TimerCtx {
  mq: Standalone;
  raw: RemotingClient;
  api: MQClientAPI;
}

/** Runs `fn` against a fresh standalone broker with timers, a raw remoting client and an API client; cleans up after. */
export async function withTimerMQ(storeConfig: Partial<MessageStoreConfig>, fn: (c: TimerCtx) => Promise<void>): Promise<void> {
  const tmp = tempDir('rmq-timer-');
  const mq = await startTimerMQ(tmp.dir, storeConfig);
  const raw = new RemotingClient();
  const api = new MQClientAPI();
  try {
    await fn({ mq, raw, api });
  } finally {
    await api.shutdown();
    await raw.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
}

/** Waits until the next wall-clock second has just begun, so sub-second rounding is predictable. */
export async function atSecondStart(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

/** SEND_MESSAGE_V2 with arbitrary properties; resolves with the raw response. */
export function sendRaw(raw: RemotingClient, addr: string, topic: string, body: string, props: Record<string, string>, queueId = 0): Promise<RemotingCommand> {
  return raw.invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, {
    extFields: {
      a: 'timer-pg', b: topic, c: 'TBW102', d: '4', e: String(queueId), f: '0', g: String(Date.now()), h: '0',
      i: encodeProperties({ WAIT: 'true', ...props }), j: '0', k: 'false', m: 'false',
    },
    body: Buffer.from(body),
  }), 5000);
}

export function recall(raw: RemotingClient, addr: string, topic: string, recallHandle: string): Promise<RemotingCommand> {
  return raw.invoke(addr, createRequest(RequestCode.RECALL_MESSAGE, { extFields: { producerGroup: 'timer-pg', topic, recallHandle } }), 5000);
}

/** Every message of `topic`/`queueId` from offset 0 (an empty list while the queue does not exist). */
export async function pullAll(api: MQClientAPI, addr: string, topic: string, queueId = 0): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (;;) {
    const r = await api.pullMessage(addr, {
      consumerGroup: 'timer-cg', topic, queueId, queueOffset: offset, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000).catch(() => undefined);
    if (!r || r.msgFoundList.length === 0) return out;
    out.push(...r.msgFoundList);
    offset = r.nextBeginOffset;
  }
}

export function propsOf(m: MessageExt): Map<string, string> {
  return decodeProperties(m.properties);
}

/**
 * Polls `topic` until `count` messages are there; returns each body with the time it was first
 * seen. Throws after `timeoutMs`.
 */
export async function waitForBodies(api: MQClientAPI, addr: string, topic: string, count: number, timeoutMs: number, queueId = 0): Promise<Map<string, { seenAt: number; msg: MessageExt }>> {
  const seen = new Map<string, { seenAt: number; msg: MessageExt }>();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const now = Date.now();
    for (const m of await pullAll(api, addr, topic, queueId)) {
      const b = m.body.toString();
      if (!seen.has(b)) seen.set(b, { seenAt: now, msg: m });
    }
    if (seen.size >= count) return seen;
    if (Date.now() > end) throw new Error(`only ${seen.size} of ${count} messages on ${topic} after ${timeoutMs} ms: ${[...seen.keys()].join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
