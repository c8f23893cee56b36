import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { Load, readAll, SendLedger, verifyQueues } from './ledger.js';
import { createTopic, killHard, startStandaloneProcess, stopClean, writeBrokerConf, type StandaloneProcess } from './standalone-process.js';

/**
 * Segment rollover across processes: with 64 KiB CommitLog segments and 100-entry ConsumeQueue
 * segments, a few thousand messages of varied sizes span dozens of files of each kind. Every
 * message must read back at its acknowledged offsets, and again after a clean restart, and
 * again after a SIGKILL and the crash recovery that follows.
 */

const TOPIC = 'RollTopic';
const QUEUES = 4;
const CL_SIZE = 65536;
const CQ_SIZE = 2000;

/** Body sizes from 10 bytes to ~12 KiB; those from 4 KiB up are sent zlib-compressed. */
function bodySize(n: number): number {
  if (n % 50 === 49) return 8000 + ((n * 131) % 4000);
  return 10 + ((n * 7919) % 2500);
}

interface SegmentCounts {
  commitLog: number;
  consumeQueue: number;
}

/** Counts segments and checks that all but the last of each log have exactly the segment size. */
function checkSegments(store: string): SegmentCounts {
  const logDir = join(store, 'commitlog');
  const logs = readdirSync(logDir).sort();
  for (const f of logs.slice(0, -1)) assert.equal(statSync(join(logDir, f)).size, CL_SIZE, `commitlog/${f}`);
  let consumeQueue = 0;
  for (let q = 0; q < QUEUES; q++) {
    const dir = join(store, 'consumequeue', TOPIC, String(q));
    const files = readdirSync(dir).sort();
    for (const f of files.slice(0, -1)) assert.equal(statSync(join(dir, f)).size, CQ_SIZE, `consumequeue/${TOPIC}/${q}/${f}`);
    consumeQueue += files.length;
  }
  return { commitLog: logs.length, consumeQueue };
}

async function sendAll(p: StandaloneProcess, ledger: SendLedger, total: number, label: string): Promise<void> {
  const load = await Load.start({ namesrvAddr: p.namesrvAddr, topic: TOPIC, producers: 2, inFlightPerProducer: 8, total, label, bodySize }, ledger);
  try {
    await load.done();
    assert.equal(load.failures, 0);
  } finally {
    await load.stop();
  }
}

test('rollover: messages spanning dozens of CommitLog and ConsumeQueue segments read back, after a clean restart and after a crash', async (t) => {
  const tmp = tempDir('rmq-e2e-roll-');
  const store = join(tmp.dir, 'store');
  const conf = writeBrokerConf(tmp.dir, {
    brokerName: 'broker-roll', mapedFileSizeCommitLog: CL_SIZE, mapedFileSizeConsumeQueue: CQ_SIZE, maxMessageSize: 16384,
  });
  const procs: StandaloneProcess[] = [];
  const start = async (): Promise<StandaloneProcess> => {
    const p = await startStandaloneProcess(conf, store);
    procs.push(p);
    return p;
  };
  try {
    const ledger = new SendLedger();
    let p = await start();
    await createTopic(p, TOPIC, QUEUES);
    await sendAll(p, ledger, 3000, 'roll-a');
    assert.equal(ledger.acked.length, 3000);
    assert.equal(verifyQueues(await readAll(p.namesrvAddr, TOPIC), ledger, QUEUES).total, 3000);

    // Clean stop: everything flushed and checkpointed (ConsumeQueue tails included), no recovery
    // scan needed at the next start.
    await stopClean(p);
    const before = checkSegments(store);
    t.diagnostic(`3000 messages: ${before.commitLog} CommitLog segments, ${before.consumeQueue} ConsumeQueue segments`);
    assert.ok(before.commitLog >= 24, `dozens of CommitLog segments expected, found ${before.commitLog}`);
    assert.ok(before.consumeQueue >= 24, `dozens of ConsumeQueue segments expected, found ${before.consumeQueue}`);
    p = await start();
    assert.ok(!p.proc.lines.some((l) => /abnormal exit/.test(l.msg)), 'a clean stop is not recovered as a crash');
    assert.deepEqual(checkSegments(store), before);
    assert.equal(verifyQueues(await readAll(p.namesrvAddr, TOPIC), ledger, QUEUES).total, 3000);

    // More segments, and a SIGKILL while sends are in flight. With segments this small the log
    // rolls every few dozen messages, so the crash often lands in the middle of a roll; the
    // ConsumeQueue tails since the last flush exist only in the dead process and are rebuilt
    // from the CommitLog, across segment boundaries.
    const load = await Load.start({ namesrvAddr: p.namesrvAddr, topic: TOPIC, producers: 2, inFlightPerProducer: 8, label: 'roll-b', bodySize }, ledger);
    try {
      await ledger.waitForAcks(4000);
      assert.ok(load.inFlight > 0);
      await killHard(p);
    } finally {
      await load.stop();
    }
    p = await start();
    await p.proc.waitForLine(/store recovered after an abnormal exit/, 1000);
    const crashed = verifyQueues(await readAll(p.namesrvAddr, TOPIC), ledger, QUEUES);
    assert.ok(crashed.total >= ledger.acked.length);

    // And it goes on writing where the log ends.
    await sendAll(p, ledger, 200, 'roll-c');
    assert.equal(verifyQueues(await readAll(p.namesrvAddr, TOPIC), ledger, QUEUES).total, crashed.total + 200);
    await stopClean(p);
    const after = checkSegments(store);
    t.diagnostic(`${crashed.total + 200} messages: ${after.commitLog} CommitLog segments, ${after.consumeQueue} ConsumeQueue segments`);
    assert.ok(after.commitLog > before.commitLog && after.consumeQueue > before.consumeQueue);
  } finally {
    for (const p of procs) p.proc.kill();
    tmp.cleanup();
  }
});
