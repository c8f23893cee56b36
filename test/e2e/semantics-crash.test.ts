import { test } from 'node:test';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { MQClientAPI, type MessageExt } from '../../src/client/index.js';
import { RemotingClient, createRequest } from '../../src/remoting/index.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { persistedOffsetTable } from '../helpers/offset-table.js';
import { tempDir } from '../helpers/tmp.js';
import { killHard, startStandaloneProcess, stopClean, writeBrokerConf, type StandaloneProcess } from './standalone-process.js';

/**
 * Delays, retries, transactions and consumer offsets across a SIGKILL of the broker process:
 * the state each one keeps (schedule cursors, half and op records, offsets) must bring every
 * message back after the restart.
 */

const CONF = {
  brokerClusterName: 'DefaultCluster', brokerName: 'broker-a', brokerIP1: '127.0.0.1',
  messageDelayLevel: ['1s', '3s', ...Array(16).fill('2s')].join(' '),
  transactionCheckInterval: 300, transactionTimeOut: 300, flushConsumerOffsetInterval: 200,
};

async function send(api: MQClientAPI, p: StandaloneProcess, topic: string, body: string, props: Record<string, string>, sysFlag = 0): Promise<{ offsetMsgId: string; queueOffset: number }> {
  return api.sendMessage(p.brokerAddr, 'broker-a', {
    producerGroup: 'PG', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag,
    bornTimestamp: Date.now(), flag: 0, properties: encodeProperties({ TAGS: 'T', ...props }),
  }, Buffer.from(body));
}

