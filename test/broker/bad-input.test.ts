import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../src/remoting/codec.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { Connection } from '../../src/remoting/connection.js';
import { encodeBatchBody } from '../../src/client/message.js';
import { SystemTopic } from '../../src/common/topic.js';
import {
  bodies, frame, newClient, pullRequest, RawConn, request, sendRequest, sendV1Ext, sendV2Ext, sleep, startMQ, warnLinesAbout, type TestMQ,
} from './helpers.js';

// Bad input against a real Broker and NameServer: each bad connection is answered or closed
// with one log line, while a client connected beforehand keeps being served and nothing stored
// is lost.

const MAX_FRAME = 64 * 1024;
const MAX_MESSAGE = 4096;
const TOPIC = 'BadInputTopic';

let t: TestMQ;
let good: RemotingClient;
let goodBrokerConn: Connection;
let goodNamesrvConn: Connection;
const sent: string[] = [];

before(async () => {
  t = await startMQ({ brokerConfig: { maxFrameSize: MAX_FRAME }, storeConfig: { maxMessageSize: MAX_MESSAGE } });
  good = newClient();
  for (let i = 0; i < 3; i++) await roundTrip(`before-${i}`);
  goodBrokerConn = await good.getConnection(t.mq.brokerAddr);
  goodNamesrvConn = await good.getConnection(t.mq.namesrvAddr);
});

after(async () => {
  await good?.shutdown();
  await t?.close();
});

/**
 * The well-behaved client: a send and a pull of everything sent so far on the broker, and a route
 * query on the NameServer, over the connections it opened before any bad input.
 */
async function roundTrip(body: string): Promise<void> {
  const s = await good.invoke(t.mq.brokerAddr, sendRequest({ topic: TOPIC, body, queueId: 0 }));
  assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
  sent.push(body);
  const p = await good.invoke(t.mq.brokerAddr, pullRequest({ topic: TOPIC, queueId: 0, queueOffset: 0, maxMsgNums: 1000 }));
  assert.equal(p.code, ResponseCode.SUCCESS, p.remark);
  assert.deepEqual(bodies(p), sent, 'every message sent so far is still pullable');
  const r = await good.invoke(t.mq.namesrvAddr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }));
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  const route = JSON.parse(r.body!.toString()) as { brokerDatas: Array<{ brokerAddrs: Record<string, string> }> };
  assert.equal(route.brokerDatas[0]?.brokerAddrs['0'], t.mq.brokerAddr);
  if (goodBrokerConn) {
    assert.equal(await good.getConnection(t.mq.brokerAddr), goodBrokerConn, 'the good client kept its broker connection');
    assert.equal(await good.getConnection(t.mq.namesrvAddr), goodNamesrvConn, 'the good client kept its NameServer connection');
    assert.ok(!goodBrokerConn.isClosed && !goodNamesrvConn.isClosed);
  }
}

function roleAddr(role: 'broker' | 'namesrv'): string {
  return role === 'broker' ? t.mq.brokerAddr : t.mq.namesrvAddr;
}

const VALID_JSON_HEADER = Buffer.from(JSON.stringify({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields: { topic: TOPIC }, flag: 0, language: 'JAVA', opaque: 1, version: 479 }));

