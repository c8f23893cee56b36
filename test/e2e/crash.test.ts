import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Message, Producer } from '../../src/client/index.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { checkRecord, decodeRecord, RecordPos } from '../../src/common/message-record.js';
import { tempDir } from '../helpers/tmp.js';
import { idOf, Load, readAll, SendLedger, verifyQueues, type LoadOptions } from './ledger.js';
import { createTopic, killHard, startStandaloneProcess, stopClean, writeBrokerConf, type StandaloneProcess } from './standalone-process.js';

/**
 * Process crashes: the standalone runs as a child process over a temp store, concurrent
 * producers in this process keep many sends in flight, and the child is SIGKILLed mid-load. A
 * new process over the same store must serve every acknowledged message at exactly the queue
 * offset and CommitLog offset its ack reported. A SIGKILL loses no page cache, so this holds for
 * ASYNC_FLUSH as well as SYNC_FLUSH: what it tests is that no ack precedes the write, and that
 * recovery rebuilds ConsumeQueues (held in memory between flushes) from the CommitLog.
 */

const TOPIC = 'CrashTopic';
const QUEUES = 4;

/** Restart on new free ports: offsets must not depend on them (offset msg ids do embed the port). */
async function restart(conf: string, store: string): Promise<StandaloneProcess> {
  return startStandaloneProcess(conf, store);
}

async function sendOnePerQueue(p: StandaloneProcess, label: string): Promise<Array<{ queueId: number; queueOffset: number; commitLogOffset: number; body: Buffer }>> {
  const producer = new Producer({ namesrvAddr: p.namesrvAddr, group: `${label}_pg`, retryTimesWhenSendFailed: 0 });
  await producer.start();
  try {
    const out = [];
    for (const mq of await producer.fetchPublishMessageQueues(TOPIC)) {
      const body = Buffer.from(`${label}-q${mq.queueId}#after restart`);
      const r = await producer.send(new Message(TOPIC, body), { queue: mq });
      assert.equal(r.sendStatus, 'SEND_OK');
      out.push({ queueId: mq.queueId, queueOffset: r.queueOffset, commitLogOffset: decodeOffsetMessageId(r.offsetMsgId).commitLogOffset, body });
    }
    return out.sort((a, b) => a.queueId - b.queueId);
  } finally {
    await producer.shutdown();
  }
}

interface Crash {
  ledger: SendLedger;
  /** Sends in flight when the process was killed. */
  inFlightAtKill: number;
  /** Sends acknowledged when it was killed. */
  ackedBeforeKill: number;
}

/**
 * Starts the standalone child over `store`, creates the topic and puts it under `load` until
 * `loaded` resolves, then SIGKILLs it with sends in flight and stops the load. The child is dead
 * when this returns (or throws).
 */
async function crashUnderLoad(conf: string, store: string, load: Omit<LoadOptions, 'namesrvAddr' | 'topic'>, loaded: (ledger: SendLedger) => Promise<unknown>): Promise<Crash> {
  let p: StandaloneProcess | undefined;
  let running: Load | undefined;
  try {
    p = await startStandaloneProcess(conf, store);
    await createTopic(p, TOPIC, QUEUES);
    const ledger = new SendLedger();
    running = await Load.start({ namesrvAddr: p.namesrvAddr, topic: TOPIC, ...load }, ledger);
    await loaded(ledger);
    const inFlightAtKill = running.inFlight;
    const ackedBeforeKill = ledger.acked.length;
    await killHard(p);
    assert.ok(inFlightAtKill > 0, 'the broker must die with sends in flight');
    await running.stop();
    running = undefined;
    return { ledger, inFlightAtKill, ackedBeforeKill };
  } finally {
    await running?.stop().catch(() => undefined);
    p?.proc.kill();
  }
}

for (const flushDiskType of ['SYNC_FLUSH', 'ASYNC_FLUSH'] as const) {
  test(`crash (${flushDiskType}): SIGKILL under load, restart, every acknowledged message is at its acked offsets`, async (t) => {
    const tmp = tempDir('rmq-e2e-crash-');
    const store = join(tmp.dir, 'store');
    // 1 MiB segments: a few MiB of load crosses several, so the crash can land on a rollover.
    const conf = writeBrokerConf(tmp.dir, {
      brokerName: 'broker-crash', flushDiskType, mapedFileSizeCommitLog: 1024 * 1024, mapedFileSizeConsumeQueue: 6000, maxMessageSize: 65536,
    });
    let second: StandaloneProcess | undefined;
    try {
      // About a second and a half of load, and enough acks that every queue has plenty.
      const { ledger, inFlightAtKill, ackedBeforeKill } = await crashUnderLoad(conf, store, {
        producers: 4, inFlightPerProducer: 16, label: `crash-${flushDiskType}`, bodySize: (n) => 20 + ((n * 7919) % 2000),
      }, (ledger) => Promise.all([delay(1500), ledger.waitForAcks(1000)]));
      t.diagnostic(`${flushDiskType}: ${ackedBeforeKill} acked when killed with ${inFlightAtKill} in flight; ${ledger.acked.length} acked in all, ${ledger.sent.size} sent`);

      second = await restart(conf, store);
      const recovered = await second.proc.waitForLine(/store recovered after an abnormal exit/, 1000);
      assert.equal(recovered.level, 'warn');

      const queues = await readAll(second.namesrvAddr, TOPIC);
      const summary = verifyQueues(queues, ledger, QUEUES);
      assert.ok(summary.total >= ledger.acked.length);
      t.diagnostic(`${flushDiskType}: ${summary.total} messages recovered (${summary.total - ledger.acked.length} stored without an ack reaching the producer)`);

      // The recovered broker goes on where the log ends: next queue offsets, past the last record.
      const next = await sendOnePerQueue(second, `after-${flushDiskType}`);
      assert.equal(next.length, QUEUES);
      for (const n of next) {
        assert.equal(n.queueOffset, summary.counts.get(n.queueId), `queue ${n.queueId} continues at its next offset`);
        assert.ok(n.commitLogOffset >= summary.maxCommitLogEnd, 'new records are appended after the recovered ones');
      }
      const again = await readAll(second.namesrvAddr, TOPIC);
      for (const n of next) {
        const m = again.get(n.queueId)![n.queueOffset]!;
        assert.ok(m.body.equals(n.body));
        assert.equal(m.commitLogOffset, n.commitLogOffset);
        assert.equal(again.get(n.queueId)!.length, n.queueOffset + 1);
      }
      await stopClean(second);
    } finally {
      second?.proc.kill();
      tmp.cleanup();
    }
  });
}