async function all(api: MQClientAPI, p: StandaloneProcess, topic: string): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (;;) {
    const r = await api.pullMessage(p.brokerAddr, {
      consumerGroup: 'READER', topic, queueId: 0, queueOffset: offset, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000).catch(() => undefined);
    if (!r || r.msgFoundList.length === 0) return out;
    out.push(...r.msgFoundList);
    offset = r.nextBeginOffset;
  }
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the offsetTable of the broker's offsets file at `path` satisfies `ok`. */
async function untilPersisted(path: string, ok: (offsetTable: Record<string, unknown>) => boolean, what: string): Promise<void> {
  await until(async () => (ok(persistedOffsetTable(path) ?? {}) ? true : undefined), 10_000, what);
}

test('delayed and retried messages parked at the SIGKILL are delivered after the restart, once', async () => {
  const tmp = tempDir('rmq-sem-crash-');
  const conf = writeBrokerConf(tmp.dir, CONF);
  let p = await startStandaloneProcess(conf, `${tmp.dir}/store`);
  const api = new MQClientAPI();
  const raw = new RemotingClient();
  try {
    // Delivered before the crash: must not come twice.
    await send(api, p, 'SemDelay', 'early', { DELAY: '1' });
    await until(async () => ((await all(api, p, 'SemDelay')).length === 1 ? true : undefined), 5000, 'the early delayed message');
    // The schedule cursor is persisted every second: the kill waits until the file has it past
    // 'early' (a delivery newer than the last persist is delivered again after a crash).
    await untilPersisted(join(tmp.dir, 'store', 'config', 'delayOffset.json'), (t) => t['1'] === 1, 'the schedule cursor persisted');
    // Pending at the crash: must come after the restart.
    await send(api, p, 'SemDelay', 'pending', { DELAY: '2' });
    const consumed = await send(api, p, 'SemRetry', 'give-back', {});
    const back = await raw.invoke(p.brokerAddr, createRequest(36, {
      extFields: { offset: decodeOffsetMessageId(consumed.offsetMsgId).commitLogOffset, group: 'SEMG', delayLevel: 2, originTopic: 'SemRetry', maxReconsumeTimes: 16 },
    }));
    assert.equal(back.code, 0);
    await killHard(p);
    await raw.shutdown();
    p = await startStandaloneProcess(conf, `${tmp.dir}/store`);
    await p.proc.waitForLine(/recovered after an abnormal exit/, 5000);
    const delayed = await until(async () => { const l = await all(api, p, 'SemDelay'); return l.length >= 2 ? l : undefined; }, 10_000, 'the pending delayed message');
    const retried = await until(async () => { const l = await all(api, p, '%RETRY%SEMG'); return l.length >= 1 ? l : undefined; }, 10_000, 'the retried message');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual((await all(api, p, 'SemDelay')).map((m) => m.body.toString()), ['early', 'pending']);
    assert.equal(delayed.length, 2);
    assert.deepEqual((await all(api, p, '%RETRY%SEMG')).map((m) => [m.body.toString(), m.reconsumeTimes]), [['give-back', 1]]);
    assert.equal(retried[0]!.reconsumeTimes, 1);
  } finally {
    await raw.shutdown();
    await api.shutdown();
    await stopClean(p).catch(() => p.proc.kill());
    tmp.cleanup();
  }
});

test('transactions and consumer offsets across a SIGKILL: an open half is checked back and committed once; offsets are kept', async () => {
  const tmp = tempDir('rmq-sem-crash-tx-');
  const conf = writeBrokerConf(tmp.dir, CONF);
  let p = await startStandaloneProcess(conf, `${tmp.dir}/store`);
  const api = new MQClientAPI();
  let producer = new RemotingClient();
  try {
    const half = await send(api, p, 'SemTx', 'in-doubt', { TRAN_MSG: 'true', PGROUP: 'SEMTX', UNIQ_KEY: 'SEMTXUNIQ0000000000000000000001' }, 0x4);
    await api.updateConsumerOffset(p.brokerAddr, { consumerGroup: 'SEMC', topic: 'SemTx', queueId: 0, commitOffset: 7 });
    // Offsets are persisted every flushConsumerOffsetInterval (as upstream, a commit newer than
    // the last persist is not kept by a crash): the kill waits until the file holds this one.
    await untilPersisted(join(tmp.dir, 'store', 'config', 'consumerOffset.json'), (t) => (t['SemTx@SEMC'] as Record<string, number> | undefined)?.['0'] === 7, 'the offset persisted');
    await killHard(p);
    await producer.shutdown();
    p = await startStandaloneProcess(conf, `${tmp.dir}/store`);
    assert.equal(await api.queryConsumerOffset(p.brokerAddr, { consumerGroup: 'SEMC', topic: 'SemTx', queueId: 0 }), 7);
    assert.deepEqual(await all(api, p, 'SemTx'), []);
    // The producer comes back and answers the check-back with COMMIT.
    const checks: Array<Record<string, string>> = [];
    producer = new RemotingClient({ onRequest: (req) => { if (req.code === 39) checks.push(req.extFields ?? {}); return null; } });
    await producer.invoke(p.brokerAddr, createRequest(34, { body: Buffer.from(JSON.stringify({ clientID: '127.0.0.1@semtx', producerDataSet: [{ groupName: 'SEMTX' }], consumerDataSet: [] })) }));
    const check = await until(async () => checks[0], 10_000, 'the check-back after restart');
    assert.equal(check.msgId, 'SEMTXUNIQ0000000000000000000001');
    await producer.invokeOneway(p.brokerAddr, createRequest(37, {
      extFields: { producerGroup: 'SEMTX', tranStateTableOffset: check.tranStateTableOffset!, commitLogOffset: check.commitLogOffset!, commitOrRollback: 8, fromTransactionCheck: true, msgId: check.msgId! },
    }));
    await until(async () => ((await all(api, p, 'SemTx')).length ? true : undefined), 5000, 'the committed message');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual((await all(api, p, 'SemTx')).map((m) => m.body.toString()), ['in-doubt']);
    assert.ok(half.queueOffset >= 0);
  } finally {
    await producer.shutdown();
    await api.shutdown();
    await stopClean(p).catch(() => p.proc.kill());
    tmp.cleanup();
  }
});
