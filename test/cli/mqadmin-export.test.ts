import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CURRENT_VERSION, versionDesc } from '../../src/remoting/codes.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { ok, fails } from './mqadmin-run.js';

// mqadmin exportMetadata / exportConfigs / exportMetrics (upstream ExportMetadataCommand,
// ExportConfigsCommand, ExportMetricsCommand) run in-process against a real NameServer + Broker:
// the files they write, where, and what they hold.

let mq: Standalone;
let dir: string;
let n: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rmq-mqadmin-export-'));
  mq = await startStandalone({ storeDir: join(dir, 'store'), ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, logger: pino({ level: 'silent' }) });
  n = ['-n', mq.namesrvAddr];
  await ok('updateTopic', ...n, '-b', mq.brokerAddr, '-t', 'ExpT', '-r', '2', '-w', '3');
  await ok('updateTopic', ...n, '-b', mq.brokerAddr, '-t', '%RETRY%ExpG', '-r', '1', '-w', '1');
  await ok('updateSubGroup', ...n, '-b', mq.brokerAddr, '-g', 'ExpG', '-r', '4');
  await ok('updateSubGroup', ...n, '-b', mq.brokerAddr, '-g', 'CID_RMQ_SYS_ExpSys');
  await ok('updateSubGroup', ...n, '-b', mq.brokerAddr, '-g', 'TOOLS_CONSUMER');
  await ok('sendMessage', ...n, '-t', 'ExpT', '-p', 'hello');
});

