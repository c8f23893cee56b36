import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { createTopicRequest, sendRequest, useMQWithClient } from '../broker/helpers.js';

// Upstream AbstractSendMessageProcessor.msgCheck (5.3.2+, ISSUE #9028; this broker reports V5_3_3):
// an invalid topic name and a queueId at or past max(read, write) queues are INVALID_PARAMETER (29),
// which producers do not retry; SYSTEM_ERROR (1) is in every client's retryResponseCodes.

let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ client: c, broker } = s));

test('send: a queueId past the topic\'s queues is INVALID_PARAMETER', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('Q2', 2, 2))).code, ResponseCode.SUCCESS);
  const res = await c.invoke(broker, sendRequest({ topic: 'Q2', body: 'x', queueId: 5 }));
  assert.match(res.remark ?? '', /queueId\[5\] is illegal/);
  assert.equal(res.code, ResponseCode.INVALID_PARAMETER, `code ${res.code}`);
});

test('send: an invalid topic name is INVALID_PARAMETER', async () => {
  const res = await c.invoke(broker, sendRequest({ topic: 'bad topic!', body: 'x', queueId: 0 }));
  assert.equal(res.code, ResponseCode.INVALID_PARAMETER, `code ${res.code}: ${res.remark}`);
});
