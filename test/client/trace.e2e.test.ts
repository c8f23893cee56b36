import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { Message, Producer, PushConsumer, decodeTraceRecords, encodeTraceRecord, type TracePub, type TraceSubAfter, type TraceSubBefore } from '../../src/client/index.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { Admin } from '../../src/admin/index.js';
import { tempDir } from '../helpers/tmp.js';

test('trace records encode and decode in upstream layout (fields by char 1, records ended by char 2)', () => {
  const pub: TracePub = {
    type: 'Pub', timestamp: 1700000000000, regionId: 'DefaultRegion', group: 'PG', topic: 'T', msgId: 'ID1', tags: 'TagA', keys: 'k1 k2',
    storeHost: '127.0.0.1:10911', bodyLength: 5, costTime: 3, msgType: 0, offsetMsgId: 'OFF1', success: true,
  };
  const text = encodeTraceRecord(pub);
  assert.equal(text, 'Pub\u00011700000000000\u0001DefaultRegion\u0001PG\u0001T\u0001ID1\u0001TagA\u0001k1 k2\u0001127.0.0.1:10911\u00015\u00013\u00010\u0001OFF1\u0001true\u0002');
  assert.deepEqual(decodeTraceRecords(text + text), [pub, pub]);
});

test('a producer with trace on writes a Pub record per send, queryable by message id', async () => {
  const tmp = tempDir('rmq-trace-e2e-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { traceTopicEnable: true } });
  const producer = new Producer({ group: 'TRACED', namesrvAddr: mq.namesrvAddr, enableTrace: true });
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  try {
    await producer.start();
    await admin.start();
    const r = await producer.send(new Message('TracedTopic', 'hello', { tags: 'TagT', keys: ['order-9'] }));
    await producer.shutdown(); // flushes the trace records
    const deadline = Date.now() + 5000;
    let trace = await admin.queryTraceByMsgId(r.msgId);
    while (trace.length === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      trace = await admin.queryTraceByMsgId(r.msgId);
    }
    assert.equal(trace.length, 1);
    const pub = trace[0] as TracePub;
    assert.equal(pub.type, 'Pub');
    assert.equal(pub.topic, 'TracedTopic');
    assert.equal(pub.group, 'TRACED');
    assert.equal(pub.tags, 'TagT');
    assert.equal(pub.keys, 'order-9');
    assert.equal(pub.offsetMsgId, r.offsetMsgId);
    assert.equal(pub.success, true);
    assert.equal(pub.bodyLength, 5);
  } finally {
    await producer.shutdown().catch(() => undefined);
    await admin.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});

test('a push consumer with trace on writes SubBefore / SubAfter records, queryable by message id', async () => {
  const tmp = tempDir('rmq-trace-sub-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { traceTopicEnable: true } });
  const producer = new Producer({ group: 'TRACED_P', namesrvAddr: mq.namesrvAddr });
  const consumer = new PushConsumer({ group: 'TRACED_C', namesrvAddr: mq.namesrvAddr, enableTrace: true, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  try {
    await producer.start();
    await admin.start();
    const r = await producer.send(new Message('TracedSub', 'consume-me', { keys: ['k-sub'] }));
    let got = 0;
    consumer.subscribe('TracedSub', '*');
    consumer.registerMessageListenerConcurrently(async () => { got++; });
    await consumer.start();
    const until = Date.now() + 10_000;
    while (got === 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    assert.equal(got, 1);
    await consumer.shutdown(); // flushes the trace records
    let trace = await admin.queryTraceByMsgId(r.msgId);
    const deadline = Date.now() + 5000;
    while (trace.length < 2 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      trace = await admin.queryTraceByMsgId(r.msgId);
    }
    const before = trace.find((t) => t.type === 'SubBefore') as TraceSubBefore | undefined;
    const after = trace.find((t) => t.type === 'SubAfter') as TraceSubAfter | undefined;
    assert.ok(before && after, `SubBefore and SubAfter expected, got ${trace.map((t) => t.type).join(',')}`);
    assert.equal(before.group, 'TRACED_C');
    assert.equal(before.retryTimes, 0);
    assert.equal(after.requestId, before.requestId);
    assert.equal(after.success, true);
    assert.equal(after.keys, 'k-sub');
  } finally {
    await consumer.shutdown().catch(() => undefined);
    await producer.shutdown();
    await admin.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
