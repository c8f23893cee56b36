import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeClusterInfo,
  decodeKVTable,
  decodeTopicList,
  decodeTopicRouteData,
  NAMESPACE_ORDER_TOPIC_CONFIG,
  parseRemotingJson,
  type DataVersion,
} from '../../src/common/route.js';
import { SYNC_BROKER_MEMBER_GROUP_PREFIX } from '../../src/common/topic.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { invoke, registerRequest, request, startNamesrv, topicConfig, waitFor } from './helpers.js';

/** Requests of upstream's DefaultRequestProcessor that 5.x brokers and admin tools send. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('BROKER_HEARTBEAT keeps a broker with a short heartbeatTimeoutMillis alive between registrations', async () => {
  const t = await startNamesrv({ scanNotActiveBrokerInterval: 50 });
  const broker = new RemotingClient();
  const client = new RemotingClient();
  const beat = { clusterName: 'DefaultCluster', brokerAddr: '10.0.0.1:10911', brokerName: 'broker-a', brokerId: 0 };
  const routeCode = async (): Promise<number> => (await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code;
  try {
    // As a Java broker with enableSlaveActingMaster: expiry 1.5 s, a beat in between, no re-registration.
    const reg = await invoke(broker, t.addr, registerRequest({
      brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], extra: { heartbeatTimeoutMillis: '1500', enableActingMaster: 'true' },
    }));
    assert.equal(reg.code, ResponseCode.SUCCESS, reg.remark);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const res = await invoke(broker, t.addr, request(RequestCode.BROKER_HEARTBEAT, beat, SerializeType.ROCKETMQ));
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
      await sleep(100);
    }
    assert.equal(await routeCode(), ResponseCode.SUCCESS, 'a beating broker must outlive its heartbeatTimeoutMillis');

    // A beat from an address that never registered registers nothing.
    const stray = await invoke(client, t.addr, request(RequestCode.BROKER_HEARTBEAT, { ...beat, brokerAddr: '10.0.0.9:10911' }));
    assert.equal(stray.code, ResponseCode.SUCCESS);
    assert.deepEqual(t.ns.routeInfoManager.liveBrokers().map((l) => l.brokerAddr), ['10.0.0.1:10911']);

    // Once the beats stop, the broker expires after its own timeout.
    await waitFor(async () => (await routeCode()) === ResponseCode.TOPIC_NOT_EXIST, 8000, 'the silent broker to expire');

    // The header is checked like upstream's @CFNotNull fields.
    const bad = await invoke(client, t.addr, request(RequestCode.BROKER_HEARTBEAT, { clusterName: 'DefaultCluster', brokerAddr: '10.0.0.1:10911' }));
    assert.notEqual(bad.code, ResponseCode.SUCCESS);
    assert.match(bad.remark ?? '', /brokerName/);
  } finally {
    await broker.shutdown();
    await client.shutdown();
    await t.close();
  }
});

test('GET_BROKER_MEMBER_GROUP answers the group\'s id → address table; an unknown group is empty', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-a', brokerAddr: '10.0.0.2:10911', brokerId: 2, topics: [topicConfig('T1')] }));
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-b', brokerAddr: '10.0.0.3:10911', topics: [topicConfig('T2')] }));

    for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      const res = await invoke(client, t.addr, request(RequestCode.GET_BROKER_MEMBER_GROUP, { clusterName: 'C1', brokerName: 'broker-a' }, st));
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
      assert.deepEqual(parseRemotingJson(res.body as Buffer), {
        brokerMemberGroup: { cluster: 'C1', brokerName: 'broker-a', brokerAddrs: { 0: '10.0.0.1:10911', 2: '10.0.0.2:10911' } },
      });
    }

    const unknown = await invoke(client, t.addr, request(RequestCode.GET_BROKER_MEMBER_GROUP, { clusterName: 'C1', brokerName: 'nope' }));
    assert.equal(unknown.code, ResponseCode.SUCCESS);
    assert.deepEqual(parseRemotingJson(unknown.body as Buffer), { brokerMemberGroup: { cluster: 'C1', brokerName: 'nope', brokerAddrs: {} } });

    const bad = await invoke(client, t.addr, request(RequestCode.GET_BROKER_MEMBER_GROUP, { clusterName: 'C1' }));
    assert.notEqual(bad.code, ResponseCode.SUCCESS);
    assert.match(bad.remark ?? '', /brokerName/);
    // Asking changes nothing.
    assert.deepEqual(Object.keys(decodeClusterInfo((await invoke(client, t.addr, request(RequestCode.GET_BROKER_CLUSTER_INFO))).body as Buffer).brokerAddrTable), ['broker-a', 'broker-b']);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('enableAllTopicList and enableTopicList switch the topic lists off with SYSTEM_ERROR "disable", at runtime too', async () => {
  const t = await startNamesrv({ enableAllTopicList: false, enableTopicList: false });
  const client = new RemotingClient();
  try {
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1', 4, 6)] }));
    const lists = (): RemotingCommand[] => [
      request(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: 'C1' }),
      request(RequestCode.GET_UNIT_TOPIC_LIST),
      request(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST),
      request(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST),
    ];
    const all = await invoke(client, t.addr, request(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    assert.equal(all.code, ResponseCode.SYSTEM_ERROR);
    assert.match(all.remark ?? '', /^disable\b.*enableAllTopicList/);
    for (const req of lists()) {
      const res = await invoke(client, t.addr, req);
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR, `code ${req.code}`);
      assert.match(res.remark ?? '', /^disable\b.*enableTopicList/);
    }
    // As upstream, the system topic list and cluster info are not switched off.
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS))).code, ResponseCode.SUCCESS);
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_BROKER_CLUSTER_INFO))).code, ResponseCode.SUCCESS);

    // Both are volatile upstream: UPDATE_NAMESRV_CONFIG turns them back on at once.
    const upd = await invoke(client, t.addr, request(RequestCode.UPDATE_NAMESRV_CONFIG, {}, undefined, Buffer.from('enableAllTopicList=true\nenableTopicList=true\n')));
    assert.equal(upd.code, ResponseCode.SUCCESS, upd.remark);
    const all2 = await invoke(client, t.addr, request(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    assert.deepEqual(decodeTopicList(all2.body as Buffer).topicList, ['T1']);
    for (const req of lists()) assert.equal((await invoke(client, t.addr, req)).code, ResponseCode.SUCCESS, `code ${req.code}`);
    assert.deepEqual(decodeTopicList((await invoke(client, t.addr, request(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: 'C1' }))).body as Buffer).topicList, ['T1']);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('needWaitForService answers route lookups with SYSTEM_ERROR until waitSecondsForService has passed', async () => {
  const t = await startNamesrv({ needWaitForService: true, waitSecondsForService: 1 });
  const client = new RemotingClient();
  try {
    const reg = await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    assert.equal(reg.code, ResponseCode.SUCCESS, 'brokers register while the NameServer waits');
    const early = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }));
    assert.equal(early.code, ResponseCode.SYSTEM_ERROR);
    assert.match(early.remark ?? '', /^name server not ready/);
    await waitFor(async () => (await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code === ResponseCode.SUCCESS,
      8000, 'the route once the wait is over');
  } finally {
    await client.shutdown();
    await t.close();
  }
  // Off by default: a fresh NameServer answers at once.
  const d = await startNamesrv();
  const c2 = new RemotingClient();
  try {
    await invoke(c2, d.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    assert.equal((await invoke(c2, d.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code, ResponseCode.SUCCESS);
  } finally {
    await c2.shutdown();
    await d.close();
  }
});

test('returnOrderTopicConfigToBroker=false leaves the order configs out of the REGISTER_BROKER response', async () => {
  for (const returnOrderTopicConfigToBroker of [true, false]) {
    const t = await startNamesrv({ returnOrderTopicConfigToBroker });
    const client = new RemotingClient();
    try {
      const put = await invoke(client, t.addr, request(RequestCode.PUT_KV_CONFIG, { namespace: NAMESPACE_ORDER_TOPIC_CONFIG, key: 'T1', value: 'broker-a:4' }));
      assert.equal(put.code, ResponseCode.SUCCESS);
      const reg = await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
      assert.equal(reg.code, ResponseCode.SUCCESS);
      if (returnOrderTopicConfigToBroker) assert.deepEqual(decodeKVTable(reg.body as Buffer), { table: { T1: 'broker-a:4' } });
      else assert.equal(reg.body?.length ?? 0, 0);
    } finally {
      await client.shutdown();
      await t.close();
    }
  }
});

test('UPDATE_NAMESRV_CONFIG refuses rocketmqHome and the keys of configBlackList with NO_PERMISSION', async () => {
  const t = await startNamesrv({ configBlackList: 'orderMessageEnable; enableTopicList' });
  const client = new RemotingClient();
  const update = (text: string): Promise<RemotingCommand> =>
    invoke(client, t.addr, request(RequestCode.UPDATE_NAMESRV_CONFIG, {}, undefined, Buffer.from(text)));
  try {
    for (const key of ['orderMessageEnable', 'enableTopicList', 'rocketmqHome', 'configBlackList', 'kvConfigPath']) {
      const res = await update(`${key}=x\n`);
      assert.equal(res.code, ResponseCode.NO_PERMISSION, `${key}: ${res.remark}`);
      assert.match(res.remark ?? '', /black list/);
    }
    assert.equal(t.ns.config.orderMessageEnable, false);
    // A key the operator did not list is still changeable.
    assert.equal((await update('enableAllTopicList=false\n')).code, ResponseCode.SUCCESS);
    assert.equal(t.ns.config.enableAllTopicList, false);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('deleteTopicWithBrokerRegistration: a master\'s registration drops the topics it no longer has (off by default)', async () => {
  for (const deleteTopicWithBrokerRegistration of [true, false]) {
    const t = await startNamesrv({ deleteTopicWithBrokerRegistration });
    const client = new RemotingClient();
    const brokersOf = async (topic: string): Promise<string[] | number> => {
      const res = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
      return res.code === ResponseCode.SUCCESS ? decodeTopicRouteData(res.body as Buffer).queueDatas.map((q) => q.brokerName) : res.code;
    };
    try {
      const dv = (counter: number): DataVersion => ({ stateVersion: 0, timestamp: 1_700_000_000_000 + counter, counter });
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1'), topicConfig('T2')], dataVersion: dv(1) }));
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [topicConfig('T2')], dataVersion: dv(1) }));
      // A slave's registration never changes routes.
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.11:10911', brokerId: 1, topics: [], dataVersion: dv(5) }));
      assert.deepEqual(await brokersOf('T1'), ['broker-a']);
      // T2 deleted on broker-a only: its next registration no longer lists it.
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], dataVersion: dv(2) }));
      assert.deepEqual(await brokersOf('T2'), deleteTopicWithBrokerRegistration ? ['broker-b'] : ['broker-a', 'broker-b']);
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [], dataVersion: dv(2) }));
      assert.deepEqual(await brokersOf('T2'), deleteTopicWithBrokerRegistration ? ResponseCode.TOPIC_NOT_EXIST : ['broker-a', 'broker-b']);
      assert.deepEqual(await brokersOf('T1'), ['broker-a']);
    } finally {
      await client.shutdown();
      await t.close();
    }
  }
});

test('supportActingMaster: a master-less acting-master group shows its lowest slave as broker 0 (off by default)', async () => {
  const syncTopic = `${SYNC_BROKER_MEMBER_GROUP_PREFIX}broker-a`;
  for (const supportActingMaster of [true, false]) {
    const t = await startNamesrv({ supportActingMaster });
    const client = new RemotingClient();
    const addrsOf = async (topic: string): Promise<Record<string, string> | undefined> =>
      decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).body as Buffer).brokerDatas[0]?.brokerAddrs;
    try {
      const acting = { enableActingMaster: 'true' };
      const topics = [topicConfig('T1'), topicConfig(syncTopic, 1)];
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics, extra: acting }));
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.2:10911', brokerId: 1, topics, extra: acting }));
      await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.3:10911', brokerId: 2, topics, extra: acting }));
      // With its master up, a group's route is as registered either way.
      assert.deepEqual(await addrsOf('T1'), { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911', 2: '10.0.0.3:10911' });

      const un = await invoke(client, t.addr, request(RequestCode.UNREGISTER_BROKER, { clusterName: 'DefaultCluster', brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', brokerId: 0 }));
      assert.equal(un.code, ResponseCode.SUCCESS);
      assert.deepEqual(await addrsOf('T1'), supportActingMaster
        ? { 0: '10.0.0.2:10911', 2: '10.0.0.3:10911' }
        : { 1: '10.0.0.2:10911', 2: '10.0.0.3:10911' });
      // The group's own member-sync topic keeps the real ids, and so does the registry.
      assert.deepEqual(await addrsOf(syncTopic), { 1: '10.0.0.2:10911', 2: '10.0.0.3:10911' });
      assert.deepEqual(decodeClusterInfo((await invoke(client, t.addr, request(RequestCode.GET_BROKER_CLUSTER_INFO))).body as Buffer).brokerAddrTable['broker-a']?.brokerAddrs,
        { 1: '10.0.0.2:10911', 2: '10.0.0.3:10911' });
    } finally {
      await client.shutdown();
      await t.close();
    }
  }
});
