import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { PopRequestCode } from '../../src/broker/pop/pop-processors.js';
import { createTopicRequest, records, request, sendRequest, useMQWithClient } from './helpers.js';

// POP_MESSAGE / ACK_MESSAGE over Remoting (as a proxy in cluster mode sends them) against a real broker.

let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ client: c, broker } = s));

async function topicWith(topic: string, n: number): Promise<void> {
  const res = await c.invoke(broker, createTopicRequest(topic, 1, 1));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  for (let i = 0; i < n; i++) {
    const s = await c.invoke(broker, sendRequest({ topic, body: `m${i}`, queueId: 0 }));
    assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
  }
}

function pop(topic: string, group: string, maxMsgNums: number): Promise<RemotingCommand> {
  return c.invoke(broker, request(PopRequestCode.POP_MESSAGE, {
    consumerGroup: group, topic, queueId: -1, maxMsgNums, invisibleTime: 60_000, pollTime: 0, bornTime: Date.now(), initMode: 0,
    expType: 'TAG', exp: '*', order: false,
  }, undefined, SerializeType.JSON)); // POP's request codes do not fit the ROCKETMQ header's 16-bit code
}

test('POP_MESSAGE asking for more than 32 messages is refused with INVALID_PARAMETER, as upstream', async () => {
  await topicWith('PopMax', 40);
  const tooMany = await pop('PopMax', 'PopMaxG', 33);
  assert.equal(tooMany.code, ResponseCode.INVALID_PARAMETER, tooMany.remark);
  assert.match(tooMany.remark ?? '', /pop message's num is greater than 32/);
  const ok = await pop('PopMax', 'PopMaxG', 32);
  assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
  assert.equal(records(ok).length, 32);
});
