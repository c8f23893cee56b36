import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsItemSet } from '../../src/store/stats/stats-item.js';
import { BrokerStatsManager } from '../../src/store/stats/broker-stats-manager.js';
import { BrokerStats, msUntilNextMorning } from '../../src/store/stats/broker-stats.js';
import { StoreStatsService } from '../../src/store/stats/store-stats-service.js';
import { StatsName } from '../../src/common/stats.js';

// The statistics windows, on a clock the test moves (as upstream's StatsItem samples them).

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

test('a StatsItem window covers what was added between its first and last sampling', () => {
  const c = clock();
  const set = new StatsItemSet('TOPIC_PUT_NUMS', c.now);
  set.samplingInSeconds(c.now()); // nothing yet: no item, no window
  assert.deepEqual(set.snapshotInMinute('T'), { sum: 0, tps: 0, avgpt: 0, times: 0 });
  set.addValue('T', 30, 3);
  c.advance(5_000);
  set.samplingInSeconds(c.now());
  // The first sampling starts the window from zero one period (10 s) back.
  assert.deepEqual(set.snapshotInMinute('T'), { sum: 30, tps: 3, avgpt: 10, times: 3 });
  for (let i = 0; i < 6; i++) {
    set.addValue('T', 100, 1);
    c.advance(10_000);
    set.samplingInSeconds(c.now());
  }
  // Seven snapshots at most: the window is the last minute, 6 × 100 in 60 s.
  const m = set.snapshotInMinute('T');
  assert.equal(m.sum, 600);
  assert.equal(m.tps, 10);
  assert.equal(m.avgpt, 100);
});

test('hour and day windows sample on their own periods', () => {
  const c = clock();
  const set = new StatsItemSet('GROUP_GET_NUMS', c.now);
  set.addValue('T@G', 7200, 2);
  set.samplingInMinutes(c.now());
  set.samplingInHour(c.now());
  const item = set.get('T@G')!;
  assert.equal(item.statsDataInHour().sum, 7200);
  assert.equal(item.statsDataInHour().tps, 12, '7200 over 10 minutes');
  assert.equal(item.statsDataInDay().tps, 2, '7200 over an hour');
  assert.equal(item.statsDataInMinute().sum, 0, 'the minute window was not sampled');
});

test('idle items are cleaned only past maxStatsIdleTimeInMinutes (at least 30), and never when it is negative', () => {
  const c = clock();
  let idleMinutes = -1;
  const m = new BrokerStatsManager({ clusterName: 'C', now: c.now, maxStatsIdleTimeInMinutes: () => idleMinutes });
  const busy = m.topicPutStats('Busy');
  const idle = m.topicPutStats('Idle');
  busy.add(1, 100);
  idle.add(1, 100);
  m.samplingInSeconds();
  c.advance(40 * 60_000);
  busy.add(1, 100);
  m.samplingInSeconds();
  m.cleanIdle();
  assert.ok(m.statsItem(StatsName.TOPIC_PUT_NUMS, 'Idle'), 'kept: cleaning is off');
  idleMinutes = 5; // means 30
  m.cleanIdle();
  assert.equal(m.statsItem(StatsName.TOPIC_PUT_NUMS, 'Idle'), undefined);
  assert.equal(m.statsItem(StatsName.TOPIC_PUT_SIZE, 'Idle'), undefined);
  assert.ok(idle.removed, 'a holder of the old counters knows to fetch new ones');
  assert.ok(m.statsItem(StatsName.TOPIC_PUT_NUMS, 'Busy'));
  assert.equal(m.statsItem(StatsName.BROKER_PUT_NUMS, 'C')?.value, 3, 'broker totals are never cleaned');
});

test('broker totals leave system topics out of the "without system topic" counts', () => {
  const m = new BrokerStatsManager({ clusterName: 'C' });
  m.topicPutStats('Orders').add(5, 500);
  m.topicPutStats('RMQ_SYS_TRANS_HALF_TOPIC').add(2, 200);
  m.incGroupGet('G', 'Orders', 4, 400);
  m.incGroupGet('G', 'rmq_sys_REVIVE_LOG_C', 1, 100);
  assert.equal(m.brokerPutNumsWithoutSystemTopic, 5);
  assert.equal(m.brokerGetNumsWithoutSystemTopic, 4);
  assert.equal(m.statsItem(StatsName.BROKER_PUT_NUMS, 'C')?.value, 7);
  assert.equal(m.statsItem(StatsName.BROKER_GET_NUMS, 'C')?.value, 5);
});

