import assert from 'node:assert/strict';
import { DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeRecords, type MessageExt } from '../../src/common/message-record.js';
import { javaStringHashCode } from '../../src/common/java.js';
import { toTimerTopic } from '../../src/broker/message-util.js';
import { TIMER_TOPIC } from '../../src/broker/timer/timer-const.js';
import { TimerMessageStore, type TimerMessageStoreOptions } from '../../src/broker/timer/timer-message-store.js';
import { memoryLogger } from './helpers.js';

/** A TimerMessageStore over a DefaultMessageStore, without a broker, and what its tests put and read. */

const host = encodeSocketAddress('127.0.0.1', 10911);

export interface Opened {
  store: DefaultMessageStore;
  timer: TimerMessageStore;
  cfg: MessageStoreConfig;
  close(): Promise<void>;
}

export async function open(dir: string, over: Partial<MessageStoreConfig> = {}, opts: TimerMessageStoreOptions = {}): Promise<Opened> {
  const { logger } = memoryLogger();
  const cfg: MessageStoreConfig = {
    ...defaultMessageStoreConfig(), storePathRootDir: dir, mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 6000 * 20,
    timerMaxDelaySec: 60, messageIndexEnable: false, ...over,
  };
  const store = new DefaultMessageStore(cfg, host, logger);
  store.load();
  const timer = new TimerMessageStore(store, cfg, dir, logger, { flushIntervalMs: 200, ...opts });
  await timer.load();
  store.setMessageArrivingListener((topic) => {
    if (topic === TIMER_TOPIC) timer.onArrival();
  });
  store.start();
  timer.start();
  return {
    store, timer, cfg,
    close: async () => {
      await timer.shutdown();
      await store.shutdown();
    },
  };
}

export function timerMsg(o: Opened, topic: string, body: string, props: Record<string, string>): PutMessageInput {
  const input: PutMessageInput = {
    topic, queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: encodeSocketAddress('127.0.0.1', 5000),
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(body),
    properties: encodeProperties({ TAGS: 'T', UNIQ_KEY: `UK-${topic}-${body}`, ...props }), tagsCode: javaStringHashCode('T'), waitStoreMsgOK: true,
  };
  assert.equal(toTimerTopic(input, o.cfg).kind, 'TIMER');
  return input;
}

export async function put(o: Opened, topic: string, body: string, props: Record<string, string>): Promise<void> {
  const r = await o.store.putMessage(timerMsg(o, topic, body, props));
  assert.equal(r.status, 'PUT_OK');
}

export async function readAll(s: DefaultMessageStore, topic: string): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let off = s.getMinOffsetInQueue(topic, 0);
  for (;;) {
    const r = await s.getMessage(topic, 0, off, 32);
    if (r.status !== 'FOUND') return out;
    for (const b of r.buffers) out.push(...decodeRecords(b));
    off = r.nextBeginOffset;
  }
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const filed = (o: Opened, n: number) => (): boolean => o.timer.runtimeInfo().timerOffsetBehind === '0' && o.timer.stats.enqueued >= n;
