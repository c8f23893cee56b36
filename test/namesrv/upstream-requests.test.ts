import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClusterInfo, parseRemotingJson } from '../../src/common/route.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
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
