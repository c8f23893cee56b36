import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { MQClientAPI, MQBrokerError, PullStatus, type PullResult } from '../../src/client/index.js';
import { encodeProperties } from '../../src/common/properties.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { tempDir } from '../helpers/tmp.js';

/** SQL92 filtering end to end: a standalone broker with enablePropertyFilter, real sockets, MQClientAPI. */

let mq: Standalone;
let tmp: { dir: string; cleanup: () => void };
const api = new MQClientAPI();
const TOPIC = 'SqlTopic';
const COUNT = 40;

function propsOf(i: number): Record<string, string> {
  const p: Record<string, string> = { TAGS: i % 2 === 0 ? 'TagA' : 'TagB', region: i % 3 === 0 ? 'eu' : 'us', KEYS: `k${i}` };
  if (i % 5 !== 0) p.a = String(i);
  return p;
}

async function send(topic: string, body: string, props: Record<string, string>): Promise<void> {
  await api.sendMessage(mq.brokerAddr, mq.broker.brokerConfig.brokerName, {
    producerGroup: 'PG', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0,
    bornTimestamp: Date.now(), flag: 0, properties: encodeProperties(props),
  }, Buffer.from(body));
}

function pull(opts: { group?: string; topic?: string; expr?: string; type?: string; offset?: number; sysFlag?: number; suspendMs?: number; subVersion?: number }, timeoutMs = 5000): Promise<PullResult> {
  return api.pullMessage(mq.brokerAddr, {
    consumerGroup: opts.group ?? 'GSQL', topic: opts.topic ?? TOPIC, queueId: 0, queueOffset: opts.offset ?? 0, maxMsgNums: 32,
    sysFlag: opts.sysFlag ?? PullSysFlag.FLAG_SUBSCRIPTION, commitOffset: 0, suspendTimeoutMillis: opts.suspendMs ?? 0,
    subscription: opts.expr, subVersion: opts.subVersion ?? 0, expressionType: opts.type ?? 'SQL92',
  }, timeoutMs);
}

/** Pulls the whole queue with one expression; returns the bodies that came back, in order. */
async function pullAll(opts: Parameters<typeof pull>[0]): Promise<string[]> {
  const got: string[] = [];
  let offset = 0;
  for (let guard = 0; guard < 100; guard++) {
    const r = await pull({ ...opts, offset });
    if (r.pullStatus === PullStatus.FOUND) got.push(...r.msgFoundList.map((m) => m.body.toString()));
    if (r.pullStatus === PullStatus.NO_NEW_MSG || r.nextBeginOffset >= r.maxOffset) return got;
    offset = r.nextBeginOffset;
  }
  throw new Error('pull did not reach the end of the queue');
}

async function brokerError(p: Promise<unknown>): Promise<MQBrokerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MQBrokerError, String(e));
    return e;
  }
  assert.fail('the broker accepted it');
}

/** A valid SQL pull still answers after an error. */
async function stillServing(): Promise<void> {
  assert.deepEqual(await pullAll({ expr: 'a = 7' }), ['m7']);
}

before(async () => {
  tmp = tempDir('rmq-sql-');
  mq = await startStandalone({ storeDir: tmp.dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, brokerConfig: { enablePropertyFilter: true } });
  for (let i = 0; i < COUNT; i++) await send(TOPIC, `m${i}`, propsOf(i));
});

after(async () => {
  await api.shutdown();
  await mq.shutdown();
  tmp.cleanup();
});

function expected(pred: (i: number, p: Record<string, string>) => boolean): string[] {
  return Array.from({ length: COUNT }, (_, i) => i).filter((i) => pred(i, propsOf(i))).map((i) => `m${i}`);
}

test('only the messages matching the SQL92 expression come back', async () => {
  assert.deepEqual(await pullAll({ expr: "a >= 10 AND TAGS = 'TagA'" }), expected((i, p) => i >= 10 && p.a !== undefined && p.TAGS === 'TagA'));
  assert.deepEqual(await pullAll({ expr: "region = 'eu' OR a BETWEEN 3 AND 4" }), expected((i, p) => p.region === 'eu' || (p.a !== undefined && i >= 3 && i <= 4)));
  assert.deepEqual(await pullAll({ expr: 'a IS NULL' }), expected((_, p) => p.a === undefined));
  assert.deepEqual(await pullAll({ expr: "a NOT IN ('1', '2', '3') AND KEYS STARTSWITH 'k1'" }), expected((i, p) => p.a !== undefined && ![1, 2, 3].includes(i) && `k${i}`.startsWith('k1')));
  assert.deepEqual(await pullAll({ expr: "TAGS ENDSWITH 'B' AND NOT (region = 'eu')" }), expected((_, p) => p.TAGS === 'TagB' && p.region !== 'eu'));
  assert.deepEqual(await pullAll({ expr: 'FALSE' }), []);
  assert.equal((await pullAll({ expr: 'TRUE' })).length, COUNT);
});

test('a pull that matches nothing in its window says so and moves past it', async () => {
  const r = await pull({ expr: "a = 'nothing'" });
  assert.equal(r.pullStatus, PullStatus.NO_MATCHED_MSG);
  assert.ok(r.nextBeginOffset > 0);
  assert.equal(r.msgFoundList.length, 0);
});

