import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import {
  decodeClusterInfo,
  decodeDataVersion,
  decodeKVTable,
  decodeTopicList,
  decodeTopicRouteData,
  encodeJson,
  NAMESPACE_ORDER_TOPIC_CONFIG,
} from '../../src/common/route.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { bodyCrc32 } from '../../src/namesrv/processors/broker-registration.js';
import { invoke, memoryLogger, registerRequest, request, startNamesrv, topicConfig, waitFor } from './helpers.js';

const SERIALIZATIONS = [
  ['JSON', SerializeType.JSON],
  ['ROCKETMQ', SerializeType.ROCKETMQ],
] as const;

for (const [stName, st] of SERIALIZATIONS) {
  test(`${stName}: a registered master's topics have routes with its queue and broker data`, async () => {
    const t = await startNamesrv();
    const client = new RemotingClient();
    try {
      const reg = await invoke(client, t.addr, registerRequest({
        brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', serializeType: st,
        topics: [topicConfig('TopicA', 4), topicConfig('TopicB', 8, 4)],
      }));
      assert.equal(reg.code, ResponseCode.SUCCESS, reg.remark);
      assert.equal(reg.serializeType, st);
      // A master gets no master address back.
      assert.equal(reg.extFields?.masterAddr, undefined);

      const res = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' }, st));
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
      const raw = res.body?.toString('utf8') ?? '';
      // Standard JSON with quoted broker ids, keys sorted like fastjson.
      assert.equal(raw,
        '{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],'
        + '"filterServerTable":{},'
        + '"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}');
      const route = decodeTopicRouteData(res.body as Buffer);
      assert.deepEqual(route.queueDatas, [{ brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }]);

      const resB = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicB' }, st));
      const routeB = decodeTopicRouteData(resB.body as Buffer);
      assert.deepEqual(routeB.queueDatas, [{ brokerName: 'broker-a', readQueueNums: 8, writeQueueNums: 8, perm: 4, topicSysFlag: 0 }]);
    } finally {
      await client.shutdown();
      await t.close();
    }
  });
}

