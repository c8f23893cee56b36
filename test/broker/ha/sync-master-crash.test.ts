import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { MQClientAPI } from '../../../src/client/index.js';
import { decodeRecord } from '../../../src/common/message-record.js';
import { defaultNamesrvConfig } from '../../../src/common/config.js';
import { NamesrvController } from '../../../src/namesrv/index.js';
import { CliProcess, portsIn } from '../../cli/spawn.js';
import { idOf, Load, SendLedger } from '../../e2e/ledger.js';
import { writeBrokerConf } from '../../e2e/standalone-process.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { memoryLogger } from '../helpers.js';
import { freePort, SMALL_STORE, startSlave, type Slave } from './ha-helpers.js';

/**
 * The promise of SYNC_MASTER (upstream CommitLog#handleHA, totalReplicas=2, inSyncReplicas=2): a
 * send acknowledged SEND_OK is on the slave. The master runs as its own process and is SIGKILLed
 * with many sends in flight; without looking at the master's disk again, every acknowledged
 * message must be in the slave's CommitLog at the offset its ack reported, with its queue
 * position and body, so a lost master disk loses nothing that was acknowledged.
 *
 * The slave reaches the master's HA port through a relay that holds the master's bytes for a
 * while and drops what it holds when the master dies, as a slow network would: so the slave is
 * behind when the master is killed, and only the SYNC_MASTER wait can keep the promise (an
 * ASYNC_MASTER fails this test).
 */

const LAG_MS = 150;

/** A relay to the master's HA port: slave reports pass at once, master bytes after LAG_MS, dropped when the master goes. */
async function laggingRelay(target: number): Promise<{ server: Server; port: number; close(): void }> {
  const pairs = new Set<{ up: Socket; down: Socket }>();
  const server = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    const pair = { up, down };
    pairs.add(pair);
    const timers = new Set<NodeJS.Timeout>();
    const end = (): void => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      up.destroy();
      down.destroy();
      pairs.delete(pair);
    };
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      const t = setTimeout(() => { timers.delete(t); down.write(d); }, LAG_MS);
      timers.add(t);
    });
    up.on('close', end);
    down.on('close', end);
    up.on('error', end);
    down.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return { server, port, close: () => { for (const p of pairs) { p.up.destroy(); p.down.destroy(); } server.close(); } };
}

const TOPIC = 'SyncCrashTopic';

test('SYNC_MASTER SIGKILLed under load: every acknowledged message is on the slave at its acked offsets', async (t) => {
  const tmp = tempDir('rmq-ha-synccrash-');
  const { logger } = memoryLogger();
  const ns = new NamesrvController({ ...defaultNamesrvConfig(), listenPort: 0, kvConfigPath: join(tmp.dir, 'kv.json') }, { host: '127.0.0.1', logger });
  let master: CliProcess | undefined;
  let slave: Slave | undefined;
  let load: Load | undefined;
  let relay: Awaited<ReturnType<typeof laggingRelay>> | undefined;
  const api = new MQClientAPI();
  try {
    await ns.start();
    const nsAddr = `127.0.0.1:${ns.port}`;
    const haPort = await freePort();
    relay = await laggingRelay(haPort);
    const conf = writeBrokerConf(tmp.dir, {
      brokerClusterName: 'DefaultCluster', brokerName: 'sync-crash', brokerIP1: '127.0.0.1', listenPort: 0,
      brokerRole: 'SYNC_MASTER', haListenPort: haPort, totalReplicas: 2, inSyncReplicas: 2, flushDiskType: 'ASYNC_FLUSH',
      mappedFileSizeCommitLog: SMALL_STORE.mappedFileSizeCommitLog!, mappedFileSizeConsumeQueue: SMALL_STORE.mappedFileSizeConsumeQueue!, maxMessageSize: 65536,
    });
    master = new CliProcess('mqbroker', ['-n', nsAddr, '-c', conf, '--store', join(tmp.dir, 'store-master')]);
    const boot = await master.waitForLine(/boot success/);
    const masterAddr = `127.0.0.1:${portsIn(boot.msg)[0]}`;
    slave = await startSlave(nsAddr, { haMasterAddress: `127.0.0.1:${relay.port}` }, { brokerName: 'sync-crash' });
    await api.createTopic(masterAddr, 'TBW102', { topicName: TOPIC, readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
    await waitUntil(async () => (await api.getBrokerHAStatus(masterAddr)).inSyncSlaveNums === 1, 'the slave to be in sync');

    const ledger = new SendLedger();
    load = await Load.start({ namesrvAddr: nsAddr, topic: TOPIC, producers: 4, inFlightPerProducer: 16, label: 'synccrash', bodySize: (n) => 20 + ((n * 7919) % 3000) }, ledger);
    await Promise.all([delay(1500), ledger.waitForAcks(1000, 30_000)]);
    const inFlight = load.inFlight;
    master.child.kill('SIGKILL');
    await master.exited;
    master = undefined;
    await load.stop();
    load = undefined;
    assert.ok(inFlight > 0, 'the master must die with sends in flight');
    assert.ok(ledger.acked.length >= 1000);

    const store = slave.broker.messageStore;
    for (const a of ledger.acked) {
      const rec = store.lookMessageByOffset(a.commitLogOffset);
      assert.ok(rec, `${a.id}: acknowledged at CommitLog offset ${a.commitLogOffset}, not on the slave`);
      const m = decodeRecord(rec, 0);
      assert.equal(idOf(m.body), a.id, `${a.id}: the slave has another message at ${a.commitLogOffset}`);
      assert.ok(m.body.equals(a.body), `${a.id}: body differs on the slave`);
      assert.equal(m.queueId, a.queueId);
      assert.equal(m.queueOffset, a.queueOffset);
      // ... and its consume queue points at it: consumers of the slave read it.
      assert.ok(store.getMaxOffsetInQueue(TOPIC, a.queueId) > a.queueOffset, `${a.id}: queue ${a.queueId} of the slave ends before ${a.queueOffset}`);
    }
    t.diagnostic(`${ledger.acked.length} acknowledged, ${inFlight} in flight at the kill; all on the slave (its log ends at ${store.maxPhyOffset})`);
  } finally {
    await load?.stop().catch(() => undefined);
    master?.kill();
    await master?.exited;
    await api.shutdown();
    relay?.close();
    await slave?.close();
    await ns.shutdown();
    tmp.cleanup();
  }
});
