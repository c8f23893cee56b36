import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AllocateMachineRoomNearby,
  AllocateMessageQueueAveragely,
  AllocateMessageQueueAveragelyByCircle,
  AllocateMessageQueueByConfig,
  AllocateMessageQueueByMachineRoom,
  AllocateMessageQueueConsistentHash,
  md5Hash,
  type AllocateMessageQueueStrategy,
  type MachineRoomResolver,
} from '../../../src/client/rebalance/index.js';
import { compareMessageQueue, type MessageQueue } from '../../../src/client/route.js';
import { MQClientError } from '../../../src/client/errors.js';
import { GOLDEN } from './allocate-golden.js';

const resolver: MachineRoomResolver = {
  brokerDeployIn: (mq) => mq.brokerName.split('-')[0]!,
  consumerDeployIn: (cid) => cid.split('-')[0]!,
};

function strategyFor(name: string, virtualNodes: number): AllocateMessageQueueStrategy {
  switch (name) {
    case 'AVG': return new AllocateMessageQueueAveragely();
    case 'AVG_BY_CIRCLE': return new AllocateMessageQueueAveragelyByCircle();
    case 'CONSISTENT_HASH': return new AllocateMessageQueueConsistentHash(virtualNodes);
    case 'MACHINE_ROOM': return new AllocateMessageQueueByMachineRoom(new Set(['hz', 'sh']));
    case 'MACHINE_ROOM_NEARBY-AVG': return new AllocateMachineRoomNearby(new AllocateMessageQueueAveragely(), resolver);
    case 'MACHINE_ROOM_NEARBY-AVG_BY_CIRCLE': return new AllocateMachineRoomNearby(new AllocateMessageQueueAveragelyByCircle(), resolver);
    default: throw new Error(`no strategy ${name}`);
  }
}

function queues(topic: string, brokers: string[], perBroker: number): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const brokerName of brokers) for (let queueId = 0; queueId < perBroker; queueId++) out.push({ topic, brokerName, queueId });
  return out.sort(compareMessageQueue);
}

test('every strategy gives the assignments upstream computes for the golden table', () => {
  assert.ok(GOLDEN.length > 70);
  for (const c of GOLDEN) {
    // The one 3-virtual-node case uses cids "c0".."c2"; every other consistent-hash case uses 10.
    const strategy = strategyFor(c.strategy, c.cids[0] === 'c0' ? 3 : 10);
    assert.equal(strategy.name, c.strategy);
    const mqAll = queues(c.topic, c.brokers, c.perBroker);
    for (const cid of c.cids) {
      const got = strategy.allocate('G', cid, mqAll, c.cids).map((mq) => mqAll.indexOf(mq));
      assert.deepEqual(got, c.result[cid], `${c.strategy} ${c.brokers.join(',')}×${c.perBroker} over ${c.cids.join(',')}: ${cid}`);
    }
  }
});

test('Averagely and AveragelyByCircle hand every queue to exactly one consumer', () => {
  for (const s of [new AllocateMessageQueueAveragely(), new AllocateMessageQueueAveragelyByCircle(), new AllocateMessageQueueConsistentHash()]) {
    for (let n = 1; n <= 12; n++) {
      for (let c = 1; c <= 6; c++) {
        const mqAll = queues('T', ['b'], n);
        const cids = Array.from({ length: c }, (_, i) => `cid-${i}`);
        const seen = cids.flatMap((cid) => s.allocate('G', cid, mqAll, cids));
        assert.equal(seen.length, n, `${s.name} n=${n} c=${c}`);
        assert.equal(new Set(seen).size, n);
      }
    }
  }
});

test('a consumer the broker does not list yet gets nothing; empty inputs are refused', () => {
  const s = new AllocateMessageQueueAveragely();
  const mqAll = queues('T', ['b'], 4);
  assert.deepEqual(s.allocate('G', 'stranger', mqAll, ['a', 'b']), []);
  assert.throws(() => s.allocate('G', '', mqAll, ['a']), MQClientError);
  assert.throws(() => s.allocate('G', 'a', [], ['a']), MQClientError);
  assert.throws(() => s.allocate('G', 'a', mqAll, []), MQClientError);
  assert.throws(() => new AllocateMessageQueueConsistentHash(-1), MQClientError);
});

test('ByConfig returns its list whatever the group', () => {
  const list = [{ topic: 'T', brokerName: 'b', queueId: 3 }];
  const s = new AllocateMessageQueueByConfig(list);
  assert.equal(s.name, 'CONFIG');
  assert.deepEqual(s.allocate(), list);
});

test('consistent hash moves only some queues when a consumer joins', () => {
  const s = new AllocateMessageQueueConsistentHash();
  const mqAll = queues('T', ['broker-a', 'broker-b'], 16);
  const before = new Map<string, string>();
  const three = ['c1', 'c2', 'c3'];
  for (const cid of three) for (const mq of s.allocate('G', cid, mqAll, three)) before.set(`${mq.brokerName}/${mq.queueId}`, cid);
  const four = [...three, 'c4'];
  let moved = 0;
  for (const cid of four) {
    for (const mq of s.allocate('G', cid, mqAll, four)) if (before.get(`${mq.brokerName}/${mq.queueId}`) !== cid) moved++;
  }
  assert.ok(moved > 0 && moved < mqAll.length / 2, `moved ${moved} of ${mqAll.length}`);
  // MD5's first four bytes, unsigned: a fixed point of the ring.
  assert.equal(md5Hash('abc'), 0x90015098);
});