test('two brokers of one cluster, a slave, cluster info and topic lists', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', haServerAddr: '10.0.0.1:10912', topics: [topicConfig('Shared'), topicConfig('OnlyA')] }));
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [topicConfig('Shared', 2)] }));
    await invoke(client, t.addr, registerRequest({ cluster: 'C2', brokerName: 'broker-c', brokerAddr: '10.0.0.3:10911', topics: [topicConfig('OnlyC')] }));
    // The slave of broker-a learns its master and the master's HA address; its topics do not change routes.
    const slave = await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-a', brokerAddr: '10.0.0.11:10911', brokerId: 1, topics: [topicConfig('Shared', 99)], serializeType: SerializeType.JSON }));
    assert.equal(slave.code, ResponseCode.SUCCESS);
    assert.equal(slave.extFields?.masterAddr, '10.0.0.1:10911');
    assert.equal(slave.extFields?.haServerAddr, '10.0.0.1:10912');

    const route = decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Shared' }))).body as Buffer);
    assert.deepEqual(route.queueDatas.map((q) => [q.brokerName, q.writeQueueNums]), [['broker-a', 4], ['broker-b', 2]]);
    assert.deepEqual(route.brokerDatas.map((b) => [b.brokerName, b.cluster, b.brokerAddrs]), [
      ['broker-a', 'C1', { 0: '10.0.0.1:10911', 1: '10.0.0.11:10911' }],
      ['broker-b', 'C1', { 0: '10.0.0.2:10911' }],
    ]);

    const info = decodeClusterInfo((await invoke(client, t.addr, request(RequestCode.GET_BROKER_CLUSTER_INFO))).body as Buffer);
    assert.deepEqual(info.clusterAddrTable, { C1: ['broker-a', 'broker-b'], C2: ['broker-c'] });
    assert.deepEqual(Object.keys(info.brokerAddrTable), ['broker-a', 'broker-b', 'broker-c']);
    assert.deepEqual(info.brokerAddrTable['broker-a']?.brokerAddrs, { 0: '10.0.0.1:10911', 1: '10.0.0.11:10911' });

    const all = decodeTopicList((await invoke(client, t.addr, request(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER))).body as Buffer);
    assert.deepEqual(all.topicList, ['OnlyA', 'OnlyC', 'Shared']);
    for (const [cluster, expected] of [['C1', ['OnlyA', 'Shared']], ['C2', ['OnlyC']], ['Nope', []]] as const) {
      const res = await invoke(client, t.addr, request(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster }, SerializeType.JSON));
      assert.equal(res.code, ResponseCode.SUCCESS);
      assert.deepEqual(decodeTopicList(res.body as Buffer).topicList, expected);
    }
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('unregister removes the broker, and the topic once no broker is left for it', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('Shared'), topicConfig('OnlyA')] }));
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [topicConfig('Shared')] }));
    const res = await invoke(client, t.addr, request(RequestCode.UNREGISTER_BROKER, { brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', clusterName: 'DefaultCluster', brokerId: 0 }));
    assert.equal(res.code, ResponseCode.SUCCESS);

    const gone = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'OnlyA' }));
    assert.equal(gone.code, ResponseCode.TOPIC_NOT_EXIST);
    const shared = decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Shared' }))).body as Buffer);
    assert.deepEqual(shared.brokerDatas.map((b) => b.brokerName), ['broker-b']);
    assert.deepEqual(shared.queueDatas.map((q) => q.brokerName), ['broker-b']);
    const info = decodeClusterInfo((await invoke(client, t.addr, request(RequestCode.GET_BROKER_CLUSTER_INFO))).body as Buffer);
    assert.deepEqual(info.clusterAddrTable, { DefaultCluster: ['broker-b'] });
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('a broker whose connection closes is removed at once', async () => {
  const t = await startNamesrv();
  const broker = new RemotingClient();
  const client = new RemotingClient();
  try {
    await invoke(broker, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [topicConfig('T2')] }));
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code, ResponseCode.SUCCESS);
    await broker.shutdown();
    await waitFor(async () => (await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code === ResponseCode.TOPIC_NOT_EXIST,
      5000, 'the route of the disconnected broker to disappear');
    // The other broker, registered over a live connection, stays.
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T2' }))).code, ResponseCode.SUCCESS);
  } finally {
    await broker.shutdown();
    await client.shutdown();
    await t.close();
  }
});

