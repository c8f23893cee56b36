import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { MQClientAPI } from '../../src/client/index.js';
import { encodeProperties } from '../../src/common/properties.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { tempDir } from '../helpers/tmp.js';

// Upstream SendMessageProcessor.handleRetryAndDLQ (ISSUE #6163, 5.1.1+): a send to %RETRY%<group>
// while the group holds unexpired queue locks (an orderly consumer) goes straight to %DLQ%<group>,
// whatever its reconsumeTimes. Orderly Java clients before 5.1.1 send the message back with
// reconsumeTimes == maxReconsumeTimes and rely on this; without it the message loops forever.

async function pullAll(api: MQClientAPI, addr: string, topic: string) {
  const r = await api.pullMessage(addr, {
    consumerGroup: 'R', topic, queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
    commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
  }, 3000).catch(() => undefined);
  return r?.msgFoundList ?? [];
}

test('a send to %RETRY%group of a group holding queue locks (orderly) lands in %DLQ%group', async () => {
  const tmp = tempDir('rmq-order-dlq-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', storeConfig: { messageDelayLevel: Array(18).fill('1s').join(' ') } });
  const api = new MQClientAPI();
  try {
    // The orderly consumer of group OG holds queue 0 of OrderTopic.
    const locked = await api.lockBatchMQ(mq.brokerAddr, { consumerGroup: 'OG', clientId: 'orderly-client', mqSet: [{ topic: 'OrderTopic', brokerName: 'broker-a', queueId: 0 }] });
    assert.equal(locked.length, 1);
    // What a pre-5.1.1 Java ConsumeMessageOrderlyService.sendMessageBack sends once reconsumeTimes reached the maximum (3).
    const r = await api.sendMessage(mq.brokerAddr, 'broker-a', {
      producerGroup: 'CLIENT_INNER_PRODUCER', topic: '%RETRY%OG', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0,
      bornTimestamp: Date.now(), flag: 0, properties: encodeProperties({ TAGS: 'T', RETRY_TOPIC: 'OrderTopic', DELAY: '6', WAIT: 'true' }),
      reconsumeTimes: 3, maxReconsumeTimes: 3,
    }, Buffer.from('poison'));
    assert.equal(r.sendStatus, 'SEND_OK');
    await new Promise((res) => setTimeout(res, 2500));
    const dlq = await pullAll(api, mq.brokerAddr, '%DLQ%OG');
    const retry = await pullAll(api, mq.brokerAddr, '%RETRY%OG');
    assert.deepEqual(retry.map((m) => m.body.toString()), [], 'the message went back to the retry topic, to be consumed again');
    assert.deepEqual(dlq.map((m) => m.body.toString()), ['poison']);
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
