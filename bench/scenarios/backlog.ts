import { performance } from 'node:perf_hooks';
import { PullStatus } from '../../src/client/index.js';
import { emit, fmtBytes, fmtInt, GiB, log, makeBody, MiB, round, rtRows, rtStats, sleep, waitFor } from '../common.js';
import { LatencyHistogram } from '../histogram.js';
import { errorNotes, queuedMessages, runLoad, tps, waitForQueues, warmUp, withSystem, type LoadOptions } from '../load.js';
import { loadShape, systemOptions, type Scenario } from './types.js';

/** The targets for a broker holding 100 million messages of 128 B. */
const RSS_TARGET_MIB = 256;
const TPS_RATIO_TARGET = 0.9;
const PULL_TARGET_MS = 5;
/** "Old" offsets: the oldest 90 % of each queue. */
const OLD_FRACTION = 0.9;

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The send rate over the run, averaged over steps of whole seconds so that at most 360 points remain. */
function series(secs: readonly number[]): { stepSec: number; tps: number[] } {
  const step = Math.max(1, Math.ceil(secs.length / 360));
  const tpsOut: number[] = [];
  for (let i = 0; i < secs.length; i += step) tpsOut.push(Math.round(mean(secs.slice(i, i + step))));
  return { stepSec: step, tps: tpsOut };
}

/**
 * Fills the broker with --messages small messages at the normal load, comparing the send rate
 * of the first and the last --window seconds, sampling broker RSS throughout; then times pulls
 * at random old offsets.
 */
