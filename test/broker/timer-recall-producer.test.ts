import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQClientError } from '../../src/client/errors.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { createTopicRequest } from './helpers.js';
import { pullAll, sleep, withTimerMQ } from './timer-helpers.js';

// Producer.recallMessage (upstream DefaultMQProducer.recallMessage, 5.3): a timer message's send
// result carries a recall handle, and the producer cancels the message with it through its broker.

test('a producer recalls a timer message by the handle its send returned; bad handles and topics are refused', async () => {
  await withTimerMQ({}, async ({ mq, raw, api }) => {
    assert.equal((await raw.invoke(mq.brokerAddr, createTopicRequest('RecallP', 1, 1))).code, ResponseCode.SUCCESS);
    const producer = new Producer({ group: 'RecallPG', namesrvAddr: mq.namesrvAddr });
    await producer.start();
    try {
      const at = Date.now() + 2000;
      const recalled = await producer.send(new Message('RecallP', Buffer.from('recalled'), { deliverTimeMs: at }));
      const kept = await producer.send(new Message('RecallP', Buffer.from('kept'), { deliverTimeMs: at }));
      assert.ok(recalled.recallHandle, 'a timer message\'s send result carries its recall handle');
      assert.equal((await producer.send(new Message('RecallP', Buffer.from('now')))).recallHandle, undefined, 'a plain message has none');
      assert.equal(await producer.recallMessage('RecallP', recalled.recallHandle!), recalled.msgId);
      // Recalled once: a second recall is the broker's refusal.
      await assert.rejects(producer.recallMessage('RecallP', recalled.recallHandle!), (e: unknown) => e instanceof MQBrokerError && /already recalled/.test(e.message));
      await assert.rejects(producer.recallMessage('RecallP', 'not a handle!'), (e: unknown) => e instanceof MQClientError && /recall handle is invalid/.test(e.message));
      await assert.rejects(producer.recallMessage('%RETRY%RecallPG', kept.recallHandle!), /cannot be recalled/);
      await assert.rejects(producer.recallMessage('Bad Topic!', kept.recallHandle!), MQClientError);
      await sleep(at - Date.now() + 2500);
      const bodies = (await pullAll(api, mq.brokerAddr, 'RecallP')).map((m) => m.body.toString()).sort();
      assert.deepEqual(bodies, ['kept', 'now'], 'the recalled message is never delivered');
    } finally {
      await producer.shutdown();
    }
  });
});