interface WalkedRecord { pos: number; size: number; queueId: number; queueOffset: number; id: string }
interface CutRecord { pos: number; queueId?: number; queueOffset?: number }

/**
 * Start offsets and queue positions of every whole record of one CommitLog file, and the record
 * the file ends in the middle of, if any. A SIGKILL can tear a write: Linux stops a write to a
 * file between pages once a fatal signal is pending, so the process dies with the write half done.
 */
function walkRecords(file: Buffer): { records: WalkedRecord[]; torn?: CutRecord } {
  const records: WalkedRecord[] = [];
  let pos = 0;
  while (pos < file.length) {
    const c = checkRecord(file, pos, true);
    const left = file.length - pos;
    if (!c.ok && (left < 4 || file.readInt32BE(pos) > left)) {
      // Its queue is known when the tear left the header's first 28 bytes.
      const queue = left >= 28 ? { queueId: file.readInt32BE(pos + RecordPos.QUEUEID), queueOffset: Number(file.readBigInt64BE(pos + RecordPos.QUEUEOFFSET)) } : {};
      return { records, torn: { pos, ...queue } };
    }
    assert.ok(c.ok, `record at ${pos}: ${c.ok ? '' : c.reason}`);
    const r = decodeRecord(file, pos);
    records.push({ pos, size: c.size, queueId: r.queueId, queueOffset: r.queueOffset, id: idOf(r.body) });
    pos += c.size;
  }
  return { records };
}

test('torn tail after a crash: the last record cut short on disk is dropped, everything before it is served', async () => {
  const tmp = tempDir('rmq-e2e-torn-');
  const store = join(tmp.dir, 'store');
  // Default (1 GiB) segments grow as they are written: one file, whose size is the log's end.
  const conf = writeBrokerConf(tmp.dir, { brokerName: 'broker-torn', flushDiskType: 'ASYNC_FLUSH' });
  let second: StandaloneProcess | undefined;
  try {
    const { ledger } = await crashUnderLoad(conf, store, {
      producers: 2, inFlightPerProducer: 16, label: 'torn',
      // Below the 4 KiB compression threshold, so bodies on disk are readable as sent.
      bodySize: (n) => 20 + ((n * 7919) % 3000),
    }, (ledger) => ledger.waitForAcks(1000));

    const dir = join(store, 'commitlog');
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 1, `one CommitLog segment expected: ${files.join(', ')}`);
    const path = join(dir, files[0]!);
    const walked = walkRecords(readFileSync(path));
    const size = statSync(path).size;
    // The record cut short: the one the SIGKILL tore, else the last one, cut here as a crash in
    // the middle of its write would have left it.
    let cut: CutRecord;
    let records: WalkedRecord[];
    const excused = new Set<string>();
    if (walked.torn) {
      cut = walked.torn;
      records = walked.records;
    } else {
      records = walked.records.slice(0, -1);
      const last = walked.records[walked.records.length - 1]!;
      assert.equal(last.pos + last.size, size, 'the file ends where its last record does');
      truncateSync(path, size - 5);
      cut = last;
      excused.add(last.id);
    }

    second = await startStandaloneProcess(conf, store);
    await second.proc.waitForLine(/store recovered after an abnormal exit/, 1000);
    const cutLine = await second.proc.waitForLine(/CommitLog recovery: .* the log is cut there/, 1000);
    assert.ok(cutLine.msg.includes(`offset ${cut.pos};`), cutLine.msg);

    // A record torn on disk was never written whole, so in a real crash its ack could not have
    // been sent (acks follow the write): it is not an acknowledged message lost. A record torn
    // here after the fact may have its ack in the ledger and is excused; every other ack must hold.
    const queues = await readAll(second.namesrvAddr, TOPIC);
    const summary = verifyQueues(queues, ledger, QUEUES, excused);
    // Everything before the cut is served, exactly as it lies in the file; the cut record is gone.
    assert.equal(summary.total, records.length);
    for (const r of records) {
      const m = queues.get(r.queueId)![r.queueOffset]!;
      assert.equal(m.commitLogOffset, r.pos);
      assert.equal(idOf(m.body), r.id);
    }
    if (cut.queueId !== undefined) assert.equal(queues.get(cut.queueId)!.length, cut.queueOffset, 'the cut record was the last of its queue and is gone');
    for (const id of excused) assert.ok(![...queues.values()].flat().some((m) => idOf(m.body) === id));

    // The log resumes at the cut: the next record of that queue takes the cut one's offsets.
    const next = await sendOnePerQueue(second, 'after-torn');
    assert.equal(Math.min(...next.map((n) => n.commitLogOffset)), cut.pos);
    if (cut.queueId !== undefined) assert.equal(next.find((n) => n.queueId === cut.queueId)!.queueOffset, cut.queueOffset);
    await stopClean(second);
  } finally {
    second?.proc.kill();
    tmp.cleanup();
  }
});
