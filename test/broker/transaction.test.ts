import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { MQClientAPI } from '../../src/client/index.js';
import { Admin } from '../../src/admin/index.js';
import { RemotingClient, createRequest, type RemotingCommand } from '../../src/remoting/index.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { decodeRecord } from '../../src/common/message-record.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import type { Logger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';
import { memoryLogger } from './helpers.js';

const PREPARED = 0x4;
const COMMIT = 8;
const ROLLBACK = 12;

interface Tx { mq: Standalone; api: MQClientAPI; raw: RemotingClient; checks: RemotingCommand[]; cleanup(): Promise<void> }

async function setup(dir: string, brokerConfig: Record<string, unknown> = {}, logger?: Logger): Promise<Tx> {
  const mq = await startStandalone({
    storeDir: dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', ...(logger ? { logger } : {}),
    brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 200, ...brokerConfig },
  });
  const checks: RemotingCommand[] = [];
  const raw = new RemotingClient({ onRequest: (req) => { checks.push(req); return null; } });
  const api = new MQClientAPI();
  // The producer group's channel, on which the broker sends CHECK_TRANSACTION_STATE.
  const hb = await raw.invoke(mq.brokerAddr, createRequest(34, {
    body: Buffer.from(JSON.stringify({ clientID: '127.0.0.1@tx', producerDataSet: [{ groupName: 'TXG' }], consumerDataSet: [] })),
  }));
  assert.equal(hb.code, 0);
  return { mq, api, raw, checks, cleanup: async () => { await raw.shutdown(); await api.shutdown(); await mq.shutdown(); } };
}

async function sendHalf(t: Tx, topic: string, body: string, bornTimestamp = Date.now(), props: Record<string, string> = {}): Promise<{ queueOffset: number; offsetMsgId: string; uniq: string }> {
  const uniq = `UNIQ${Date.now()}${Math.random().toString(16).slice(2, 8)}`.toUpperCase();
  const r = await t.api.sendMessage(t.mq.brokerAddr, 'broker-a', {
    producerGroup: 'TXG', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: PREPARED,
    bornTimestamp, flag: 0, properties: encodeProperties({ TAGS: 'T', KEYS: body, TRAN_MSG: 'true', PGROUP: 'TXG', UNIQ_KEY: uniq, ...props }),
  }, Buffer.from(body));
  return { queueOffset: r.queueOffset, offsetMsgId: r.offsetMsgId, uniq };
}

/** Oneway, as clients send it; with `answered`, as a request whose answer must be SUCCESS. */
async function endTx(t: Tx, half: { queueOffset: number; offsetMsgId: string; uniq: string }, what: number, fromCheck = false, answered = false): Promise<void> {
  const req = createRequest(37, {
    extFields: {
      producerGroup: 'TXG', tranStateTableOffset: half.queueOffset, commitLogOffset: decodeOffsetMessageId(half.offsetMsgId).commitLogOffset,
      commitOrRollback: what, fromTransactionCheck: fromCheck, msgId: half.uniq, transactionId: half.uniq,
    },
  });
  if (!answered) return t.raw.invokeOneway(t.mq.brokerAddr, req);
  assert.equal((await t.raw.invoke(t.mq.brokerAddr, req)).code, 0);
}

