import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { LatencyFaultTolerance, LocalTransactionState, Message, MQClientAPI, Producer, TransactionProducer, type LocalTransactionStateValue } from '../../src/client/index.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { tempDir } from '../helpers/tmp.js';

async function visible(api: MQClientAPI, mq: Standalone, topic: string, queues = 4): Promise<string[]> {
  const out: string[] = [];
  for (let queueId = 0; queueId < queues; queueId++) {
    const r = await api.pullMessage(mq.brokerAddr, {
      consumerGroup: 'R', topic, queueId, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000).catch(() => undefined);
    out.push(...(r?.msgFoundList ?? []).map((m) => m.body.toString()));
  }
  return out.sort();
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('TransactionProducer: commit is visible once, rollback never, unknown is checked back and committed', async () => {
  const tmp = tempDir('rmq-txp-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 300 } });
  const checked: string[] = [];
  const p = new TransactionProducer({
    group: 'TXP', namesrvAddr: mq.namesrvAddr, heartbeatBrokerInterval: 200,
    checkLocalTransaction: (m) => { checked.push(m.body.toString()); return LocalTransactionState.COMMIT_MESSAGE; },
  });
  const api = new MQClientAPI();
  try {
    await p.start();
    const run = (s: LocalTransactionStateValue) => () => s;
    const a = await p.sendInTransaction(new Message('TxpTopic', 'committed', { keys: 'a' }), run(LocalTransactionState.COMMIT_MESSAGE));
    assert.equal(a.localTransactionState, 'COMMIT_MESSAGE');
    await p.sendInTransaction(new Message('TxpTopic', 'rolled-back'), run(LocalTransactionState.ROLLBACK_MESSAGE));
    await p.sendInTransaction(new Message('TxpTopic', 'in-doubt'), () => { throw new Error('local transaction crashed'); });
    await until(async () => (await visible(api, mq, 'TxpTopic')).length >= 2, 10_000, 'the committed and the checked-back messages');
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(await visible(api, mq, 'TxpTopic'), ['committed', 'in-doubt']);
    assert.deepEqual(checked, ['in-doubt']);
  } finally {
    await p.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('a transaction message may carry CHECK_IMMUNITY_TIME_IN_SECONDS, which holds off its check-back', async () => {
  // Upstream leaves this property (and TRANSACTION_CHECK_TIMES) to the application: it is not a system one.
  const tmp = tempDir('rmq-txp-imm-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 300 } });
  const checked: string[] = [];
  const p = new TransactionProducer({
    group: 'TXP_IMM', namesrvAddr: mq.namesrvAddr, heartbeatBrokerInterval: 200,
    checkLocalTransaction: (m) => { checked.push(m.body.toString()); return LocalTransactionState.COMMIT_MESSAGE; },
  });
  const api = new MQClientAPI();
  try {
    await p.start();
    const unknown = (): LocalTransactionStateValue => LocalTransactionState.UNKNOW;
    const immune = new Message('TxpImmTopic', 'immune', { properties: { CHECK_IMMUNITY_TIME_IN_SECONDS: '60' } });
    immune.putUserProperty('TRANSACTION_CHECK_TIMES', '0');
    await p.sendInTransaction(immune, unknown);
    await p.sendInTransaction(new Message('TxpImmTopic', 'plain'), unknown);
    await until(async () => (await visible(api, mq, 'TxpImmTopic')).length >= 1, 10_000, 'the checked-back plain message');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(checked.filter((b) => b === 'immune'), [], 'no check-back within its 60 s immunity');
    assert.deepEqual(await visible(api, mq, 'TxpImmTopic'), ['plain']);
  } finally {
    await p.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('queue choice: a sharding key always picks the same queue, a selector picks its own; deliverTimeMs delays delivery', async () => {
  const tmp = tempDir('rmq-sel-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1' });
  const p = new Producer({ group: 'SELP', namesrvAddr: mq.namesrvAddr });
  const api = new MQClientAPI();
  try {
    await p.start();
    await p.send(new Message('SelTopic', 'warm-up'));
    const queues = new Set<number>();
    for (let i = 0; i < 10; i++) queues.add((await p.send(new Message('SelTopic', `k-${i}`), { shardingKey: 'order-42' })).messageQueue.queueId);
    assert.equal(queues.size, 1, 'one sharding key, one queue');
    const r = await p.send(new Message('SelTopic', 'chosen'), { selector: (qs, _m, arg) => qs[(arg as number) % qs.length]!, arg: 3 });
    assert.equal(r.messageQueue.queueId, 3);
    await assert.rejects(p.send(new Message('SelTopic', 'x'), { selector: () => ({ topic: 'Other', brokerName: 'b', queueId: 0 }) }), /not one of the topic's write queues/);
    const at = Date.now() + 2000;
    await p.send(new Message('SelTopic', 'timed', { deliverTimeMs: at }));
    assert.ok(!(await visible(api, mq, 'SelTopic')).includes('timed'), 'visible before its time');
    await until(async () => (await visible(api, mq, 'SelTopic')).includes('timed'), 6000, 'the timed message');
    // The broker reads a timer's 1 s slot once it has ended: never before deliverTimeMs.
    assert.ok(Date.now() >= at, `delivered ${at - Date.now()} ms early`);
  } finally {
    await p.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('latency fault tolerance: a slow or failed broker is avoided for the upstream durations', () => {
  let now = 0;
  const f = new LatencyFaultTolerance(() => now);
  f.update('fast', 20, false);
  assert.equal(f.isAvailable('fast'), true);
  f.update('slow', 600, false); // ≥ 550 ms: 2 s out
  assert.equal(f.isAvailable('slow'), false);
  now = 2000;
  assert.equal(f.isAvailable('slow'), true);
  f.update('down', 5, true); // a failure counts as a 10 s latency: 10 s out
  now = 11_999;
  assert.equal(f.isAvailable('down'), false);
  now = 12_000;
  assert.equal(f.isAvailable('down'), true);
});

test('a batch over maxMessageSize is split and every message is stored, in order', async () => {
  const tmp = tempDir('rmq-split-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1' });
  const p = new Producer({ group: 'SPLITP', namesrvAddr: mq.namesrvAddr, maxMessageSize: 10_000 });
  const api = new MQClientAPI();
  try {
    await p.start();
    await p.send(new Message('SplitTopic', 'warm-up'));
    const msgs = Array.from({ length: 30 }, (_, i) => new Message('SplitTopic', `part-${String(i).padStart(2, '0')}-`.padEnd(1000, '.')));
    const r = await p.send(msgs, { shardingKey: 'one-queue' });
    assert.equal(r.sendStatus, 'SEND_OK');
    assert.equal(r.msgId.split(',').length, 30);
    assert.equal(r.offsetMsgId.split(',').length, 30);
    const stored = (await visible(api, mq, 'SplitTopic')).filter((b) => b.startsWith('part-'));
    assert.equal(stored.length, 30);
  } finally {
    await p.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('sendInTransaction drops a delay level as upstream does, and shows the local transaction its __transactionId__', async () => {
  const tmp = tempDir('rmq-txp-delay-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { transactionCheckInterval: 60_000 } });
  const p = new TransactionProducer({ group: 'TXP_DELAY', namesrvAddr: mq.namesrvAddr, checkLocalTransaction: () => LocalTransactionState.COMMIT_MESSAGE });
  const api = new MQClientAPI();
  try {
    await p.start();
    let seen: string | undefined;
    // Level 5 is 1 minute: were it kept, the committed message would not be visible within this test.
    const r = await p.sendInTransaction(new Message('TxpDelayTopic', 'no-delay', { delayTimeLevel: 5 }), (m) => {
      seen = m.properties.get('__transactionId__');
      return LocalTransactionState.COMMIT_MESSAGE;
    });
    assert.equal(r.sendStatus, 'SEND_OK');
    assert.ok(r.transactionId);
    assert.equal(seen, r.transactionId);
    await until(async () => (await visible(api, mq, 'TxpDelayTopic')).includes('no-delay'), 5000, 'the committed message, not delayed');
  } finally {
    await p.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('a check-back is answered by the producer of the half\'s group only, when producers share a client', async () => {
  const tmp = tempDir('rmq-txp-groups-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 300 } });
  const shared = new MQClientAPI();
  const checked: Record<string, string[]> = { A: [], B: [] };
  const producer = (g: 'A' | 'B', answer: LocalTransactionStateValue): TransactionProducer => new TransactionProducer({
    group: `TXP_${g}`, namesrvAddr: mq.namesrvAddr, heartbeatBrokerInterval: 200, api: shared,
    checkLocalTransaction: (m) => { checked[g]!.push(m.body.toString()); return answer; },
  });
  // B would roll back what A commits: were B asked about A's half, the answers would race.
  const a = producer('A', LocalTransactionState.COMMIT_MESSAGE);
  const b = producer('B', LocalTransactionState.ROLLBACK_MESSAGE);
  const api = new MQClientAPI();
  try {
    await a.start();
    await b.start();
    await a.sendInTransaction(new Message('TxpGroupTopic', 'of-a'), () => LocalTransactionState.UNKNOW);
    await until(async () => (await visible(api, mq, 'TxpGroupTopic')).includes('of-a'), 10_000, 'the checked-back message of A');
    assert.deepEqual(checked.B, []);
    assert.ok(checked.A!.includes('of-a'));
  } finally {
    await b.shutdown();
    await a.shutdown();
    await shared.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
