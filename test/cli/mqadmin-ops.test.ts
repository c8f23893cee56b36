import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { ok, fails } from './mqadmin-run.js';

// mqadmin's producer and store-maintenance commands, and the client-side checks (sendMsgStatus,
// checkMsgSendRT, clusterRT, printMsgByQueue, getConsumerConfig, updateOrderConf,
// queryMsgTraceById), run in-process against a real NameServer + Broker: each asserts what the
// command did on the servers, and that bad input is one clear line on stderr with exit code 1.

let mq: Standalone;
let producer: Producer;
let tmp: { dir: string; cleanup(): void };
const stamp = Date.now();
const PG = `OPS_PG_${stamp}`;

before(async () => {
  tmp = tempDir('rmq-mqadmin-ops-');
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false });
  producer = new Producer({ group: PG, namesrvAddr: mq.namesrvAddr });
  await producer.start();
});

after(async () => {
  await producer?.shutdown();
  await mq?.shutdown();
  tmp?.cleanup();
});

test('producer lists the live producers of every group on a broker', async () => {
  await producer.send(new Message(`OpsProd_${stamp}`, 'hello'));
  const out = await ok('producer', '-b', mq.brokerAddr);
  assert.match(out, new RegExp(`^producer group \\(${PG}\\) instance : clientId=[^,]+,remoteIP=/127\\.0\\.0\\.1:\\d+, language=NODE_JS, version=\\d+, lastUpdateTimestamp=\\d+$`, 'm'));
  const json = JSON.parse(await ok('producer', '-b', mq.brokerAddr, '--json')) as Record<string, unknown[]>;
  assert.equal(json[PG]?.length, 1);
  await fails(/required option '-b, --broker <addr>' not specified/, 'producer');
  await fails(/connect to 127\.0\.0\.1:1 failed/, 'producer', '-b', '127.0.0.1:1');
  await producer.send(new Message(`OpsProd_${stamp}`, 'still serving'));
});
