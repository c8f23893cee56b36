import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { Message } from '../../src/client/message.js';
import { ConsumeOrderlyStatus } from '../../src/client/consume-message-service.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import { skip } from '../client/standalone-fixture.js';
import { pushResetOffset, usePushFixture } from './push-fixture.js';
import { createTopic, waitUntil } from '../client/helpers.js';
import { sleep } from '../../src/client/wait.js';

// Orderly consumption past maxReconsumeTimes, and an offset reset during a listener call.
//
// Past maxReconsumeTimes: upstream ConsumeMessageOrderlyService sends the
// message back with RECONSUME_TIME = local count + 1 > max, so the broker stores it on
// %DLQ%<group> at once. It must not come back through %RETRY%<group>.

const f = usePushFixture('rmq-orderly-dlq-', 'T_ORDERLY_DLQ_PG', { storeConfig: { messageDelayLevel: Array(18).fill('1s').join(' ') } });

test('orderly: a message failing maxReconsumeTimes + 1 times goes to the DLQ and is not consumed again', { skip }, async () => {
  const topic = `OrderlyDlq_${Date.now()}`;
  const group = `OrderlyDlqG_${Date.now()}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 1);
  await f.producer.send(new Message(topic, 'poison'));
  const calls: number[] = [];
  const consumer = f.consumer({ group, maxReconsumeTimes: 2, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  consumer.subscribe(topic, '*');
  consumer.registerMessageListenerOrderly(async (msgs, ctx) => {
    for (const m of msgs) calls.push(m.reconsumeTimes);
    ctx.suspendCurrentQueueTimeMillis = 10;
    return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
  });
  await consumer.start();
  await waitUntil(() => calls.length >= 3, 'three listener calls');
  const api = new MQClientAPI();
  try {
    const pullDlq = async () => (await api.pullMessage(f.mq.brokerAddr, {
      consumerGroup: 'T_DLQ_READER', topic: `%DLQ%${group}`, queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000).catch(() => undefined))?.msgFoundList ?? [];
    // Retries come back after 1 s here; give them time to show.
    await sleep(4000);
    const dead = await pullDlq();
    assert.equal(dead.length, 1, `the DLQ holds the message after ${calls.length} listener calls (reconsumeTimes seen: ${calls.join(',')})`);
    assert.deepEqual(calls, [0, 1, 2], 'consumed maxReconsumeTimes + 1 times, no more');
  } finally {
    await api.shutdown();
    await consumer.shutdown();
  }
});

// An orderly listener is called once at a time per queue. A RESET_CONSUMER_CLIENT_OFFSET that
// arrives during a listener call must not start the queue again beside that call (upstream
// MQClientInstance.resetOffset drops the queues and waits before taking them again).
test('orderly: a reset during a listener call does not run a second call on the same queue at once', { skip }, async () => {
  const topic = `OrderlyReset_${Date.now()}`;
  const group = `OrderlyResetG_${Date.now()}`;
  const [q] = await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 1);
  for (let i = 0; i < 5; i++) await f.producer.send(new Message(topic, `r-${i}`), { queue: q! });
  let active = 0;
  let maxActive = 0;
  let blocking = false;
  const seen: string[] = [];
  const consumer = f.consumer({ group, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  consumer.subscribe(topic, '*');
  let blockedOnce = false;
  consumer.registerMessageListenerOrderly(async (msgs) => {
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      for (const m of msgs) seen.push(m.body.toString());
      if (msgs[0]!.body.toString() === 'r-2' && !blockedOnce) {
        blockedOnce = true;
        blocking = true;
        await sleep(3000);
        blocking = false;
      }
    } finally {
      active--;
    }
    return ConsumeOrderlyStatus.SUCCESS;
  });
  await consumer.start();
  await waitUntil(() => blocking, 'the long call on r-2');
  // The broker side of mqadmin resetOffsetByTime.
  pushResetOffset(f.mq, group, topic, q!.brokerName, 0, 0);
  await waitUntil(() => seen.includes('r-4') && !blocking, 'the queue consumed again from offset 0, and the long call over');
  assert.equal(maxActive, 1, `listener calls on the one queue overlapped (seen: ${seen.join(',')})`);
  assert.deepEqual(seen, ['r-0', 'r-1', 'r-2', 'r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
});
