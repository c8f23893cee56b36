import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { Admin } from '../../src/admin/index.js';
import { MQClientAPI, Message, Producer } from '../../src/client/index.js';
import { RemotingClient, createRequest } from '../../src/remoting/index.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { tempDir } from '../helpers/tmp.js';

test('a dead-lettered message is readable on %DLQ%group and re-sent to its original topic by Admin', async () => {
  const tmp = tempDir('rmq-dlq-resend-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1' });
  const api = new MQClientAPI();
  const raw = new RemotingClient();
  const producer = new Producer({ group: 'DLQ_P', namesrvAddr: mq.namesrvAddr });
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  // Every queue of the topic, in queue order.
  const pull = async (topic: string) => {
    const out = [];
    for (let queueId = 0; queueId < 4; queueId++) {
      out.push(...await api.pullMessage(mq.brokerAddr, {
        consumerGroup: 'READER', topic, queueId, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
        commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
      }, 3000).then((r) => r.msgFoundList, () => []));
    }
    return out;
  };
  try {
    await producer.start();
    await admin.start();
    const sent = await producer.send(new Message('DlqOrigin', 'poison', { tags: 'P', keys: ['k-poison'] }), { queue: { topic: 'DlqOrigin', brokerName: 'broker-a', queueId: 0 } }).catch(async () => {
      // The topic is auto-created by the first send; its route may not be known yet.
      return producer.send(new Message('DlqOrigin', 'poison', { tags: 'P', keys: ['k-poison'] }));
    });
    // The consumer gives up on it at once (delayLevel -1): straight to the DLQ.
    const back = await raw.invoke(mq.brokerAddr, createRequest(36, {
      extFields: { offset: decodeOffsetMessageId(sent.offsetMsgId).commitLogOffset, group: 'DLQ_G', delayLevel: -1, originTopic: 'DlqOrigin' },
    }));
    assert.equal(back.code, 0);
    const dead = await pull('%DLQ%DLQ_G');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.body.toString(), 'poison');
    const before = (await pull('DlqOrigin')).length;
    const r = await admin.resendMessageById('%DLQ%DLQ_G', dead[0]!.offsetMsgId, producer);
    assert.equal(r.sendStatus, 'SEND_OK');
    assert.equal(r.messageQueue.topic, 'DlqOrigin');
    const after = await pull('DlqOrigin');
    assert.equal(after.length, before + 1);
    const replayed = after.find((m) => m.msgId === r.msgId)!;
    assert.equal(replayed.body.toString(), 'poison');
    assert.equal(replayed.tags, 'P');
    assert.deepEqual(replayed.keys, ['k-poison']);
  } finally {
    await producer.shutdown();
    await admin.shutdown();
    await raw.shutdown();
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