after(async () => {
  await mq?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

test('exportMetadata -b -t / -g / both, and -c, write the user topics and groups', async () => {
  const out = join(dir, 'meta');
  assert.equal(await ok('exportMetadata', ...n, '-b', mq.brokerAddr, '-t', '-f', out), `export ${join(out, 'topic.json')} success\n`);
  const topicFile = readJson(join(out, 'topic.json'));
  const topics = topicFile.topicConfigTable as Record<string, { readQueueNums: number; writeQueueNums: number }>;
  assert.equal(topics.ExpT?.writeQueueNums, 3);
  assert.ok(topicFile.dataVersion, 'the TopicConfigSerializeWrapper as the broker sends it');
  // System topics (fixed ones and the broker's own), and retry topics without -s, are left out.
  for (const t of Object.keys(topics)) assert.ok(!/^(RMQ_SYS_|SCHEDULE_TOPIC|TBW102|%RETRY%|broker-a$|DefaultCluster)/.test(t), t);
  await ok('exportMetadata', ...n, '-b', mq.brokerAddr, '-t', '-s', '-f', out);
  assert.ok((readJson(join(out, 'topic.json')).topicConfigTable as Record<string, unknown>)['%RETRY%ExpG'], '-s keeps retry topics');

  assert.equal(await ok('exportMetadata', ...n, '-b', mq.brokerAddr, '-g', '-f', out), `export ${join(out, 'subscriptionGroup.json')} success\n`);
  const groupFile = readJson(join(out, 'subscriptionGroup.json'));
  const groups = groupFile.subscriptionGroupTable as Record<string, { retryMaxTimes: number }>;
  assert.equal(groups.ExpG?.retryMaxTimes, 4);
  assert.equal(groups.CID_RMQ_SYS_ExpSys, undefined, 'system groups are left out');
  assert.equal(groups.TOOLS_CONSUMER, undefined, 'predefined groups are left out');
  assert.ok(groupFile.forbiddenTable && groupFile.dataVersion);

  const before = Date.now();
  assert.equal(await ok('exportMetadata', ...n, '-c', 'DefaultCluster', '-f', out), `export ${join(out, 'metadata.json')} success\n`);
  const all = readJson(join(out, 'metadata.json'));
  assert.equal((all.topicConfigTable as Record<string, { readQueueNums: number }>).ExpT?.readQueueNums, 2);
  assert.equal((all.subscriptionGroupTable as Record<string, { retryMaxTimes: number }>).ExpG?.retryMaxTimes, 4);
  assert.ok(typeof all.exportTime === 'number' && all.exportTime >= before);
  assert.match(readFileSync(join(out, 'metadata.json'), 'utf8'), /^\{\n\t"/, 'pretty-printed with tabs, as fastjson');

  await ok('exportMetadata', ...n, '-c', 'DefaultCluster', '-g', '-f', join(dir, 'metaG'));
  assert.deepEqual(Object.keys(readJson(join(dir, 'metaG', 'subscriptionGroup.json'))).sort(), ['exportTime', 'subscriptionGroupTable']);
  await ok('exportMetadata', ...n, '-b', mq.brokerAddr, '-f', join(dir, 'metaB'));
  assert.deepEqual(Object.keys(readJson(join(dir, 'metaB', 'metadata.json'))).sort(), ['exportTime', 'subscriptionGroupTable', 'topicConfigTable']);
});

test('exportConfigs writes the kept broker settings and the cluster scale; the default path is upstream\'s', async () => {
  const out = join(dir, 'cfg');
  assert.equal(await ok('exportConfigs', ...n, '-c', 'DefaultCluster', '-f', out), `export ${join(out, 'configs.json')} success\n`);
  const cfg = readJson(join(out, 'configs.json')) as { brokerConfigs: Record<string, Record<string, string>>; clusterScale: Record<string, number> };
  assert.deepEqual(cfg.clusterScale, { namesrvSize: 1, masterBrokerSize: 1, slaveBrokerSize: 0 });
  const b = cfg.brokerConfigs['broker-a'];
  assert.ok(b, JSON.stringify(cfg));
  assert.equal(b.brokerName, 'broker-a');
  assert.equal(b.brokerClusterName, 'DefaultCluster');
  assert.equal(b.brokerId, '0');
  assert.equal(b.listenPort, undefined, 'only upstream\'s chosen keys');

  // Without -f: upstream's /tmp/rocketmq/export (left as it was found).
  const defaultFile = '/tmp/rocketmq/export/configs.json';
  const hadRoot = existsSync('/tmp/rocketmq');
  rmSync(defaultFile, { force: true });
  try {
    const out2 = await ok('exportConfigs', ...n, '-c', 'DefaultCluster');
    assert.equal(out2, `export ${defaultFile} success\n`);
    assert.ok(existsSync(defaultFile));
  } finally {
    rmSync(hadRoot ? defaultFile : '/tmp/rocketmq', { recursive: true, force: true });
  }
});

test('exportMetrics writes each broker\'s runtime env, quota and version, and the cluster totals', async () => {
  const out = join(dir, 'metrics');
  assert.equal(await ok('exportMetrics', ...n, '-c', 'DefaultCluster', '-f', out), `export ${join(out, 'metrics.json')} success\n`);
  const m = readJson(join(out, 'metrics.json')) as {
    evaluateReport: Record<string, { runtimeEnv: Record<string, unknown>; runtimeQuota: Record<string, unknown>; runtimeVersion: { rocketmqVersion: string; clientInfo: string[] } }>;
    totalData: { totalTps: Record<string, number>; totalOneDayNum: Record<string, number> };
  };
  const r = m.evaluateReport['broker-a'];
  assert.ok(r, JSON.stringify(m));
  assert.equal(r.runtimeVersion.rocketmqVersion, versionDesc(CURRENT_VERSION));
  assert.deepEqual(r.runtimeVersion.clientInfo, []);
  const q = r.runtimeQuota as { topicSize: number; groupSize: number; tps: Record<string, number>; oneDayNum: Record<string, number>; messageAverageSize: string };
  assert.ok(q.topicSize >= 1 && q.groupSize >= 1, JSON.stringify(q));
  assert.deepEqual(Object.keys(q.tps).sort(), ['normalInTps', 'normalOutTps', 'scheduleInTps', 'transInTps']);
  assert.deepEqual(Object.keys(q.oneDayNum).sort(), ['normalOneDayInNum', 'normalOneDayOutNum', 'scheduleOneDayInNum', 'transOneDayInNum']);
  assert.ok(Number(q.messageAverageSize) > 0, 'one message was sent');
  assert.deepEqual(Object.keys(m.totalData.totalTps).sort(), ['totalNormalInTps', 'totalNormalOutTps', 'totalScheduleInTps', 'totalTransInTps']);
  assert.equal(m.totalData.totalTps.totalNormalInTps, q.tps.normalInTps);
  assert.equal(m.totalData.totalOneDayNum.normalOneDayInNum, q.oneDayNum.normalOneDayInNum);
});

test('export commands refuse bad input in one line', async () => {
  await fails(/-b <brokerAddr> or -c <clusterName>/, 'exportMetadata', ...n, '-f', dir);
  await fails(/give either -b or -c/, 'exportMetadata', ...n, '-b', mq.brokerAddr, '-c', 'DefaultCluster', '-f', dir);
  await fails(/cluster NoSuchCluster does not exist/, 'exportMetadata', ...n, '-c', 'NoSuchCluster', '-f', dir);
  await fails(/required option '-c, --clusterName <name>'/, 'exportConfigs', ...n, '-f', dir);
  await fails(/required option '-c, --clusterName <name>'/, 'exportMetrics', ...n, '-f', dir);
  await fails(/cluster NoSuchCluster does not exist/, 'exportConfigs', ...n, '-c', 'NoSuchCluster', '-f', dir);
  await fails(/cluster NoSuchCluster does not exist/, 'exportMetrics', ...n, '-c', 'NoSuchCluster', '-f', dir);
  await fails(/connect|refused|ECONNREFUSED|unreachable/i, 'exportMetadata', ...n, '-b', '127.0.0.1:1', '-t', '-f', join(dir, 'never'));
  assert.equal(existsSync(join(dir, 'never')), false, 'no file when the broker cannot be read');
});