test('a broker silent for longer than brokerChannelExpiredTime expires and its connection is closed', async () => {
  const t = await startNamesrv({ brokerChannelExpiredTime: 600, scanNotActiveBrokerInterval: 50 });
  const broker = new RemotingClient();
  const client = new RemotingClient();
  try {
    const conn = await broker.getConnection(t.addr);
    await invoke(broker, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    // A broker that keeps registering stays alive past the expiry time.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await invoke(broker, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    }
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code, ResponseCode.SUCCESS);
    const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
    await waitFor(async () => (await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code === ResponseCode.TOPIC_NOT_EXIST,
      5000, 'the silent broker to expire');
    await closed;
    const info = decodeClusterInfo((await invoke(client, t.addr, request(RequestCode.GET_BROKER_CLUSTER_INFO))).body as Buffer);
    assert.deepEqual(info, { brokerAddrTable: {}, clusterAddrTable: {} });
  } finally {
    await broker.shutdown();
    await client.shutdown();
    await t.close();
  }
});

test('re-registering with an unchanged DataVersion keeps the routes; a new version updates them', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  const dv1 = { stateVersion: 0, timestamp: 1_700_000_000_000, counter: 3 };
  const dv2 = { stateVersion: 0, timestamp: 1_700_000_001_000, counter: 4 };
  const ident = { brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', clusterName: 'DefaultCluster', brokerId: 0 };
  const perm = async (): Promise<number | undefined> =>
    decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).body as Buffer).queueDatas[0]?.perm;
  try {
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], dataVersion: dv1 }));

    const q1 = await invoke(client, t.addr, request(RequestCode.QUERY_DATA_VERSION, ident, SerializeType.JSON, encodeJson(dv1)));
    assert.equal(q1.code, ResponseCode.SUCCESS);
    assert.equal(q1.extFields?.changed, 'false');
    assert.deepEqual(decodeDataVersion(q1.body as Buffer), dv1);
    const q2 = await invoke(client, t.addr, request(RequestCode.QUERY_DATA_VERSION, ident, SerializeType.ROCKETMQ, encodeJson(dv2)));
    assert.equal(q2.extFields?.changed, 'true');

    const wipe = await invoke(client, t.addr, request(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' }));
    assert.equal(wipe.extFields?.wipeTopicCount, '1');
    assert.equal(await perm(), 4);
    // Same version: the NameServer trusts its copy, so the wiped permission stays.
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], dataVersion: dv1 }));
    assert.equal(await perm(), 4);
    // New version: the broker's topic config is taken again.
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], dataVersion: dv2 }));
    assert.equal(await perm(), 6);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('a register body whose CRC does not match is refused; a header error names the field', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    for (const [, st] of SERIALIZATIONS) {
      const res = await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], bodyCrc32: 12345, serializeType: st }));
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
      assert.equal(res.remark, 'crc32 not match');
    }
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }))).code, ResponseCode.TOPIC_NOT_EXIST);

    // bodyCrc32 = 0 means "not checked".
    const unchecked = await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')], bodyCrc32: 0 }));
    assert.equal(unchecked.code, ResponseCode.SUCCESS);

    const noAddr = await invoke(client, t.addr, request(RequestCode.REGISTER_BROKER, { brokerName: 'b', clusterName: 'c', brokerId: 0 }));
    assert.equal(noAddr.code, ResponseCode.SYSTEM_ERROR);
    assert.match(noAddr.remark ?? '', /<brokerAddr>/);
    const badId = await invoke(client, t.addr, request(RequestCode.UNREGISTER_BROKER, { brokerName: 'b', brokerAddr: 'x:1', clusterName: 'c', brokerId: 'zero' }));
    assert.equal(badId.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badId.remark ?? '', /<brokerId>.*not an integer/);

    const junk = Buffer.from('{"topicConfigSerializeWrapper":');
    const badBody = await invoke(client, t.addr, request(RequestCode.REGISTER_BROKER,
      { brokerName: 'b', brokerAddr: '10.0.0.9:10911', clusterName: 'c', brokerId: 0, haServerAddr: '', bodyCrc32: bodyCrc32(junk) }, SerializeType.JSON, junk));
    assert.equal(badBody.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badBody.remark ?? '', /cannot be decoded/);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

/** The compressed register body laid out by hand from the facts sheet (§5.4), as a Java 5.x broker writes it. */
function handMadeCompressedBody(): Buffer {
  const chunks: Buffer[] = [];
  const int = (n: number): void => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    chunks.push(b);
  };
  const text = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    int(b.length);
    chunks.push(b);
  };
  text('{"counter":7,"stateVersion":0,"timestamp":1700000000000}');
  int(2);
  text('Zipped 3 5 6 SINGLE_TAG {}');
  text('ZippedRO 2 2 4 MULTI_TAG {"+message.type":"NORMAL"}');
  text('[]');
  int(0); // topic queue mapping count (5.x)
  return deflateSync(Buffer.concat(chunks), { level: 9 });
}

