import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Message, Producer } from '../../../src/client/index.js';
import { decodeOffsetMessageId } from '../../../src/common/message-id.js';
import { createTopic } from '../../client/helpers.js';
import { waitUntil } from '../../helpers/wait.js';
import { startMaster, startSlave, type Master, type Slave } from './ha-helpers.js';

/**
 * SYNC_MASTER (upstream HEAD CommitLog#handleHA with totalReplicas=2, inSyncReplicas=2): a send is
 * acknowledged once the slave has its record; FLUSH_SLAVE_TIMEOUT past slaveTimeout;
 * SLAVE_NOT_AVAILABLE at once when no slave is in sync (4.x's isSlaveOK).
 */

const SYNC = { totalReplicas: 2, inSyncReplicas: 2, slaveTimeout: 1500 };

async function producerOf(namesrvAddr: string, group: string): Promise<Producer> {
  const p = new Producer({ namesrvAddr, group, retryTimesWhenSendFailed: 0 });
  await p.start();
  return p;
}

test('a SYNC_MASTER acknowledges a send only once its slave has the record', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  let producer: Producer | undefined;
  try {
    master = await startMaster(SYNC, { brokerRole: 'SYNC_MASTER' });
    slave = await startSlave(master.mq.namesrvAddr);
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, 'SyncTopic');
    await waitUntil(() => master!.mq.broker.haRuntimeInfo().inSyncSlaveNums === 1, 'the slave to be in sync');
    producer = await producerOf(master.mq.namesrvAddr, 'sync_pg');
    for (let i = 0; i < 20; i++) {
      const r = await producer.send(new Message('SyncTopic', `sync-${i}`.padEnd(500, 's')));
      assert.equal(r.sendStatus, 'SEND_OK');
      // The ack came after the slave reported the record: it is in the slave's log already.
      const phy = decodeOffsetMessageId(r.offsetMsgId).commitLogOffset;
      assert.ok(slave.broker.messageStore.maxPhyOffset > phy, `the slave holds the record at ${phy} when its send is acknowledged`);
    }
    // WAIT=false asks for no replication wait (upstream needHandleHA).
    const r = await producer.send(new Message('SyncTopic', 'nowait', { waitStoreMsgOK: false }));
    assert.equal(r.sendStatus, 'SEND_OK');
  } finally {
    await producer?.shutdown();
    await slave?.close();
    await master?.close();
  }
});

test('a SYNC_MASTER without a slave answers SLAVE_NOT_AVAILABLE, and FLUSH_SLAVE_TIMEOUT when its slave does not ack', async () => {
  let master: Master | undefined;
  let producer: Producer | undefined;
  const socket = { s: undefined as ReturnType<typeof connect> | undefined };
  try {
    master = await startMaster(SYNC, { brokerRole: 'SYNC_MASTER' });
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, 'NoSlave');
    producer = await producerOf(master.mq.namesrvAddr, 'noslave_pg');
    const r = await producer.send(new Message('NoSlave', 'alone'));
    assert.equal(r.sendStatus, 'SLAVE_NOT_AVAILABLE');
    // Stored all the same, with its ids.
    assert.ok(r.msgId && r.offsetMsgId);
    assert.equal(master.mq.broker.messageStore.getMaxOffsetInQueue('NoSlave', r.messageQueue.queueId), r.queueOffset + 1);
    // A "slave" that reports once, in sync, then never again: the send waits slaveTimeout.
    const m = master.mq.broker;
    const s = connect({ host: '127.0.0.1', port: m.haService!.port });
    socket.s = s;
    s.on('data', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const report = Buffer.alloc(8);
    report.writeBigInt64BE(BigInt(m.messageStore.maxPhyOffset));
    s.write(report);
    await waitUntil(() => m.haRuntimeInfo().inSyncSlaveNums === 1, 'the silent slave to be seen in sync');
    const t0 = Date.now();
    const late = await producer.send(new Message('NoSlave', 'unacked'));
    assert.equal(late.sendStatus, 'FLUSH_SLAVE_TIMEOUT');
    assert.ok(Date.now() - t0 >= SYNC.slaveTimeout - 50, 'it waited slaveTimeout');
  } finally {
    socket.s?.destroy();
    await producer?.shutdown();
    await master?.close();
  }
});
