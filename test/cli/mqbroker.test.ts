import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProperties } from '../../src/common/properties-file.js';
import { IMPORTANT_BROKER_KEYS } from '../../src/common/config-loader.js';
import { tempDir } from '../helpers/tmp.js';
import { CliProcess, hasStackTrace, portsIn, runCli } from './spawn.js';

test('mqbroker --help exits 0 and lists every flag', async () => {
  const r = await runCli('mqbroker', ['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const flag of [
    '-n, --namesrvAddr', '-c, --configFile', '-p, --printConfigItem', '-m, --printImportantConfig',
    '--store', '--listen-port', '-h, --help',
  ]) {
    assert.ok(r.stdout.includes(flag), `help lacks ${flag}:\n${r.stdout}`);
  }
});

test('mqbroker -p: broker.conf with legacy keys, then -n and --store override; NAMESRV_ADDR is the default', async () => {
  const t = tempDir('rmq-cli-broker-');
  try {
    const conf = join(t.dir, 'broker.conf');
    writeFileSync(conf, [
      'brokerClusterName=C1',
      'brokerName=broker-x',
      'namesrvAddr=10.0.0.9:9876',
      'mapedFileSizeCommitLog=1048576',
      'mapedFileSizeConsumeQueue=6000',
      'flushDiskType=SYNC_FLUSH',
      'storePathRootDir=/from/file',
      '',
    ].join('\n'));
    const r = await runCli('mqbroker', ['-c', conf, '-p', '-n', '127.0.0.1:9876;127.0.0.2:9876', '--store', join(t.dir, 'st')]);
    assert.equal(r.code, 0, r.stderr);
    const p = parseProperties(r.stdout);
    assert.equal(p.get('brokerClusterName'), 'C1');
    assert.equal(p.get('brokerName'), 'broker-x');
    assert.equal(p.get('namesrvAddr'), '127.0.0.1:9876;127.0.0.2:9876');
    assert.equal(p.get('mappedFileSizeCommitLog'), '1048576');
    assert.equal(p.get('mappedFileSizeConsumeQueue'), '6000');
    assert.equal(p.get('flushDiskType'), 'SYNC_FLUSH');
    assert.equal(p.get('storePathRootDir'), join(t.dir, 'st'));

    const env = await runCli('mqbroker', ['-p'], { env: { NAMESRV_ADDR: '10.1.1.1:9876' } });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(parseProperties(env.stdout).get('namesrvAddr'), '10.1.1.1:9876');
  } finally {
    t.cleanup();
  }
});

test('mqbroker -m prints only the important keys', async () => {
  const r = await runCli('mqbroker', ['-m']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...parseProperties(r.stdout).keys()], [...IMPORTANT_BROKER_KEYS]);
});

test('mqbroker: an invalid value exits 1 with one line naming the key, the value and the allowed values', async () => {
  const t = tempDir('rmq-cli-broker-');
  try {
    const conf = join(t.dir, 'broker.conf');
    writeFileSync(conf, 'brokerName=b\nflushDiskType=FOO\n');
    const r = await runCli('mqbroker', ['-c', conf, '--store', join(t.dir, 'st')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /flushDiskType/);
    assert.match(r.stderr, /"FOO"/);
    assert.match(r.stderr, /ASYNC_FLUSH, SYNC_FLUSH/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(hasStackTrace(r.stderr + r.stdout), false);
    // Nothing was created: validation happens before the store is touched.
    assert.equal(existsSync(join(t.dir, 'st')), false);

    const badNs = await runCli('mqbroker', ['-n', 'localhost', '--store', join(t.dir, 'st')]);
    assert.equal(badNs.code, 1);
    assert.match(badNs.stderr, /namesrvAddr/);
    assert.match(badNs.stderr, /127\.0\.0\.1:9876/);
  } finally {
    t.cleanup();
  }
});

test('mqnamesrv + mqbroker -n as separate processes: register, then SIGTERM both cleanly', async () => {
  const t = tempDir('rmq-cli-broker-');
  const store = join(t.dir, 'store');
  const conf = join(t.dir, 'broker.conf');
  writeFileSync(conf, [
    'brokerClusterName=DefaultCluster',
    'brokerName=broker-cli',
    'brokerId=0',
    'brokerIP1=127.0.0.1',
    'listenPort=0',
    'mapedFileSizeCommitLog=1048576',
    'mapedFileSizeConsumeQueue=6000',
    'maxMessageSize=65536',
    'deleteWhen=04',
    'fileReservedTime=48',
    'brokerRole=ASYNC_MASTER',
    'flushDiskType=ASYNC_FLUSH',
    'haFlowControlEnable=false',
    '',
  ].join('\n'));
  const ns = new CliProcess('mqnamesrv', ['--listen-port', '0', '--kv-config-path', join(t.dir, 'kv.json')]);
  let broker: CliProcess | undefined;
  try {
    const [nsPort] = portsIn((await ns.waitForLine(/NameServer started/)).msg);
    broker = new CliProcess('mqbroker', ['-n', `127.0.0.1:${nsPort}`, '-c', conf, '--store', store]);
    const boot = await broker.waitForLine(/boot success/);
    assert.match(boot.msg, /broker-cli/);
    assert.match(boot.msg, new RegExp(`127\\.0\\.0\\.1:${nsPort}`));
    // The known-but-unused key is reported at info, not as unknown.
    assert.equal(broker.lines.find((l) => l.msg.includes('haFlowControlEnable'))?.level, 'info');
    await ns.waitForLine(/registered.*broker-cli|broker-cli.*registered/);
    // While running, the store marks itself as open.
    assert.equal(existsSync(join(store, 'abort')), true);

    const exit = await broker.stop('SIGTERM');
    assert.equal(exit.code, 0, broker.stderr);
    assert.ok(broker.lines.some((l) => /mqbroker stopped/.test(l.msg)), broker.stdout);
    assert.equal(existsSync(join(store, 'abort')), false, 'a clean stop removes the abort file');
    assert.equal(existsSync(join(store, 'checkpoint')), true);
    assert.equal((await ns.stop('SIGTERM')).code, 0, ns.stderr);
  } finally {
    broker?.kill();
    ns.kill();
    t.cleanup();
  }
});

test('mqbroker without any NameServer address warns that clients cannot find it', async () => {
  const t = tempDir('rmq-cli-broker-');
  const p = new CliProcess('mqbroker', ['--listen-port', '0', '--store', join(t.dir, 'store')]);
  try {
    await p.waitForLine(/boot success/);
    const warn = p.lines.find((l) => /no NameServer address/.test(l.msg));
    assert.equal(warn?.level, 'warn');
    assert.match(warn?.msg ?? '', /-n/);
    assert.equal((await p.stop('SIGTERM')).code, 0, p.stderr);
  } finally {
    p.kill();
    t.cleanup();
  }
});