test('a deleted group takes its topic@group items with it', () => {
  const m = new BrokerStatsManager({ clusterName: 'C' });
  m.incGroupGet('G1', 'T', 1, 10);
  m.incGroupGet('G2', 'T', 1, 10);
  m.incSendBackNums('G1', 'T');
  m.onGroupDeleted('G1');
  assert.equal(m.statsItem(StatsName.GROUP_GET_NUMS, 'T@G1'), undefined);
  assert.equal(m.statsItem(StatsName.SNDBCK_PUT_NUMS, 'T@G1'), undefined);
  assert.ok(m.statsItem(StatsName.GROUP_GET_NUMS, 'T@G2'));
});

test('BrokerStats.record moves today\'s morning to yesterday and now to today', () => {
  const m = new BrokerStatsManager({ clusterName: 'C' });
  const s = new BrokerStats(m);
  m.topicPutStats('T').add(10, 1000);
  assert.deepEqual(s.record(), { putYesterday: 10, getYesterday: 0 });
  m.topicPutStats('T').add(4, 400);
  assert.deepEqual(s.record(), { putYesterday: 4, getYesterday: 0 });
  assert.equal(s.msgPutTotalYesterdayMorning, 10);
  assert.equal(s.msgPutTotalTodayMorning, 14);
  const noon = new Date(2026, 10, 23, 12, 0, 0).getTime();
  assert.equal(msUntilNextMorning(noon), 12 * 3600_000);
});

test('store rates: each over 10 s, a minute and 10 minutes once that many seconds were sampled', () => {
  const c = clock();
  const s = new StoreStatsService(c.now);
  s.sampling();
  for (let i = 0; i < 60; i++) {
    s.putMessageTimesTotal += 100;
    s.getMessageTimesTotalFound += 3;
    s.getMessageTimesTotalMiss += 1;
    s.getMessageTransferredMsgCount += 90;
    c.advance(1000);
    s.sampling();
  }
  const info = s.runtimeInfo();
  assert.equal(info.putTps, '100 100 ', 'no 10-minute figure before 10 minutes');
  assert.equal(info.getFoundTps, '3 3 ');
  assert.equal(info.getMissTps, '1 1 ');
  assert.equal(info.getTotalTps, '4 4 0');
  assert.equal(info.getTransferredTps, '90 90 ');
  assert.equal(info.putMessageTimesTotal, '6000');
});

test('put latency: the last minute\'s distribution in upstream\'s classes, its 99th and 99.9th percentiles, and the maximum', () => {
  const c = clock();
  const s = new StoreStatsService(c.now);
  assert.equal(s.runtimeInfo().putMessageDistributeTime, undefined, 'nothing before a minute was collected');
  assert.equal(s.runtimeInfo().putLatency99, '0.00');
  for (let i = 0; i < 990; i++) s.recordPutLatency(i % 3); // 0, 1 and 2 ms
  for (let i = 0; i < 9; i++) s.recordPutLatency(30);
  s.recordPutLatency(1500);
  c.advance(60_000);
  s.sampling();
  s.recordPutLatency(20_000); // the next minute: not reported yet, but the maximum moves
  const info = s.runtimeInfo();
  assert.equal(info.putMessageDistributeTime,
    '[<=0ms]:330 [0~10ms]:660 [10~50ms]:9 [50~100ms]:0 [100~200ms]:0 [200~500ms]:0 [500ms~1s]:0 [1~2s]:1 [2~3s]:0 [3~4s]:0 [4~5s]:0 [5~10s]:0 [10s~]:0 ');
  assert.equal(info.putMessageEntireTimeMax, '20000');
  // 99 % of 1,000 puts are the 990 of at most 2 ms: the 990th falls at the top of the 2 ms bucket.
  assert.equal(info.putLatency99, '2.00');
  // The 999th is one of the nine 30 ms puts, in the (28, 30] bucket.
  assert.ok(Number(info.putLatency999) > 28 && Number(info.putLatency999) <= 30, info.putLatency999);
});
