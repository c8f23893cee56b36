import { emit, fmtBytes, GiB, log, makeBody, MiB, round, sleep } from '../common.js';
import { errorNotes, startLoad, System, tps, type LoadResult } from '../load.js';
import { BrokerChild, type LogEntry } from '../standalone-child.js';
import { systemOptions, type Scenario } from './types.js';

const BOOT_SUCCESS = /boot success/;
const STANDALONE_STARTED = /RocketMQ standalone started/;
const RECOVERED = /store recovered after an abnormal exit: verified the CommitLog from offset (\d+) to (\d+) in (\d+) ms/;
const STARTED_IN = /started in (\d+) ms/;

interface Recovery {
  from: number;
  to: number;
  ms: number;
  bytes: number;
  gibPerSec: number | null;
}

function parseRecovery(e: LogEntry | undefined): Recovery | null {
  const m = e ? RECOVERED.exec(e.msg) : null;
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2]);
  const ms = Number(m[3]);
  return { from, to, ms, bytes: to - from, gibPerSec: ms > 0 ? round((to - from) / GiB / (ms / 1000), 3) : null };
}

function brokerStartedInMs(e: LogEntry | undefined): number | null {
  const m = e ? STARTED_IN.exec(e.msg) : null;
  return m ? Number(m[1]) : null;
}

/** RSS of a child after it idled `settleSec`: the median of 5 samples 200 ms apart. */
async function idleRss(c: BrokerChild, settleSec: number): Promise<number> {
  await sleep(settleSec * 1000);
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const v = c.rss();
    if (v !== undefined) xs.push(v);
    await sleep(200);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? 0;
}

/**
 * Fills a CommitLog with --bytes, SIGKILLs the standalone and starts it again on the same store
 * (crash recovery as the broker logs it), stops it cleanly and starts it again (cold start), and
 * reads the idle RSS of a fresh standalone.
 */
