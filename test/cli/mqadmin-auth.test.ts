import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { runMqadmin } from '../../src/cli/mqadmin.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { mqadmin, rows, type Run } from './mqadmin-run.js';

// mqadmin's ACL 2.0 commands (createUser … copyAcl) against a broker with authentication and
// authorization on, signing with --accessKey/--secretKey or upstream's $ROCKETMQ_HOME/conf/tools.yml.

let mq: Standalone;
let mq2: Standalone;
let tmp: { dir: string; cleanup(): void };
const SUPER = ['--accessKey', 'root', '--secretKey', 'root-secret'];

before(async () => {
  tmp = tempDir('rmq-mqadmin-auth-');
  const start = (dir: string): Promise<Standalone> => startStandalone({
    storeDir: join(tmp.dir, dir), ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, logger: pino({ level: 'silent' }),
    brokerConfig: {
      fastListenPortEnable: false, authenticationEnabled: true, authorizationEnabled: true,
      initAuthenticationUser: JSON.stringify({ username: 'root', password: 'root-secret' }),
    },
    storeConfig: { mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 600 * 20 },
  });
  mq = await start('a');
  mq2 = await start('b');
});

after(async () => {
  await mq?.shutdown();
  await mq2?.shutdown();
  tmp?.cleanup();
});

async function ok(...args: string[]): Promise<string> {
  const r = await mqadmin(...args);
  assert.equal(r.code, 0, `mqadmin ${args.join(' ')} failed: ${r.err}`);
  return r.out;
}

async function fails(why: RegExp, ...args: string[]): Promise<Run> {
  const r = await mqadmin(...args);
  assert.equal(r.code, 1, `mqadmin ${args.join(' ')} should fail: ${r.out}`);
  assert.match(r.err, why);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  return r;
}

test('createUser, getUser, listUser, updateUser, deleteUser by broker and by cluster, with upstream output', async () => {
  const b = mq.brokerAddr;
  assert.equal(await ok('createUser', '-b', b, '-u', 'alice', '-p', 'alice-pw', ...SUPER), `create user to ${b} success.\n`);
  assert.equal(await ok('createUser', '-n', mq.namesrvAddr, '-c', 'DefaultCluster', '-u', 'bob', '-p', 'bob-pw', '-t', 'Normal', ...SUPER), `create user to ${b} success.\n`);
  let out = await ok('getUser', '-b', b, '-u', 'alice', ...SUPER);
  assert.deepEqual(rows(out), [['#UserName', '#Password', '#UserType', '#UserStatus'], ['alice', 'alice-pw', 'Normal', 'enable']]);
  assert.equal(out.split('\n')[0], '#UserName         #Password               #UserType               #UserStatus           ');
  out = await ok('listUser', '-n', mq.namesrvAddr, '-c', 'DefaultCluster', '-f', 'b', ...SUPER);
  assert.deepEqual(rows(out), [['#UserName', '#Password', '#UserType', '#UserStatus'], ['bob', 'bob-pw', 'Normal', 'enable'], ['get', 'user', 'from', b, 'success.']]);
  assert.equal(await ok('updateUser', '-b', b, '-u', 'bob', '-s', 'disable', ...SUPER), `update user to ${b} success.\n`);
  assert.deepEqual(rows(await ok('getUser', '-b', b, '-u', 'bob', ...SUPER))[1], ['bob', 'bob-pw', 'Normal', 'disable']);
  assert.equal(await ok('deleteUser', '-b', b, '-u', 'bob', ...SUPER), `delete user to ${b} success.\n`);
  assert.equal(await ok('getUser', '-b', b, '-u', 'bob', ...SUPER), '');
  const json = JSON.parse(await ok('listUser', '-b', b, '--json', ...SUPER)) as Array<{ username: string }>;
  assert.deepEqual(json.map((u) => u.username), ['alice', 'root']);

  // Bad input: one clear line.
  await fails(/required option '-p, --password <password>' not specified/, 'createUser', '-b', b, '-u', 'x', ...SUPER);
  await fails(/give the broker with -b <brokerAddr> or the cluster with -c <clusterName>/, 'createUser', '-u', 'x', '-p', 'y', ...SUPER);
  await fails(/give what to change/, 'updateUser', '-b', b, '-u', 'alice', ...SUPER);
  await fails(/NO_PERMISSION.*The user is existed/, 'createUser', '-b', b, '-u', 'alice', '-p', 'z', ...SUPER);
  // Unsigned, or signed by a normal user without Cluster rights.
  await fails(/NO_PERMISSION.*username cannot be null/, 'listUser', '-b', b);
  await fails(/NO_PERMISSION.*User:alice has no permission to access Cluster:DefaultCluster/, 'listUser', '-b', b, '--accessKey', 'alice', '--secretKey', 'alice-pw');
  await fails(/--accessKey and --secretKey go together/, 'listUser', '-b', b, '--accessKey', 'alice');
});

