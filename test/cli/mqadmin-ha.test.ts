import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/wait.js';
import { startMaster, startSlave, type Master, type Slave } from '../broker/ha/ha-helpers.js';
import { fails, ok } from './mqadmin-run.js';

/** `mqadmin haStatus` (upstream HAStatusSubCommand) against a master and its slave. */

test('mqadmin haStatus shows a master\'s slaves and a slave\'s master', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  try {
    master = await startMaster();
    slave = await startSlave(master.mq.namesrvAddr);
    const m = master.mq.broker;
    await waitUntil(() => m.haRuntimeInfo().inSyncSlaveNums === 1, 'the slave to connect');
    const byCluster = await ok('haStatus', '-n', master.mq.namesrvAddr, '-c', 'DefaultCluster');
    assert.match(byCluster, new RegExp(`#MasterAddr\\t${master.mq.brokerAddr.replace(/\./g, '\\.')}`));
    assert.match(byCluster, /#SlaveNum\t1\n#InSyncSlaveNum\t1/);
    assert.match(byCluster, /#SlaveAddr\s+#SlaveAckOffset\s+#Diff\s+#TransferSpeed\(KB\/s\)\s+#Status\s+#TransferFromWhere/);
    assert.match(byCluster, /127\.0\.0\.1:\d+\s+\d+\s+\d+\s+\d+\.\d\d\s+OK\s+\d+/);
    const ofSlave = await ok('haStatus', '-b', slave.broker.address);
    assert.match(ofSlave, new RegExp(`#MasterAddr\\t127\\.0\\.0\\.1:${m.haService!.port}\\n#CommitLogMaxOffset\\t${slave.broker.messageStore.maxPhyOffset}`));
    assert.match(ofSlave, /#LastReadTime\t\d{4}-\d\d-\d\d/);
    const json = JSON.parse(await ok('haStatus', '-b', master.mq.brokerAddr, '--json')) as Record<string, { master: boolean }>;
    assert.equal(json[master.mq.brokerAddr]!.master, true);
    const slaveStatus = await ok('brokerStatus', '-b', slave.broker.address);
    assert.match(slaveStatus, /brokerActive\s+: false/);
    assert.match(slaveStatus, /dispatchBehindBytes\s+: 0\n/);
    assert.match(await ok('brokerStatus', '-b', master.mq.brokerAddr), /brokerActive\s+: true/);
    await fails(/-b <brokerAddr> or -c <clusterName>/, 'haStatus', '-n', master.mq.namesrvAddr);
  } finally {
    await slave?.close();
    await master?.close();
  }
});