const CLOSING_INPUTS: Array<[string, () => Buffer]> = [
  ['an oversize length', () => Buffer.from('7fffffff0000001c', 'hex')],
  ['a header length larger than the frame', () => frame(0, VALID_JSON_HEADER).fill(0x7f, 5, 6)],
  ['invalid JSON', () => frame(0, Buffer.from('{"code":105,"extFields":{"topic":'))],
  // A plausible length word followed by noise: the header-length word and serialize type are garbage.
  ['random bytes behind a plausible length', () => Buffer.from('00000014c3a91f0e5b7d2264f0019a3c4e8b71d5a2e6c3b8', 'hex')],
  ['random bytes', () => Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not a remoting frame at all, a TLS-looking preamble', 'latin1')],
];

for (const role of ['broker', 'namesrv'] as const) {
  for (const [what, bytes] of CLOSING_INPUTS) {
    test(`${role}: ${what} closes that connection with one log line; the other client is served`, async () => {
      const raw = await RawConn.open(roleAddr(role));
      const name = raw.serverSideName;
      raw.write(bytes());
      assert.ok(await raw.waitClosed(), `${role} should close the connection after ${what}`);
      await sleep(20);
      const warned = warnLinesAbout(t.lines, name);
      assert.equal(warned.length, 1, JSON.stringify(warned));
      assert.equal(warned[0]!.role, role);
      await roundTrip(`after-${role}-${what}`);
    });
  }

  test(`${role}: a connection closed mid-frame is dropped with one log line; the other client is served`, async () => {
    const raw = await RawConn.open(roleAddr(role));
    const name = raw.serverSideName;
    const bytes = encodeCommand(sendRequest({ topic: TOPIC, body: 'never-stored', queueId: 0 }));
    raw.write(bytes.subarray(0, bytes.length - 5));
    await sleep(20);
    raw.socket.end();
    await raw.closed;
    await sleep(30);
    assert.equal(warnLinesAbout(t.lines, name).length, 1);
    await roundTrip(`after-${role}-midframe`);
  });

  test(`${role}: unknown request code is answered 3 " request type N not supported" in both serializations`, async () => {
    for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      const raw = await RawConn.open(roleAddr(role));
      const req = request(9999, { x: 1 }, undefined, st);
      req.opaque = 4321;
      raw.write(encodeCommand(req));
      const res = await raw.response();
      assert.equal(res.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
      assert.equal(res.remark, ' request type 9999 not supported');
      assert.equal(res.opaque, 4321);
      assert.equal(res.serializeType, st);
      assert.ok(!raw.isClosed, 'an answered request leaves the connection open');
      raw.destroy();
    }
    await roundTrip(`after-${role}-unknown-code`);
  });
}

test('broker: a frame larger than brokerConfig.maxFrameSize closes the connection; the other client is served', async () => {
  const raw = await RawConn.open(t.mq.brokerAddr);
  const name = raw.serverSideName;
  raw.write(encodeCommand(sendRequest({ topic: TOPIC, body: Buffer.alloc(MAX_FRAME + 1, 0x61), queueId: 0 })));
  assert.ok(await raw.waitClosed());
  await sleep(20);
  const warned = warnLinesAbout(t.lines, name);
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]!.msg), /maximum frame size/);
  await roundTrip('after-big-frame');
});

test('broker: an oversize message body is MESSAGE_ILLEGAL naming the limit (V2, V1 and batch)', async () => {
  const body = Buffer.alloc(MAX_MESSAGE + 1, 0x62);
  const raw = await RawConn.open(t.mq.brokerAddr);
  const reqs = [
    request(RequestCode.SEND_MESSAGE_V2, sendV2Ext({ topic: TOPIC, body: '', queueId: 0 }), body),
    request(RequestCode.SEND_MESSAGE, sendV1Ext({ topic: TOPIC, body: '', queueId: 0 }), body, SerializeType.JSON),
    request(RequestCode.SEND_BATCH_MESSAGE, { ...sendV2Ext({ topic: TOPIC, body: '', queueId: 0 }), m: 'true' }, encodeBatchBody([{ flag: 0, body, properties: '' }])),
  ];
  for (const [i, req] of reqs.entries()) {
    req.opaque = i + 1;
    raw.write(encodeCommand(req));
    const res = await raw.response();
    assert.equal(res.opaque, i + 1);
    assert.equal(res.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(res.remark ?? '', new RegExp(`${MAX_MESSAGE}`));
    assert.match(res.remark ?? '', /maxMessageSize/);
  }
  assert.ok(!raw.isClosed);
  raw.destroy();
  await roundTrip('after-oversize-body');
});

test('broker: invalid topic names are refused with a clear remark and nothing is created', async () => {
  for (const [topic, why] of [['bad topic!', /illegal characters/], ['T'.repeat(200), /max length 127/], ['', /blank|<b>|<topic>/]] as const) {
    const res = await good.invoke(t.mq.brokerAddr, sendRequest({ topic, body: 'x', queueId: 0 }));
    assert.notEqual(res.code, ResponseCode.SUCCESS, `topic "${topic.slice(0, 20)}" must be refused`);
    assert.match(res.remark ?? '', why);
    const create = await good.invoke(t.mq.brokerAddr, request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: 4, writeQueueNums: 4, perm: 6 }));
    assert.notEqual(create.code, ResponseCode.SUCCESS);
    assert.match(create.remark ?? '', why);
  }
  const all = await good.invoke(t.mq.brokerAddr, request(RequestCode.GET_ALL_TOPIC_CONFIG));
  const table = (JSON.parse(all.body!.toString()) as { topicConfigTable: Record<string, unknown> }).topicConfigTable;
  assert.ok(!('bad topic!' in table));
  assert.ok(!('T'.repeat(200) in table));
  await roundTrip('after-invalid-topic');
});