async function visible(t: Tx, topic: string): Promise<string[]> {
  const r = await t.api.pullMessage(t.mq.brokerAddr, {
    consumerGroup: 'C', topic, queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
    commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
  }, 3000).catch(() => undefined);
  return (r?.msgFoundList ?? []).map((m) => m.body.toString());
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a half message is invisible; commit makes it visible once, rollback discards it', async () => {
  const tmp = tempDir('rmq-tx-');
  // A long check interval keeps check-backs out of this test.
  const t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
  try {
    const a = await sendHalf(t, 'TxTopic', 'commit-me');
    const b = await sendHalf(t, 'TxTopic', 'roll-me-back');
    assert.deepEqual(await visible(t, 'TxTopic'), []);
    await endTx(t, a, COMMIT);
    await endTx(t, b, ROLLBACK);
    await until(async () => ((await visible(t, 'TxTopic')).length ? true : undefined), 3000, 'the committed message');
    await endTx(t, a, COMMIT); // a repeated commit changes nothing
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await visible(t, 'TxTopic'), ['commit-me']);
    const pulled = await t.api.pullMessage(t.mq.brokerAddr, {
      consumerGroup: 'C', topic: 'TxTopic', queueId: 0, queueOffset: 0, maxMsgNums: 1, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000);
    const props = decodeProperties(pulled.msgFoundList[0]!.properties);
    assert.equal(props.get('REAL_TOPIC'), undefined);
    assert.equal(props.get('TRAN_MSG'), undefined);
    assert.equal(props.get('KEYS'), 'commit-me');
    assert.equal(pulled.msgFoundList[0]!.sysFlag & 0xc, COMMIT);
    assert.equal(pulled.msgFoundList[0]!.preparedTransactionOffset, decodeOffsetMessageId(a.offsetMsgId).commitLogOffset);
    // Bad END_TRANSACTION requests are refused with a reason, sent as a normal request.
    const wrong = await t.raw.invoke(t.mq.brokerAddr, createRequest(37, {
      extFields: { producerGroup: 'OTHER', tranStateTableOffset: a.queueOffset, commitLogOffset: decodeOffsetMessageId(a.offsetMsgId).commitLogOffset, commitOrRollback: COMMIT, fromTransactionCheck: false, msgId: a.uniq },
    }));
    assert.equal(wrong.code, 1);
    assert.equal(wrong.remark, 'The producer group wrong');
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('an open half message is checked back with CHECK_TRANSACTION_STATE and committed from the check', async () => {
  const tmp = tempDir('rmq-tx-check-');
  const t = await setup(tmp.dir);
  try {
    const half = await sendHalf(t, 'TxCheck', 'checked');
    const check = await until(() => t.checks.find((c) => c.code === 39), 5000, 'a check-back');
    const e = check.extFields!;
    assert.equal(e.msgId, half.uniq);
    const rec = decodeRecord(check.body!);
    assert.equal(rec.topic, 'TxCheck');
    assert.equal(rec.body.toString(), 'checked');
    assert.equal(decodeProperties(rec.properties).get('PGROUP'), 'TXG');
    assert.equal(await visible(t, 'TxCheck').then((l) => l.length), 0);
    // Answer as a producer does: END_TRANSACTION with the offsets of the check.
    await endTx(t, { queueOffset: Number(e.tranStateTableOffset), offsetMsgId: e.offsetMsgId!, uniq: half.uniq }, COMMIT, true);
    assert.deepEqual(await until(async () => { const v = await visible(t, 'TxCheck'); return v.length ? v : undefined; }, 3000, 'commit'), ['checked']);
    // No further checks once it is resolved; a late answer naming the original copy changes nothing.
    await endTx(t, half, COMMIT);
    const n = t.checks.length;
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(t.checks.length, n);
    assert.deepEqual(await visible(t, 'TxCheck'), ['checked']);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('past transactionCheckMax an unanswered half goes to TRANS_CHECK_MAX_TIME_TOPIC; state survives a restart', async () => {
  const tmp = tempDir('rmq-tx-max-');
  let t = await setup(tmp.dir, { transactionCheckMax: 2 });
  try {
    await sendHalf(t, 'TxMax', 'never-answered');
    await until(() => (t.checks.filter((c) => c.code === 39).length >= 2 ? true : undefined), 8000, 'two checks');
    await until(async () => ((await visible(t, 'TRANS_CHECK_MAX_TIME_TOPIC')).includes('never-answered') ? true : undefined), 5000, 'the discarded half');
    await t.cleanup();
    // A half left open across a restart can still be committed afterwards.
    t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
    const kept = await sendHalf(t, 'TxKeep', 'answered-after-restart');
    await t.cleanup();
    t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
    assert.deepEqual(await visible(t, 'TxKeep'), []);
    await endTx(t, kept, COMMIT);
    assert.deepEqual(await until(async () => { const v = await visible(t, 'TxKeep'); return v.length ? v : undefined; }, 3000, 'commit after restart'), ['answered-after-restart']);
    assert.deepEqual(await visible(t, 'TxMax'), []);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('a committed transaction message with a timer waits for its time after the commit', async () => {
  const tmp = tempDir('rmq-tx-timer-');
  const t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
  try {
    const half = await sendHalf(t, 'TxTimer', 'timed', Date.now(), { TIMER_DELAY_MS: '2000' });
    const committedAt = Date.now();
    await endTx(t, half, COMMIT);
    await new Promise((res) => setTimeout(res, 700));
    assert.deepEqual(await visible(t, 'TxTimer'), [], 'visible before its timer');
    await until(async () => ((await visible(t, 'TxTimer')).length ? true : undefined), 6000, 'the timed message');
    // The 2 s count from the commit, and a timer is never delivered before its time.
    assert.ok(Date.now() - committedAt >= 2000, 'delivered too early');
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('a commit whose DELAY is no int or whose timer is illegal fails as upstream\'s put hook fails it; the half stays open and is checked back', async () => {
  const tmp = tempDir('rmq-tx-badlevel-');
  const t = await setup(tmp.dir);
  try {
    // Upstream stores the half (its put hook skips prepared messages) and fails at the commit:
    // Integer.parseInt throws (SYSTEM_ERROR) or the timer put is WHEEL_TIMER_MSG_ILLEGAL (MESSAGE_ILLEGAL).
    const badLevel = await sendHalf(t, 'TxBadLevel', 'bad-level', Date.now(), { DELAY: '1.5' });
    const badTimer = await sendHalf(t, 'TxBadLevel', 'bad-timer', Date.now(), { TIMER_DELAY_MS: 'soon' });
    const end = (half: typeof badLevel): Promise<RemotingCommand> => t.raw.invoke(t.mq.brokerAddr, createRequest(37, {
      extFields: {
        producerGroup: 'TXG', tranStateTableOffset: half.queueOffset, commitLogOffset: decodeOffsetMessageId(half.offsetMsgId).commitLogOffset,
        commitOrRollback: COMMIT, fromTransactionCheck: false, msgId: half.uniq, transactionId: half.uniq,
      },
    }));
    const r1 = await end(badLevel);
    assert.equal(r1.code, 1, r1.remark);
    assert.match(r1.remark ?? '', /For input string: "1\.5"/);
    const r2 = await end(badTimer);
    assert.equal(r2.code, 13, r2.remark);
    assert.match(r2.remark ?? '', /timer message illegal/);
    assert.deepEqual(await visible(t, 'TxBadLevel'), []);
    assert.equal(t.mq.broker.messageStore.findConsumeQueue('SCHEDULE_TOPIC_XXXX', 0.5), undefined);
    // Not resolved: both are checked back, then a rollback ends them.
    await until(() => (checked(t).has(badLevel.uniq) && checked(t).has(badTimer.uniq) ? true : undefined), 8000, 'the check-backs');
    await endTx(t, badLevel, ROLLBACK, true, true);
    await endTx(t, badTimer, ROLLBACK, true, true);
    assert.deepEqual(await visible(t, 'TxBadLevel'), []);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

/** The messages the broker checked back so far, by unique key. */
function checked(t: Tx): Set<string | undefined> {
  return new Set(t.checks.filter((c) => c.code === 39).map((c) => c.extFields?.msgId));
}

test('a half born in the future (producer clock ahead) is checked at once and holds up no half after it', async () => {
  const tmp = tempDir('rmq-tx-skew-');
  const t = await setup(tmp.dir);
  try {
    // Upstream checks a half with a negative age at once; one that stopped the round stalled every later check for the skew.
    const skewed = await sendHalf(t, 'TxSkew', 'from-a-fast-clock', Date.now() + 3_600_000);
    const normal = await sendHalf(t, 'TxSkew', 'from-a-good-clock');
    await until(() => (checked(t).has(normal.uniq) ? true : undefined), 5000, 'the check-back of the half from the good clock');
    assert.ok(checked(t).has(skewed.uniq), 'the half born in the future is checked back too');
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('a check round reaches every due half, however many answered halves came before it', async () => {
  const tmp = tempDir('rmq-tx-lag-');
  // Rounds are run by hand below.
  const t = await setup(tmp.dir, { transactionCheckInterval: 600_000, transactionTimeOut: 1000 });
  try {
    const svc = t.mq.broker.transactionalMessageService;
    const bornLongAgo = (): number => Date.now() - 60_000;
    const answered = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i += 100) {
        const halves = await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => sendHalf(t, 'TxLag', `tx-${i + k}`, bornLongAgo())));
        await Promise.all(halves.map((h) => endTx(t, h, ROLLBACK, false, true)));
      }
    };
    // Steady traffic: 2,000 answered transactions between rounds, 67 a second at the default 30 s interval
    // (a round used to look at 1,024 offsets at most, so its cursor fell further behind each time).
    for (let round = 0; round < 3; round++) {
      await answered(2000);
      await svc.check();
    }
    const open = await sendHalf(t, 'TxLag', 'left-open', bornLongAgo()); // its producer dies before END_TRANSACTION
    await answered(100);
    await svc.check();
    await until(() => (checked(t).has(open.uniq) ? true : undefined), 5000, `the check-back of the open half at queue offset ${open.queueOffset}`);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('a late commit of a half checked back before a broker restart is stored, not answered SUCCESS and dropped', async () => {
  const tmp = tempDir('rmq-tx-late-');
  let t = await setup(tmp.dir);
  try {
    const half = await sendHalf(t, 'TxLate', 'slow-local-transaction');
    // The local transaction still runs: the check-back goes unanswered, the half is re-appended.
    await until(() => (checked(t).has(half.uniq) ? true : undefined), 5000, 'a check-back');
    await t.cleanup();
    t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
    // The local transaction ends after the restart: the producer commits the half it sent (upstream looks it up by its offset).
    await endTx(t, half, COMMIT);
    assert.deepEqual(await until(async () => ((await visible(t, 'TxLate')).length > 0 ? visible(t, 'TxLate') : undefined), 5000, 'the committed message'), ['slow-local-transaction']);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('past its CHECK_IMMUNITY_TIME_IN_SECONDS a half is ended only by a check answer: the producer\'s own is ILLEGAL_OPERATION', async () => {
  const tmp = tempDir('rmq-tx-immunity-');
  const t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
  try {
    const immune = { CHECK_IMMUNITY_TIME_IN_SECONDS: '1' };
    // Born 5 s ago with 1 s of immunity: the producer's own commit or rollback comes too late (upstream rejectCommitOrRollback).
    const late = await sendHalf(t, 'TxImmune', 'late', Date.now() - 5000, immune);
    const lateRollback = await sendHalf(t, 'TxImmune', 'late-rollback', Date.now() - 5000, immune);
    const inTime = await sendHalf(t, 'TxImmune', 'in-time', Date.now(), { CHECK_IMMUNITY_TIME_IN_SECONDS: '60' });
    const end = (half: typeof late, what: number, fromTransactionCheck: boolean): Promise<RemotingCommand> => t.raw.invoke(t.mq.brokerAddr, createRequest(37, {
      extFields: {
        producerGroup: 'TXG', tranStateTableOffset: half.queueOffset, commitLogOffset: decodeOffsetMessageId(half.offsetMsgId).commitLogOffset,
        commitOrRollback: what, fromTransactionCheck, msgId: half.uniq, transactionId: half.uniq,
      },
    }));
    assert.equal((await end(late, COMMIT, false)).code, 604);
    assert.equal((await end(lateRollback, ROLLBACK, false)).code, 604);
    assert.equal((await end(inTime, COMMIT, false)).code, 0);
    assert.deepEqual(await visible(t, 'TxImmune'), ['in-time']);
    // The answer to a check-back is accepted however late.
    assert.equal((await end(late, COMMIT, true)).code, 0);
    assert.deepEqual(await visible(t, 'TxImmune'), ['in-time', 'late']);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('a half discarded after transactionCheckMax checks is still committed by a late commit, as upstream', async () => {
  const tmp = tempDir('rmq-tx-discarded-');
  const t = await setup(tmp.dir, { transactionCheckMax: 1 });
  try {
    const half = await sendHalf(t, 'TxDiscarded', 'answered-too-late');
    await until(async () => ((await visible(t, 'TRANS_CHECK_MAX_TIME_TOPIC')).includes('answered-too-late') ? true : undefined), 8000, 'the discarded half');
    await endTx(t, half, COMMIT, false, true);
    assert.deepEqual(await visible(t, 'TxDiscarded'), ['answered-too-late']);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('RESUME_CHECK_HALF_MESSAGE puts a half given up after transactionCheckMax back to be checked, and refuses what is no half', async () => {
  const tmp = tempDir('rmq-tx-resume-');
  const t = await setup(tmp.dir, { transactionCheckMax: 1 });
  try {
    const half = await sendHalf(t, 'TxResume', 'resumed');
    await until(async () => ((await visible(t, 'TRANS_CHECK_MAX_TIME_TOPIC')).includes('resumed') ? true : undefined), 8000, 'the discarded half');
    const checksOf = (): RemotingCommand[] => t.checks.filter((c) => c.code === 39 && c.extFields?.msgId === half.uniq);
    const before = checksOf().length;
    assert.equal(before, 1, 'checked once, then given up');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(checksOf().length, before, 'no checks once given up');

    await t.api.resumeCheckHalfMessage(t.mq.brokerAddr, 'TxResume', half.offsetMsgId);
    const check = await until(() => checksOf()[before], 5000, 'a check after the resume');
    const e = check.extFields!;
    assert.equal(decodeRecord(check.body!).body.toString(), 'resumed');
    await endTx(t, { queueOffset: Number(e.tranStateTableOffset), offsetMsgId: e.offsetMsgId!, uniq: half.uniq }, COMMIT, true);
    assert.deepEqual(await until(async () => { const v = await visible(t, 'TxResume'); return v.length ? v : undefined; }, 3000, 'the commit'), ['resumed']);

    // Bad input: a clear error, and nothing changes.
    const raw = (ext: Record<string, string>): Promise<RemotingCommand> => t.raw.invoke(t.mq.brokerAddr, createRequest(323, { extFields: ext }));
    const plain = await t.api.sendMessage(t.mq.brokerAddr, 'broker-a', {
      producerGroup: 'P', topic: 'TxResume', defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0,
      bornTimestamp: Date.now(), flag: 0, properties: encodeProperties({ UNIQ_KEY: 'PLAIN1' }),
    }, Buffer.from('plain'));
    for (const [ext, remark] of [
      [{ topic: 'TxResume' }, /no msgId/],
      [{ topic: 'TxResume', msgId: 'not-an-id' }, /not an offset message id/],
      [{ topic: 'TxResume', msgId: plain.offsetMsgId }, /is not a half message/],
      [{ topic: 'TxResume', msgId: plain.offsetMsgId.slice(0, 16) + '00000000FFFFFFFF' }, /no message with id/],
    ] as const) {
      const res = await raw(ext);
      assert.equal(res.code, 1, JSON.stringify(ext));
      assert.ok(res.remark?.startsWith('Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC. ('), `upstream's remark first: ${res.remark}`);
      assert.match(res.remark ?? '', remark);
    }
    assert.deepEqual(await visible(t, 'TxResume'), ['resumed', 'plain']);

    // The Admin SDK, as upstream's MQAdminExt: a client id (UNIQ_KEY) is looked up in the topic
    // named (halves are indexed under the half topic) and its stored copy's offset id is sent.
    const half2 = await sendHalf(t, 'TxResume', 'resumed2');
    await until(async () => ((await visible(t, 'TRANS_CHECK_MAX_TIME_TOPIC')).includes('resumed2') ? true : undefined), 8000, 'the second discarded half');
    const checks2 = (): RemotingCommand[] => t.checks.filter((c) => c.code === 39 && c.extFields?.msgId === half2.uniq);
    const before2 = checks2().length;
    const admin = new Admin({ namesrvAddr: t.mq.namesrvAddr });
    await admin.start();
    try {
      await admin.resumeCheckHalfMessage('RMQ_SYS_TRANS_HALF_TOPIC', half2.uniq);
      const c2 = await until(() => checks2()[before2], 5000, 'a check after the resume by client id');
      assert.equal(decodeRecord(c2.body!).body.toString(), 'resumed2');
      await assert.rejects(admin.resumeCheckHalfMessage('RMQ_SYS_TRANS_HALF_TOPIC', 'NOSUCHUNIQKEY0000'), /not found/);
    } finally {
      await admin.shutdown();
    }
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('END_TRANSACTION answers wrong input with upstream\'s codes and remarks', async () => {
  const tmp = tempDir('rmq-tx-remarks-');
  const t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
  try {
    const half = await sendHalf(t, 'TxRemarks', 'remarks');
    const late = await sendHalf(t, 'TxRemarks', 'late', Date.now() - 5000, { CHECK_IMMUNITY_TIME_IN_SECONDS: '1' });
    const end = (fields: Record<string, string | number | boolean>, of = half): Promise<RemotingCommand> => t.raw.invoke(t.mq.brokerAddr, createRequest(37, {
      extFields: {
        producerGroup: 'TXG', tranStateTableOffset: of.queueOffset, commitLogOffset: decodeOffsetMessageId(of.offsetMsgId).commitLogOffset,
        commitOrRollback: COMMIT, fromTransactionCheck: false, msgId: of.uniq, transactionId: of.uniq, ...fields,
      },
    }));
    // As upstream EndTransactionProcessor#checkPrepareMessage and getHalfMessageByOffset.
    const missing = await end({ commitLogOffset: 1 << 30 });
    assert.deepEqual([missing.code, missing.remark], [1, 'Find prepared transaction message failed']);
    const group = await end({ producerGroup: 'OTHER' });
    assert.deepEqual([group.code, group.remark], [1, 'The producer group wrong']);
    const offset = await end({ tranStateTableOffset: half.queueOffset + 7 });
    assert.deepEqual([offset.code, offset.remark], [1, 'The transaction state table offset wrong']);
    // rejectCommitOrRollback answers ILLEGAL_OPERATION with no remark.
    const illegal = await end({}, late);
    assert.equal(illegal.code, 604);
    assert.equal(illegal.remark ?? undefined, undefined);
    // A committed message the store refuses is answered as upstream's sendFinalMessage answers it; the half stays open.
    const max = t.mq.broker.storeConfig.maxMessageSize;
    t.mq.broker.storeConfig.maxMessageSize = 3;
    const refused = await end({});
    t.mq.broker.storeConfig.maxMessageSize = max;
    assert.deepEqual([refused.code, refused.remark],
      [13, 'The message is illegal, maybe msg body or properties length not matched. msg body length limit 3B, msg properties length limit 32KB.']);
    assert.deepEqual(await visible(t, 'TxRemarks'), []);
    assert.equal((await end({})).code, 0);
    assert.deepEqual(await visible(t, 'TxRemarks'), ['remarks']);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('a message committed from a check-back keeps TRANSACTION_CHECK_TIMES and loses REAL_TOPIC, REAL_QID and TRAN_MSG, as upstream', async () => {
  const tmp = tempDir('rmq-tx-props-');
  const t = await setup(tmp.dir);
  try {
    const half = await sendHalf(t, 'TxProps', 'checked');
    const check = await until(() => t.checks.find((c) => c.code === 39 && c.extFields?.msgId === half.uniq), 8000, 'the check-back');
    const copy = { queueOffset: Number(check.extFields?.tranStateTableOffset), offsetMsgId: String(check.extFields?.offsetMsgId), uniq: half.uniq };
    await endTx(t, copy, COMMIT, true, true);
    const r = await t.api.pullMessage(t.mq.brokerAddr, {
      consumerGroup: 'C', topic: 'TxProps', queueId: 0, queueOffset: 0, maxMsgNums: 1, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000);
    const m = r.msgFoundList?.[0];
    assert.ok(m);
    const props = m.propertyMap;
    assert.equal(props.get('TRANSACTION_CHECK_TIMES'), '1');
    assert.equal(props.get('__transactionId__'), half.uniq);
    for (const gone of ['REAL_TOPIC', 'REAL_QID', 'TRAN_MSG']) assert.equal(props.get(gone), undefined, gone);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('config/transactionMetrics counts open halves per real topic, as upstream TransactionMetrics, across a restart', async () => {
  const tmp = tempDir('rmq-tx-metrics-');
  let t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
  const file = join(tmp.dir, 'config', 'transactionMetrics');
  const counts = (): Record<string, { count: number; timeStamp: number }> => (JSON.parse(readFileSync(file, 'utf8')) as { transactionCount: Record<string, { count: number; timeStamp: number }> }).transactionCount;
  try {
    const a = await sendHalf(t, 'TxMetricsA', 'a1');
    const b = await sendHalf(t, 'TxMetricsA', 'a2');
    await sendHalf(t, 'TxMetricsB', 'b1');
    await endTx(t, a, COMMIT, false, true);
    await endTx(t, a, COMMIT, false, true); // a repeated commit ends nothing more
    await t.cleanup();
    assert.equal(counts().TxMetricsA?.count, 1);
    assert.equal(counts().TxMetricsB?.count, 1);
    t = await setup(tmp.dir, { transactionCheckInterval: 60_000 });
    await endTx(t, b, ROLLBACK, false, true);
    await t.cleanup();
    assert.equal(counts().TxMetricsA?.count, 0);
    assert.equal(counts().TxMetricsB?.count, 1);
    assert.ok(JSON.parse(readFileSync(file, 'utf8')).dataVersion);
  } finally {
    await t.cleanup().catch(() => undefined);
    tmp.cleanup();
  }
});

test('a CHECK_IMMUNITY_TIME_IN_SECONDS shorter than transactionTimeOut brings the first check forward; the copies carry TRAN_PREPARED_QUEUE_OFFSET', async () => {
  const tmp = tempDir('rmq-tx-immunity-short-');
  // transactionTimeOut alone would hold every check off for a minute.
  const t = await setup(tmp.dir, { transactionTimeOut: 60_000 });
  try {
    // Alone: as upstream, a round stops at the first half younger than transactionTimeOut that has no immunity.
    const immune = await sendHalf(t, 'TxShort', 'immune', Date.now(), { CHECK_IMMUNITY_TIME_IN_SECONDS: '2' });
    const check = await until(() => t.checks.find((c) => c.code === 39 && c.extFields?.msgId === immune.uniq), 10_000, 'the check-back after 2 s');
    // As upstream sendCheckMessage: the header names the half topic, the body the real one, with the
    // half's properties, among them the queue offset it was first prepared at.
    assert.equal(check.extFields?.topic, 'RMQ_SYS_TRANS_HALF_TOPIC');
    assert.equal(check.extFields?.transactionId, immune.uniq);
    const body = decodeRecord(check.body!);
    assert.equal(body.topic, 'TxShort');
    assert.equal(body.sysFlag & 0xc, 0);
    const props = decodeProperties(body.properties);
    assert.equal(props.get('TRANSACTION_CHECK_TIMES'), '1');
    assert.equal(props.get('TRAN_PREPARED_QUEUE_OFFSET'), String(immune.queueOffset));
    await endTx(t, { ...immune, queueOffset: Number(check.extFields?.tranStateTableOffset), offsetMsgId: String(check.extFields?.offsetMsgId) }, COMMIT, true, true);
    assert.deepEqual(await visible(t, 'TxShort'), ['immune']);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

test('END_TRANSACTION logs upstream\'s lines for a rollback, an unknown state and a check answer, with the header and remark', async () => {
  const tmp = tempDir('rmq-tx-logs-');
  const { logger, lines } = memoryLogger();
  const t = await setup(tmp.dir, { transactionCheckInterval: 60_000 }, logger);
  try {
    const half = await sendHalf(t, 'TxLogs', 'logged');
    const clo = decodeOffsetMessageId(half.offsetMsgId).commitLogOffset;
    const end = (what: number, fromTransactionCheck: boolean, remark?: string): Promise<void> => t.raw.invokeOneway(t.mq.brokerAddr, createRequest(37, {
      extFields: { producerGroup: 'TXG', tranStateTableOffset: half.queueOffset, commitLogOffset: clo, commitOrRollback: what, fromTransactionCheck, msgId: half.uniq, transactionId: half.uniq },
      remark,
    }));
    await end(0, false, 'executeLocalTransactionBranch exception: Error: boom');
    await end(0, true);
    await end(ROLLBACK, false);
    const header = (what: number, fromCheck: boolean): string => `RequestHeader: EndTransactionRequestHeader{producerGroup=TXG, tranStateTableOffset=${half.queueOffset}, `
      + `commitLogOffset=${clo}, commitOrRollback=${what}, fromTransactionCheck=${fromCheck}, msgId=${half.uniq}, transactionId=${half.uniq}}`;
    const want = [
      new RegExp(`^The producer\\[127\\.0\\.0\\.1:\\d+\\] end transaction in sending message,  and it's pending status\\.${esc(header(0, false))} Remark: executeLocalTransactionBranch exception: Error: boom$`),
      new RegExp(`^Check producer\\[127\\.0\\.0\\.1:\\d+\\] transaction state, but it's pending status\\.${esc(header(0, true))} Remark: null$`),
      new RegExp(`^The producer\\[127\\.0\\.0\\.1:\\d+\\] end transaction in sending message, rollback the message\\.${esc(header(ROLLBACK, false))} Remark: null$`),
    ];
    await until(() => (want.every((re) => lines.some((l) => re.test(String(l.msg)))) ? true : undefined), 5000, 'the three log lines');
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('check rounds log upstream\'s lines for a group with no live producer and for a discarded half; op messages carry WAIT=false and a UNIQ_KEY', async () => {
  const tmp = tempDir('rmq-tx-checklog-');
  const { logger, lines } = memoryLogger();
  const t = await setup(tmp.dir, { transactionCheckMax: 1 }, logger);
  try {
    const orphan = await sendHalf(t, 'TxOrphan', 'orphan', Date.now(), { PGROUP: 'NOBODY' });
    await until(() => (lines.some((l) => l.msg === 'Check transaction failed, channel is null. groupId=NOBODY') ? true : undefined), 8000, 'the no-channel line');
    await until(() => (lines.some((l) => /^MsgExt:MessageExt \[.*has been checked too many times, so discard it by moving it to system topic TRANS_CHECK_MAXTIME_TOPIC$/.test(String(l.msg))
      && String(l.msg).includes(orphan.uniq)) ? true : undefined), 8000, 'the discard line');
    // The discard writes its op message (after the line): upstream's format.
    const op = await until(async () => (await t.api.pullMessage(t.mq.brokerAddr, {
      consumerGroup: 'C', topic: 'RMQ_SYS_TRANS_OP_HALF_TOPIC', queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: PullSysFlag.FLAG_SUBSCRIPTION,
      commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0,
    }, 3000).catch(() => undefined))?.msgFoundList[0], 8000, 'the op message');
    assert.equal(op.propertyMap.get('TAGS'), 'd');
    assert.equal(op.propertyMap.get('WAIT'), 'false');
    assert.ok(op.propertyMap.get('UNIQ_KEY'));
    assert.match(op.body.toString(), /^\d+,$/);
  } finally {
    await t.cleanup();
    tmp.cleanup();
  }
});