export const backlogScenario: Scenario = {
  name: 'backlog',
  summary: 'hold --messages (100 M) × 128 B: broker RSS, send TPS first vs last window, pulls at random old offsets',
  defaults: { size: 128 },
  quick: { messages: 5_000_000 },
  async run(o) {
    // Large CommitLog segments (upstream's 1 GiB), explicitly, whatever the store default becomes.
    const sys = systemOptions(o, { flushDiskType: o.flush, mappedFileSizeCommitLog: GiB });
    const flush = String(sys.conf.flushDiskType);
    await withSystem(sys, async (s) => {
      const topic = `Bench-backlog-${Date.now()}`;
      await s.createTopic(topic, o.queues);
      const producers = await s.producers(o.producers);
      const body = makeBody(o.size);
      await warmUp(producers, topic, body);
      const load: LoadOptions = { label: 'backlog', producers, inflight: o.inflight, topicOf: () => topic, body };
      // The warm-up's messages are part of what the broker holds; its seconds are not in the first window.
      let warm = 0;
      if (o.warmup > 0) {
        log(`backlog: warm-up, ${o.warmup} s (its messages count towards the ${fmtInt(o.messages)})`);
        warm = (await runLoad({ ...load, label: 'backlog warm-up', durationMs: o.warmup * 1000, messages: o.messages })).ok;
      }
      log(`backlog: sending ${fmtInt(o.messages - warm)} more × ${o.size} B, ${o.inflight} in flight over ${o.producers} producers, ${flush}, 1 GiB CommitLog segments`);
      const rssNow = (): string => ` | broker RSS ${round(s.rss.last / MiB)} MiB (peak ${round(s.rss.peak / MiB)})`;
      const r = await runLoad({
        ...load, messages: o.messages - warm, progressMs: o.messages >= 5_000_000 ? 10_000 : 2_000, progressExtra: rssNow,
      });
      const rssAfterFill = s.rss.last;
      const storeBytes = await s.commitLogBytes();

      // Whole seconds only: the last entry is the partial second in which the run ended.
      const secs = r.perSecond.length > 1 ? r.perSecond.slice(0, -1) : r.perSecond;
      const w = Math.min(o.window, secs.length);
      const firstTps = mean(secs.slice(0, w));
      const lastTps = mean(secs.slice(secs.length - w));
      const overlap = secs.length < 2 * o.window;
      const ratio = firstTps > 0 ? lastTps / firstTps : 0;

      const consumer = await s.consumer(`BenchmarkBacklog-${Date.now()}`);
      await waitFor('the backlog in the ConsumeQueues', async () => ((await queuedMessages(consumer, topic)) >= warm + r.ok ? true : undefined), 300_000);
      const queues = await waitForQueues(consumer, topic);
      const ranges = await Promise.all(queues.map(async (mq) => ({ mq, min: await consumer.minOffset(mq), max: await consumer.maxOffset(mq) })));
      // One untimed pull per queue at its newest message: the new group's subscription and the
      // connection are set up outside the figures, without touching old data.
      for (const q of ranges) await consumer.pull(q.mq, '*', Math.max(q.min, q.max - 1), 1);
      await sleep(1000);
      log(`backlog: ${o.pulls} pulls of ${o.pullBatch} at random offsets in the oldest ${OLD_FRACTION * 100} % of each queue, one at a time`);
      const hist = new LatencyHistogram();
      const statuses: Record<string, number> = {};
      let found = 0;
      for (let i = 0; i < o.pulls; i++) {
        const q = ranges[Math.floor(Math.random() * ranges.length)]!;
        const offset = q.min + Math.floor(Math.random() * Math.max(1, (q.max - q.min) * OLD_FRACTION));
        const t0 = performance.now();
        const p = await consumer.pull(q.mq, '*', offset, o.pullBatch);
        hist.record(performance.now() - t0);
        statuses[p.pullStatus] = (statuses[p.pullStatus] ?? 0) + 1;
        if (p.pullStatus === PullStatus.FOUND) found += p.msgFoundList.length;
      }
      s.rss.sample();

      const pull = rtStats(hist);
      const targets = {
        rssPeakWithin256MiB: s.rss.peak <= RSS_TARGET_MIB * MiB,
        tpsWithin10Percent: ratio >= TPS_RATIO_TARGET,
        pullP99Under5ms: pull.p99 < PULL_TARGET_MS,
        pullMaxUnder5ms: pull.max < PULL_TARGET_MS,
      };
      const yes = (b: boolean): string => (b ? 'yes' : 'NO');
      const notes = errorNotes(r);
      if (overlap) notes.push(`the run lasted ${secs.length} s, less than two ${o.window} s windows: first and last window overlap`);
      emit('backlog', [
        ['flushDiskType', flush],
        ['messages × bytes', `${fmtInt(warm + r.ok)} × ${o.size}`],
        ['in flight (total) / producers', `${o.inflight} / ${o.producers}`],
        ['CommitLog held', fmtBytes(storeBytes)],
        ['warm-up / send duration', `${o.warmup} s (${fmtInt(warm)} msgs) / ${round(r.elapsedMs / 1000, 1)} s`],
        ['send msgs/s (whole run)', Math.round(tps(r))],
        [`send msgs/s first ${w} s`, Math.round(firstTps)],
        [`send msgs/s last ${w} s`, Math.round(lastTps)],
        ['last / first', round(ratio, 3)],
        ['send errors', r.errors],
        ...rtRows('ack', r.hist, ['p50', 'p99', 'max']),
        ['broker RSS after fill (MiB)', round(rssAfterFill / MiB, 1)],
        ...s.rss.rows(),
        ['old-offset pulls (found msgs)', `${hist.count} (${found}) ${JSON.stringify(statuses)}`],
        ...rtRows('old-offset pull', hist, ['p50', 'p99', 'max']),
        [`RSS ≤ ${RSS_TARGET_MIB} MiB / TPS ≥ ${TPS_RATIO_TARGET} / pull p99 < ${PULL_TARGET_MS} ms`,
          `${yes(targets.rssPeakWithin256MiB)} / ${yes(targets.tpsWithin10Percent)} / ${yes(targets.pullP99Under5ms)}`],
      ], {
        ...loadShape(o, flush),
        messages: warm + r.ok,
        commitLogBytes: storeBytes,
        mappedFileSizeCommitLog: Number(sys.conf.mappedFileSizeCommitLog),
        send: {
          warmupSec: o.warmup,
          warmupMessages: warm,
          durationSec: round(r.elapsedMs / 1000, 3),
          tps: round(tps(r), 1),
          windowSec: w,
          firstWindowTps: round(firstTps, 1),
          lastWindowTps: round(lastTps, 1),
          lastOverFirst: round(ratio, 4),
          windowsOverlap: overlap,
          errors: r.errors,
          ackMs: rtStats(r.hist),
          series: series(secs),
        },
        brokerRssMiB: { ...s.rss.json(), afterFill: round(rssAfterFill / MiB, 1) },
        oldOffsetPull: { count: hist.count, batch: o.pullBatch, foundMessages: found, statuses, oldFraction: OLD_FRACTION, ms: pull },
        targets,
      }, notes);
    });
  },
};