test('broker and namesrv: a missing or malformed required header field is an error naming the field', async () => {
  const cases: Array<['broker' | 'namesrv', ReturnType<typeof request>, string]> = [];
  const v2 = sendV2Ext({ topic: TOPIC, body: '', queueId: 0 });
  delete (v2 as Record<string, string | undefined>).b;
  cases.push(['broker', request(RequestCode.SEND_MESSAGE_V2, v2, Buffer.from('x')), 'b']);
  const v1 = sendV1Ext({ topic: TOPIC, body: '', queueId: 0 });
  delete (v1 as Record<string, string | undefined>).producerGroup;
  cases.push(['broker', request(RequestCode.SEND_MESSAGE, v1, Buffer.from('x')), 'producerGroup']);
  const pull = pullRequest({ topic: TOPIC });
  delete pull.extFields!.queueId;
  cases.push(['broker', pull, 'queueId']);
  const pullBad = pullRequest({ topic: TOPIC });
  pullBad.extFields!.queueOffset = 'not-a-number';
  cases.push(['broker', pullBad, 'queueOffset']);
  cases.push(['broker', request(RequestCode.QUERY_CONSUMER_OFFSET, { topic: TOPIC, queueId: 0 }), 'consumerGroup']);
  cases.push(['broker', request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'g', topic: TOPIC, queueId: 0 }), 'commitOffset']);
  cases.push(['broker', request(RequestCode.GET_MAX_OFFSET, { queueId: 0 }), 'topic']);
  cases.push(['broker', request(RequestCode.VIEW_MESSAGE_BY_ID, {}), 'offset']);
  cases.push(['broker', request(RequestCode.UNREGISTER_CLIENT, {}), 'clientID']);
  cases.push(['namesrv', request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {}, undefined, SerializeType.JSON), 'topic']);
  for (const [role, req, field] of cases) {
    const res = await good.invoke(roleAddr(role), req);
    assert.notEqual(res.code, ResponseCode.SUCCESS, `code ${req.code} without a valid ${field}`);
    assert.match(res.remark ?? '', new RegExp(`<${field}>`), `remark of code ${req.code} names ${field}: ${res.remark}`);
  }
  await roundTrip('after-missing-fields');
});

test('broker: HEART_BEAT with a non-JSON or empty body, and LOCK_BATCH_MQ with a non-JSON body, are errors', async () => {
  const raw = await RawConn.open(t.mq.brokerAddr);
  const reqs = [
    request(RequestCode.HEART_BEAT, {}, Buffer.from('this is not json'), SerializeType.JSON),
    request(RequestCode.HEART_BEAT, {}, undefined),
    request(RequestCode.LOCK_BATCH_MQ, {}, Buffer.from('{"mqSet":')),
  ];
  for (const [i, req] of reqs.entries()) {
    req.opaque = 100 + i;
    raw.write(encodeCommand(req));
    const res = await raw.response();
    assert.equal(res.opaque, 100 + i);
    assert.notEqual(res.code, ResponseCode.SUCCESS);
    assert.match(res.remark ?? '', /JSON|body/);
  }
  assert.ok(!raw.isClosed, 'a bad body is answered; the connection stays usable');
  raw.destroy();
  await roundTrip('after-bad-heartbeat');
});