export const restartScenario: Scenario = {
  name: 'restart',
  summary: 'fill --bytes (1 GiB) of CommitLog, SIGKILL, restart: boot time, verified range → GiB/s; clean stop + cold start; idle RSS',
  quick: { bytes: 512 * MiB },
  async run(o) {
    const sys = systemOptions(o, { flushDiskType: o.flush });
    const flush = String(sys.conf.flushDiskType);
    const s = await System.start(sys);
    let fill: LoadResult;
    let filledBytes: number;
    let crash: { killMs: number; bootMs: number; brokerStartedInMs: number | null; standaloneStartedMs: number; recovery: Recovery | null; maxOffsetBefore: number; maxOffsetAfter: number };
    let clean: { stopMs: number; coldStartMs: number; bootMs: number; brokerStartedInMs: number | null; abnormal: boolean; rssMiB: number };
    try {
      const topic = `Bench-restart-${Date.now()}`;
      await s.createTopic(topic, o.queues);
      const producers = await s.producers(o.producers);
      const body = makeBody(o.size);
      let held = 0;
      log(`restart: filling the CommitLog to ${fmtBytes(o.bytes)} with ${o.size} B messages (batches of ${o.fillBatch}, ${o.inflight} in flight), ${flush}`);
      const run = startLoad({
        label: 'fill', producers, inflight: o.inflight, topicOf: () => topic, body, batch: o.fillBatch, progressMs: 2000,
        progressExtra: () => `, CommitLog ${fmtBytes(held)}`,
      });
      let settled = false;
      void run.done.finally(() => { settled = true; });
      while (!settled) {
        held = await s.commitLogBytes();
        if (held >= o.bytes) run.stop();
        await sleep(100);
      }
      fill = await run.done;
      const before = await s.runtimeInfo();
      filledBytes = Number(before.commitLogMaxOffset) - Number(before.commitLogMinOffset);
      const maxOffsetBefore = Number(before.commitLogMaxOffset);

      log(`restart: SIGKILL of pid ${s.child.pid} with ${fmtBytes(filledBytes)} of CommitLog, then start again on the same store`);
      const killMs = await s.child.kill('SIGKILL');
      await s.closeClients();
      const c2 = await s.child.restart(300_000);
      s.child = c2;
      const boot = await c2.waitForLog(BOOT_SUCCESS, 300_000);
      const started = await c2.waitForLog(STANDALONE_STARTED, 60_000);
      const recovery = parseRecovery(c2.findLog(RECOVERED));
      const after = await s.runtimeInfo();
      crash = {
        killMs, bootMs: boot.time - c2.spawnedAt, brokerStartedInMs: brokerStartedInMs(boot), standaloneStartedMs: started.time - c2.spawnedAt,
        recovery, maxOffsetBefore, maxOffsetAfter: Number(after.commitLogMaxOffset),
      };
      if (!recovery) log('restart: the broker logged no "store recovered after an abnormal exit" line');

      log('restart: clean stop (SIGTERM), then cold start on the same store');
      const stopMs = await c2.stop();
      const c3 = await c2.restart(300_000);
      s.child = c3;
      const started3 = await c3.waitForLog(STANDALONE_STARTED, 300_000);
      const boot3 = c3.findLog(BOOT_SUCCESS);
      clean = {
        stopMs, coldStartMs: started3.time - c3.spawnedAt, bootMs: boot3 ? boot3.time - c3.spawnedAt : NaN,
        brokerStartedInMs: brokerStartedInMs(boot3), abnormal: c3.findLog(RECOVERED) !== undefined, rssMiB: round((c3.rss() ?? 0) / MiB, 1),
      };
      s.rss.sample();
    } finally {
      await s.close();
    }

    log(`restart: a fresh standalone on an empty store; RSS after ${o.idleSettle} s idle`);
    const f = await BrokerChild.start({ conf: sys.conf, parentDir: o.tmp, keepDir: o.keepStore });
    let fresh: { coldStartMs: number; idleRssMiB: number };
    try {
      const started = await f.waitForLog(STANDALONE_STARTED, 60_000);
      fresh = { coldStartMs: started.time - f.spawnedAt, idleRssMiB: round((await idleRss(f, o.idleSettle)) / MiB, 1) };
    } finally {
      await f.dispose();
    }

    const rec = crash.recovery;
    const lost = crash.maxOffsetBefore - crash.maxOffsetAfter;
    emit('restart', [
      ['flushDiskType', flush],
      ['CommitLog filled', `${fmtBytes(filledBytes)} (${fill.ok} × ${o.size} B, ${Math.round(tps(fill))} msgs/s untimed)`],
      ['SIGKILL → exit (ms)', round(crash.killMs, 1)],
      ['restart: spawn → boot success (ms)', crash.bootMs],
      ['restart: broker start (its log, ms)', crash.brokerStartedInMs ?? 'n/a'],
      ['restart: spawn → both roles (ms)', crash.standaloneStartedMs],
      ['recovery verified (bytes)', rec ? `${rec.from} → ${rec.to} (${fmtBytes(rec.bytes)})` : 'no recovery line'],
      ['recovery time (ms)', rec ? rec.ms : 'n/a'],
      ['recovery GiB/s', rec?.gibPerSec ?? 'n/a'],
      ['CommitLog max offset before / after', `${crash.maxOffsetBefore} / ${crash.maxOffsetAfter}${lost !== 0 ? ` (${lost} bytes lost)` : ''}`],
      ['clean stop: SIGTERM → exit (ms)', round(clean.stopMs, 1)],
      ['cold start (filled store): spawn → both roles (ms)', clean.coldStartMs],
      ['cold start: broker start (its log, ms)', clean.brokerStartedInMs ?? 'n/a'],
      ['cold start: RSS just after (MiB)', clean.rssMiB],
      ['fresh standalone: spawn → both roles (ms)', fresh.coldStartMs],
      [`fresh standalone: idle RSS after ${o.idleSettle} s (MiB)`, fresh.idleRssMiB],
      ...s.rss.rows('broker (fill, recovery, cold start)'),
    ], {
      flushDiskType: flush,
      size: o.size,
      queues: o.queues,
      targetBytes: o.bytes,
      fill: { bytes: filledBytes, messages: fill.ok, batch: o.fillBatch, tps: round(tps(fill), 1), durationSec: round(fill.elapsedMs / 1000, 3), errors: fill.errors },
      crash: { ...crash, killMs: round(crash.killMs, 1) },
      cleanRestart: { ...clean, stopMs: round(clean.stopMs, 1) },
      fresh,
      brokerRssMiB: s.rss.json(),
    }, [
      ...errorNotes(fill, 'fill '),
      ...(clean.abnormal ? ['the start after a clean stop was treated as an abnormal exit'] : []),
      'the CommitLog was just written: recovery reads it from the page cache, so GiB/s measures CPU (record checks, CRC, ConsumeQueue re-dispatch), not the disk',
    ]);
  },
};
