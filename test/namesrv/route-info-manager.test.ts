import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { DataVersion, TopicConfig } from '../../src/common/route.js';
import { RouteInfoManager, type RegisterBrokerParams } from '../../src/namesrv/route-info-manager.js';
import type { Connection } from '../../src/remoting/connection.js';
import { memoryLogger, topicConfig } from './helpers.js';

// The registry alone, with a hand-driven clock and stand-in connections.

function setup(expiry = 120_000): { rim: RouteInfoManager; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const rim = new RouteInfoManager({ brokerChannelExpiredTime: expiry, logger: memoryLogger().logger, now: () => clock.now });
  return { rim, clock };
}

const DV: DataVersion = { stateVersion: 0, timestamp: 1, counter: 1 };

function params(over: Partial<RegisterBrokerParams> & { topics?: TopicConfig[] }): RegisterBrokerParams {
  const { topics, ...rest } = over;
  return {
    clusterName: 'C',
    brokerAddr: '10.0.0.1:10911',
    brokerName: 'broker-a',
    brokerId: 0,
    haServerAddr: '10.0.0.1:10912',
    topicConfigWrapper: { topicConfigTable: Object.fromEntries((topics ?? [topicConfig('T')]).map((t) => [t.topicName, t])), dataVersion: DV },
    filterServerList: [],
    ...rest,
  };
}

/** A stand-in for a Connection: identity and close() are all the registry uses. */
function fakeConn(name: string): { conn: Connection; wasClosed: () => boolean } {
  let closed = false;
  const fake = Object.assign(new EventEmitter(), {
    remoteAddress: name,
    close: (): void => {
      closed = true;
    },
  });
  return { conn: fake as unknown as Connection, wasClosed: () => closed };
}

