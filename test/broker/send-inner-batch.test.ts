import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBatchBody } from '../../src/client/message.js';
import { encodeProperties } from '../../src/common/properties.js';
import { MessageSysFlag } from '../../src/common/sysflag.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { createTopicRequest, pullRequest, records, request, sendV2Ext, useMQWithClient, WARN, type TestMQ } from './helpers.js';

// Upstream's innerBatchChecker put hook (HookUtils.checkInnerBatch): INNER_NUM without the
// INNER_BATCH sysflag, or an inner batch to a topic whose queue.type is not BatchCQ, is
// MESSAGE_ILLEGAL with handlePutMessageResult's remark, and the broker logs it as a client bug.

const MAX = 64 * 1024;
const UPSTREAM_REMARK = `the message is illegal, maybe msg body or properties length not matched. msg body length limit ${MAX}B, msg properties length limit 32KB.`;
const SIMPLE = 'InnerBatchSimple';
const BATCH_CQ = 'InnerBatchBatchCQ';

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s), { storeConfig: { maxMessageSize: MAX } });

function send(topic: string, sysFlag: number, props: Record<string, string>, body = 'x'): Promise<RemotingCommand> {
  const ext = { ...sendV2Ext({ topic, body, queueId: 0 }), f: String(sysFlag), i: encodeProperties({ WAIT: 'true', ...props }) };
  return c.invoke(broker, request(RequestCode.SEND_MESSAGE_V2, ext, Buffer.from(body)));
}

function sendBatch(topic: string, sysFlag: number, headerProps: Record<string, string>, innerProps = ''): Promise<RemotingCommand> {
  const ext = { ...sendV2Ext({ topic, body: '', queueId: 0 }), f: String(sysFlag), i: encodeProperties(headerProps), m: 'true' };
  const body = encodeBatchBody([{ flag: 0, body: Buffer.from('b1'), properties: innerProps }, { flag: 0, body: Buffer.from('b2'), properties: innerProps }]);
  return c.invoke(broker, request(RequestCode.SEND_BATCH_MESSAGE, ext, body));
}

async function stored(topic: string): Promise<number> {
  const p = await c.invoke(broker, pullRequest({ topic, queueId: 0, queueOffset: 0, maxMsgNums: 100 }));
  return p.code === ResponseCode.SUCCESS ? records(p).length : 0;
}

function bugLines(): string[] {
  return t.lines.filter((l) => l.level >= WARN && typeof l.msg === 'string' && l.msg.startsWith('[BUG]')).map((l) => l.msg!);
}

test('INNER_NUM or the INNER_BATCH sysflag on a topic that is not BatchCQ is refused as upstream', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest(SIMPLE, 1, 1))).code, ResponseCode.SUCCESS);
  const cases: Array<[string, () => Promise<RemotingCommand>, RegExp]> = [
    ['INNER_NUM, no flag', () => send(SIMPLE, 0, { INNER_NUM: '3' }), /INNER_NUM property but not the INNER_BATCH sysflag/],
    ['INNER_BATCH flag', () => send(SIMPLE, MessageSysFlag.INNER_BATCH_FLAG, { INNER_NUM: '3' }), /not a BatchCQ topic/],
    ['batch with INNER_BATCH flag', () => sendBatch(SIMPLE, MessageSysFlag.INNER_BATCH_FLAG, {}), /not a BatchCQ topic/],
    ['batch header with INNER_NUM', () => sendBatch(SIMPLE, 0, { INNER_NUM: '2' }), /INNER_NUM property/],
  ];
  for (const [what, run, why] of cases) {
    const res = await run();
    assert.equal(res.code, ResponseCode.MESSAGE_ILLEGAL, `${what}: ${res.code} ${res.remark}`);
    assert.ok(res.remark?.startsWith(UPSTREAM_REMARK), `${what}: ${res.remark}`);
    assert.match(res.remark ?? '', why, what);
  }
  assert.equal(await stored(SIMPLE), 0, 'nothing stored');
  const bugs = bugLines();
  assert.equal(bugs.length, 4, bugs.join('\n'));
  assert.match(bugs[0]!, /had property INNER_NUM but is not an inner batch/);
  assert.match(bugs[1]!, /is an inner batch but cq type is not batch cq/);

  // What is not upstream's business stays accepted: ordinary sends, and INNER_NUM inside a
  // batch's messages (upstream's hook sees only the batch's own properties).
  assert.equal((await send(SIMPLE, 0, { TAGS: 'a' })).code, ResponseCode.SUCCESS);
  const inner = await sendBatch(SIMPLE, 0, {}, encodeProperties({ INNER_NUM: '5' }));
  assert.equal(inner.code, ResponseCode.SUCCESS, inner.remark);
  assert.equal(await stored(SIMPLE), 3);
});

test('an inner batch to a BatchCQ topic passes the check', async () => {
  const create = createTopicRequest(BATCH_CQ, 1, 1);
  create.extFields = { ...create.extFields, attributes: '+queue.type=BatchCQ' };
  assert.equal((await c.invoke(broker, create)).code, ResponseCode.SUCCESS);
  const res = await send(BATCH_CQ, MessageSysFlag.INNER_BATCH_FLAG, { INNER_NUM: '1' });
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
});

test('oversize properties get upstream\'s remark, then what to do', async () => {
  const res = await send(SIMPLE, 0, { big: 'p'.repeat(33_000) });
  assert.equal(res.code, ResponseCode.MESSAGE_ILLEGAL, res.remark);
  assert.ok(res.remark?.startsWith(UPSTREAM_REMARK), res.remark);
  assert.match(res.remark ?? '', /carry less in properties/);
});
