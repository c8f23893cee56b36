import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseProperties } from '../../src/common/properties-file.js';
import { tempDir } from '../helpers/tmp.js';
import { CliProcess, hasStackTrace, portsIn, runCli } from './spawn.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

test('mqnamesrv --help exits 0 and lists every flag', async () => {
  const r = await runCli('mqnamesrv', ['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const flag of ['-c, --configFile', '-p, --printConfigItem', '--listen-port', '--kv-config-path', '-h, --help']) {
    assert.ok(r.stdout.includes(flag), `help lacks ${flag}:\n${r.stdout}`);
  }
  assert.match(r.stdout, /^Usage: mqnamesrv/m);
});

test('mqnamesrv starts, logs its address, and stops cleanly on SIGTERM', async () => {
  const t = tempDir('rmq-cli-ns-');
  const kv = join(t.dir, 'kv', 'kvConfig.json');
  const conf = join(t.dir, 'namesrv.conf');
  writeFileSync(conf, 'orderMessageEnable=true\nserverWorkerThreads=8\nlistenPrt=1\n');
  const p = new CliProcess('mqnamesrv', ['-c', conf, '--listen-port', '0', '--kv-config-path', kv], { cwd: t.dir });
  try {
    const started = await p.waitForLine(/NameServer started/);
    const [port] = portsIn(started.msg);
    assert.ok(port !== undefined && port > 0, started.msg);
    assert.equal(await canConnect(port), true);
    // The unknown key is warned about by name; the known upstream key only at info.
    const unknown = p.lines.find((l) => l.msg.includes('listenPrt'));
    assert.equal(unknown?.level, 'warn');
    assert.match(unknown?.msg ?? '', /did you mean "listenPort"/);
    assert.equal(p.lines.find((l) => l.msg.includes('serverWorkerThreads'))?.level, 'info');

    const exit = await p.stop('SIGTERM');
    assert.equal(exit.code, 0, p.stderr);
    assert.ok(p.lines.some((l) => /mqnamesrv stopped/.test(l.msg)), p.stdout);
    assert.equal(p.stderr, '');
    assert.equal(await canConnect(port), false);
  } finally {
    p.kill();
    t.cleanup();
  }
});

test('mqnamesrv: SIGINT delivered twice (as under npm start) still shuts down once, exit 0', async () => {
  const t = tempDir('rmq-cli-ns-');
  const p = new CliProcess('mqnamesrv', ['--listen-port', '0', '--kv-config-path', join(t.dir, 'kv.json')]);
  try {
    await p.waitForLine(/NameServer started/);
    p.child.kill('SIGINT');
    const exit = await p.stop('SIGINT');
    assert.equal(exit.code, 0, p.stderr);
    assert.equal(p.lines.filter((l) => /received, shutting down/.test(l.msg)).length, 1);
    assert.equal(p.lines.filter((l) => /mqnamesrv stopped/.test(l.msg)).length, 1);
  } finally {
    p.kill();
    t.cleanup();
  }
});

test('mqnamesrv -p prints the effective config (file, then flags) and exits 0', async () => {
  const t = tempDir('rmq-cli-ns-');
  try {
    const conf = join(t.dir, 'namesrv.conf');
    writeFileSync(conf, 'listenPort=9999\nscanNotActiveBrokerInterval=2000\n');
    const r = await runCli('mqnamesrv', ['-c', conf, '-p', '--kv-config-path', '/tmp/x/kv.json']);
    assert.equal(r.code, 0, r.stderr);
    const printed = parseProperties(r.stdout);
    assert.equal(printed.get('listenPort'), '9999');
    assert.equal(printed.get('scanNotActiveBrokerInterval'), '2000');
    assert.equal(printed.get('kvConfigPath'), '/tmp/x/kv.json');
    assert.equal(printed.get('orderMessageEnable'), 'false');
  } finally {
    t.cleanup();
  }
});

test('mqnamesrv: an invalid config value exits 1 with one line naming the key, no stack trace', async () => {
  const t = tempDir('rmq-cli-ns-');
  try {
    const conf = join(t.dir, 'namesrv.conf');
    writeFileSync(conf, 'listenPort=abc\n');
    const r = await runCli('mqnamesrv', ['-c', conf]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /listenPort/);
    assert.match(r.stderr, /"abc"/);
    assert.match(r.stderr, /0 to 65535/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(hasStackTrace(r.stderr + r.stdout), false);
  } finally {
    t.cleanup();
  }
});

test('mqnamesrv: a missing config file exits 1 naming the file and the -c flag', async () => {
  const r = await runCli('mqnamesrv', ['-c', '/nonexistent/namesrv.conf']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/nonexistent\/namesrv\.conf/);
  assert.match(r.stderr, /no such file/);
  assert.match(r.stderr, /-c/);
  assert.equal(hasStackTrace(r.stderr), false);
});

test('mqnamesrv: a bad flag value or an unknown flag exits 1 and points to --help', async () => {
  const bad = await runCli('mqnamesrv', ['--listen-port', 'abc']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--listen-port/);
  assert.match(bad.stderr, /0 to 65535/);
  assert.match(bad.stderr, /--help/);
  const unknown = await runCli('mqnamesrv', ['--bogus']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /--bogus/);
  assert.match(unknown.stderr, /--help/);
});

test('mqnamesrv: a port in use exits 1 saying which port and which flag changes it', async () => {
  const t = tempDir('rmq-cli-ns-');
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '0.0.0.0', res));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const r = await runCli('mqnamesrv', ['--listen-port', String(port), '--kv-config-path', join(t.dir, 'kv.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${port}`));
    assert.match(r.stderr, /already in use/);
    assert.match(r.stderr, /--listen-port/);
    assert.equal(hasStackTrace(r.stderr + r.stdout), false);
  } finally {
    await new Promise<void>((res) => blocker.close(() => res()));
    t.cleanup();
  }
});
