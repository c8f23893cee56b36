import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { mqadmin, ok, fails } from './mqadmin-run.js';

// mqadmin setConsumeMode (upstream SetConsumeModeSubCommand) run in-process against a real
// NameServer + Broker: what it prints, what the broker then holds (GET_ALL_MESSAGE_REQUEST_MODE),
// and one clear line on stderr with exit code 1 for bad input.

let mq: Standalone;
let api: MQClientAPI;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rmq-mqadmin-mode-'));
  mq = await startStandalone({ storeDir: dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, logger: pino({ level: 'silent' }) });
  api = new MQClientAPI();
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', 'ModeT', '-r', '2', '-w', '2');
});

after(async () => {
  await api?.shutdown();
  await mq?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function modeOf(topic: string, group: string): Promise<unknown> {
  return (await api.getAllMessageRequestMode(mq.brokerAddr)).get(topic)?.get(group);
}

test('setConsumeMode -b sets POP with popShareQueueNum on the broker; -c sets every master of the cluster', async () => {
  const n = ['-n', mq.namesrvAddr];
  const out = await ok('setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'ModeT', '-g', 'ModeG', '-m', 'POP', '-q', '1');
  assert.equal(out, `set consume mode to ${mq.brokerAddr} success.\ntopic[ModeT] group[ModeG] consume mode[POP] popShareQueueNum[1]\n`);
  assert.deepEqual(await modeOf('ModeT', 'ModeG'), { topic: 'ModeT', consumerGroup: 'ModeG', mode: 'POP', popShareQueueNum: 1 });

  // -q defaults to 0, as upstream.
  const byCluster = await ok('setConsumeMode', ...n, '-c', 'DefaultCluster', '-t', 'ModeT', '-g', 'ModeG', '-m', 'PULL');
  assert.match(byCluster, new RegExp(`^set consume mode to ${mq.brokerAddr} success\\.\\ntopic\\[ModeT\\] group\\[ModeG\\] consume mode\\[PULL\\] popShareQueueNum\\[0\\]\\n$`));
  assert.deepEqual(await modeOf('ModeT', 'ModeG'), { topic: 'ModeT', consumerGroup: 'ModeG', mode: 'PULL', popShareQueueNum: 0 });

  const json = JSON.parse(await ok('setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'ModeT', '-g', 'ModeG2', '-m', 'POP', '--json')) as { brokers: Array<{ brokerAddr: string }> };
  assert.deepEqual(json.brokers.map((b) => b.brokerAddr), [mq.brokerAddr]);
  assert.equal((await modeOf('ModeT', 'ModeG2') as { mode: string }).mode, 'POP');
});

test('setConsumeMode refuses bad input in one line, and the broker keeps its modes', async () => {
  const n = ['-n', mq.namesrvAddr];
  await fails(/expected PULL or POP/, 'setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'ModeT', '-g', 'BadG', '-m', 'pop');
  await fails(/required option '-m, --mode <mode>'/, 'setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'ModeT', '-g', 'BadG');
  await fails(/required option '-g, --groupName <group>'/, 'setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'ModeT', '-m', 'POP');
  await fails(/expected an integer/, 'setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'ModeT', '-g', 'BadG', '-m', 'POP', '-q', 'x');
  await fails(/-b <brokerAddr> or -c <clusterName>/, 'setConsumeMode', ...n, '-t', 'ModeT', '-g', 'BadG', '-m', 'POP');
  await fails(/TOPIC_NOT_EXIST \(17\).*topic\[NoSuchModeTopic\] not exist/, 'setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', 'NoSuchModeTopic', '-g', 'BadG', '-m', 'POP');
  await fails(/NO_PERMISSION \(16\).*retry topic is not allowed to set mode/, 'setConsumeMode', ...n, '-b', mq.brokerAddr, '-t', '%RETRY%BadG', '-g', 'BadG', '-m', 'POP');
  await fails(/cluster NoSuchCluster does not exist/, 'setConsumeMode', ...n, '-c', 'NoSuchCluster', '-t', 'ModeT', '-g', 'BadG', '-m', 'POP');
  // Over a cluster, a broker that refuses is reported on stderr; none taking it is a failure.
  const r = await mqadmin('setConsumeMode', ...n, '-c', 'DefaultCluster', '-t', 'NoSuchModeTopic', '-g', 'BadG', '-m', 'POP');
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`set consume mode to ${mq.brokerAddr} failed: TOPIC_NOT_EXIST`));
  assert.equal(await modeOf('ModeT', 'BadG'), undefined);
  assert.equal((await api.getAllMessageRequestMode(mq.brokerAddr)).has('NoSuchModeTopic'), false);
});
