import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { memoryLogger } from '../broker/helpers.js';
import { tempDir } from '../helpers/tmp.js';

// Every request code this project knows, sent to the broker and to the NameServer with no
// header, with header fields full of values of the wrong kind, and with bodies that are not what
// the code reads: each gets an answer, a refusal says what is wrong (not an internal TypeError),
// nothing escapes as an uncaught exception, and afterwards both roles serve as before and every
// message stored before the sweep is still there. The values come from a seeded generator.

const SEED = 20261123;
const { logger } = memoryLogger();
const tmp = tempDir('rmq-sweep-');
let mq: Standalone;
let api: MQClientAPI;
const escaped: unknown[] = [];
const onEscape = (err: unknown): void => { escaped.push(err); };

before(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, logger });
  api = new MQClientAPI();
});

after(async () => {
  await api?.shutdown();
  await mq?.shutdown();
  tmp.cleanup();
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

/** mulberry32: small, seeded, the same sequence on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Header keys that requests of many codes read. */
const KEYS = [
  'topic', 'group', 'groupName', 'consumerGroup', 'producerGroup', 'queueId', 'queueOffset', 'offset', 'commitOffset',
  'maxMsgNums', 'sysFlag', 'msgId', 'key', 'keys', 'brokerName', 'bname', 'clientId', 'timestamp', 'beginTimestamp',
  'endTimestamp', 'maxNum', 'srcGroup', 'destGroup', 'compareGroup', 'filterGroups', 'readable', 'perm', 'readQueueNums',
  'writeQueueNums', 'statsName', 'statsKey', 'isForce', 'namespace', 'value', 'cluster', 'clusterName', 'brokerAddr',
  'brokerId', 'invisibleTime', 'extraInfo', 'pollTime', 'bornTime', 'initMode', 'expType', 'exp', 'order', 'attemptId',
  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'z', 'tranStateTableOffset', 'commitLogOffset',
  'commitOrRollback', 'fromTransactionCheck', 'transactionId', 'unitMode', 'delayLevel', 'originMsgId', 'originTopic',
  'maxReconsumeTimes', 'properties', 'defaultTopic', 'defaultTopicQueueNums', 'bornTimestamp', 'flag', 'reconsumeTimes',
  'batch', 'subscription', 'subVersion', 'expressionType', 'suspendTimeoutMillis', 'maxMsgBytes', 'lockTime', 'jstackEnable',
  'receiptHandle', 'attributes', 'topicFilterType', 'topicSysFlag', 'topicRequestCode', 'cleanOffset', 'offline', 'mode',
];

const NASTY = ['', 'abc', '-1', '-9223372036854775808', '99999999999999999999999', '1.5', 'NaN', 'true', 'ü€😀', 'x'.repeat(4000), '%RETRY%', '{', '0x10', ' 7 ', '\u0000'];

const BODIES = [
  Buffer.from('{"topic":'),
  Buffer.from('{"a":[1,2,{"b":null}],"topicConfigTable":7,"offsetTable":"x"}'),
  Buffer.from('[1,2,3]'),
  Buffer.from('null'),
  Buffer.from('key=value\nbrokerPermission=abc\n=\n'),
  // Lists and maps whose entries are null or of the wrong kind, under the names bodies use.
  Buffer.from(JSON.stringify({
    producerDataSet: [null, 1, 'x'], consumerDataSet: [null, { groupName: 'g', subscriptionDataSet: [null, 7] }], mqSet: [null, 'q'],
    topicConfigList: [null, 5], groupConfigList: [null, []], offsetTable: { a: null, b: [1] }, topicConfigTable: { t: null },
    subscriptionGroupTable: { g: null }, brokerAddrs: null, clientId: {}, group: [], topic: 5, consumerGroup: null,
    msgIdList: [null], mqList: null, queueIdSet: [null], brokerName: {}, attributes: 'x',
  })),
];

function nastyHeader(rand: () => number): Record<string, string> {
  const ext: Record<string, string> = {};
  for (const k of KEYS) if (rand() < 0.7) ext[k] = NASTY[Math.floor(rand() * NASTY.length)]!;
  return ext;
}

function randomBody(rand: () => number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** The requests of the sweep for one code: no header, three nasty headers, the bodies, random bytes; JSON and binary headers. */
function casesOf(code: number, rand: () => number): RemotingCommand[] {
  const out: RemotingCommand[] = [createRequest(code), createRequest(code, { serializeType: SerializeType.JSON })];
  for (let i = 0; i < 3; i++) {
    out.push(createRequest(code, { extFields: nastyHeader(rand), serializeType: i === 1 ? SerializeType.JSON : SerializeType.ROCKETMQ }));
  }
  for (const body of BODIES) out.push(createRequest(code, { extFields: nastyHeader(rand), body }));
  out.push(createRequest(code, { extFields: nastyHeader(rand), body: randomBody(rand, 1 + Math.floor(rand() * 600)) }));
  return out;
}

/** A remark that is an internal error's text rather than a reason: what a bad input must never produce. */
const INTERNAL = /^(TypeError|RangeError|ReferenceError|SyntaxError|Error): |Cannot read properties|is not a function|undefined is not|Maximum call stack/;

/** Codes a sweep must not send: they end the connection's session on purpose. */
const SKIP = new Set<number>([]);

async function sweep(addr: string, role: string, faults: string[]): Promise<number> {
  const rand = rng(SEED + role.length);
  let answered = 0;
  const codes = [...new Set(Object.values(RequestCode))].filter((c) => !SKIP.has(c)).sort((a, b) => a - b);
  for (const code of codes) {
    for (const req of casesOf(code, rand)) {
      const what = `${role} code ${code} ext ${JSON.stringify(req.extFields ?? {}).slice(0, 300)} body ${req.body?.length ?? 0}B (seed ${SEED})`;
      let res: RemotingCommand;
      try {
        res = await api.remoting.invoke(addr, req, 10_000);
      } catch (err) {
        faults.push(`${what}: no answer: ${(err as Error).message}`);
        continue;
      }
      answered++;
      if (res.code === ResponseCode.SUCCESS) continue;
      if (res.remark === undefined || res.remark.length === 0) faults.push(`${what}: refused with code ${res.code} and no reason`);
      else if (INTERNAL.test(res.remark)) faults.push(`${what}: an internal error, not a reason: ${res.remark.slice(0, 200)}`);
    }
  }
  return answered;
}

test('every request code with bad headers and bodies is answered with a reason; both roles keep serving and lose nothing', { timeout: 120_000 }, async () => {
  const producer = new Producer({ group: 'SweepPG', namesrvAddr: mq.namesrvAddr });
  await producer.start();
  const topic = 'SweepTopic';
  const sent = [];
  for (let i = 0; i < 20; i++) sent.push(await producer.send(new Message(topic, `before-${i}`)));
  try {
    const faults: string[] = [];
    const n = await sweep(mq.brokerAddr, 'broker', faults) + await sweep(mq.namesrvAddr, 'namesrv', faults);
    assert.deepEqual(faults, [], `${faults.length} bad answers`);
    assert.ok(n > 1000, `${n} requests answered`);
    assert.deepEqual(escaped, [], 'nothing escaped as an uncaught exception or unhandled rejection');

    // Both roles still serve, and every message acknowledged before the sweep is there.
    const after = await producer.send(new Message(topic, 'after'));
    assert.equal(after.sendStatus, 'SEND_OK');
    const bodies: string[] = [];
    for (const queueId of new Set([...sent, after].map((r) => r.messageQueue.queueId))) {
      const r = await api.pullMessage(mq.brokerAddr, {
        consumerGroup: 'SweepCG', topic, queueId, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
        commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
      }, 5000);
      bodies.push(...r.msgFoundList.map((m) => m.body.toString()));
    }
    for (let i = 0; i < 20; i++) assert.ok(bodies.includes(`before-${i}`), `before-${i} is still stored`);
    assert.ok(bodies.includes('after'));
    const route = await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, topic, 5000);
    assert.ok(route.queueDatas.length > 0, 'the NameServer still routes the topic');
  } finally {
    await producer.shutdown();
  }
});
