import { MQClientAPI } from '../../src/client/mq-client-api.js';
import type { MessageQueue } from '../../src/client/route.js';

/** Polls `cond` every 20 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
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
