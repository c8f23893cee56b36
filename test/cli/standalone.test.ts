import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { CliProcess, hasStackTrace, portsIn, runCli } from './spawn.js';

/** Small segments keep the test's disk use and start-up time low. */
const SMALL_STORE = 'mapedFileSizeCommitLog=1048576\nmapedFileSizeConsumeQueue=6000\nmaxMessageSize=65536\n';

test('rocketmq-standalone --help exits 0 and lists every flag', async () => {
  const r = await runCli('standalone', ['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const flag of ['-c, --configFile', '--store', '--namesrv-port', '--broker-port', '-h, --help']) {
    assert.ok(r.stdout.includes(flag), `help lacks ${flag}:\n${r.stdout}`);
  }
});

test('standalone: starts both roles, logs their addresses, SIGTERM leaves a clean store (no abort file)', async () => {
  const t = tempDir('rmq-cli-sa-');
  const conf = join(t.dir, 'broker.conf');
  writeFileSync(conf, `${SMALL_STORE}brokerName=broker-sa\ndefaultTopicQueueNums=4\n`);
  const store = join(t.dir, 'store');
  const p = new CliProcess('standalone', ['-c', conf, '--store', store, '--namesrv-port', '0', '--broker-port', '0']);
  try {
    const ready = await p.waitForLine(/RocketMQ standalone started/);
    const [nsPort, brokerPort] = portsIn(ready.msg);
    assert.ok(nsPort && nsPort > 0 && brokerPort && brokerPort > 0, ready.msg);
    assert.match(ready.msg, /broker|Broker/);
    assert.ok(ready.msg.includes(store), ready.msg);
    // One start line per role, each with its address.
    assert.ok(p.lines.some((l) => /NameServer started/.test(l.msg) && portsIn(l.msg).includes(nsPort)), p.stdout);
    assert.ok(existsSync(join(store, 'abort')), 'the store is marked open while running');

    const exit = await p.stop('SIGTERM');
    assert.equal(exit.code, 0, p.stderr);
    assert.ok(p.lines.some((l) => /rocketmq-standalone stopped/.test(l.msg)), p.stdout);
    assert.equal(existsSync(join(store, 'abort')), false, 'a clean stop removes the abort file');
    assert.equal(existsSync(join(store, 'checkpoint')), true);
    assert.equal(p.stderr, '');
  } finally {
    p.kill();
    t.cleanup();
  }
});

test('standalone: Ctrl-C under npm start (SIGINT twice) still shuts down cleanly', async () => {
  const t = tempDir('rmq-cli-sa-');
  const conf = join(t.dir, 'broker.conf');
  writeFileSync(conf, SMALL_STORE);
  const store = join(t.dir, 'store');
  const p = new CliProcess('standalone', ['-c', conf, '--store', store, '--namesrv-port', '0', '--broker-port', '0']);
  try {
    await p.waitForLine(/RocketMQ standalone started/);
    p.child.kill('SIGINT');
    const exit = await p.stop('SIGINT');
    assert.equal(exit.code, 0, p.stderr);
    assert.equal(existsSync(join(store, 'abort')), false);
  } finally {
    p.kill();
    t.cleanup();
  }
});

test('standalone: two instances side by side with their own store and ports', async () => {
  const t = tempDir('rmq-cli-sa-');
  const conf = join(t.dir, 'broker.conf');
  writeFileSync(conf, SMALL_STORE);
  const a = new CliProcess('standalone', ['-c', conf, '--store', join(t.dir, 'a'), '--namesrv-port', '0', '--broker-port', '0']);
  const b = new CliProcess('standalone', ['-c', conf, '--store', join(t.dir, 'b'), '--namesrv-port', '0', '--broker-port', '0']);
  try {
    const [ra, rb] = await Promise.all([a.waitForLine(/standalone started/), b.waitForLine(/standalone started/)]);
    assert.notDeepEqual(portsIn(ra.msg), portsIn(rb.msg));
    const [ea, eb] = await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    assert.equal(ea.code, 0, a.stderr);
    assert.equal(eb.code, 0, b.stderr);
    assert.equal(existsSync(join(t.dir, 'a', 'abort')), false);
    assert.equal(existsSync(join(t.dir, 'b', 'abort')), false);
  } finally {
    a.kill();
    b.kill();
    t.cleanup();
  }
});

test('standalone: an invalid broker.conf value exits 1 naming the key, before touching the store', async () => {
  const t = tempDir('rmq-cli-sa-');
  try {
    const conf = join(t.dir, 'broker.conf');
    writeFileSync(conf, 'mapedFileSizeConsumeQueue=30\n');
    const store = join(t.dir, 'store');
    const r = await runCli('standalone', ['-c', conf, '--store', store, '--namesrv-port', '0', '--broker-port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mapedFileSizeConsumeQueue/);
    assert.match(r.stderr, /multiple of 20/);
    assert.equal(hasStackTrace(r.stderr + r.stdout), false);
    assert.equal(existsSync(store), false);
  } finally {
    t.cleanup();
  }
});

test('standalone: a NameServer port in use exits 1 naming the port and --namesrv-port', async () => {
  const t = tempDir('rmq-cli-sa-');
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '0.0.0.0', res));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const r = await runCli('standalone', ['--store', join(t.dir, 'store'), '--namesrv-port', String(port), '--broker-port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NameServer/);
    assert.match(r.stderr, new RegExp(`port ${port}`));
    assert.match(r.stderr, /--namesrv-port/);
    assert.equal(hasStackTrace(r.stderr + r.stdout), false);
  } finally {
    await new Promise<void>((res) => blocker.close(() => res()));
    t.cleanup();
  }
});

test('standalone: a Broker port in use exits 1 naming --broker-port, and the NameServer is released', async () => {
  const t = tempDir('rmq-cli-sa-');
  const conf = join(t.dir, 'broker.conf');
  writeFileSync(conf, SMALL_STORE);
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '0.0.0.0', res));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const r = await runCli('standalone', ['-c', conf, '--store', join(t.dir, 'store'), '--namesrv-port', '0', '--broker-port', String(port)]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Broker/);
    assert.match(r.stderr, /already in use/);
    assert.match(r.stderr, /--broker-port/);
  } finally {
    await new Promise<void>((res) => blocker.close(() => res()));
    t.cleanup();
  }
});
