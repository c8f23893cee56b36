import { test } from 'node:test';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { MQClientAPI } from '../../src/client/index.js';
import { RemotingClient, createRequest } from '../../src/remoting/index.js';
import { encodeProperties, decodeProperties } from '../../src/common/properties.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import type { MessageStoreConfig } from '../../src/common/config.js';
import { persistedOffsetTable } from '../helpers/offset-table.js';
import { tempDir } from '../helpers/tmp.js';

const FAST_LEVELS = Array(18).fill('1s').join(' ');

async function start(dir: string, messageDelayLevel = FAST_LEVELS, storeConfig: Partial<MessageStoreConfig> = {}): Promise<Standalone> {
  return startStandalone({ storeDir: dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', storeConfig: { messageDelayLevel, ...storeConfig } });
}

async function send(api: MQClientAPI, mq: Standalone, topic: string, body: string, props: Record<string, string>): Promise<{ offsetMsgId: string }> {
  return api.sendMessage(mq.brokerAddr, 'broker-a', {
    producerGroup: 'PG', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0,
    bornTimestamp: Date.now(), flag: 0, properties: encodeProperties(props),
  }, Buffer.from(body));
}

async function pullAll(api: MQClientAPI, mq: Standalone, topic: string, group: string) {
  const r = await api.pullMessage(mq.brokerAddr, {
    consumerGroup: group, topic, queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
    commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
  }, 3000).catch(() => undefined);
  return r?.msgFoundList ?? [];
}

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('delay level 3 (default levels) is not consumable before 10 s and arrives soon after', async () => {
  const tmp = tempDir('rmq-delay-');
  const mq = await start(tmp.dir, '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h');
  const api = new MQClientAPI();
  try {
    const sentAt = Date.now();
    await send(api, mq, 'DelayTopic', 'later', { TAGS: 'T', DELAY: '3' });
    // The topic exists but the message is parked on SCHEDULE_TOPIC_XXXX.
    await new Promise((r) => setTimeout(r, 9000));
    assert.equal((await pullAll(api, mq, 'DelayTopic', 'G')).length, 0, 'visible before its delay');
    const got = await waitFor(async () => {
      const l = await pullAll(api, mq, 'DelayTopic', 'G');
      return l.length > 0 ? l : undefined;
    }, 5000, 'the delayed message');
    const lateness = Date.now() - sentAt - 10_000;
    assert.ok(Date.now() - sentAt >= 10_000, 'delivered early');
    assert.ok(lateness < 1500, `delivered ${lateness} ms late`);
    assert.equal(got[0]!.body.toString(), 'later');
    const props = decodeProperties(got[0]!.properties);
    assert.equal(props.get('DELAY'), undefined);
    assert.equal(props.get('REAL_TOPIC'), 'DelayTopic');
    assert.equal(got[0]!.topic, 'DelayTopic');
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('a pending delayed message survives a restart and is delivered after it', async () => {
  const tmp = tempDir('rmq-delay-restart-');
  let mq = await start(tmp.dir, '1s 3s');
  const api = new MQClientAPI();
  try {
    await send(api, mq, 'DelayRestart', 'after-restart', { TAGS: 'T', DELAY: '2' });
    await mq.shutdown();
    mq = await start(tmp.dir, '1s 3s');
    const got = await waitFor(async () => {
      const l = await pullAll(api, mq, 'DelayRestart', 'G');
      return l.length > 0 ? l : undefined;
    }, 8000, 'the delayed message after restart');
    assert.equal(got.length, 1);
    assert.equal(got[0]!.body.toString(), 'after-restart');
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('CONSUMER_SEND_MSG_BACK puts the message on %RETRY%group, delayed, then on %DLQ%group after the maximum', async () => {
  const tmp = tempDir('rmq-retry-');
  const mq = await start(tmp.dir);
  const api = new MQClientAPI();
  const raw = new RemotingClient();
  const sendBack = async (offsetMsgId: string, maxReconsumeTimes: number): Promise<number> => {
    const res = await raw.invoke(mq.brokerAddr, createRequest(36, {
      extFields: { offset: decodeOffsetMessageId(offsetMsgId).commitLogOffset, group: 'CG', delayLevel: 0, originTopic: 'RetryTopic', unitMode: false, maxReconsumeTimes },
    }));
    return res.code;
  };
  try {
    const first = await send(api, mq, 'RetryTopic', 'try-me', { TAGS: 'T', KEYS: 'k1' });
    assert.equal(await sendBack(first.offsetMsgId, 2), 0);
    // Delay level 3 + 0 is 1 s here; the retry topic of the group gets it with reconsumeTimes 1.
    const r1 = await waitFor(async () => (await pullAll(api, mq, '%RETRY%CG', 'CG'))[0], 5000, 'first retry');
    assert.equal(r1.reconsumeTimes, 1);
    assert.equal(r1.body.toString(), 'try-me');
    const p1 = decodeProperties(r1.properties);
    assert.equal(p1.get('RETRY_TOPIC'), 'RetryTopic');
    assert.equal(p1.get('ORIGIN_MESSAGE_ID'), first.offsetMsgId);
    assert.equal(p1.get('KEYS'), 'k1');
    assert.equal(await sendBack(r1.offsetMsgId, 2), 0);
    const r2 = await waitFor(async () => (await pullAll(api, mq, '%RETRY%CG', 'CG'))[1], 5000, 'second retry');
    assert.equal(r2.reconsumeTimes, 2);
    // reconsumeTimes has reached the maximum of 2: straight to the dead-letter queue, undelayed.
    assert.equal(await sendBack(r2.offsetMsgId, 2), 0);
    const dead = await waitFor(async () => (await pullAll(api, mq, '%DLQ%CG', 'DLQ-READER'))[0], 3000, 'the DLQ message');
    assert.equal(dead.body.toString(), 'try-me');
    assert.equal(dead.reconsumeTimes, 3);
    assert.equal(decodeProperties(dead.properties).get('ORIGIN_MESSAGE_ID'), first.offsetMsgId);
    // A send-back naming an offset outside the log is refused clearly.
    const bad = await raw.invoke(mq.brokerAddr, createRequest(36, { extFields: { offset: 999999999, group: 'CG', delayLevel: 0 } }));
    assert.equal(bad.code, 1);
    assert.match(bad.remark ?? '', /look message by offset failed/);
  } finally {
    await raw.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('a send to %RETRY%group past the maximum reconsume times lands in %DLQ%group', async () => {
  const tmp = tempDir('rmq-retry-dlq-');
  const mq = await start(tmp.dir);
  const api = new MQClientAPI();
  try {
    await api.sendMessage(mq.brokerAddr, 'broker-a', {
      producerGroup: 'PG', topic: '%RETRY%CG2', defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0,
      bornTimestamp: Date.now(), flag: 0, properties: encodeProperties({ TAGS: 'T', RETRY_TOPIC: 'Orig' }), reconsumeTimes: 17, maxReconsumeTimes: 16,
    }, Buffer.from('too-many'));
    const dead = await waitFor(async () => (await pullAll(api, mq, '%DLQ%CG2', 'R'))[0], 3000, 'the DLQ message');
    assert.equal(dead.body.toString(), 'too-many');
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('flushDelayOffsetInterval: the delay cursors are written on that period once they moved, and at shutdown', async () => {
  /** Level 1's cursor as the file holds it (undefined without a file or an entry). */
  const persisted = (dir: string): unknown => persistedOffsetTable(join(dir, 'config', 'delayOffset.json'))?.['1'];
  const api = new MQClientAPI();
  const slow = tempDir('rmq-delay-persist-slow-');
  const fast = tempDir('rmq-delay-persist-fast-');
  let mq: Standalone | undefined;
  try {
    // A minute apart: 1.5 s after the delivery the file does not have the cursor yet; the stop writes it.
    mq = await start(slow.dir, FAST_LEVELS, { flushDelayOffsetInterval: 60_000 });
    await send(api, mq, 'DelayPersist', 'one', { DELAY: '1' });
    await waitFor(async () => ((await pullAll(api, mq!, 'DelayPersist', 'G')).length === 1 ? true : undefined), 5000, 'the delivery');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(persisted(slow.dir), undefined, 'written before its interval');
    await mq.shutdown();
    mq = undefined;
    assert.equal(persisted(slow.dir), 1);

    // 200 ms apart: written while the broker runs.
    mq = await start(fast.dir, FAST_LEVELS, { flushDelayOffsetInterval: 200 });
    await send(api, mq, 'DelayPersist', 'one', { DELAY: '1' });
    await waitFor(async () => (persisted(fast.dir) === 1 ? true : undefined), 5000, 'the cursor written');
  } finally {
    await mq?.shutdown();
    await api.shutdown();
    slow.cleanup();
    fast.cleanup();
  }
});

test('a delay cursor persisted past the end of its schedule queue is set back at load; later delayed messages are delivered', async () => {
  const tmp = tempDir('rmq-delay-ahead-');
  const api = new MQClientAPI();
  let mq = await start(tmp.dir);
  try {
    const bodies = async (): Promise<string[]> => (await pullAll(api, mq, 'DelayAhead', 'G')).map((m) => m.body.toString());
    await send(api, mq, 'DelayAhead', 'one', { DELAY: '1' });
    await send(api, mq, 'DelayAhead', 'two', { DELAY: '1' });
    await waitFor(async () => ((await bodies()).length === 2 ? true : undefined), 5000, 'the first two delayed messages');
    await mq.shutdown();
    // The cursor file is synced on its own schedule: after an OS crash it can be ahead of the
    // recovered SCHEDULE_TOPIC_XXXX queue, which lost its tail (upstream correctDelayOffset).
    const path = join(tmp.dir, 'config', 'delayOffset.json');
    const data = JSON.parse(readFileSync(path, 'utf8')) as { offsetTable: Record<string, number> };
    assert.equal(data.offsetTable['1'], 2);
    data.offsetTable['1'] = 5;
    writeFileSync(path, JSON.stringify(data));
    mq = await start(tmp.dir);
    await send(api, mq, 'DelayAhead', 'three', { DELAY: '1' });
    await waitFor(async () => ((await bodies()).includes('three') ? true : undefined), 5000, 'the delayed message sent after the restart');
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('runtime info shows each delay level\'s cursor as scheduleMessageOffset_<level> = "<cursor>,<max>", and the timer rates', async () => {
  const tmp = tempDir('rmq-delay-stats-');
  const mq = await start(tmp.dir);
  const api = new MQClientAPI();
  try {
    await send(api, mq, 'DelayStats', 'later', { DELAY: '2' });
    await waitFor(async () => ((await pullAll(api, mq, 'DelayStats', 'G')).length > 0 ? true : undefined), 8000, 'the delayed message');
    const info = await waitFor(async () => {
      const kv = await api.getBrokerRuntimeInfo(mq.brokerAddr);
      return kv.scheduleMessageOffset_2 === '1,1' ? kv : undefined;
    }, 5000, 'scheduleMessageOffset_2');
    assert.equal(info.scheduleMessageOffset_2, '1,1');
    assert.match(info.timerEnqueueTps ?? '', /^\d+\.\d+$/);
    assert.match(info.timerDequeueTps ?? '', /^\d+\.\d+$/);
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
