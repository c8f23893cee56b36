import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MQClientAPI, Message, Producer } from '../../../src/client/index.js';
import { CliProcess, portsIn } from '../../cli/spawn.js';
import { writeBrokerConf } from '../../e2e/standalone-process.js';
import { createTopic } from '../../client/helpers.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { BROKER_NAME, commitLogBytes, SMALL_STORE, startMaster, type Master } from './ha-helpers.js';

/**
 * A slave process SIGKILLed while the master keeps writing recovers its CommitLog as any broker
 * does (a frame may have ended inside a record: that torn tail is cut) and resumes from its own
 * max offset: afterwards its log is the master's, with nothing lost and nothing twice.
 */

const FILE = SMALL_STORE.mappedFileSizeCommitLog!;
const TOPIC = 'HaSlaveCrash';

function startSlaveProcess(conf: string, store: string, namesrvAddr: string): CliProcess {
  return new CliProcess('mqbroker', ['-n', namesrvAddr, '-c', conf, '--store', store]);
}

test('a SIGKILLed slave recovers and resumes from its own max offset, ending byte-identical to the master', async () => {
  const t = tempDir('rmq-ha-slave-proc-');
  let master: Master | undefined;
  let slave: CliProcess | undefined;
  const producer = { p: undefined as Producer | undefined };
  try {
    master = await startMaster();
    const m = master.mq.broker;
    const conf = writeBrokerConf(t.dir, {
      brokerClusterName: 'DefaultCluster', brokerName: BROKER_NAME, brokerId: 1, brokerRole: 'SLAVE', brokerIP1: '127.0.0.1',
      listenPort: 0, mappedFileSizeCommitLog: FILE, mappedFileSizeConsumeQueue: SMALL_STORE.mappedFileSizeConsumeQueue!, maxMessageSize: 65536,
    });
    const store = join(t.dir, 'store');
    slave = startSlaveProcess(conf, store, master.mq.namesrvAddr);
    await slave.waitForLine(/boot success/);
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, TOPIC);
    producer.p = new Producer({ namesrvAddr: master.mq.namesrvAddr, group: 'crash_pg' });
    await producer.p.start();
    // Sends keep coming while the slave dies: 8 in flight at a time.
    let sending = true;
    let sent = 0;
    const load = (async () => {
      while (sending) {
        await Promise.all(Array.from({ length: 8 }, () => producer.p!.send(new Message(TOPIC, `m-${sent++}-`.padEnd(3000, 'y')))));
      }
    })();
    await waitUntil(() => (m.haRuntimeInfo().haConnectionInfo[0]?.slaveAckOffset ?? 0) > FILE + FILE / 2, 'the slave to replicate past its first segment', 20_000);
    slave.child.kill('SIGKILL');
    const exit = await slave.exited;
    assert.equal(exit.signal, 'SIGKILL');
    await waitUntil(() => m.haRuntimeInfo().haConnectionInfo.length === 0, 'the master to drop the dead slave');
    const ackedBeforeKill = Number(master.lines.filter((l) => /disconnected/.test(l.msg ?? '')).at(-1)?.msg?.match(/acknowledged up to (\d+)/)?.[1] ?? 0);
    assert.ok(ackedBeforeKill > FILE);
    // The master writes on while the slave is down.
    await new Promise((r) => setTimeout(r, 300));

    slave = startSlaveProcess(conf, store, master.mq.namesrvAddr);
    const boot = await slave.waitForLine(/boot success/);
    const slaveAddr = `127.0.0.1:${portsIn(boot.msg)[0]}`;
    // It asks for what follows its recovered log, not for the start of a segment.
    await waitUntil(() => master!.lines.filter((l) => /requests offset/.test(l.msg ?? '')).length >= 2, 'the restarted slave to report its offset');
    const asked = Number(master.lines.filter((l) => /requests offset/.test(l.msg ?? '')).at(-1)!.msg!.match(/requests offset (\d+)/)![1]);
    assert.ok(asked > 0 && asked <= ackedBeforeKill + 64 * 1024, `the slave resumes near where it was killed (asked ${asked}, had acked ${ackedBeforeKill})`);
    sending = false;
    await load;
    const max = m.messageStore.maxPhyOffset;
    await waitUntil(() => m.haRuntimeInfo().haConnectionInfo[0]?.slaveAckOffset === max, 'the slave to catch up', 20_000);
    // Flushed by a clean stop, then compared.
    assert.equal((await slave.stop('SIGTERM')).code, 0, slave.stderr);
    assert.ok(commitLogBytes(store, 0, max, FILE).equals(commitLogBytes(master.dir, 0, max, FILE)), 'the slave CommitLog equals the master\'s');
    // Its ConsumeQueues, rebuilt by its own dispatch across the crash, hold each message once.
    slave = startSlaveProcess(conf, store, master.mq.namesrvAddr);
    await slave.waitForLine(/boot success/);
    const api = new MQClientAPI();
    try {
      for (let q = 0; q < 4; q++) assert.equal(await api.getMaxOffset(slaveAddr.replace(/:\d+$/, `:${portsIn(slave.lines.find((l) => /boot success/.test(l.msg))!.msg)[0]}`), TOPIC, q), m.messageStore.getMaxOffsetInQueue(TOPIC, q));
    } finally {
      await api.shutdown();
    }
    let total = 0;
    for (let q = 0; q < 4; q++) total += m.messageStore.getMaxOffsetInQueue(TOPIC, q);
    assert.equal(total, sent);
  } finally {
    await producer.p?.shutdown();
    slave?.kill();
    await slave?.exited;
    await master?.close();
    t.cleanup();
  }
});
