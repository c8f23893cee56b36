import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MQClientAPI } from '../../src/client/index.js';
import { RemotingClient } from '../../src/remoting/index.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { decodeRecallHandle } from '../../src/common/recall-handle.js';
import { tempDir } from '../helpers/tmp.js';
import { killHard, startStandaloneProcess, stopClean, writeBrokerConf, type StandaloneProcess } from '../e2e/standalone-process.js';
import { pullAll, recall, sendRaw, sleep } from './timer-helpers.js';

/**
 * The standalone CLI as a child process, SIGKILLed while timers are pending (some filed and
 * persisted, some filed moments before the kill, one recalled, one already delivered): the
 * process started over the same store delivers every pending timer exactly once, not early,
 * and neither the recalled nor the delivered one (again).
 */

const TOPIC = 'CrashTimerTopic';
const QUEUES = 4;

test('pending timers survive SIGKILL and are delivered exactly once after restart', async () => {
  const tmp = tempDir('rmq-timer-crash-');
  const store = join(tmp.dir, 'store');
  const conf = writeBrokerConf(tmp.dir, {
    brokerName: 'broker-timer-crash', brokerIP1: '127.0.0.1', timerMaxDelaySec: 60,
    mapedFileSizeCommitLog: 4 * 1024 * 1024, mapedFileSizeConsumeQueue: 6000 * 20, messageIndexEnable: 'false',
  });
  let p: StandaloneProcess | undefined;
  const raw = new RemotingClient();
  const api = new MQClientAPI();
  try {
    p = await startStandaloneProcess(conf, store);
    const expected = new Map<string, number>();
    const send = async (body: string, delayMs: number, queueId: number): Promise<string> => {
      const r = await sendRaw(raw, p!.brokerAddr, TOPIC, body, { TIMER_DELAY_MS: String(delayMs) }, queueId);
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
      // Due when its slot (TIMER_OUT_MS, one second) has ended: never before the requested time.
      expected.set(body, decodeRecallHandle(r.extFields?.recallHandle).timestampMs - 1 + 1000);
      return r.extFields!.recallHandle!;
    };
    // Delivered before the crash: must not come again.
    await send('early', 1000, 0);
    // Filed and persisted well before the kill.
    await Promise.all(Array.from({ length: 200 }, (_, i) => send(`a${i}`, 3500 + (i % 30) * 100, i % QUEUES)));
    const handle = await send('recalled', 4000, 1);
    const rc = await recall(raw, p.brokerAddr, TOPIC, handle);
    assert.equal(rc.code, ResponseCode.SUCCESS, rc.remark);
    expected.delete('recalled');
    // Long enough for a persist; the 1 s timer is due within 2 s of its send.
    await sleep(1600);
    const earlyDue = expected.get('early')!;
    let early = 0;
    while (early === 0 && Date.now() < earlyDue + 3000) {
      early = (await pullAll(api, p.brokerAddr, TOPIC, 0)).filter((m) => m.body.toString() === 'early').length;
      if (early === 0) await sleep(50);
    }
    assert.equal(early, 1, 'the 1 s timer was delivered before the kill');
    // Filed moments before the kill, likely not yet in a persisted wheel.
    await Promise.all(Array.from({ length: 100 }, (_, i) => send(`b${i}`, 2500 + (i % 20) * 100, i % QUEUES)));
    await killHard(p);
    const killedAt = Date.now();

    p = await startStandaloneProcess(conf, store);
    const seen = new Map<string, number>();
    const deadline = Date.now() + 15_000;
    while (seen.size < expected.size && Date.now() < deadline) {
      for (let q = 0; q < QUEUES; q++) {
        for (const m of await pullAll(api, p.brokerAddr, TOPIC, q)) {
          const b = m.body.toString();
          if (!seen.has(b)) seen.set(b, Date.now());
        }
      }
      await sleep(50);
    }
    const missing = [...expected.keys()].filter((b) => !seen.has(b));
    assert.deepEqual(missing, [], `not delivered after the restart: ${missing.join(', ')}`);
    for (const [b, at] of seen) {
      const due = expected.get(b);
      if (due === undefined) continue;
      // Not before its slot ended (polling sees it a little later; downtime makes some late).
      assert.ok(at >= due, `${b} delivered ${due - at} ms before its time`);
      if (due > killedAt + 3000) assert.ok(at - due < 1500, `${b} delivered ${at - due} ms after its slot ended`);
    }
    await sleep(1500);
    const bodies: string[] = [];
    for (let q = 0; q < QUEUES; q++) bodies.push(...(await pullAll(api, p.brokerAddr, TOPIC, q)).map((m) => m.body.toString()));
    const counts = new Map<string, number>();
    for (const b of bodies) counts.set(b, (counts.get(b) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1).map(([b, n]) => `${b}×${n}`);
    assert.deepEqual(dups, [], `delivered more than once: ${dups.join(', ')}`);
    assert.equal(counts.get('recalled'), undefined, 'the recalled timer was delivered');
    assert.equal(counts.get('early'), 1);
    assert.equal(bodies.length, expected.size);
    await stopClean(p);
    p = undefined;
  } finally {
    await api.shutdown();
    await raw.shutdown();
    if (p) p.proc.kill();
    tmp.cleanup();
  }
});
