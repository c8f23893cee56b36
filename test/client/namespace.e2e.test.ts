import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { LitePullConsumer } from '../../src/client/lite-pull-consumer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { LocalTransactionState, TransactionProducer } from '../../src/client/transaction-producer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { ConsumeConcurrentlyStatus } from '../../src/client/consume-message-service.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { ClientErrorCode, MQClientError } from '../../src/client/errors.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { createReplyMessage } from '../../src/client/request-reply.js';
import type { AllocateMessageQueueStrategy } from '../../src/client/rebalance/index.js';
import { skip } from './standalone-fixture.js';
import { usePushFixture } from './push-fixture.js';
import { createTopic, waitUntil } from './helpers.js';

// Client namespaces (upstream ClientConfig.namespace) against a real NameServer + Broker.

const stamp = Date.now();
const f = usePushFixture('rmq-ns-e2e-', 'NS_E2E_PG', {
  // Retries come back after 1 s; unresolved transactions are checked back quickly.
  storeConfig: { messageDelayLevel: Array(18).fill('1s').join(' ') },
  brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 300 },
});
const FIRST = ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET;

/** Clients a test started; shut down at its end, whatever happened. */
async function withClients(run: (track: <T extends { shutdown(): Promise<void> }>(c: T) => T) => Promise<void>): Promise<void> {
  const clients: Array<{ shutdown(): Promise<void> }> = [];
  try {
    await run((c) => {
      clients.push(c);
      return c;
    });
  } finally {
    for (const c of clients.reverse()) await c.shutdown();
  }
}

/** Bodies stored in `topic` on the broker, read with a raw PULL_MESSAGE (no client namespace involved). */
async function stored(topic: string, queues = 4): Promise<string[]> {
  const api = new MQClientAPI();
  try {
    const out: string[] = [];
    for (let queueId = 0; queueId < queues; queueId++) {
      const r = await api.pullMessage(f.mq.brokerAddr, {
        consumerGroup: 'NS_RAW', topic, queueId, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
        commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
      }, 3000);
      for (const m of r.msgFoundList) {
        assert.equal(m.topic, topic);
        out.push(m.body.toString());
      }
    }
    return out.sort();
  } finally {
    await api.shutdown();
  }
}

/** Whether the NameServer routes `topic`. */
async function routed(topic: string): Promise<boolean> {
  const api = new MQClientAPI();
  try {
    return await api.getTopicRouteInfoFromNameServer(f.mq.namesrvAddr, topic).then(() => true, () => false);
  } finally {
    await api.shutdown();
  }
}

function collector(c: PushConsumer, got: MessageExt[]): void {
  c.registerMessageListenerConcurrently(async (msgs) => { got.push(...msgs); });
}