test('createAcl, updateAcl, getAcl, listAcl, deleteAcl; the ACL then decides what the user may do', async () => {
  const b = mq.brokerAddr;
  await ok('createUser', '-b', b, '-u', 'carol', '-p', 'carol-pw', ...SUPER);
  assert.equal(await ok('createAcl', '-b', b, '-s', 'User:carol', '-r', 'Topic:orders-*,Group:g1', '-a', 'Pub,Sub', '-i', '127.0.0.1', '-d', 'Allow', ...SUPER), `create acl to ${b} success.\n`);
  assert.equal(await ok('updateAcl', '-b', b, '-s', 'User:carol', '-r', 'Group:g1', '-a', 'Sub,Get', '-d', 'Allow', ...SUPER), `update acl to ${b} success.\n`);
  const out = await ok('getAcl', '-b', b, '-s', 'User:carol', ...SUPER);
  assert.deepEqual(out.split('\n'), [
    '#Subject          #PolicyType  #Resource               #Actions              #SourceIp                 #Decision ',
    'User:carol        Custom      Topic:orders-*          [Pub, Sub]            [127.0.0.1]               Allow     ',
    'User:carol        Custom      Group:g1                [Sub, Get]            null                      Allow     ',
    '',
  ]);
  assert.deepEqual(rows(await ok('listAcl', '-b', b, '-r', 'Topic', ...SUPER)).map((r) => r.slice(0, 3)), [['#Subject', '#PolicyType', '#Resource'], ['User:carol', 'Custom', 'Topic:orders-*']]);
  await fails(/NO_PERMISSION.*The action Publish is unknown/, 'createAcl', '-b', b, '-s', 'User:carol', '-r', 'Topic:t', '-a', 'Publish', '-d', 'Allow', ...SUPER);
  await fails(/required option '-d, --decision <decision>' not specified/, 'createAcl', '-b', b, '-s', 'User:carol', '-r', 'Topic:t', '-a', 'Pub', ...SUPER);

  // Creating a topic needs Create on it: refused until the ACL grants it.
  await fails(/NO_PERMISSION.*User:carol has no permission to access Topic:orders-1/, 'updateTopic', '-b', b, '-t', 'orders-1', '--accessKey', 'carol', '--secretKey', 'carol-pw');
  await ok('updateAcl', '-b', b, '-s', 'User:carol', '-r', 'Topic:orders-*', '-a', 'Pub,Sub,Create', '-d', 'Allow', ...SUPER);
  await ok('updateTopic', '-b', b, '-t', 'orders-1', '--accessKey', 'carol', '--secretKey', 'carol-pw');

  assert.equal(await ok('deleteAcl', '-b', b, '-s', 'User:carol', '-r', 'Group:g1', ...SUPER), `delete acl to ${b} success.\n`);
  assert.equal(rows(await ok('getAcl', '-b', b, '-s', 'User:carol', ...SUPER)).length, 2);
  await ok('deleteAcl', '-b', b, '-s', 'User:carol', ...SUPER);
  assert.equal(await ok('getAcl', '-b', b, '-s', 'User:carol', ...SUPER), '');
});

test('copyUser and copyAcl from one broker to another', async () => {
  await ok('createUser', '-b', mq.brokerAddr, '-u', 'dave', '-p', 'dave-pw', ...SUPER);
  await ok('createAcl', '-b', mq.brokerAddr, '-s', 'User:dave', '-r', 'Topic:d', '-a', 'Pub', '-d', 'Allow', ...SUPER);
  assert.equal(await ok('copyUser', '-f', mq.brokerAddr, '-t', mq2.brokerAddr, '-u', 'dave', ...SUPER), `copy user of dave from ${mq.brokerAddr} to ${mq2.brokerAddr} success.\n`);
  assert.equal(await ok('copyAcl', '-f', mq.brokerAddr, '-t', mq2.brokerAddr, '-s', 'User:dave', ...SUPER), `copy acl of User:dave from ${mq.brokerAddr} to ${mq2.brokerAddr} success.\n`);
  assert.deepEqual(rows(await ok('getAcl', '-b', mq2.brokerAddr, '-s', 'User:dave', ...SUPER))[1], ['User:dave', 'Custom', 'Topic:d', '[Pub]', 'null', 'Allow']);
});

test('without flags, mqadmin signs with accessKey/secretKey of $ROCKETMQ_HOME/conf/tools.yml, as upstream tools', async () => {
  const home = join(tmp.dir, 'home');
  mkdirSync(join(home, 'conf'), { recursive: true });
  writeFileSync(join(home, 'conf', 'tools.yml'), '# credentials of the admin tools\naccessKey: root\nsecretKey: root-secret\n');
  let out = '';
  let err = '';
  const env: NodeJS.ProcessEnv = { ...process.env, ROCKETMQ_HOME: home };
  delete env.NAMESRV_ADDR;
  const code = await runMqadmin(['listUser', '-b', mq.brokerAddr, '-f', 'root'], { out: (t) => { out += t; }, err: (t) => { err += t; }, env });
  assert.equal(code, 0, err);
  assert.deepEqual(rows(out)[1], ['root', 'root-secret', 'Super', 'enable']);
});
