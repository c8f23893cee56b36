import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RebalanceImpl, RebalanceService, type RebalanceConfig } from '../../src/client/rebalance-impl.js';
import { ConsumeFromWhere, MessageModel } from '../../src/client/headers.js';
import { AllocateMessageQueueAveragely } from '../../src/client/rebalance/index.js';
import type { MQClientInstance } from '../../src/client/mq-client-instance.js';
import type { OffsetStore } from '../../src/client/offset-store.js';
import { createLogger } from '../../src/common/logger.js';
import type { SubscriptionData } from '../../src/common/subscription.js';
import { ProcessQueue } from '../../src/client/process-queue.js';
import type { MessageQueue } from '../../src/client/route.js';

class TestRebalance extends RebalanceImpl {
  subscriptions(): ReadonlyMap<string, SubscriptionData> { return new Map(); }
  isOrder(): boolean { return false; }
  async removeUnnecessaryMessageQueue(_mq: MessageQueue, _pq: ProcessQueue): Promise<boolean> { return true; }
  dispatchPullRequest(): void {}
}

function rebalance(stored: number, consumeFromWhere: RebalanceConfig['consumeFromWhere']): TestRebalance {
  const client = {
    findBrokerAddressInPublish: () => '127.0.0.1:1',
    api: {
      getMaxOffset: async () => 1000,
      searchOffset: async (_addr: string, _t: string, _q: number, ts: number) => (ts === 12345 ? 77 : -9),
    },
  } as unknown as MQClientInstance;
  const offsetStore = { readOffset: async () => stored, removeOffset: () => undefined } as unknown as OffsetStore;
  return new TestRebalance({
    group: 'G', messageModel: MessageModel.CLUSTERING, strategy: new AllocateMessageQueueAveragely(), consumeFromWhere,
    consumeTimestamp: 12345, client, offsetStore: () => offsetStore, log: createLogger('test'),
  });
}

const topicQ = { topic: 'T', brokerName: 'b', queueId: 0 };
const retryQ = { topic: '%RETRY%G', brokerName: 'b', queueId: 0 };

test("a stored offset always wins; a new group starts by upstream's consumeFromWhere rules", async () => {
  const { CONSUME_FROM_LAST_OFFSET: LAST, CONSUME_FROM_FIRST_OFFSET: FIRST, CONSUME_FROM_TIMESTAMP: TS } = ConsumeFromWhere;
  for (const cfw of [LAST, FIRST, TS]) assert.equal(await rebalance(5, cfw).computePullFromWhere(topicQ), 5);
  assert.equal(await rebalance(-1, LAST).computePullFromWhere(topicQ), 1000, 'LAST: the max offset');
  assert.equal(await rebalance(-1, LAST).computePullFromWhere(retryQ), 0, 'LAST: retry topic from 0');
  assert.equal(await rebalance(-1, FIRST).computePullFromWhere(topicQ), 0);
  assert.equal(await rebalance(-1, FIRST).computePullFromWhere(retryQ), 0);
  assert.equal(await rebalance(-1, TS).computePullFromWhere(topicQ), 77, 'TIMESTAMP: searched by consumeTimestamp');
  assert.equal(await rebalance(-1, TS).computePullFromWhere(retryQ), 1000, 'TIMESTAMP: retry topic from its max');
  await assert.rejects(rebalance(-2, LAST).computePullFromWhere(topicQ), /Failed to query consume offset/);
});

test('the rebalance service runs at start, on wakeup at most once per second, and retries an unbalanced result', async () => {
  const runs: number[] = [];
  let balanced = false;
  const t0 = Date.now();
  const svc = new RebalanceService(async () => { runs.push(Date.now() - t0); return balanced; }, 60_000, 100);
  svc.start();
  const until = async (n: number): Promise<void> => { while (runs.length < n) await new Promise((r) => setTimeout(r, 5)); };
  await until(1);
  await until(2);
  assert.ok(runs[1]! - runs[0]! >= 95, 'unbalanced: retried after minInterval');
  await until(3);
  assert.ok(runs[2]! - runs[1]! >= 195, 'then after twice that');
  balanced = true;
  await until(4);
  svc.wakeup();
  svc.wakeup();
  await until(5);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(runs.length, 5, 'two wakeups in a row make one run; balanced waits for the long interval');
  await svc.shutdown();
  assert.equal(svc.completedRuns, 5);
});

test('a dropped queue is removed and a new one gets its start offset', async () => {
  const r = rebalance(3, ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
  const pq = new ProcessQueue();
  r.processQueueTable.set('x', { mq: { topic: 'Gone', brokerName: 'b', queueId: 0 }, pq });
  assert.equal(await r.doRebalance(), true);
  assert.equal(pq.dropped, true, 'a queue of a topic no longer subscribed is dropped');
  assert.equal(r.processQueueTable.size, 0);
});

test('lockAll renews the locks the broker grants and marks the others lost', async () => {
  const asked: string[][] = [];
  const client = {
    clientId: 'me',
    findBrokerAddressInPublish: (b: string) => `${b}:1`,
    api: {
      lockBatchMQ: async (addr: string, body: { mqSet: MessageQueue[] }) => {
        asked.push([addr, ...body.mqSet.map((m) => String(m.queueId))]);
        return body.mqSet.filter((m) => m.queueId !== 1);
      },
    },
  } as unknown as MQClientInstance;
  const r = new TestRebalance({
    group: 'G', messageModel: MessageModel.CLUSTERING, strategy: new AllocateMessageQueueAveragely(), consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET,
    consumeTimestamp: 0, client, offsetStore: () => ({}) as OffsetStore, log: createLogger('test'),
  });
  const pqs = [0, 1].map((queueId) => {
    const pq = new ProcessQueue();
    pq.locked = true;
    r.processQueueTable.set(String(queueId), { mq: { topic: 'T', brokerName: 'b', queueId }, pq });
    return pq;
  });
  const t0 = Date.now();
  await r.lockAll();
  assert.deepEqual(asked, [['b:1', '0', '1']], 'one request per broker with all its queues');
  assert.equal(pqs[0]!.locked, true);
  assert.ok(pqs[0]!.lastLockTimestamp >= t0);
  assert.equal(pqs[1]!.locked, false, 'a lock the broker refused is lost');
});
