import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Message, Producer } from '../../../src/client/index.js';
import { BrokerController } from '../../../src/broker/index.js';
import { decodeRecords } from '../../../src/common/message-record.js';
import { createTopic } from '../../client/helpers.js';
import { waitUntil } from '../../helpers/wait.js';
import { commitLogBytes, freePort, SMALL_STORE, startMaster, startSlave, type Master, type Slave } from './ha-helpers.js';

/**
 * Classic master/slave replication (upstream DefaultHAService / DefaultHAConnection /
 * DefaultHAClient): the slave's CommitLog is the master's, byte for byte at the same offsets,
 * and its own dispatch builds its ConsumeQueues from it.
 */

const FILE = SMALL_STORE.mappedFileSizeCommitLog!;

async function sendMany(namesrvAddr: string, topic: string, n: number, label: string, size = 1000): Promise<string[]> {
  const producer = new Producer({ namesrvAddr, group: `${label}_pg` });
  await producer.start();
  const bodies: string[] = [];
  try {
    for (let i = 0; i < n; i += 25) {
      const batch = Array.from({ length: Math.min(25, n - i) }, (_, j) => `${label}-${i + j}-`.padEnd(size, 'x'));
      bodies.push(...batch);
      const rs = await Promise.all(batch.map((b) => producer.send(new Message(topic, b))));
      for (const r of rs) assert.equal(r.sendStatus, 'SEND_OK');
    }
  } finally {
    await producer.shutdown();
  }
  return bodies;
}

async function caughtUp(master: BrokerController, slave: BrokerController, topic: string): Promise<void> {
  await waitUntil(() => slave.messageStore.maxPhyOffset === master.messageStore.maxPhyOffset
    && [0, 1, 2, 3].every((q) => slave.messageStore.getMaxOffsetInQueue(topic, q) === master.messageStore.getMaxOffsetInQueue(topic, q)),
  'the slave to catch up with the master', 20_000);
}

async function bodiesOf(b: BrokerController, topic: string): Promise<string[]> {
  const out: string[] = [];
  for (let q = 0; q < 4; q++) {
    let o = b.messageStore.getMinOffsetInQueue(topic, q);
    for (;;) {
      const r = await b.messageStore.getMessage(topic, q, o, 32);
      if (r.messageCount === 0) break;
      for (const buf of r.buffers) for (const m of decodeRecords(buf)) out.push(m.body.toString());
      o = r.nextBeginOffset;
    }
  }
  return out.sort();
}

test('a slave replicates the CommitLog byte for byte across segment rolls and builds its ConsumeQueues', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  try {
    master = await startMaster();
    slave = await startSlave(master.mq.namesrvAddr);
    const topic = 'HaReplicated';
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, topic);
    const bodies = await sendMany(master.mq.namesrvAddr, topic, 700, 'rep');
    const m = master.mq.broker;
    assert.ok(m.messageStore.commitLog.files.files.length >= 3, 'the master rolled over several segments');
    await caughtUp(m, slave.broker, topic);
    // The slave started empty while the master had one segment: it holds the whole log.
    assert.equal(slave.broker.messageStore.minPhyOffset, 0);
    const max = m.messageStore.maxPhyOffset;
    assert.ok(commitLogBytes(slave.dir, 0, max, FILE).equals(commitLogBytes(master.dir, 0, max, FILE)), 'the slave CommitLog equals the master\'s');
    assert.deepEqual(await bodiesOf(slave.broker, topic), [...bodies].sort());
    assert.equal(master.lines.filter((l) => /HA: slave 127\.0\.0\.1:\d+ /.test(l.msg ?? '')).length, 1, 'one line for the slave connecting');
    assert.match(master.lines.find((l) => /HA: slave/.test(l.msg ?? ''))!.msg!, /connected, requests offset 0; transfer starts at 0/);
    const ha = m.haRuntimeInfo();
    assert.equal(ha.master, true);
    assert.equal(ha.inSyncSlaveNums, 1);
    assert.equal(ha.haConnectionInfo[0]!.slaveAckOffset, max);
    const sha = slave.broker.haRuntimeInfo();
    assert.equal(sha.master, false);
    assert.equal(sha.haClientRuntimeInfo.maxOffset, max);
    assert.equal(sha.haClientRuntimeInfo.masterAddr, `127.0.0.1:${m.haService!.port}`);
  } finally {
    await slave?.close();
    await master?.close();
  }
});