test('a malformed expression gets SUBSCRIPTION_PARSE_FAILED (23) with the position; the broker keeps serving', async () => {
  const cases: Array<[string, string]> = [
    ['a >> 1', 'line 1, column 4'],
    ["a = 'open", 'line 1, column 5'],
    ['a = 1 AND\n(b = 2', 'line 2, column 7'],
    ['a = NULL', 'line 1, column 5'],
    ['', 'line 1, column 1'],
  ];
  for (const [expr, where] of cases) {
    const e = await brokerError(pull({ expr }));
    assert.equal(e.responseCode, ResponseCode.SUBSCRIPTION_PARSE_FAILED, expr);
    assert.match(e.remark ?? '', /^parse the consumer's subscription failed: /);
    assert.ok(e.remark?.includes(where), `${JSON.stringify(expr)}: ${e.remark}`);
    await stillServing();
  }
  const tooLong = await brokerError(pull({ expr: `a = '${'x'.repeat(9000)}'` }));
  assert.equal(tooLong.responseCode, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(tooLong.remark ?? '', /the limit is 8192/);
  const unknownType = await brokerError(pull({ expr: 'a = 1', type: 'CLASS' }));
  assert.equal(unknownType.responseCode, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  await stillServing();
});

test('TAG pulls are unaffected', async () => {
  assert.deepEqual(await pullAll({ expr: 'TagB', type: 'TAG' }), expected((_, p) => p.TAGS === 'TagB'));
  assert.equal((await pullAll({ expr: '*', type: 'TAG' })).length, COUNT);
});

test('heartbeat path: an SQL92 subscription registered by HEART_BEAT filters pulls without the subscription flag', async () => {
  const subVersion = Date.now();
  await api.sendHeartbeat(mq.brokerAddr, {
    clientID: 'sql-client@1',
    producerDataSet: [],
    consumerDataSet: [{
      groupName: 'GHB', consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', unitMode: false,
      subscriptionDataSet: [{ topic: TOPIC, subString: "region = 'eu' AND a > 20", tagsSet: [], codeSet: [], subVersion, classFilterMode: false, expressionType: 'SQL92' }],
    }],
  });
  const got = await pullAll({ group: 'GHB', sysFlag: 0, expr: undefined, subVersion });
  assert.deepEqual(got, expected((i, p) => p.region === 'eu' && p.a !== undefined && i > 20));
});

test('HEART_BEAT with a malformed SQL92 subscription is refused with 23 and the position; nothing of it is registered', async () => {
  const e = await brokerError(api.sendHeartbeat(mq.brokerAddr, {
    clientID: 'sql-client@2',
    producerDataSet: [{ groupName: 'PG_BAD_HB' }],
    consumerDataSet: [{
      groupName: 'GBADHB', consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', unitMode: false,
      subscriptionDataSet: [{ topic: TOPIC, subString: "region = 'eu' AND", tagsSet: [], codeSet: [], subVersion: Date.now(), classFilterMode: false, expressionType: 'SQL92' }],
    }],
  }));
  assert.equal(e.responseCode, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(e.remark ?? '', /GBADHB.*line 1, column 18/);
  assert.equal(mq.broker.consumerManager.get('GBADHB'), undefined);
  await stillServing();
});

test('a held SQL92 pull wakes up for a matching message', async () => {
  const topic = 'SqlHold';
  await send(topic, 'warm-up', { TAGS: 'x' });
  const max = await api.getMaxOffset(mq.brokerAddr, topic, 0);
  const started = Date.now();
  const held = pull({ topic, expr: "kind = 'wanted'", offset: max, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION | PullSysFlag.FLAG_SUSPEND, suspendMs: 10_000 }, 15_000);
  await new Promise((r) => setTimeout(r, 200));
  await send(topic, 'the one', { kind: 'wanted' });
  const r = await held;
  assert.equal(r.pullStatus, PullStatus.FOUND);
  assert.deepEqual(r.msgFoundList.map((m) => m.body.toString()), ['the one']);
  assert.ok(Date.now() - started < 5000, 'woken by the arrival, not by the timeout');
});

test('with enablePropertyFilter false an SQL92 pull gets SYSTEM_ERROR (1) with upstream\'s remark; the broker keeps serving', async () => {
  const t = tempDir('rmq-sql-off-');
  const off = await startStandalone({ storeDir: t.dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 } });
  try {
    assert.equal(off.broker.brokerConfig.enablePropertyFilter, false);
    await api.sendMessage(off.brokerAddr, off.broker.brokerConfig.brokerName, {
      producerGroup: 'PG', topic: 'OffTopic', defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0,
      bornTimestamp: Date.now(), flag: 0, properties: encodeProperties({ TAGS: 'T', a: '1' }),
    }, Buffer.from('x'));
    const header = {
      consumerGroup: 'GOFF', topic: 'OffTopic', queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: 'a = 1', subVersion: 0, expressionType: 'SQL92',
    };
    const e = await brokerError(api.pullMessage(off.brokerAddr, header, 5000));
    assert.equal(e.responseCode, ResponseCode.SYSTEM_ERROR);
    assert.equal(e.remark, 'The broker does not support consumer to filter message by SQL92');
    const tagPull = await api.pullMessage(off.brokerAddr, { ...header, subscription: 'T', expressionType: 'TAG' }, 5000);
    assert.equal(tagPull.pullStatus, PullStatus.FOUND);
    assert.equal(tagPull.msgFoundList.length, 1);
  } finally {
    await off.shutdown();
    t.cleanup();
  }
});