test('producer and push consumer of namespace A exchange messages under A%topic; namespace B on the same names sees none of them', { skip }, async () => {
  const topic = `NsTopic_${stamp}`;
  const group = `NsGroup_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `A%${topic}`, 4);
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `B%${topic}`, 4);
  await withClients(async (track) => {
    const pA = track(new Producer({ namespace: 'A', group: 'NsPG', namesrvAddr: f.mq.namesrvAddr }));
    const pB = track(new Producer({ namespace: 'B', group: 'NsPG', namesrvAddr: f.mq.namesrvAddr }));
    await pA.start();
    await pB.start();
    assert.equal(pA.group, 'A%NsPG');
    const gotA: MessageExt[] = [];
    const gotB: MessageExt[] = [];
    // Same plain group and topic names in both namespaces.
    const cA = f.consumer({ group, namespace: 'A', consumeFromWhere: FIRST });
    cA.subscribe(topic, '*');
    collector(cA, gotA);
    // An allocation strategy sees the group and the queues by their plain names too.
    const offeredToStrategy = new Set<string>();
    const takeAll: AllocateMessageQueueStrategy = {
      name: 'TAKE_ALL',
      allocate: (g, _cid, mqAll) => {
        offeredToStrategy.add(g);
        for (const q of mqAll) offeredToStrategy.add(q.topic);
        return [...mqAll];
      },
    };
    const cB = f.consumer({ group, namespace: 'B', consumeFromWhere: FIRST, allocateMessageQueueStrategy: takeAll });
    cB.subscribe(topic, '*');
    collector(cB, gotB);
    await cA.start();
    await cB.start();

    // What the application sees of the producer's queues names the plain topic.
    const queues = await pA.fetchPublishMessageQueues(topic);
    assert.equal(queues.length, 4);
    for (const q of queues) assert.equal(q.topic, topic);
    for (let i = 0; i < 4; i++) {
      const r = await pA.send(new Message(topic, `a-${i}`));
      assert.equal(r.sendStatus, 'SEND_OK');
      assert.equal(r.messageQueue.topic, topic);
    }
    // A queue named by the plain topic, and a selector offered plain queues.
    const byQueue = await pA.send(new Message(topic, 'a-4'), { queue: queues[2]! });
    assert.deepEqual(byQueue.messageQueue, queues[2]);
    const offered: string[] = [];
    const bySelector = await pA.send(new Message(topic, 'a-5'), {
      selector: (mqs) => { offered.push(...mqs.map((q) => q.topic)); return mqs[1]!; },
    });
    assert.deepEqual(new Set(offered), new Set([topic]));
    assert.equal(bySelector.messageQueue.queueId, queues[1]!.queueId);
    assert.equal(bySelector.messageQueue.topic, topic);
    for (let i = 0; i < 3; i++) await pB.send(new Message(topic, `b-${i}`));

    await waitUntil(() => gotA.length >= 6 && gotB.length >= 3, 'the messages of both namespaces');
    // A little longer: nothing of the other namespace trickles in.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(gotA.map((m) => m.body.toString()).sort(), ['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5']);
    assert.deepEqual(gotB.map((m) => m.body.toString()).sort(), ['b-0', 'b-1', 'b-2']);
    for (const m of [...gotA, ...gotB]) assert.equal(m.topic, topic);
    assert.deepEqual([...offeredToStrategy].sort(), [`%RETRY%${group}`, group, topic].sort());
    assert.equal(cB.assignment().filter((q) => q.topic === topic).length, 4);

    // The application sees plain names; the group is wrapped on the broker.
    assert.equal(cA.group, `A%${group}`);
    const assigned = cA.assignment().filter((q) => !q.topic.startsWith('%RETRY%'));
    assert.equal(assigned.length, 4);
    for (const q of assigned) assert.equal(q.topic, topic);
    assert.ok(cA.subscriptions().has(topic));
    assert.ok(cA.subscriptions().has(`%RETRY%${group}`));

    // The broker holds them under the wrapped names only.
    assert.deepEqual(await stored(`A%${topic}`), ['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5']);
    assert.deepEqual(await stored(`B%${topic}`), ['b-0', 'b-1', 'b-2']);
    assert.equal(await routed(topic), false);
    await cA.shutdown();
    const api = new MQClientAPI();
    try {
      let committed = 0;
      for (let queueId = 0; queueId < 4; queueId++) {
        committed += await api.queryConsumerOffset(f.mq.brokerAddr, { consumerGroup: `A%${group}`, topic: `A%${topic}`, queueId });
      }
      assert.equal(committed, 6);
    } finally {
      await api.shutdown();
    }
  });
});

test('a failed message goes to %RETRY%A%group and comes back with the plain topic; past its retries to %DLQ%A%group', { skip }, async () => {
  const topic = `NsRetry_${stamp}`;
  const group = `NsRetryG_${stamp}`;
  const dlqGroup = `NsDlqG_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `A%${topic}`, 2);
  await withClients(async (track) => {
    const p = track(new Producer({ namespace: 'A', namesrvAddr: f.mq.namesrvAddr }));
    await p.start();
    const deliveries: Array<{ topic: string; reconsumeTimes: number; body: string }> = [];
    const c = f.consumer({ group, namespace: 'A', consumeFromWhere: FIRST });
    c.subscribe(topic, '*');
    c.registerMessageListenerConcurrently(async (msgs) => {
      for (const m of msgs) deliveries.push({ topic: m.topic, reconsumeTimes: m.reconsumeTimes, body: m.body.toString() });
      return msgs[0]!.reconsumeTimes === 0 ? ConsumeConcurrentlyStatus.RECONSUME_LATER : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    // Never retried: straight to its dead-letter queue.
    const dead: string[] = [];
    const d = f.consumer({ group: dlqGroup, namespace: 'A', consumeFromWhere: FIRST, maxReconsumeTimes: 0 });
    d.subscribe(topic, '*');
    d.registerMessageListenerConcurrently(async (msgs) => {
      dead.push(...msgs.map((m) => m.body.toString()));
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    await c.start();
    await d.start();
    await p.send(new Message(topic, 'retry-me'));
    await waitUntil(() => deliveries.length >= 2, 'the retried delivery', 15_000);
    assert.deepEqual(deliveries.slice(0, 2), [
      { topic, reconsumeTimes: 0, body: 'retry-me' },
      { topic, reconsumeTimes: 1, body: 'retry-me' },
    ]);
    assert.ok(await routed(`%RETRY%A%${group}`), 'the retry topic is the wrapped group\'s');
    assert.equal(await routed(`%RETRY%${group}`), false);
    assert.deepEqual(await stored(`%RETRY%A%${group}`, 1), ['retry-me']);
    await waitUntil(() => routed(`%DLQ%A%${dlqGroup}`), 'the dead-letter topic of the wrapped group', 15_000, 200);
    assert.deepEqual(await stored(`%DLQ%A%${dlqGroup}`, 1), ['retry-me']);
    assert.deepEqual(dead, ['retry-me']);
  });
});

test('orderly and POP-mode push consumers of a namespace see plain topics; failed POP messages come back', { skip }, async () => {
  const topic = `NsOrderPop_${stamp}`;
  const orderly = `NsOrderlyG_${stamp}`;
  const pop = `NsPopG_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `A%${topic}`, 1);
  // mqadmin setConsumeMode -m POP names the wrapped group and topic, as the broker knows them.
  const api = new MQClientAPI();
  try {
    await api.setMessageRequestMode(f.mq.brokerAddr, { topic: `A%${topic}`, consumerGroup: `A%${pop}`, mode: 'POP', popShareQueueNum: 0 });
  } finally {
    await api.shutdown();
  }
  await withClients(async (track) => {
    const p = track(new Producer({ namespace: 'A', namesrvAddr: f.mq.namesrvAddr }));
    await p.start();
    const inOrder: string[] = [];
    const o = f.consumer({ group: orderly, namespace: 'A', consumeFromWhere: FIRST });
    o.subscribe(topic, '*');
    o.registerMessageListenerOrderly(async (msgs, ctx) => {
      for (const m of msgs) inOrder.push(`${m.topic}:${ctx.messageQueue.topic}:${m.body.toString()}`);
    });
    const popped: Array<{ topic: string; body: string }> = [];
    const popContextTopics = new Set<string>();
    const c = f.consumer({ group: pop, namespace: 'A', consumeFromWhere: FIRST, clientRebalance: false, popDelayLevel: [1] });
    c.subscribe(topic, '*');
    c.registerMessageListenerConcurrently(async (msgs, ctx) => {
      for (const m of msgs) popped.push({ topic: m.topic, body: m.body.toString() });
      popContextTopics.add(ctx.messageQueue.topic);
      // The first delivery of o-1 fails: it comes back after its 1 s invisible time.
      return msgs.some((m) => m.body.toString() === 'o-1' && popped.filter((x) => x.body === 'o-1').length === 1)
        ? ConsumeConcurrentlyStatus.RECONSUME_LATER : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    await o.start();
    await c.start();
    await waitUntil(() => c.popAssignment().some((q) => q.queueId === -1), 'the POP assignment');
    for (const q of c.popAssignment()) assert.equal(q.topic, topic);
    for (let i = 0; i < 3; i++) await p.send(new Message(topic, `o-${i}`));
    await waitUntil(() => inOrder.length >= 3 && popped.filter((x) => x.body === 'o-1').length >= 2, 'the orderly and the popped deliveries', 15_000);
    assert.deepEqual(inOrder, [`${topic}:${topic}:o-0`, `${topic}:${topic}:o-1`, `${topic}:${topic}:o-2`]);
    for (const x of popped) assert.equal(x.topic, topic);
    assert.deepEqual([...popContextTopics], [topic]);
    assert.deepEqual([...new Set(popped.map((x) => x.body))].sort(), ['o-0', 'o-1', 'o-2']);
  });
});

test('lite pull and pull consumers of a namespace poll, assign, seek and commit by plain names', { skip }, async () => {
  const topic = `NsLite_${stamp}`;
  const group = `NsLiteG_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `A%${topic}`, 2);
  await withClients(async (track) => {
    const p = track(new Producer({ namespace: 'A', namesrvAddr: f.mq.namesrvAddr }));
    await p.start();
    for (let i = 0; i < 4; i++) await p.send(new Message(topic, `l-${i}`));

    const sub = track(new LitePullConsumer({ group, namespace: 'A', namesrvAddr: f.mq.namesrvAddr, consumeFromWhere: FIRST, autoCommit: false, pollTimeoutMillis: 500 }));
    sub.subscribe(topic);
    await sub.start();
    const polled: MessageExt[] = [];
    await waitUntil(async () => { polled.push(...await sub.poll(200)); return polled.length >= 4; }, 'four polled messages');
    assert.deepEqual(polled.map((m) => m.body.toString()).sort(), ['l-0', 'l-1', 'l-2', 'l-3']);
    for (const m of polled) assert.equal(m.topic, topic);
    const assigned = sub.assignment();
    assert.equal(assigned.length, 2);
    for (const q of assigned) assert.equal(q.topic, topic);
    await sub.commit();
    let committed = 0;
    for (const q of assigned) committed += await sub.committed(q);
    assert.equal(committed, 4);
    // Committed under the wrapped group and topic on the broker.
    const api = new MQClientAPI();
    try {
      let onBroker = 0;
      for (const q of assigned) onBroker += await api.queryConsumerOffset(f.mq.brokerAddr, { consumerGroup: `A%${group}`, topic: `A%${topic}`, queueId: q.queueId });
      assert.equal(onBroker, 4);
    } finally {
      await api.shutdown();
    }

    // Assign mode with the plain queues fetchMessageQueues gives; seek by plain queue.
    const asg = track(new LitePullConsumer({ group: `${group}_asg`, namespace: 'A', namesrvAddr: f.mq.namesrvAddr, autoCommit: false }));
    await asg.start();
    const mqs = await asg.fetchMessageQueues(topic);
    assert.deepEqual(mqs.map((q) => q.topic), [topic, topic]);
    asg.assign(mqs);
    await waitUntil(() => asg.assignment().length === 2, 'the assigned queues');
    for (const q of mqs) await asg.seekToBegin(q);
    const again: MessageExt[] = [];
    await waitUntil(async () => { again.push(...await asg.poll(200)); return again.length >= 4; }, 'four messages of the assigned queues');
    for (const m of again) assert.equal(m.topic, topic);
    assert.deepEqual(asg.assignment(), mqs);

    // The pull consumer names the same queues plainly.
    const pull = track(new PullConsumer({ group: `${group}_pull`, namespace: 'A', namesrvAddr: f.mq.namesrvAddr }));
    await pull.start();
    const pmqs = await pull.fetchSubscribeMessageQueues(topic);
    let pulled = 0;
    for (const q of pmqs) {
      assert.equal(q.topic, topic);
      const r = await pull.pull(q, '*', 0, 32);
      for (const m of r.msgFoundList) assert.equal(m.topic, topic);
      pulled += r.msgFoundList.length;
      assert.equal(await pull.maxOffset(q), r.msgFoundList.length);
    }
    assert.equal(pulled, 4);
  });
});

test('a transaction producer of a namespace sends, commits and answers check-backs by the plain topic', { skip }, async () => {
  const topic = `NsTx_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `A%${topic}`, 2);
  await withClients(async (track) => {
    const checked: string[] = [];
    const p = track(new TransactionProducer({
      namespace: 'A', group: `NsTxG_${stamp}`, namesrvAddr: f.mq.namesrvAddr, heartbeatBrokerInterval: 200,
      checkLocalTransaction: (m) => { checked.push(`${m.topic}:${m.body.toString()}`); return LocalTransactionState.COMMIT_MESSAGE; },
    }));
    await p.start();
    const ok = await p.sendInTransaction(new Message(topic, 'committed'), () => LocalTransactionState.COMMIT_MESSAGE);
    assert.equal(ok.messageQueue.topic, topic);
    assert.equal(ok.localTransactionState, LocalTransactionState.COMMIT_MESSAGE);
    await p.sendInTransaction(new Message(topic, 'in-doubt'), () => LocalTransactionState.UNKNOW);
    await waitUntil(async () => (await stored(`A%${topic}`, 2)).length >= 2, 'the committed and the checked-back messages', 15_000, 200);
    assert.deepEqual(await stored(`A%${topic}`, 2), ['committed', 'in-doubt']);
    assert.deepEqual(checked, [`${topic}:in-doubt`]);
  });
});

test('request-reply within a namespace: the request goes to A%topic and the requester sees the reply by plain names', { skip }, async () => {
  const topic = `NsRequest_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, `A%${topic}`, 2);
  await withClients(async (track) => {
    const requester = track(new Producer({ namespace: 'A', group: `NsReqG_${stamp}`, namesrvAddr: f.mq.namesrvAddr }));
    const replier = track(new Producer({ namespace: 'A', group: `NsRepG_${stamp}`, namesrvAddr: f.mq.namesrvAddr }));
    await requester.start();
    await replier.start();
    const served: string[] = [];
    const responder = f.consumer({ group: `NsResponder_${stamp}`, namespace: 'A', consumeFromWhere: FIRST });
    responder.subscribe(topic, '*');
    responder.registerMessageListenerConcurrently(async (msgs) => {
      for (const m of msgs) {
        served.push(m.topic);
        await replier.send(createReplyMessage(m, `re:${m.body.toString()}`));
      }
    });
    await responder.start();
    const reply = await requester.request(new Message(topic, 'ping'), { timeout: 10_000 });
    assert.equal(reply.body.toString(), 're:ping');
    assert.equal(reply.topic, 'DefaultCluster_REPLY_TOPIC');
    assert.deepEqual(served, [topic]);
    assert.deepEqual(await stored(`A%${topic}`, 2), ['ping']);
  });
});

test('a namespace a topic name could not carry is refused when a client is built', () => {
  const namesrvAddr = '127.0.0.1:9876';
  const builds: Array<[string, (ns: string) => unknown]> = [
    ['Producer', (namespace) => new Producer({ namespace, namesrvAddr })],
    ['TransactionProducer', (namespace) => new TransactionProducer({ namespace, namesrvAddr, checkLocalTransaction: () => LocalTransactionState.UNKNOW })],
    ['PushConsumer', (namespace) => new PushConsumer({ group: 'G', namespace, namesrvAddr })],
    ['LitePullConsumer', (namespace) => new LitePullConsumer({ group: 'G', namespace, namesrvAddr })],
    ['PullConsumer', (namespace) => new PullConsumer({ group: 'G', namespace, namesrvAddr })],
  ];
  for (const [name, build] of builds) {
    for (const bad of ['my ns', 'ns.prod', 'A%B']) {
      assert.throws(() => build(bad), (err: unknown) =>
        err instanceof MQClientError && err.code === ClientErrorCode.ARGUMENT_ILLEGAL && err.message.includes(`namespace [${bad}]`), `${name} with namespace ${bad}`);
    }
  }
});