test('a new slave of a master with several segments starts at the master\'s last segment', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  try {
    master = await startMaster();
    const topic = 'HaLate';
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, topic);
    await sendMany(master.mq.namesrvAddr, topic, 600, 'late');
    const m = master.mq.broker;
    const lastStart = m.messageStore.commitLog.files.lastFile!.fileFromOffset;
    assert.ok(lastStart > 0);
    slave = await startSlave(master.mq.namesrvAddr);
    await waitUntil(() => slave!.broker.messageStore.maxPhyOffset === m.messageStore.maxPhyOffset, 'the slave to catch up');
    assert.equal(slave.broker.messageStore.minPhyOffset, lastStart);
    const max = m.messageStore.maxPhyOffset;
    assert.ok(commitLogBytes(slave.dir, lastStart, max, FILE).equals(commitLogBytes(master.dir, lastStart, max, FILE)));
    // Its queues start where the master's entries into that segment do.
    await waitUntil(() => [0, 1, 2, 3].every((q) => slave!.broker.messageStore.getMaxOffsetInQueue(topic, q) === m.messageStore.getMaxOffsetInQueue(topic, q)), 'the slave queues');
    const more = await sendMany(master.mq.namesrvAddr, topic, 20, 'late2');
    await caughtUp(m, slave.broker, topic);
    const got = await bodiesOf(slave.broker, topic);
    for (const b of more) assert.ok(got.includes(b));
  } finally {
    await slave?.close();
    await master?.close();
  }
});

test('a frame that does not continue the slave\'s log closes the connection', async () => {
  // A fake master: answers the slave's first report with a frame at the wrong offset.
  const reports: bigint[] = [];
  let closed!: () => void;
  const closedP = new Promise<void>((r) => { closed = r; });
  const sockets: Socket[] = [];
  const fake = createServer((s) => {
    sockets.push(s);
    s.once('data', (d) => {
      reports.push(d.readBigInt64BE(0));
      const frame = Buffer.alloc(12 + 8);
      frame.writeBigInt64BE(12345n, 0); // not a segment start of an empty log, not its end
      frame.writeInt32BE(8, 8);
      s.write(frame);
    });
    s.on('close', () => closed());
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const port = (fake.address() as { port: number }).port;
  let slave: Slave | undefined;
  try {
    slave = await startSlave('', { haMasterAddress: `127.0.0.1:${port}` });
    await closedP;
    assert.deepEqual(reports, [0n]);
    assert.equal(slave.broker.messageStore.maxPhyOffset, 0, 'nothing of the bad frame was appended');
    await waitUntil(() => slave!.lines.some((l) => /does not continue the log|not equal to the max phy offset/.test(l.msg ?? '')), 'the slave to log the bad frame');
  } finally {
    await slave?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => fake.close(() => r()));
  }
});

test('the slave reconnects to a restarted master and goes on replicating', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  let restarted: BrokerController | undefined;
  try {
    const haPort = await freePort();
    master = await startMaster({ haListenPort: haPort });
    slave = await startSlave(master.mq.namesrvAddr);
    const topic = 'HaRestart';
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, topic);
    await sendMany(master.mq.namesrvAddr, topic, 50, 'before');
    await caughtUp(master.mq.broker, slave.broker, topic);
    const old = master.mq.broker;
    await old.shutdown();
    await waitUntil(() => slave!.lines.some((l) => /HA: disconnected from master/.test(l.msg ?? '')), 'the slave to notice the master is gone');
    restarted = new BrokerController({ brokerConfig: old.brokerConfig, storeConfig: old.storeConfig, host: '127.0.0.1', logger: slave.logger.child({ role: 'master2' }) });
    await restarted.start();
    const after = await sendMany(master.mq.namesrvAddr, topic, 50, 'after');
    await caughtUp(restarted, slave.broker, topic);
    const max = restarted.messageStore.maxPhyOffset;
    assert.ok(commitLogBytes(slave.dir, 0, max, FILE).equals(commitLogBytes(master.dir, 0, max, FILE)));
    const got = await bodiesOf(slave.broker, topic);
    for (const b of after) assert.ok(got.includes(b));
    assert.equal(got.length, 100);
  } finally {
    await slave?.close();
    await restarted?.shutdown();
    await master?.close();
  }
});
