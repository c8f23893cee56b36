import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LitePullConsumer, Message, MQClientAPI, Producer, PushConsumer } from '../../../src/client/index.js';
import { BrokerController } from '../../../src/broker/index.js';
import { defaultBrokerConfig, defaultMessageStoreConfig, defaultNamesrvConfig } from '../../../src/common/config.js';
import { NamesrvController } from '../../../src/namesrv/index.js';
import { CliProcess, portsIn } from '../../cli/spawn.js';
import { writeBrokerConf } from '../../e2e/standalone-process.js';
import { ons, type OnsConsumer } from '../../compat/ons.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { memoryLogger } from '../helpers.js';
import { SMALL_STORE, startSlave, type Slave } from './ha-helpers.js';

/**
 * Failover to the slave (upstream client MQClientInstance#findBrokerAddressInSubscribe,
 * RemoteBrokerOffsetStore, PullAPIWrapper; broker PullMessageProcessor with slaveReadEnable):
 * with the master SIGKILLed, push, lite-pull and ali-ons consumers consume from the slave, the
 * offsets they commit meanwhile are kept by the slave and reach the master again once it is
 * back, and producers send to the other broker group.
 */

const TOPIC = 'FailoverTopic';
const N = 40;

async function createTopicOn(api: MQClientAPI, addr: string): Promise<void> {
  await api.createTopic(addr, 'TBW102', { topicName: TOPIC, readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
}

test('with the master SIGKILLed, consumers go on from the slave and producers use the other broker group', async () => {
  const t = tempDir('rmq-ha-failover-');
  const { logger } = memoryLogger();
  const ns = new NamesrvController({ ...defaultNamesrvConfig(), listenPort: 0, kvConfigPath: join(t.dir, 'kv.json') }, { host: '127.0.0.1', logger });
  let masterA: CliProcess | undefined;
  let slave: Slave | undefined;
  let brokerB: BrokerController | undefined;
  const api = new MQClientAPI();
  const closers: Array<() => Promise<unknown>> = [];
  try {
    await ns.start();
    const nsAddr = `127.0.0.1:${ns.port}`;
    const conf = writeBrokerConf(t.dir, {
      brokerClusterName: 'DefaultCluster', brokerName: 'fo-a', brokerIP1: '127.0.0.1', listenPort: 0,
      mappedFileSizeCommitLog: SMALL_STORE.mappedFileSizeCommitLog!, mappedFileSizeConsumeQueue: SMALL_STORE.mappedFileSizeConsumeQueue!, maxMessageSize: 65536,
    });
    const startA = async (): Promise<{ proc: CliProcess; addr: string }> => {
      const proc = new CliProcess('mqbroker', ['-n', nsAddr, '-c', conf, '--store', join(t.dir, 'store-a')]);
      const boot = await proc.waitForLine(/boot success/);
      return { proc, addr: `127.0.0.1:${portsIn(boot.msg)[0]}` };
    };
    const a = await startA();
    masterA = a.proc;
    slave = await startSlave(nsAddr, {}, { brokerName: 'fo-a', slaveReadEnable: true });
    brokerB = new BrokerController({
      brokerConfig: { ...defaultBrokerConfig(), brokerName: 'fo-b', namesrvAddr: nsAddr, listenPort: 0, brokerIP1: '127.0.0.1', fastListenPortEnable: false },
      storeConfig: { ...defaultMessageStoreConfig(), ...SMALL_STORE, storePathRootDir: join(t.dir, 'store-b') },
      host: '127.0.0.1', logger,
    });
    await brokerB.start();
    await createTopicOn(api, a.addr);
    await createTopicOn(api, brokerB.address);
    await waitUntil(async () => {
      const r = await api.getTopicRouteInfoFromNameServer(nsAddr, TOPIC).catch(() => undefined);
      return r?.queueDatas.length === 2 && r.brokerDatas.find((b) => b.brokerName === 'fo-a')?.brokerAddrs['1'] !== undefined;
    }, 'the route with both groups and the slave');

    const producer = new Producer({ namesrvAddr: nsAddr, group: 'fo_pg', pollNameServerInterval: 500, logger });
    await producer.start();
    closers.push(() => producer.shutdown());
    const queuesA = (await producer.fetchPublishMessageQueues(TOPIC)).filter((q) => q.brokerName === 'fo-a');
    assert.equal(queuesA.length, 4);
    const sent: string[] = [];
    for (let i = 0; i < N; i++) {
      const body = `fo-${i}`;
      const r = await producer.send(new Message(TOPIC, body), { queue: queuesA[i % 4]! });
      assert.equal(r.sendStatus, 'SEND_OK');
      sent.push(body);
    }
    await waitUntil(() => [0, 1, 2, 3].reduce((s, q) => s + slave!.broker.messageStore.getMaxOffsetInQueue(TOPIC, q), 0) === N, 'the slave to have every message');
    await waitUntil(() => slave!.broker.topicConfigManager.get(TOPIC) !== undefined, 'the slave to have the topic');

    masterA.child.kill('SIGKILL');
    await masterA.exited;
    await waitUntil(async () => {
      const r = await api.getTopicRouteInfoFromNameServer(nsAddr, TOPIC);
      const bd = r.brokerDatas.find((b) => b.brokerName === 'fo-a');
      return bd !== undefined && bd.brokerAddrs['0'] === undefined && bd.brokerAddrs['1'] !== undefined;
    }, 'the NameServer to drop the dead master');

    // Consumers started now find only the slave of fo-a.
    const pushGot = new Set<string>();
    const push = new PushConsumer({ namesrvAddr: nsAddr, group: 'fo_push', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', pollNameServerInterval: 500, persistConsumerOffsetInterval: 300, rebalanceInterval: 1000, logger });
    push.subscribe(TOPIC, '*');
    // One message fails once: its send-back cannot reach fo-a's master, so (upstream
    // DefaultMQPushConsumerImpl.sendMessageBack) it goes to %RETRY%fo_push through the inner producer.
    let failedOnce = false;
    push.registerMessageListenerConcurrently(async (msgs) => {
      for (const m of msgs) {
        pushGot.add(m.body.toString());
        if (m.body.toString() === 'fo-0' && !failedOnce) {
          failedOnce = true;
          throw new Error('consume later');
        }
      }
    });
    await push.start();
    closers.push(() => push.shutdown());
    const lite = new LitePullConsumer({ namesrvAddr: nsAddr, group: 'fo_lite', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', pollNameServerInterval: 500, rebalanceInterval: 1000, logger });
    lite.subscribe(TOPIC, '*');
    await lite.start();
    closers.push(() => lite.shutdown());
    const liteGot = new Set<string>();
    const onsGot = new Set<string>();
    const onsConsumer: OnsConsumer = new ons.Consumer({
      httpclient: { request: () => Promise.reject(new Error('no HTTP lookup')) }, nameSrv: nsAddr, accessKeyId: 'test-key', accessKeySecret: 'test-secret',
      consumerGroup: 'fo_ons', instanceName: 'fo_ons', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', heartbeatBrokerInterval: 2000, rebalanceInterval: 1000, persistConsumerOffsetInterval: 500,
    });
    onsConsumer.on('error', () => undefined);
    onsConsumer.subscribe(TOPIC, '*', async (msg) => { onsGot.add(msg.body.toString()); });
    closers.push(() => onsConsumer.close());
    await onsConsumer.ready();
    await waitUntil(async () => {
      for (const m of await lite.poll(200)) liteGot.add(m.body.toString());
      return pushGot.size === N && liteGot.size === N && onsGot.size === N;
    }, `every consumer to get the ${N} messages from the slave (push ${pushGot.size}, lite ${liteGot.size}, ali-ons ${onsGot.size})`, 25_000);
    assert.deepEqual([...pushGot].sort(), [...sent].sort());
    // The retry went to the group with a master, waiting for its delay level (3: the first retry).
    await waitUntil(() => brokerB!.messageStore.getMaxOffsetInQueue('SCHEDULE_TOPIC_XXXX', 2) === 1, 'the failed message to be sent back to fo-b');

    // Producers send to the group that still has a master.
    for (let i = 0; i < 8; i++) {
      const r = await producer.send(new Message(TOPIC, `after-${i}`));
      assert.equal(r.sendStatus, 'SEND_OK');
      assert.equal(r.messageQueue.brokerName, 'fo-b');
    }

    // The push consumer's offsets went to the slave while the master was down ...
    const slaveOffsets = (): number => [0, 1, 2, 3].reduce((s, q) => s + Math.max(0, slave!.broker.consumerOffsetManager.queryOffset('fo_push', TOPIC, q)), 0);
    await waitUntil(() => slaveOffsets() === N, 'the consumer to commit its offsets to the slave');
    // ... and reach the restarted master from the consumer.
    const a2 = await startA();
    masterA = a2.proc;
    await waitUntil(async () => {
      let total = 0;
      for (let q = 0; q < 4; q++) total += Math.max(0, await api.queryConsumerOffset(a2.addr, { consumerGroup: 'fo_push', topic: TOPIC, queueId: q }).catch(() => -1));
      return total === N;
    }, 'the restarted master to get the offsets committed while it was down', 20_000);
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await api.shutdown();
    masterA?.kill();
    await masterA?.exited;
    await slave?.close();
    await brokerB?.shutdown();
    await ns.shutdown();
    t.cleanup();
  }
});
