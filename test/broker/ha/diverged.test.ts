import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message, Producer, type SendResult } from '../../../src/client/index.js';
import { connect, type Socket } from 'node:net';
import { createTopic } from '../../client/helpers.js';
import { waitUntil } from '../../helpers/wait.js';
import { SMALL_STORE, startMaster, startSlave, type Master, type Slave } from './ha-helpers.js';

/**
 * A slave whose log is ahead of its master's (the master lost its tail, or the slave was pointed
 * at another master) holds bytes the master never wrote: the master must not stream its own
 * bytes on top of them, nor count that slave's reports as acknowledgements.
 */

const SYNC = { totalReplicas: 2, inSyncReplicas: 2, slaveTimeout: 1500 };

/** The processes of a test where a slave moves from one master to another; closeAll stops them. */
interface Parts {
  first?: Master;
  second?: Master;
  slave?: Slave;
  again?: Slave;
  producer?: Producer;
}

/**
 * A first master and its slave, which replicates `count` sends of `body(i)` to `topic` and is
 * then stopped; returns the slave's log end.
 */
async function slaveOfFirstMaster(p: Parts, topic: string, group: string, count: number, body: (i: number) => string): Promise<number> {
  const first = p.first = await startMaster();
  const slave = p.slave = await startSlave(first.mq.namesrvAddr);
  await createTopic(first.mq.namesrvAddr, first.mq.brokerAddr, topic);
  const producer = p.producer = new Producer({ namesrvAddr: first.mq.namesrvAddr, group, retryTimesWhenSendFailed: 0 });
  await producer.start();
  for (let i = 0; i < count; i++) assert.equal((await producer.send(new Message(topic, body(i)))).sendStatus, 'SEND_OK');
  await producer.shutdown();
  p.producer = undefined;
  await waitUntil(() => slave.broker.messageStore.maxPhyOffset === first.mq.broker.messageStore.maxPhyOffset, 'the slave to catch up');
  const slaveMax = slave.broker.messageStore.maxPhyOffset;
  await slave.stop();
  return slaveMax;
}

async function closeAll(p: Parts): Promise<void> {
  await p.producer?.shutdown();
  await p.again?.stop();
  await p.slave?.close();
  await p.second?.close();
  await p.first?.close();
}

test('a master refuses a slave whose log is ahead of its own, and acknowledges no SYNC_MASTER send through it', async () => {
  const p: Parts = {};
  try {
    // The slave replicates a first master's log...
    const slaveMax = await slaveOfFirstMaster(p, 'Ahead', 'ahead_pg', 20, (i) => `first-${i}`.padEnd(800, 'f'));
    // ...then comes back under a master whose log is shorter (here: empty).
    const second = p.second = await startMaster(SYNC, { brokerRole: 'SYNC_MASTER' });
    const m2 = second.mq.broker;
    await createTopic(second.mq.namesrvAddr, second.mq.brokerAddr, 'Ahead');
    const again = p.again = await startSlave(second.mq.namesrvAddr, {}, {}, p.slave!.dir);
    const s = again.broker;
    await waitUntil(() => second.lines.some((l) => /ahead of the master/.test(l.msg ?? '')) || m2.haRuntimeInfo().haConnectionInfo.some((c) => c.slaveAckOffset > 0),
      'the slave to connect to the second master');
    const producer = p.producer = new Producer({ namesrvAddr: second.mq.namesrvAddr, group: 'ahead_pg2', retryTimesWhenSendFailed: 0 });
    await producer.start();
    for (let i = 0; i < 3; i++) {
      const sent: SendResult = await producer.send(new Message('Ahead', `second-${i}`));
      // The slave's reported offset is past this record, but it does not hold it.
      assert.equal(sent.sendStatus, 'SLAVE_NOT_AVAILABLE', 'no acknowledgement from a slave that does not hold the record');
    }
    assert.equal(m2.haRuntimeInfo().inSyncSlaveNums, 0);
    // The master said why, and the slave's log was left as it was: nothing written over it.
    assert.ok(second.lines.some((l) => l.level >= 50 && /ahead of the master/.test(l.msg ?? '')));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.messageStore.maxPhyOffset, slaveMax);
  } finally {
    await closeAll(p);
  }
});

