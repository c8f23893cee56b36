import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { Producer } from '../../src/client/producer.js';
import { Message, decodeBatchBody } from '../../src/client/message.js';
import { ClientErrorCode, MQClientError } from '../../src/client/errors.js';
import { createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { decodeProperties } from '../../src/common/properties.js';
import { startFakeServer, type FakeServer } from './fake-server.js';

// Two fake brokers and a fake NameServer: the producer's routing, retries and encoding are
// checked on the wire without a real broker.
interface Broker { name: string; server: FakeServer; sends: RemotingCommand[]; answer: number | 'hang' }

async function fakeBroker(name: string): Promise<Broker> {
  const b: Broker = { name, server: undefined as unknown as FakeServer, sends: [], answer: 0 };
  const onSend = (req: RemotingCommand): Promise<RemotingCommand> | RemotingCommand => {
    b.sends.push(req);
    if (b.answer === 'hang') return new Promise(() => undefined);
    // 10, 11, 12: stored, durability in doubt (FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE).
    const stored = b.answer === 0 || (b.answer >= 10 && b.answer <= 12);
    if (!stored) return createResponse(req, b.answer as number, `${name} refuses`);
    return createResponse(req, b.answer as number, undefined, { extFields: { msgId: `${name}-OFFSET`, queueId: req.extFields?.e, queueOffset: b.sends.length - 1 } });
  };
  b.server = await startFakeServer({ [RequestCode.SEND_MESSAGE_V2]: onSend, [RequestCode.SEND_BATCH_MESSAGE]: onSend, [RequestCode.UNREGISTER_CLIENT]: (req) => createResponse(req) });
  return b;
}

const b1 = await fakeBroker('broker-a');
const b2 = await fakeBroker('broker-b');
const routeLookups: string[] = [];
const brokerDatas = [b1, b2].map((b) => ({ brokerAddrs: { 0: b.server.addr }, brokerName: b.name, cluster: 'C' }));
const routes: Record<string, unknown> = {
  Known: { brokerDatas, filterServerTable: {}, queueDatas: [b1, b2].map((b) => ({ brokerName: b.name, perm: 6, readQueueNums: 2, writeQueueNums: 2, topicSysFlag: 0 })) },
  TBW102: { brokerDatas: [brokerDatas[0]], filterServerTable: {}, queueDatas: [{ brokerName: 'broker-a', perm: 7, readQueueNums: 8, writeQueueNums: 8, topicSysFlag: 0 }] },
};
const namesrv = await startFakeServer({
  [RequestCode.GET_ROUTEINFO_BY_TOPIC]: (req) => {
    const topic = req.extFields?.topic ?? '';
    routeLookups.push(topic);
    const r = routes[topic];
    return r ? createResponse(req, 0, undefined, { body: Buffer.from(JSON.stringify(r)) }) : createResponse(req, ResponseCode.TOPIC_NOT_EXIST, 'no route');
  },
});

const producer = new Producer({ group: 'PG', namesrvAddr: namesrv.addr });
await producer.start();

after(async () => {
  await producer.shutdown();
  await Promise.all([b1.server.shutdown(), b2.server.shutdown(), namesrv.shutdown()]);
});

beforeEach(() => {
  b1.sends.length = 0;
  b2.sends.length = 0;
  b1.answer = 0;
  b2.answer = 0;
  routeLookups.length = 0;
});

test('a topic without a route is sent along the TBW102 route, round robin over min(4, 8) queues', async () => {
  const results = [];
  const before = Date.now();
  for (let i = 0; i < 8; i++) results.push(await producer.send(new Message('BrandNew', `m${i}`)));
  const born = b1.sends.map((r) => Number(r.extFields?.g));
  assert.ok(born.every((t, i) => t >= before && t <= Date.now() && (i === 0 || t >= born[i - 1]!)), `bornTimestamp ${born.join(',')} from ${before}`);
  assert.deepEqual(routeLookups, ['BrandNew', 'TBW102']);
  assert.equal(b2.sends.length, 0);
  assert.equal(b1.sends.length, 8);
  const queues = b1.sends.map((r) => Number(r.extFields?.e));
  assert.deepEqual([...new Set(queues)].sort(), [0, 1, 2, 3]);
  for (let i = 1; i < 8; i++) assert.equal(queues[i], (queues[i - 1]! + 1) % 4);
  for (const r of b1.sends) {
    assert.equal(r.extFields?.b, 'BrandNew');
    assert.equal(r.extFields?.c, 'TBW102');
    assert.equal(r.extFields?.d, '4');
    assert.equal(r.extFields?.a, 'PG');
  }
  assert.equal(results[0]!.messageQueue.topic, 'BrandNew');
  assert.equal(results[0]!.offsetMsgId, 'broker-a-OFFSET');
});

test('msgId is the UNIQ_KEY the producer put in the properties', async () => {
  const msg = new Message('Known', 'x', { tags: 'T1', keys: ['a', 'b'] });
  const r = await producer.send(msg);
  const sent = [...b1.sends, ...b2.sends][0]!;
  const props = decodeProperties(sent.extFields?.i);
  assert.equal(props.get('UNIQ_KEY'), r.msgId);
  assert.equal(msg.uniqKey, r.msgId);
  assert.equal(props.get('TAGS'), 'T1');
  assert.equal(props.get('KEYS'), 'a b');
  assert.equal(props.get('WAIT'), 'true');
});

test('a retriable broker error is retried on the other broker', async () => {
  b1.answer = ResponseCode.SYSTEM_BUSY;
  for (let i = 0; i < 4; i++) {
    const r = await producer.send(new Message('Known', 'x'));
    assert.equal(r.messageQueue.brokerName, 'broker-b');
  }
  assert.ok(b1.sends.length >= 1 && b1.sends.length <= 4);
  assert.equal(b2.sends.length, 4);
  // Every retry reuses the message's UNIQ_KEY, and is born when it leaves.
  const ids = new Set([...b1.sends, ...b2.sends].map((r) => decodeProperties(r.extFields?.i).get('UNIQ_KEY')));
  assert.equal(ids.size, 4);
  for (const retry of b2.sends) {
    const id = decodeProperties(retry.extFields?.i).get('UNIQ_KEY');
    const first = b1.sends.find((r) => decodeProperties(r.extFields?.i).get('UNIQ_KEY') === id);
    if (first) assert.ok(Number(retry.extFields?.g) >= Number(first.extFields?.g));
  }
});

test('a broker whose send failed is avoided afterwards only with sendLatencyFaultEnable (default off, as upstream)', async () => {
  // Sends until one fails on broker-a (and is retried on broker-b), then broker-a recovers.
  const sendsAfterAFailure = async (p: Producer): Promise<string[]> => {
    b1.answer = ResponseCode.SYSTEM_BUSY;
    for (let i = 0; i < 8 && b1.sends.length === 0; i++) await p.send(new Message('Known', 'x'));
    assert.equal(b1.sends.length, 1, 'broker-a refused one send');
    b1.answer = 0;
    const brokers: string[] = [];
    for (let i = 0; i < 8; i++) brokers.push((await p.send(new Message('Known', 'x'))).messageQueue.brokerName);
    return brokers;
  };
  const plain = new Producer({ group: 'PG_NO_LATENCY', namesrvAddr: namesrv.addr });
  await plain.start();
  try {
    const brokers = await sendsAfterAFailure(plain);
    // Round robin over the 4 queues of both brokers, as before the failure.
    assert.equal(brokers.filter((b) => b === 'broker-a').length, 4, brokers.join(','));
  } finally {
    await plain.shutdown();
  }
  b1.sends.length = 0;
  const avoiding = new Producer({ group: 'PG_LATENCY', namesrvAddr: namesrv.addr, sendLatencyFaultEnable: true });
  await avoiding.start();
  try {
    // The failure isolates broker-a for 10 s (upstream's isolation latency): every send goes to broker-b.
    assert.deepEqual(await sendsAfterAFailure(avoiding), Array(8).fill('broker-b'));
  } finally {
    await avoiding.shutdown();
  }
});

test('a send stored but not flushed in time is returned as it is, or with retryAnotherBrokerWhenNotStoreOK tried on the other broker', async () => {
  b1.answer = ResponseCode.FLUSH_DISK_TIMEOUT;
  const plain = new Producer({ group: 'PG_PLAIN', namesrvAddr: namesrv.addr });
  await plain.start();
  const statuses = new Set<string>();
  try {
    for (let i = 0; i < 4; i++) statuses.add((await plain.send(new Message('Known', 'x'))).sendStatus);
  } finally {
    await plain.shutdown();
  }
  assert.deepEqual([...statuses].sort(), ['FLUSH_DISK_TIMEOUT', 'SEND_OK'], 'by default the answer comes back as it is');
  const retrying = new Producer({ group: 'PG_NOT_STORE_OK', namesrvAddr: namesrv.addr, retryAnotherBrokerWhenNotStoreOK: true });
  await retrying.start();
  try {
    b1.sends.length = 0;
    b2.sends.length = 0;
    for (let i = 0; i < 4; i++) {
      const r = await retrying.send(new Message('Known', 'x'));
      assert.equal(r.sendStatus, 'SEND_OK');
      assert.equal(r.messageQueue.brokerName, 'broker-b');
    }
    assert.ok(b1.sends.length >= 1, 'the flush-timeout broker was tried');
    // When every broker answers so, the last answer is returned, not an error.
    b2.answer = ResponseCode.FLUSH_SLAVE_TIMEOUT;
    const last = await retrying.send(new Message('Known', 'x'));
    assert.ok(['FLUSH_DISK_TIMEOUT', 'FLUSH_SLAVE_TIMEOUT'].includes(last.sendStatus), last.sendStatus);
  } finally {
    await retrying.shutdown();
  }
});

test('a final broker error is thrown at once; retriable ones after all attempts', async () => {
  b1.answer = ResponseCode.MESSAGE_ILLEGAL;
  b2.answer = ResponseCode.MESSAGE_ILLEGAL;
  await assert.rejects(producer.send(new Message('Known', 'x')), (e: unknown) => e instanceof MQBrokerError && e.responseCode === 13);
  assert.equal(b1.sends.length + b2.sends.length, 1);
  b1.answer = ResponseCode.SYSTEM_ERROR;
  b2.answer = ResponseCode.SYSTEM_ERROR;
  await assert.rejects(producer.send(new Message('Known', 'x')), (e: unknown) => e instanceof MQBrokerError && e.responseCode === 1);
  assert.equal(b1.sends.length + b2.sends.length, 1 + 3);
});

test('the timeout covers all attempts', async () => {
  b1.answer = 'hang';
  b2.answer = 'hang';
  const t0 = Date.now();
  await assert.rejects(producer.send(new Message('Known', 'x'), { timeout: 300 }),
    (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.SEND_TIMEOUT);
  assert.ok(Date.now() - t0 < 1500);
  assert.equal(b1.sends.length + b2.sends.length, 1);
});

test('bodies of 4096 bytes and more are zlib-compressed with sysFlag bit 0; smaller ones are not', async () => {
  const big = Buffer.alloc(4096, 'z');
  await producer.send(new Message('Known', big));
  await producer.send(new Message('Known', Buffer.alloc(4095, 'z')));
  const [a, b] = [...b1.sends, ...b2.sends].sort((x, y) => Number(x.extFields?.g) - Number(y.extFields?.g) || (x.body!.length - y.body!.length));
  const compressed = [a!, b!].find((r) => (Number(r.extFields?.f) & 1) === 1)!;
  const plain = [a!, b!].find((r) => (Number(r.extFields?.f) & 1) === 0)!;
  assert.equal(Number(compressed.extFields?.f) & 0x701, 0x301);
  assert.deepEqual(inflateSync(compressed.body!), big);
  assert.equal(plain.body!.length, 4095);
});

test('an array is sent as one batch with per-message UNIQ_KEYs', async () => {
  const msgs = [new Message('Known', 'one', { tags: 'A' }), new Message('Known', 'two', { keys: 'k' })];
  const r = await producer.send(msgs);
  const req = [...b1.sends, ...b2.sends][0]!;
  assert.equal(req.code, RequestCode.SEND_BATCH_MESSAGE);
  assert.equal(req.extFields?.m, 'true');
  const entries = decodeBatchBody(req.body!);
  assert.deepEqual(entries.map((e) => e.body.toString()), ['one', 'two']);
  assert.deepEqual(entries.map((e) => decodeProperties(e.properties).get('UNIQ_KEY')), msgs.map((m) => m.uniqKey));
  assert.equal(r.msgId, msgs.map((m) => m.uniqKey).join(','));
  assert.equal(decodeProperties(req.extFields?.i).get('WAIT'), 'true');
  await assert.rejects(producer.send([new Message('Known', 'a'), new Message('Other', 'b')]), (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.MESSAGE_ILLEGAL);
  await assert.rejects(producer.send([new Message('Known', 'a', { delayTimeLevel: 2 })]), MQClientError);
});

test('a chosen queue is used as given; oneway sends reach the broker', async () => {
  const r = await producer.send(new Message('Known', 'x'), { queue: { topic: 'Known', brokerName: 'broker-b', queueId: 1 } });
  assert.deepEqual(r.messageQueue, { topic: 'Known', brokerName: 'broker-b', queueId: 1 });
  await producer.sendOneway(new Message('Known', 'y'), { queue: { topic: 'Known', brokerName: 'broker-a', queueId: 0 } });
  for (let i = 0; i < 50 && b1.sends.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(b1.sends[0]!.body?.toString(), 'y');
  assert.equal(b1.sends[0]!.flag & 2, 2);
});

test('bad messages and a stopped producer are refused with client errors', async () => {
  await assert.rejects(producer.send(new Message('bad topic!', 'x')), (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.MESSAGE_ILLEGAL);
  await assert.rejects(producer.send(new Message('Known', '')), (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.MESSAGE_ILLEGAL);
  await assert.rejects(producer.send(new Message('SCHEDULE_TOPIC_XXXX', 'x')), MQClientError);
  const idle = new Producer({ namesrvAddr: namesrv.addr });
  await assert.rejects(idle.send(new Message('Known', 'x')), (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.NOT_STARTED);
  await idle.shutdown();
  const noNamesrv = new Producer({ namesrvAddr: '' });
  await assert.rejects(noNamesrv.start(), (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.NO_NAMESRV);
});

test('a NameServer list fails over to the next address', async () => {
  const p = new Producer({ namesrvAddr: `127.0.0.1:1;${namesrv.addr}` });
  await p.start();
  try {
    for (let i = 0; i < 3; i++) await p.send(new Message('Known', 'x'));
  } finally {
    await p.shutdown();
  }
});