test('compressed register bodies: flagged, hand-made, and deflated but flagged false (upstream main)', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    const r1 = await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('Packed', 3)], compressed: true }));
    assert.equal(r1.code, ResponseCode.SUCCESS, r1.remark);
    const route = decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Packed' }))).body as Buffer);
    assert.deepEqual(route.queueDatas, [{ brokerName: 'broker-a', readQueueNums: 3, writeQueueNums: 3, perm: 6, topicSysFlag: 0 }]);

    const body = handMadeCompressedBody();
    for (const [name, compressed] of [['broker-b', 'true'], ['broker-c', 'false']] as const) {
      const res = await invoke(client, t.addr, request(RequestCode.REGISTER_BROKER, {
        brokerName: name, brokerAddr: `10.0.0.${name === 'broker-b' ? 2 : 3}:10911`, clusterName: 'DefaultCluster',
        haServerAddr: '10.0.0.2:10912', brokerId: 0, compressed, bodyCrc32: bodyCrc32(body),
      }, SerializeType.ROCKETMQ, body));
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    }
    const zipped = decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Zipped' }))).body as Buffer);
    assert.deepEqual(zipped.queueDatas, [
      { brokerName: 'broker-b', readQueueNums: 3, writeQueueNums: 5, perm: 6, topicSysFlag: 0 },
      { brokerName: 'broker-c', readQueueNums: 3, writeQueueNums: 5, perm: 6, topicSysFlag: 0 },
    ]);
    const ro = decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'ZippedRO' }))).body as Buffer);
    assert.equal(ro.queueDatas[0]?.perm, 4);

    // The DataVersion inside the compressed body is the one the NameServer keeps.
    const q = await invoke(client, t.addr, request(RequestCode.QUERY_DATA_VERSION,
      { brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', clusterName: 'DefaultCluster', brokerId: 0 }, SerializeType.JSON,
      encodeJson({ stateVersion: 0, timestamp: 1_700_000_000_000, counter: 7 })));
    assert.equal(q.extFields?.changed, 'false');

    const garbage = Buffer.from([0x78, 0x9c, 1, 2, 3, 4]);
    const bad = await invoke(client, t.addr, request(RequestCode.REGISTER_BROKER, {
      brokerName: 'broker-d', brokerAddr: '10.0.0.4:10911', clusterName: 'DefaultCluster', haServerAddr: '', brokerId: 0, compressed: true,
    }, SerializeType.JSON, garbage));
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark ?? '', /does not inflate/);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('delete a topic everywhere or in one cluster', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  const route = (topic: string) => invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
  try {
    await invoke(client, t.addr, registerRequest({ cluster: 'C1', brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1'), topicConfig('T2')] }));
    await invoke(client, t.addr, registerRequest({ cluster: 'C2', brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [topicConfig('T1'), topicConfig('T2')] }));

    assert.equal((await invoke(client, t.addr, request(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'T1' }))).code, ResponseCode.SUCCESS);
    assert.equal((await route('T1')).code, ResponseCode.TOPIC_NOT_EXIST);

    assert.equal((await invoke(client, t.addr, request(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'T2', clusterName: 'C1' }, SerializeType.JSON))).code, ResponseCode.SUCCESS);
    const t2 = decodeTopicRouteData((await route('T2')).body as Buffer);
    assert.deepEqual(t2.queueDatas.map((q) => q.brokerName), ['broker-b']);
    await invoke(client, t.addr, request(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'T2', clusterName: 'C2' }));
    assert.equal((await route('T2')).code, ResponseCode.TOPIC_NOT_EXIST);

    // REGISTER_TOPIC_IN_NAMESRV puts one topic back for a registered broker, and refuses unknown brokers.
    const qd = { brokerName: 'broker-a', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 };
    const reg = await invoke(client, t.addr, request(RequestCode.REGISTER_TOPIC_IN_NAMESRV, { topic: 'T3' }, SerializeType.JSON, encodeJson({ queueDatas: [qd] })));
    assert.equal(reg.code, ResponseCode.SUCCESS);
    assert.deepEqual(decodeTopicRouteData((await route('T3')).body as Buffer).queueDatas, [qd]);
    const unknown = await invoke(client, t.addr, request(RequestCode.REGISTER_TOPIC_IN_NAMESRV, { topic: 'T4' }, SerializeType.JSON,
      encodeJson({ queueDatas: [{ ...qd, brokerName: 'ghost' }] })));
    assert.equal(unknown.code, ResponseCode.SYSTEM_ERROR);
    assert.equal((await route('T4')).code, ResponseCode.TOPIC_NOT_EXIST);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('wipe and add write permission of a broker', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  const perms = async (topic: string) =>
    decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).body as Buffer)
      .queueDatas.map((q) => [q.brokerName, q.perm]);
  try {
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1'), topicConfig('T2', 4, 7)] }));
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', topics: [topicConfig('T1')] }));
    // T2 starts RW+inherit (7); wiping keeps the other bits, adding back sets exactly RW (6).
    for (const [st, t2Wiped] of [[SerializeType.JSON, 5], [SerializeType.ROCKETMQ, 4]] as const) {
      const wipe = await invoke(client, t.addr, request(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' }, st));
      assert.equal(wipe.code, ResponseCode.SUCCESS);
      assert.equal(wipe.extFields?.wipeTopicCount, '2');
      assert.deepEqual(await perms('T1'), [['broker-a', 4], ['broker-b', 6]]);
      assert.deepEqual(await perms('T2'), [['broker-a', t2Wiped]]);
      const add = await invoke(client, t.addr, request(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' }, st));
      assert.equal(add.extFields?.addTopicCount, '2');
      assert.deepEqual(await perms('T1'), [['broker-a', 6], ['broker-b', 6]]);
      assert.deepEqual(await perms('T2'), [['broker-a', 6]]);
    }
    const none = await invoke(client, t.addr, request(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'nobody' }));
    assert.equal(none.extFields?.wipeTopicCount, '0');
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('KV config: put, get, list, delete, and persistence across a restart', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    for (const [k, v, st] of [['k1', 'v1', SerializeType.JSON], ['k2', 'v 2', SerializeType.ROCKETMQ]] as const) {
      assert.equal((await invoke(client, t.addr, request(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: k, value: v }, st))).code, ResponseCode.SUCCESS);
    }
    const got = await invoke(client, t.addr, request(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k2' }));
    assert.equal(got.code, ResponseCode.SUCCESS);
    assert.equal(got.extFields?.value, 'v 2');
    const missing = await invoke(client, t.addr, request(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'nope' }));
    assert.equal(missing.code, ResponseCode.QUERY_NOT_FOUND);
    assert.equal(missing.remark, 'No config item, Namespace: NS Key: nope');
    const list = await invoke(client, t.addr, request(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'NS' }, SerializeType.JSON));
    assert.deepEqual(decodeKVTable(list.body as Buffer), { table: { k1: 'v1', k2: 'v 2' } });
    const noNs = await invoke(client, t.addr, request(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'Other' }));
    assert.equal(noNs.code, ResponseCode.QUERY_NOT_FOUND);

    assert.equal((await invoke(client, t.addr, request(RequestCode.DELETE_KV_CONFIG, { namespace: 'NS', key: 'k1' }))).code, ResponseCode.SUCCESS);
    assert.equal((await invoke(client, t.addr, request(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k1' }))).code, ResponseCode.QUERY_NOT_FOUND);
    // Deleting what is not there is fine.
    assert.equal((await invoke(client, t.addr, request(RequestCode.DELETE_KV_CONFIG, { namespace: 'X', key: 'y' }))).code, ResponseCode.SUCCESS);

    // Upstream's file format, readable by a Java NameServer.
    assert.deepEqual(JSON.parse(await readFile(t.config.kvConfigPath, 'utf8')), { configTable: { NS: { k2: 'v 2' } } });

    await client.shutdown();
    await t.ns.shutdown();
    const again = await startNamesrv({}, { dir: t.dir });
    const client2 = new RemotingClient();
    try {
      const after = await invoke(client2, again.addr, request(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'NS' }));
      assert.deepEqual(decodeKVTable(after.body as Buffer), { table: { k2: 'v 2' } });
    } finally {
      await client2.shutdown();
      await again.close();
    }
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('orderMessageEnable adds orderTopicConf to routes; brokers get the order configs on register', async () => {
  const t = await startNamesrv({ orderMessageEnable: true });
  const client = new RemotingClient();
  try {
    await invoke(client, t.addr, request(RequestCode.PUT_KV_CONFIG, { namespace: NAMESPACE_ORDER_TOPIC_CONFIG, key: 'Ordered', value: 'broker-a:4' }));
    const reg = await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('Ordered'), topicConfig('Plain')] }));
    assert.deepEqual(decodeKVTable(reg.body as Buffer), { table: { Ordered: 'broker-a:4' } });
    const ordered = decodeTopicRouteData((await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Ordered' }))).body as Buffer);
    assert.equal(ordered.orderTopicConf, 'broker-a:4');
    const plain = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Plain' }));
    assert.doesNotMatch(plain.body?.toString() ?? '', /orderTopicConf/);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('an unknown topic answers TOPIC_NOT_EXIST saying what to check; an unknown code answers 3', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    for (const [, st] of SERIALIZATIONS) {
      const res = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Missing' }, st));
      assert.equal(res.code, 17);
      assert.match(res.remark ?? '', /^No topic route info in name server for the topic: Missing, is a broker hosting it registered with this NameServer \(127\.0\.0\.1:\d+\)\?/);
      assert.match(res.remark ?? '', /https:\/\/rocketmq\.apache\.org\//);
      const unknown = await invoke(client, t.addr, request(RequestCode.SEND_MESSAGE_V2, {}, st));
      assert.equal(unknown.code, 3);
      assert.equal(unknown.remark, ` request type ${RequestCode.SEND_MESSAGE_V2} not supported`);
    }
    const noTopic = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {}));
    assert.equal(noTopic.code, ResponseCode.SYSTEM_ERROR);
    assert.match(noTopic.remark ?? '', /<topic>/);
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('a bogus frame closes only its own connection; other clients keep getting answers', async () => {
  const t = await startNamesrv();
  const client = new RemotingClient();
  try {
    await invoke(client, t.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('T1')] }));
    for (const garbage of [
      // A plausible length with an unknown serialization type (0x07) and random header bytes.
      Buffer.concat([Buffer.from([0, 0, 0, 40, 7, 0, 0, 10]), randomBytes(36)]),
      // A length far beyond the 16 MiB frame limit.
      Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff]), randomBytes(60)]),
      // JSON type with a header that is not JSON.
      Buffer.concat([Buffer.from([0, 0, 0, 12, 0, 0, 0, 8]), Buffer.from('{{{{{{{{')]),
    ]) {
      const sock = connect({ host: '127.0.0.1', port: t.ns.port });
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      });
      const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      sock.on('error', () => undefined); // a reset from the server is the expected outcome
      sock.write(garbage);
      await closed;
      const res = await invoke(client, t.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'T1' }));
      assert.equal(res.code, ResponseCode.SUCCESS);
    }
  } finally {
    await client.shutdown();
    await t.close();
  }
});

