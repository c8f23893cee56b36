import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { explainStartupError, parseNonEmptyFlag, parsePortFlag } from '../../src/cli/common.js';
import { ConfigError } from '../../src/common/config-loader.js';
import { RoleStartError } from '../../src/standalone.js';

function errno(code: string, fields: Record<string, unknown>): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code} test`), { code, ...fields });
}

test('parsePortFlag accepts 0..65535 and explains anything else', () => {
  assert.equal(parsePortFlag('0'), 0);
  assert.equal(parsePortFlag(' 10911 '), 10911);
  assert.equal(parsePortFlag('65535'), 65535);
  for (const bad of ['65536', '-1', 'abc', '1.5', '']) {
    assert.throws(() => parsePortFlag(bad), (err: unknown) => err instanceof InvalidArgumentError && /0 to 65535/.test(err.message), bad);
  }
  assert.equal(parseNonEmptyFlag(' ./store '), './store');
  assert.throws(() => parseNonEmptyFlag('  '), InvalidArgumentError);
});

test('explainStartupError: config errors are passed through as they are', () => {
  assert.equal(explainStartupError(new ConfigError('invalid value for x', 'x'), {}), 'invalid value for x');
});

test('explainStartupError: listen failures name the role, the port and how to change it', () => {
  const inUse = new RoleStartError('NameServer', 9876, errno('EADDRINUSE', { syscall: 'listen', port: 9876 }));
  assert.equal(
    explainStartupError(inUse, { NameServer: '--namesrv-port' }),
    'NameServer cannot listen on port 9876: it is already in use. Stop the process using it, or choose another port with --namesrv-port.',
  );
  // The broker's fast port is the one that failed: the message says a broker uses two ports.
  const fast = new RoleStartError('Broker', 10911, errno('EADDRINUSE', { syscall: 'listen', port: 10909 }));
  const line = explainStartupError(fast, { Broker: '--broker-port' }) ?? '';
  assert.match(line, /port 10909/);
  assert.match(line, /listenPort - 2/);
  assert.match(line, /--broker-port/);
  // Single-role commands pass the bare error and say which role it is.
  const denied = errno('EACCES', { syscall: 'listen', port: 80 });
  assert.match(explainStartupError(denied, { Broker: '--listen-port' }, 'Broker') ?? '', /permission denied.*--listen-port/);
});

test('explainStartupError: file system failures point at the path', () => {
  const err = new RoleStartError('Broker', 10911, errno('EACCES', { syscall: 'open', path: '/store/commitlog/0' }));
  assert.match(explainStartupError(err, {}) ?? '', /EACCES on \/store\/commitlog\/0.*writable/);
});

test('explainStartupError: anything else is not explained (the caller logs it with its stack)', () => {
  assert.equal(explainStartupError(new Error('bug'), {}, 'Broker'), undefined);
  assert.equal(explainStartupError(new RoleStartError('Broker', 1, new TypeError('x is undefined')), {}), undefined);
  assert.equal(explainStartupError('a string', {}), undefined);
});