test('expiry uses the broker\'s own heartbeatTimeoutMillis, else the NameServer default', () => {
  const { rim, clock } = setup(1000);
  const a = fakeConn('a');
  rim.registerBroker(params({ channel: a.conn }));
  rim.registerBroker(params({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', heartbeatTimeoutMillis: 5000, topics: [topicConfig('U')] }));
  clock.now += 1000;
  assert.equal(rim.scanNotActiveBroker(), 0, 'exactly at the limit is still alive');
  clock.now += 1;
  assert.equal(rim.scanNotActiveBroker(), 1);
  assert.equal(a.wasClosed(), true, 'the expired broker\'s connection is closed');
  assert.equal(rim.pickupTopicRouteData('T'), undefined);
  assert.ok(rim.pickupTopicRouteData('U'));
  clock.now += 4000;
  assert.equal(rim.scanNotActiveBroker(), 1);
  assert.deepEqual(rim.getAllClusterInfo(), { brokerAddrTable: {}, clusterAddrTable: {} });
});

test('QUERY_DATA_VERSION-style heartbeats keep a broker alive', () => {
  const { rim, clock } = setup(1000);
  rim.registerBroker(params({}));
  for (let i = 0; i < 5; i++) {
    clock.now += 800;
    rim.updateBrokerInfoUpdateTimestamp('C', '10.0.0.1:10911');
    assert.equal(rim.scanNotActiveBroker(), 0);
  }
});

test('an address re-registered under another id replaces the old id (slave promoted to master)', () => {
  const { rim } = setup();
  rim.registerBroker(params({ brokerAddr: '10.0.0.1:10911', brokerId: 0 }));
  rim.registerBroker(params({ brokerAddr: '10.0.0.2:10911', brokerId: 1 }));
  rim.unregisterBroker('C', '10.0.0.1:10911', 'broker-a', 0);
  rim.registerBroker(params({ brokerAddr: '10.0.0.2:10911', brokerId: 0 }));
  assert.deepEqual(rim.pickupTopicRouteData('T')?.brokerDatas[0]?.brokerAddrs, { 0: '10.0.0.2:10911' });
});

test('of two addresses claiming one id, the newer stateVersion wins', () => {
  const { rim } = setup();
  rim.registerBroker(params({ brokerAddr: '10.0.0.1:10911', topicConfigWrapper: { topicConfigTable: {}, dataVersion: { ...DV, stateVersion: 5 } } }));
  const res = rim.registerBroker(params({ brokerAddr: '10.0.0.9:10911', topicConfigWrapper: { topicConfigTable: {}, dataVersion: { ...DV, stateVersion: 4 } } }));
  assert.deepEqual(res, {});
  assert.deepEqual(rim.getAllClusterInfo().brokerAddrTable['broker-a']?.brokerAddrs, { 0: '10.0.0.1:10911' });
  assert.deepEqual(rim.liveBrokers().map((b) => b.brokerAddr), ['10.0.0.1:10911']);
  rim.registerBroker(params({ brokerAddr: '10.0.0.9:10911', topicConfigWrapper: { topicConfigTable: {}, dataVersion: { ...DV, stateVersion: 6 } } }));
  assert.deepEqual(rim.getAllClusterInfo().brokerAddrTable['broker-a']?.brokerAddrs, { 0: '10.0.0.9:10911' });
});

test('an unchanged DataVersion still restores a topic the route lost', () => {
  const { rim } = setup();
  rim.registerBroker(params({ topics: [topicConfig('T'), topicConfig('U')] }));
  rim.deleteTopic('T');
  assert.equal(rim.pickupTopicRouteData('T'), undefined);
  rim.registerBroker(params({ topics: [topicConfig('T'), topicConfig('U')] }));
  assert.ok(rim.pickupTopicRouteData('T'));
  assert.equal(rim.isBrokerTopicConfigChanged('C', '10.0.0.1:10911', DV), false);
  assert.equal(rim.isBrokerTopicConfigChanged('C', '10.0.0.1:10911', { ...DV, counter: 2 }), true);
  assert.equal(rim.isBrokerTopicConfigChanged('C', '10.0.0.9:10911', DV), true);
});

test('closing a connection unregisters every broker that registered over it', () => {
  const { rim } = setup();
  const shared = fakeConn('shared').conn;
  const other = fakeConn('other').conn;
  rim.registerBroker(params({ brokerName: 'a', brokerAddr: '10.0.0.1:10911', channel: shared, topics: [topicConfig('TA')] }));
  rim.registerBroker(params({ brokerName: 'b', brokerAddr: '10.0.0.2:10911', channel: shared, topics: [topicConfig('TB')] }));
  rim.registerBroker(params({ brokerName: 'c', brokerAddr: '10.0.0.3:10911', channel: other, topics: [topicConfig('TC')] }));
  rim.onChannelDestroy(shared);
  assert.deepEqual(rim.getAllTopicList().topicList, ['TC']);
  assert.deepEqual(rim.getAllClusterInfo().clusterAddrTable, { C: ['c'] });
  // A connection that re-registered elsewhere no longer owns the broker.
  rim.registerBroker(params({ brokerName: 'c', brokerAddr: '10.0.0.3:10911', channel: shared, topics: [topicConfig('TC')] }));
  rim.onChannelDestroy(other);
  assert.deepEqual(rim.getAllTopicList().topicList, ['TC']);
});

test('5.x acting master: a lone slave serves its topics read-only; losing the master turns queues read-only', () => {
  const { rim } = setup();
  // A slave whose master is not registered stands in for it.
  rim.registerBroker(params({ brokerAddr: '10.0.0.2:10911', brokerId: 1, enableActingMaster: true }));
  assert.deepEqual(rim.pickupTopicRouteData('T')?.queueDatas.map((q) => q.perm), [4]);
  rim.registerBroker(params({ brokerAddr: '10.0.0.1:10911', brokerId: 0, enableActingMaster: true }));
  assert.deepEqual(rim.pickupTopicRouteData('T')?.queueDatas.map((q) => q.perm), [6]);
  rim.unregisterBroker('C', '10.0.0.1:10911', 'broker-a', 0);
  assert.deepEqual(rim.pickupTopicRouteData('T')?.queueDatas.map((q) => q.perm), [4]);

  // A 4.x slave (no enableActingMaster) never changes routes.
  const { rim: old } = setup();
  old.registerBroker(params({ brokerAddr: '10.0.0.2:10911', brokerId: 1 }));
  assert.equal(old.pickupTopicRouteData('T'), undefined);
});

test('filter servers appear in routes; a topic named __proto__ is an ordinary topic', () => {
  const { rim } = setup();
  rim.registerBroker(params({ filterServerList: ['10.0.0.1:30000'], topics: [topicConfig('__proto__')] }));
  const route = rim.pickupTopicRouteData('__proto__');
  assert.deepEqual(route?.filterServerTable, { '10.0.0.1:10911': ['10.0.0.1:30000'] });
  assert.deepEqual(rim.getAllTopicList().topicList, ['__proto__']);
  // An empty list drops them; an absent one leaves them.
  rim.registerBroker(params({ filterServerList: undefined, topics: [topicConfig('__proto__')] }));
  assert.deepEqual(rim.pickupTopicRouteData('__proto__')?.filterServerTable, { '10.0.0.1:10911': ['10.0.0.1:30000'] });
  rim.registerBroker(params({ filterServerList: [], topics: [topicConfig('__proto__')] }));
  assert.deepEqual(rim.pickupTopicRouteData('__proto__')?.filterServerTable, {});
});