test('a master says so when a slave asks for an offset its retention has deleted', async () => {
  let master: Master | undefined;
  let producer: Producer | undefined;
  let socket: Socket | undefined;
  try {
    master = await startMaster();
    const m = master.mq.broker;
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, 'Deleted');
    producer = new Producer({ namesrvAddr: master.mq.namesrvAddr, group: 'deleted_pg' });
    await producer.start();
    const file = SMALL_STORE.mappedFileSizeCommitLog!;
    while (m.messageStore.maxPhyOffset < 2 * file + 1000) {
      await Promise.all(Array.from({ length: 20 }, () => producer!.send(new Message('Deleted', 'd'.padEnd(4000, 'd')))));
    }
    assert.ok(m.messageStore.commitLog.deleteExpiredFiles(() => true, 1) === 1);
    assert.equal(m.messageStore.commitLog.minOffset, file);
    // A slave that stopped inside the deleted segment comes back.
    const s = connect({ host: '127.0.0.1', port: m.haService!.port });
    socket = s;
    s.on('data', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const report = Buffer.alloc(8);
    report.writeBigInt64BE(1000n);
    s.write(report);
    await waitUntil(() => master!.lines.some((l) => l.level >= 50 && /below the master's min offset/.test(l.msg ?? '')), 'the master to say why it sends nothing');
    // Connected, less than haMaxGapNotInSync behind, but it cannot catch up: not in sync.
    assert.equal(m.haRuntimeInfo().haConnectionInfo.length, 1);
    assert.equal(m.haRuntimeInfo().inSyncSlaveNums, 0);
  } finally {
    socket?.destroy();
    await producer?.shutdown();
    await master?.close();
  }
});

test('a slave whose log diverged mid-record from its master\'s says so once, and its dispatch stays behind', async () => {
  const p: Parts = {};
  try {
    // The slave replicates a first master's log of 800-byte bodies...
    const slaveMax = await slaveOfFirstMaster(p, 'Diverged', 'diverged_pg', 10, () => 'a'.repeat(800));
    // ...then follows a second master whose longer log has records of another size: the slave's
    // end falls inside one of them, and the master streams on from there.
    const second = p.second = await startMaster();
    const m2 = second.mq.broker;
    await createTopic(second.mq.namesrvAddr, second.mq.brokerAddr, 'Diverged');
    const producer = p.producer = new Producer({ namesrvAddr: second.mq.namesrvAddr, group: 'diverged_pg2' });
    await producer.start();
    while (m2.messageStore.maxPhyOffset < slaveMax + 4000) assert.equal((await producer.send(new Message('Diverged', 'b'.repeat(1300)))).sendStatus, 'SEND_OK');
    const again = p.again = await startSlave(second.mq.namesrvAddr, {}, {}, p.slave!.dir);
    const s = again.broker;
    await waitUntil(() => s.messageStore.maxPhyOffset === m2.messageStore.maxPhyOffset, 'the master\'s bytes to reach the slave');
    const said = (): string[] => again.lines.filter((l) => l.level >= 50 && /diverged from its master's/.test(l.msg ?? '')).map((l) => l.msg!);
    await waitUntil(() => said().length > 0, 'the slave to say its log diverged');
    assert.match(said()[0]!, new RegExp(`at offset ${slaveMax} .*clear its store directory`));
    // More of the master's bytes arrive: nothing more is dispatched, and it is not said again.
    await producer.send(new Message('Diverged', 'c'));
    await waitUntil(() => s.messageStore.maxPhyOffset === m2.messageStore.maxPhyOffset, 'the next record to reach the slave');
    assert.equal(said().length, 1);
    assert.equal(Number(s.messageStore.runtimeInfo().dispatchBehindBytes), s.messageStore.maxPhyOffset - slaveMax);
  } finally {
    await closeAll(p);
  }
});