test('broker: a malformed batch body is MESSAGE_ILLEGAL and stores nothing', async () => {
  const maxBefore = await good.invoke(t.mq.brokerAddr, request(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 0 }));
  const bad = Buffer.alloc(30);
  bad.writeInt32BE(1000, 0); // declares more bytes than the body has
  const res = await good.invoke(t.mq.brokerAddr, request(RequestCode.SEND_BATCH_MESSAGE, { ...sendV2Ext({ topic: TOPIC, body: '', queueId: 0 }), m: 'true' }, bad));
  assert.equal(res.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(res.remark ?? '', /batch/);
  const maxAfter = await good.invoke(t.mq.brokerAddr, request(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 0 }));
  assert.equal(maxAfter.extFields?.offset, maxBefore.extFields?.offset);
  await roundTrip('after-bad-batch');
});

/** Raw encoded properties: empty values and repeated names as a client may send them. */
function rawProps(pairs: Array<[string, string]>): string {
  return pairs.map(([k, v]) => `${k}\u0001${v}\u0002`).join('');
}

function sendWithProps(topic: string, body: string, pairs: Array<[string, string]>): Promise<ReturnType<typeof request>> {
  return good.invoke(t.mq.brokerAddr, request(RequestCode.SEND_MESSAGE_V2, { ...sendV2Ext({ topic, body, queueId: 0 }), i: rawProps(pairs) }, Buffer.from(body)));
}

test('broker: a DELAY or timer property Java cannot parse is refused as upstream refuses it, and nothing is parked', async () => {
  const store = t.mq.broker.messageStore;
  const timerBefore = store.getMaxOffsetInQueue(SystemTopic.TIMER_TOPIC, 0);
  // Upstream's put hook reads DELAY with Integer.parseInt: the NumberFormatException fails the send.
  for (const level of ['1.5', 'abc', '1e0', ' 2', '0x2', '2147483648']) {
    for (const extra of [[], [['TIMER_DELAY_SEC', '2']]] as Array<Array<[string, string]>>) {
      const res = await sendWithProps(TOPIC, `never-delay-${level}`, [['DELAY', level], ...extra]);
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR, `DELAY=${level}: ${res.remark}`);
      assert.equal(res.remark, `For input string: "${level}": the DELAY property (a delay level) must be an int`);
    }
  }
  // Timer values go through Long.parseLong: WHEEL_TIMER_MSG_ILLEGAL, answered with upstream's remark.
  const upstreamRemark = `timer message illegal, the delay time should not be bigger than the max delay ${t.mq.broker.storeConfig.timerMaxDelaySec * 1000}ms; `
    + 'or if set del msg, the delay time should be bigger than the current time';
  for (const pair of [['TIMER_DELAY_SEC', '1.5'], ['TIMER_DELAY_MS', 'abc'], ['TIMER_DELIVER_MS', '1.5e3'], ['TIMER_DELAY_MS', '9223372036854775808'], ['TIMER_DELAY_SEC', '+']] as Array<[string, string]>) {
    const res = await sendWithProps(TOPIC, `never-${pair[0]}-${pair[1]}`, [pair]);
    assert.equal(res.code, ResponseCode.MESSAGE_ILLEGAL, `${pair.join('=')}: ${res.remark}`);
    assert.ok(res.remark?.startsWith(upstreamRemark), res.remark);
    assert.match(res.remark ?? '', /must be integers/);
  }
  assert.equal(store.getMaxOffsetInQueue(SystemTopic.TIMER_TOPIC, 0), timerBefore, 'nothing was parked on the timer topic');
  for (let q = 0; q < 18; q++) assert.equal(store.getMaxOffsetInQueue(SystemTopic.SCHEDULE_TOPIC, q), 0);
  assert.equal(store.findConsumeQueue(SystemTopic.SCHEDULE_TOPIC, 0.5), undefined, 'no queue 0.5 for a level of 1.5');
  await roundTrip('after-bad-delay');

  // What upstream takes: an empty value is no value (its property map drops it), a Java long
  // with any number of leading zeros is a number, and a sum past Long.MAX_VALUE wraps into the
  // past, so the message is stored at once.
  const lax = 'LaxDelayTopic';
  const now: Array<[string, Array<[string, string]>]> = [
    ['empty-sec-negative-ms', [['TIMER_DELAY_SEC', ''], ['TIMER_DELAY_MS', '-5']]],
    ['empty-delay-level', [['DELAY', ''], ['TIMER_DELIVER_MS', String(Date.now() - 1000)]]],
    ['below-safe-integers', [['TIMER_DELAY_MS', '-9007199254740993']]],
    ['long-max-wraps', [['TIMER_DELAY_MS', '9223372036854775807']]],
    ['last-of-a-repeated-name', [['TIMER_DELAY_SEC', '30'], ['TIMER_DELAY_SEC', '-1']]],
  ];
  for (const [body, pairs] of now) {
    const res = await sendWithProps(lax, body, pairs);
    assert.equal(res.code, ResponseCode.SUCCESS, `${body}: ${res.remark}`);
    assert.equal(res.extFields?.recallHandle, undefined, `${body} is no timer message`);
  }
  const p = await good.invoke(t.mq.brokerAddr, pullRequest({ topic: lax, queueId: 0, queueOffset: 0, maxMsgNums: 100 }));
  assert.deepEqual(bodies(p), now.map(([b]) => b));
  const zeros = await sendWithProps(lax, 'leading-zeros', [['TIMER_DELAY_SEC', '000000000000000000000030']]);
  assert.equal(zeros.code, ResponseCode.SUCCESS, zeros.remark);
  assert.ok(zeros.extFields?.recallHandle, 'a 30 s timer message');
  assert.equal(store.getMaxOffsetInQueue(SystemTopic.TIMER_TOPIC, 0), timerBefore + 1);
  await roundTrip('after-lax-delay');
});

