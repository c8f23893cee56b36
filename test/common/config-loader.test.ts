import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BROKER_CONFIG_SPEC,
  ConfigError,
  configEntries,
  KNOWN_UNUSED_BROKER_KEYS,
  KNOWN_UNUSED_NAMESRV_KEYS,
  loadBrokerConfig,
  loadNamesrvConfig,
  MESSAGE_STORE_CONFIG_SPEC,
  NAMESRV_CONFIG_SPEC,
  readConfigFile,
  validateBrokerConfig,
} from '../../src/common/config-loader.js';
import { defaultBrokerConfig, defaultMessageStoreConfig } from '../../src/common/config.js';
import { parseProperties } from '../../src/common/properties-file.js';

function rejects(fn: () => unknown, key: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.ok(err.message.includes(key), err.message);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test('spec tables are derived from the defaults: every field has a type', () => {
  assert.deepEqual(Object.keys(BROKER_CONFIG_SPEC).sort(), Object.keys(defaultBrokerConfig()).sort());
  assert.deepEqual(Object.keys(MESSAGE_STORE_CONFIG_SPEC).sort(), Object.keys(defaultMessageStoreConfig()).sort());
  assert.equal(BROKER_CONFIG_SPEC.autoCreateTopicEnable.type, 'bool');
  assert.equal(BROKER_CONFIG_SPEC.brokerName.type, 'string');
  assert.equal(BROKER_CONFIG_SPEC.listenPort.type, 'int');
  assert.equal(BROKER_CONFIG_SPEC.brokerId.type, 'long');
  assert.equal(MESSAGE_STORE_CONFIG_SPEC.flushDiskType.type, 'enum');
  assert.equal(NAMESRV_CONFIG_SPEC.orderMessageEnable.type, 'bool');
});

test('a typical broker.conf maps onto both BrokerConfig and MessageStoreConfig', () => {
  const props = parseProperties(`
brokerClusterName = MyCluster
brokerName = broker-b
brokerId = 0
namesrvAddr = 10.0.0.1:9876;10.0.0.2:9876
brokerIP1 = 10.0.0.5
listenPort = 10921
storePathRootDir = /data/rmq
flushDiskType = SYNC_FLUSH
maxMessageSize = 65536
autoCreateTopicEnable = false
defaultTopicQueueNums = 4
deleteWhen = 04;16
fileReservedTime = 48
brokerRole = ASYNC_MASTER
shortPollingTimeMills = 2000
hotTailCacheBytes = 8589934592
`);
  const { brokerConfig: b, storeConfig: s, notices } = loadBrokerConfig(props, { source: 'broker.conf' });
  assert.deepEqual(notices, []);
  assert.equal(b.brokerClusterName, 'MyCluster');
  assert.equal(b.brokerName, 'broker-b');
  assert.equal(b.namesrvAddr, '10.0.0.1:9876;10.0.0.2:9876');
  assert.equal(b.brokerIP1, '10.0.0.5');
  assert.equal(b.listenPort, 10921);
  assert.equal(b.autoCreateTopicEnable, false);
  assert.equal(b.defaultTopicQueueNums, 4);
  assert.equal(b.shortPollingTimeMills, 2000);
  assert.equal(s.storePathRootDir, '/data/rmq');
  assert.equal(s.flushDiskType, 'SYNC_FLUSH');
  assert.equal(s.maxMessageSize, 65536);
  assert.equal(s.deleteWhen, '04;16');
  assert.equal(s.fileReservedTime, 48);
  // A long beyond Java int range is accepted for long keys.
  assert.equal(s.hotTailCacheBytes, 8589934592);
  // Untouched keys keep the defaults.
  assert.equal(s.mappedFileSizeCommitLog, 1024 * 1024 * 1024);
});

test('values are trimmed, booleans are case-insensitive, ints accept a sign', () => {
  const { brokerConfig: b, storeConfig: s } = loadBrokerConfig({
    listenPort: ' 10911 \t',
    traceOn: 'FALSE',
    longPollingEnable: 'True',
    brokerId: '+0',
    brokerName: '  a  ',
    fileReservedTime: '-0',
  });
  assert.equal(b.listenPort, 10911);
  assert.equal(b.traceOn, false);
  assert.equal(b.longPollingEnable, true);
  assert.equal(b.brokerId, 0);
  assert.equal(b.brokerName, 'a');
  assert.equal(s.fileReservedTime, 0);
});

test('legacy maped… spellings map to the mapped… fields', () => {
  const { storeConfig: s, notices } = loadBrokerConfig({
    mapedFileSizeCommitLog: '65536',
    mapedFileSizeConsumeQueue: '2000',
    maxMessageSize: '1024',
  });
  assert.equal(s.mappedFileSizeCommitLog, 65536);
  assert.equal(s.mappedFileSizeConsumeQueue, 2000);
  assert.deepEqual(notices, []);
});

test('when both spellings are set, the current one wins and the old one is pointed out', () => {
  const { storeConfig: s, notices } = loadBrokerConfig({
    mapedFileSizeCommitLog: '1',
    mappedFileSizeCommitLog: '65536',
    maxMessageSize: '1024',
  });
  assert.equal(s.mappedFileSizeCommitLog, 65536);
  assert.equal(notices.length, 1);
  assert.equal(notices[0]?.level, 'warn');
  assert.equal(notices[0]?.key, 'mapedFileSizeCommitLog');
});

test('legacy keys are validated too, naming the key as written', () => {
  rejects(() => loadBrokerConfig({ mapedFileSizeConsumeQueue: '30' }), 'mapedFileSizeConsumeQueue', /multiple of 20/);
});

test('known upstream keys we do not use are info notices, not warnings', () => {
  const { notices } = loadBrokerConfig({
    haFlowControlEnable: 'false',
    sendMessageThreadPoolNums: '16',
    pullMessageThreadPoolNums: '32',
    storePathIndex: '/x/index',
    aclEnable: 'false',
    serverWorkerThreads: '8',
  });
  assert.deepEqual(notices.map((n) => [n.level, n.key]), [
    ['info', 'haFlowControlEnable'],
    ['info', 'sendMessageThreadPoolNums'],
    ['info', 'pullMessageThreadPoolNums'],
    ['info', 'storePathIndex'],
    ['info', 'aclEnable'],
    ['info', 'serverWorkerThreads'],
  ]);
  for (const n of notices) assert.match(n.message, /not used by this implementation/);
  // Keys we implement are never in the "known, unused" set.
  for (const k of [...Object.keys(BROKER_CONFIG_SPEC), ...Object.keys(MESSAGE_STORE_CONFIG_SPEC)]) {
    assert.equal(KNOWN_UNUSED_BROKER_KEYS.has(k), false, k);
  }
  assert.equal(KNOWN_UNUSED_BROKER_KEYS.has('mapedFileSizeCommitLog'), false);
  assert.equal(KNOWN_UNUSED_NAMESRV_KEYS.has('listenPort'), false);
});

test('unknown keys: one warning each naming the key, with a suggestion for near misses', () => {
  const { notices, brokerConfig } = loadBrokerConfig(
    { listenPrt: '1', somethingElse: 'x', brokername: 'y' },
    { source: 'my.conf' },
  );
  assert.equal(notices.length, 3);
  for (const n of notices) {
    assert.equal(n.level, 'warn');
    assert.match(n.message, /ignored/);
    assert.match(n.message, /my\.conf/);
    assert.ok(n.message.includes(`"${n.key}"`));
  }
  assert.match(notices[0]?.message ?? '', /did you mean "listenPort"/);
  assert.doesNotMatch(notices[1]?.message ?? '', /did you mean/);
  assert.match(notices[2]?.message ?? '', /did you mean "brokerName"/);
  assert.equal(brokerConfig.listenPort, 10911);
});

test('keys that are names of Object.prototype members are plain unknown keys', () => {
  const { notices } = loadBrokerConfig({ toString: '1', constructor: 'x', __proto__: 'y', hasOwnProperty: 'z' } as Record<string, string>);
  assert.deepEqual(notices.map((n) => n.level), ['warn', 'warn', 'warn']);
  const parsed = loadBrokerConfig(parseProperties('__proto__=1\nvalueOf=2\n'));
  assert.deepEqual(parsed.notices.map((n) => [n.level, n.key]), [['warn', '__proto__'], ['warn', 'valueOf']]);
  assert.equal(loadNamesrvConfig({ toString: '1' }).notices[0]?.level, 'warn');
});

test('invalid values throw a ConfigError naming the key, the value and what is allowed', () => {
  rejects(() => loadBrokerConfig({ listenPort: 'abc' }, { source: 'b.conf' }), 'listenPort', /"abc"/, /0 to 65535/, /b\.conf/);
  rejects(() => loadBrokerConfig({ listenPort: '65536' }), 'listenPort', /0 to 65535/);
  rejects(() => loadBrokerConfig({ listenPort: '-1' }), 'listenPort');
  rejects(() => loadBrokerConfig({ listenPort: '1.5' }), 'listenPort');
  rejects(() => loadBrokerConfig({ listenPort: '' }), 'listenPort');
  rejects(() => loadBrokerConfig({ flushDiskType: 'FOO' }), 'flushDiskType', /"FOO"/, /ASYNC_FLUSH, SYNC_FLUSH/);
  rejects(() => loadBrokerConfig({ flushDiskType: 'sync_flush' }), 'flushDiskType');
  rejects(() => loadBrokerConfig({ brokerRole: 'MASTER' }), 'brokerRole', /ASYNC_MASTER, SYNC_MASTER, SLAVE/);
  rejects(() => loadBrokerConfig({ autoCreateTopicEnable: 'yes' }), 'autoCreateTopicEnable', /true or false/);
  rejects(() => loadBrokerConfig({ mappedFileSizeCommitLog: '-1' }), 'mappedFileSizeCommitLog');
  rejects(() => loadBrokerConfig({ mappedFileSizeCommitLog: '0' }), 'mappedFileSizeCommitLog');
  // Java int overflow is caught for int keys.
  rejects(() => loadBrokerConfig({ mappedFileSizeCommitLog: '4294967296' }), 'mappedFileSizeCommitLog', /2147483647/);
  rejects(() => loadBrokerConfig({ mappedFileSizeConsumeQueue: '6000001' }), 'mappedFileSizeConsumeQueue', /multiple of 20/);
  rejects(() => loadBrokerConfig({ maxMessageSize: '0' }), 'maxMessageSize');
  rejects(() => loadBrokerConfig({ brokerId: '-1' }), 'brokerId');
  rejects(() => loadBrokerConfig({ defaultTopicQueueNums: '0' }), 'defaultTopicQueueNums');
  rejects(() => loadBrokerConfig({ fileReservedTime: '-5' }), 'fileReservedTime');
  rejects(() => loadBrokerConfig({ brokerName: '   ' }), 'brokerName', /non-empty/);
  rejects(() => loadBrokerConfig({ brokerIP1: 'not-an-ip' }), 'brokerIP1', /IPv4/);
  rejects(() => loadBrokerConfig({ namesrvAddr: 'localhost' }), 'namesrvAddr', /127\.0\.0\.1:9876;192\.168\.0\.1:9876/);
  rejects(() => loadBrokerConfig({ namesrvAddr: 'a:9876;b:0' }), 'namesrvAddr');
  rejects(() => loadBrokerConfig({ deleteWhen: '25' }), 'deleteWhen', /0-23/);
  rejects(() => loadBrokerConfig({ deleteWhen: 'four' }), 'deleteWhen');
  rejects(() => loadBrokerConfig({ messageDelayLevel: '1s 5x' }), 'messageDelayLevel');
  rejects(() => loadBrokerConfig({ diskMaxUsedSpaceRatio: '101' }), 'diskMaxUsedSpaceRatio');
  rejects(() => loadBrokerConfig({ brokerPermission: '16' }), 'brokerPermission');
  rejects(() => loadBrokerConfig({ flushDelayOffsetInterval: '0' }), 'flushDelayOffsetInterval');
  rejects(() => loadBrokerConfig({ flushDelayOffsetInterval: '10s' }), 'flushDelayOffsetInterval', /"10s"/);
});

test('valid forms of the structured string keys', () => {
  const { brokerConfig: b, storeConfig: s } = loadBrokerConfig({
    namesrvAddr: ' 127.0.0.1:9876 ; ns.example.com:9876; ',
    brokerIP1: '',
    deleteWhen: '4;16;23',
    messageDelayLevel: '1s 5m 2h 1d',
  });
  assert.equal(b.namesrvAddr, '127.0.0.1:9876;ns.example.com:9876');
  assert.equal(b.brokerIP1, '');
  assert.equal(s.deleteWhen, '4;16;23');
  assert.equal(s.messageDelayLevel, '1s 5m 2h 1d');
});

test('as upstream, a master always has brokerId 0 and a slave needs brokerId > 0', () => {
  const m = loadBrokerConfig({ brokerId: '3' });
  assert.equal(m.brokerConfig.brokerId, 0);
  assert.equal(m.notices[0]?.key, 'brokerId');
  assert.equal(m.notices[0]?.level, 'warn');
  const sl = loadBrokerConfig({ brokerId: '1', brokerRole: 'SLAVE' });
  assert.equal(sl.brokerConfig.brokerId, 1);
  assert.deepEqual(sl.notices, []);
  rejects(() => loadBrokerConfig({ brokerRole: 'SLAVE' }), 'brokerId', /SLAVE/);
});

test('cross-key sanity warnings: message larger than a CommitLog file or a frame', () => {
  const a = loadBrokerConfig({ mappedFileSizeCommitLog: '1024', maxMessageSize: '4096' });
  assert.deepEqual(a.notices.map((n) => [n.level, n.key]), [['warn', 'maxMessageSize']]);
  const b = loadBrokerConfig({ maxFrameSize: '1000', maxMessageSize: '1000' });
  assert.deepEqual(b.notices.map((n) => [n.level, n.key]), [['warn', 'maxMessageSize']]);
});

test('layers apply in order and each value is blamed on its own source', () => {
  const { brokerConfig, storeConfig, notices } = loadBrokerConfig([
    { source: 'broker.conf', props: { listenPort: '10921', brokerName: 'from-file', typo: '1' } },
    { source: 'the command line', props: { listenPort: '0', storePathRootDir: '/cli/store' } },
  ]);
  assert.equal(brokerConfig.listenPort, 0);
  assert.equal(brokerConfig.brokerName, 'from-file');
  assert.equal(storeConfig.storePathRootDir, '/cli/store');
  assert.match(notices[0]?.message ?? '', /in broker\.conf/);
  rejects(
    () => loadBrokerConfig([
      { source: 'broker.conf', props: { listenPort: '1' } },
      { source: 'the command line', props: { listenPort: 'x' } },
    ]),
    'listenPort',
    /the command line/,
  );
  // Cross-key warnings name every layer, as either may hold the culprit.
  const cross = loadBrokerConfig([
    { source: 'a.conf', props: { mappedFileSizeCommitLog: '1024' } },
    { source: 'b', props: { maxMessageSize: '4096' } },
  ]);
  assert.match(cross.notices[0]?.message ?? '', /a\.conf \+ b/);
});

test('a base configuration replaces the upstream defaults', () => {
  const first = loadBrokerConfig({ brokerName: 'base' });
  const { brokerConfig } = loadBrokerConfig({ listenPort: '1' }, { brokerConfig: first.brokerConfig });
  assert.equal(brokerConfig.brokerName, 'base');
  assert.equal(brokerConfig.listenPort, 1);
  const n = loadNamesrvConfig({}, { namesrvConfig: { listenPort: 0 } });
  assert.equal(n.namesrvConfig.listenPort, 0);
});

test('validateBrokerConfig checks configurations built in code', () => {
  const b = { ...defaultBrokerConfig(), listenPort: 70000 };
  rejects(() => validateBrokerConfig(b, defaultMessageStoreConfig(), 'startStandalone()'), 'listenPort', /70000/, /startStandalone\(\)/);
  const wrongType = { ...defaultBrokerConfig(), listenPort: '10911' as unknown as number };
  rejects(() => validateBrokerConfig(wrongType, defaultMessageStoreConfig()), 'listenPort');
  const s = { ...defaultMessageStoreConfig(), flushDiskType: 'NOPE' as 'SYNC_FLUSH' };
  rejects(() => validateBrokerConfig(defaultBrokerConfig(), s), 'flushDiskType');
  assert.deepEqual(validateBrokerConfig(defaultBrokerConfig(), defaultMessageStoreConfig()), []);
});

test('namesrv.conf: every key type, unknown and known-unused keys, invalid values', () => {
  const { namesrvConfig: n, notices } = loadNamesrvConfig(
    {
      listenPort: '9877',
      kvConfigPath: '/tmp/kv.json',
      scanNotActiveBrokerInterval: '1000',
      orderMessageEnable: 'true',
      serverWorkerThreads: '8',
      enableControllerInNamesrv: 'false',
      bogus: '1',
    },
    { source: 'namesrv.conf' },
  );
  assert.equal(n.listenPort, 9877);
  assert.equal(n.kvConfigPath, '/tmp/kv.json');
  assert.equal(n.scanNotActiveBrokerInterval, 1000);
  assert.equal(n.orderMessageEnable, true);
  assert.deepEqual(notices.map((x) => [x.level, x.key]), [
    ['info', 'serverWorkerThreads'],
    ['info', 'enableControllerInNamesrv'],
    ['warn', 'bogus'],
  ]);
  rejects(() => loadNamesrvConfig({ listenPort: '99999' }), 'listenPort');
  rejects(() => loadNamesrvConfig({ kvConfigPath: '' }), 'kvConfigPath');
  rejects(() => loadNamesrvConfig({ scanNotActiveBrokerInterval: '0' }), 'scanNotActiveBrokerInterval');
  // A broker-only key in namesrv.conf is unknown there.
  assert.equal(loadNamesrvConfig({ brokerName: 'x' }).notices[0]?.level, 'warn');
});

test('NAMESRV_ADDR is the default namesrvAddr; the file overrides it', () => {
  const saved = process.env.NAMESRV_ADDR;
  process.env.NAMESRV_ADDR = '10.1.1.1:9876';
  try {
    assert.equal(loadBrokerConfig({}).brokerConfig.namesrvAddr, '10.1.1.1:9876');
    assert.equal(loadBrokerConfig({ namesrvAddr: '10.2.2.2:9876' }).brokerConfig.namesrvAddr, '10.2.2.2:9876');
  } finally {
    if (saved === undefined) delete process.env.NAMESRV_ADDR;
    else process.env.NAMESRV_ADDR = saved;
  }
});

test('readConfigFile: reads a file; missing files and syntax errors are ConfigErrors saying what to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rmq-conf-'));
  try {
    const ok = join(dir, 'broker.conf');
    writeFileSync(ok, '# demo\nbrokerName=broker-a\nlistenPort : 10911\n');
    assert.deepEqual([...readConfigFile(ok)], [['brokerName', 'broker-a'], ['listenPort', '10911']]);

    assert.throws(() => readConfigFile(join(dir, 'missing.conf')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /missing\.conf/);
      assert.match(err.message, /no such file/);
      assert.match(err.message, /-c/);
      return true;
    });
    assert.throws(() => readConfigFile(dir), /it is a directory/);

    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'a=1\nb=\\uZZZZ\n');
    assert.throws(() => readConfigFile(bad), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /bad\.conf/);
      assert.match(err.message, /line 2/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configEntries lists every key with its value as text, for -p printing', () => {
  const entries = configEntries(defaultBrokerConfig(), defaultMessageStoreConfig());
  const map = new Map(entries);
  assert.equal(map.get('listenPort'), '10911');
  assert.equal(map.get('autoCreateTopicEnable'), 'true');
  assert.equal(map.get('flushDiskType'), 'ASYNC_FLUSH');
  assert.equal(entries.length, Object.keys(BROKER_CONFIG_SPEC).length + Object.keys(MESSAGE_STORE_CONFIG_SPEC).length);
});

test('SYNC_MASTER without inSyncReplicas above 1 is warned about: it waits for no slave, as upstream 5.x', () => {
  const { notices } = loadBrokerConfig({ brokerRole: 'SYNC_MASTER' });
  assert.deepEqual(notices.map((n) => [n.level, n.key]), [['warn', 'inSyncReplicas']]);
  assert.match(notices[0]!.message, /set totalReplicas=2 and inSyncReplicas=2/);
  assert.deepEqual(loadBrokerConfig({ brokerRole: 'SYNC_MASTER', totalReplicas: '2', inSyncReplicas: '2' }).notices, []);
});
