import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MQClientAPI } from '../../src/client/index.js';
import { encodeBatchBody } from '../../src/client/message.js';
import { timeMillisToHumanString2 } from '../../src/common/java.js';
import { encodeProperties } from '../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createTopicRequest, newClient, request, sendV1Ext, sendV2Ext, startMQ } from './helpers.js';

// startAcceptSendRequestTimeStamp (upstream BrokerConfig, checked in SendMessageProcessor#preSend,
// ReplyMessageProcessor and RecallMessageProcessor): before that time a broker takes no message.

test('before startAcceptSendRequestTimeStamp every send is SYSTEM_ERROR saying until when; the runtime info reports it; changed at runtime, sends go through', async () => {
  const from = Date.now() + 3600_000;
  const t = await startMQ({ brokerConfig: { startAcceptSendRequestTimeStamp: from } });
  const c = newClient();
  const api = new MQClientAPI();
  try {
    const broker = t.mq.brokerAddr;
    assert.equal((await c.invoke(broker, createTopicRequest('NotYet', 1, 1))).code, ResponseCode.SUCCESS);
    const spec = { topic: 'NotYet', body: 'early' };
    const batch = encodeBatchBody([{ flag: 0, body: Buffer.from('b1'), properties: '' }, { flag: 0, body: Buffer.from('b2'), properties: '' }]);
    const reply = { ...sendV2Ext(spec), i: encodeProperties({ MSG_TYPE: 'reply', CORRELATION_ID: 'c-1', REPLY_TO_CLIENT: '10.0.0.9@gone' }) };
    const sends = (): Array<[string, ReturnType<typeof request>]> => [
      ['SEND_MESSAGE', request(RequestCode.SEND_MESSAGE, sendV1Ext(spec), Buffer.from('early'))],
      ['SEND_MESSAGE_V2', request(RequestCode.SEND_MESSAGE_V2, sendV2Ext(spec), Buffer.from('early'))],
      ['SEND_BATCH_MESSAGE', request(RequestCode.SEND_BATCH_MESSAGE, { ...sendV2Ext(spec), m: 'true' }, batch)],
      ['SEND_REPLY_MESSAGE_V2', request(RequestCode.SEND_REPLY_MESSAGE_V2, reply, Buffer.from('early'))],
      ['SEND_REPLY_MESSAGE', request(RequestCode.SEND_REPLY_MESSAGE, { ...sendV1Ext(spec), properties: reply.i }, Buffer.from('early'))],
    ];
    for (const [name, req] of sends()) {
      const res = await c.invoke(broker, req);
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR, `${name}: ${res.remark}`);
      assert.ok(res.remark?.startsWith(`broker unable to service, until ${timeMillisToHumanString2(from)}`), `${name}: ${res.remark}`);
    }
    assert.equal(t.mq.broker.messageStore.getMaxOffsetInQueue('NotYet', 0), 0, 'nothing stored');
    const recall = await c.invoke(broker, request(RequestCode.RECALL_MESSAGE, { producerGroup: 'PG', topic: 'NotYet', recallHandle: 'x' }));
    assert.equal(recall.code, ResponseCode.SERVICE_NOT_AVAILABLE, recall.remark);
    assert.equal((await api.getBrokerRuntimeInfo(broker)).startAcceptSendRequestTimeStamp, String(from));

    // Upstream's UPDATE_BROKER_CONFIG sets any BrokerConfig field; sends are checked against it each time.
    await api.updateBrokerConfig(broker, new Map([['startAcceptSendRequestTimeStamp', '0']]));
    assert.equal((await api.getBrokerRuntimeInfo(broker)).startAcceptSendRequestTimeStamp, '0');
    for (const [name, req] of sends()) {
      const res = await c.invoke(broker, req);
      // The reply's requester is gone: refused for that (as upstream), no longer for the time.
      assert.ok(!res.remark?.startsWith('broker unable to service'), `${name}: ${res.remark}`);
      if (!name.startsWith('SEND_REPLY')) assert.equal(res.code, ResponseCode.SUCCESS, `${name}: ${res.remark}`);
    }
    assert.ok(t.mq.broker.messageStore.getMaxOffsetInQueue('NotYet', 0) >= 4, 'the sends were stored');
  } finally {
    await api.shutdown();
    await c.shutdown();
    await t.close();
  }
});
