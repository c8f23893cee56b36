import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import type { MessageQueue } from '../../src/client/route.js';
import { waitUntil } from '../helpers/wait.js';

export { waitUntil };

/**
 * Sends the `early` bodies, waits 20 ms, notes the time, sends the `late` ones: resolves with that
 * time, which separates the two (for resets by time).
 */
export async function sendAroundInstant(send: (body: string) => Promise<unknown>, early: readonly string[], late: readonly string[]): Promise<number> {
  for (const body of early) await send(body);
  await new Promise((r) => setTimeout(r, 20));
  const instant = Date.now();
  for (const body of late) await send(body);
  return instant;
}

/** A started PushConsumer of `group` on every message of `topic`; the bodies it consumes collect in `got`. */
export async function startCollector(namesrvAddr: string, group: string, topic: string): Promise<{ consumer: PushConsumer; got: string[] }> {
  const got: string[] = [];
  const consumer = new PushConsumer({ group, namesrvAddr });
  consumer.subscribe(topic, '*');
  consumer.registerMessageListenerConcurrently(async (msgs) => { for (const m of msgs) got.push(m.body.toString()); });
  await consumer.start();
  return { consumer, got };
}

/** Creates `topic` with `queues` read/write queues on the broker and waits until the NameServer routes it. */
export async function createTopic(namesrvAddr: string, brokerAddr: string, topic: string, queues = 4): Promise<MessageQueue[]> {
  const api = new MQClientAPI();
  try {
    await api.createTopic(brokerAddr, 'TBW102', {
      topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
    await waitUntil(async () => {
      const r = await api.getTopicRouteInfoFromNameServer(namesrvAddr, topic).catch(() => undefined);
      return (r?.queueDatas[0]?.readQueueNums ?? 0) === queues;
    }, `the route of ${topic}`);
    const brokerName = (await api.getTopicRouteInfoFromNameServer(namesrvAddr, topic)).queueDatas[0]!.brokerName;
    return Array.from({ length: queues }, (_, queueId) => ({ topic, brokerName, queueId }));
  } finally {
    await api.shutdown();
  }
}