test('broker: of a repeated DELAY the last value counts, as upstream\'s property map holds it', async () => {
  const store = t.mq.broker.messageStore;
  const q = (level: number): number => store.getMaxOffsetInQueue(SystemTopic.SCHEDULE_TOPIC, level - 1);
  const [q2, q3] = [q(2), q(3)];
  // A bad first value is overwritten by a good one: stored, parked on level 2.
  const ok = await sendWithProps(TOPIC, 'repeated-delay-good-last', [['DELAY', '1.5'], ['DELAY', '2']]);
  assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
  assert.equal(q(2), q2 + 1, 'parked on level 2');
  // A good first value does not hide a bad last one.
  const bad = await sendWithProps(TOPIC, 'repeated-delay-bad-last', [['DELAY', '2'], ['DELAY', 'x']]);
  assert.equal(bad.code, ResponseCode.SYSTEM_ERROR, bad.remark);
  assert.equal(bad.remark, 'For input string: "x": the DELAY property (a delay level) must be an int');
  // An empty value is no value: the earlier one stays.
  const empty = await sendWithProps(TOPIC, 'repeated-delay-empty-last', [['DELAY', '3'], ['DELAY', '']]);
  assert.equal(empty.code, ResponseCode.SUCCESS, empty.remark);
  assert.equal(q(3), q3 + 1, 'parked on level 3');
  assert.equal(q(2), q2 + 1);
});

test('many bad connections at once leave the good client and the stored messages intact', async () => {
  const raws = await Promise.all(Array.from({ length: 20 }, (_, i) => RawConn.open(i % 2 ? t.mq.brokerAddr : t.mq.namesrvAddr)));
  const pending = roundTrip('during-storm');
  for (const [i, r] of raws.entries()) r.write(CLOSING_INPUTS[i % CLOSING_INPUTS.length]![1]());
  await pending;
  for (const r of raws) assert.ok(await r.waitClosed());
  await roundTrip('after-storm');
});