test('two NameServers in one process are independent', async () => {
  const a = await startNamesrv();
  const b = await startNamesrv();
  const client = new RemotingClient();
  try {
    assert.notEqual(a.ns.port, b.ns.port);
    await invoke(client, a.addr, registerRequest({ brokerName: 'broker-a', brokerAddr: '10.0.0.1:10911', topics: [topicConfig('OnA')] }));
    await invoke(client, b.addr, request(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: 'k', value: 'onB' }));
    assert.equal((await invoke(client, a.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'OnA' }))).code, ResponseCode.SUCCESS);
    assert.equal((await invoke(client, b.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'OnA' }))).code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal((await invoke(client, a.addr, request(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k' }))).code, ResponseCode.QUERY_NOT_FOUND);
    await b.close();
    assert.equal((await invoke(client, a.addr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'OnA' }))).code, ResponseCode.SUCCESS);
  } finally {
    await client.shutdown();
    await a.close();
    await b.close();
  }
});

test('start and shutdown each log one line; shutdown leaves no handle open', async () => {
  const { logger, lines } = memoryLogger('info');
  const count = (type: string): number => process.getActiveResourcesInfo().filter((r) => r === type).length;
  const watched = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout', 'FSReqPromise', 'FileHandle'];
  const before = watched.map(count);
  const t = await startNamesrv({ scanNotActiveBrokerInterval: 10 }, { logger });
  const client = new RemotingClient();
  await invoke(client, t.addr, request(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: 'k', value: 'v' }));
  await client.shutdown();
  const port = t.ns.port;
  await t.close();
  assert.equal(t.ns.port, 0);
  const started = lines.filter((l) => String(l.msg).startsWith('NameServer started'));
  assert.equal(started.length, 1);
  assert.equal(started[0]?.msg, `NameServer started, listening on 127.0.0.1:${port}`);
  assert.equal(lines.filter((l) => String(l.msg).includes('shut down')).length, 1);
  // libuv finishes closing handles in a later loop phase; then nothing of ours may remain.
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(watched.map(count), before);
});
