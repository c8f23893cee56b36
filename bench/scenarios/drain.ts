import { emit, fmtInt, log, makeBody, round, rtRows, rtStats, waitFor } from '../common.js';
import { cpuRows, cpuUse, drainQueues, errorNotes, mibPerSec, queuedMessages, runLoad, tps, withSystem } from '../load.js';
import { loadShape, systemOptions, type Scenario } from './types.js';

/** Builds a backlog (untimed), then drains it from offset 0 with a fresh group, one puller per queue. */
export const drainScenario: Scenario = {
  name: 'drain',
  summary: 'drain a backlog of --backlog messages with pulls, all queues in parallel: msgs/s',
  quick: { backlog: 500_000 },
  async run(o) {
    const sys = systemOptions(o, { flushDiskType: o.flush });
    const flush = String(sys.conf.flushDiskType);
    await withSystem(sys, async (s) => {
      const topic = `Bench-drain-${Date.now()}`;
      await s.createTopic(topic, o.queues);
      const producers = await s.producers(o.producers);
      const body = makeBody(o.size);
      log(`drain: building a backlog of ${fmtInt(o.backlog)} × ${o.size} B (untimed; ${o.inflight} sends in flight, batches of ${o.fillBatch})`);
      const fill = await runLoad({
        label: 'fill', producers, inflight: o.inflight, topicOf: () => topic, body, batch: o.fillBatch, messages: o.backlog, progressMs: 2000,
      });
      const consumer = await s.consumer(`BenchmarkDrain-${Date.now()}`);
      await waitFor('the backlog in the ConsumeQueues', async () => ((await queuedMessages(consumer, topic)) >= fill.ok ? true : undefined), 120_000);
      log(`drain: pulling everything from offset 0, ${o.queues} queues in parallel, ${o.pullBatch} per pull, ${o.pullInflight} pull(s) outstanding per queue`);
      const mark = s.cpuMark();
      const d = await drainQueues(consumer, topic, { label: 'drain', pullBatch: o.pullBatch, pullInflight: o.pullInflight });
      const cpu = cpuUse(s.cpuSince(mark), d.consumed);
      s.rss.sample();
      const drainTps = (d.consumed * 1000) / d.elapsedMs;
      emit('drain', [
        ['flushDiskType', flush],
        ['backlog (messages × bytes)', `${fmtInt(o.backlog)} × ${o.size}`],
        ['fill (untimed) msgs/s', Math.round(tps(fill))],
        ['queues / pull batch / pulls outstanding', `${d.queues} / ${o.pullBatch} / ${o.pullInflight}`],
        ['drained / in queues', `${d.consumed} / ${d.expected}`],
        ['drain duration (s)', round(d.elapsedMs / 1000)],
        ['drain msgs/s', Math.round(drainTps)],
        ['drain MiB/s', round(mibPerSec(d))],
        ['pulls (answers dropped)', `${d.pulls} (${d.voided})`],
        ['msgs per answer used (avg)', round(d.consumed / Math.max(1, d.pulls - d.voided), 1)],
        ...rtRows('pull RT', d.hist, ['p50', 'p99', 'max']),
        ...cpuRows(cpu),
        ...s.rss.rows(),
      ], {
        ...loadShape(o, flush),
        backlog: o.backlog,
        pullBatch: o.pullBatch,
        pullInflight: o.pullInflight,
        fill: { durationSec: round(fill.elapsedMs / 1000, 3), tps: round(tps(fill), 1), batch: o.fillBatch, errors: fill.errors },
        drain: {
          queues: d.queues,
          consumed: d.consumed,
          expected: d.expected,
          durationSec: round(d.elapsedMs / 1000, 3),
          tps: round(drainTps, 1),
          mibPerSec: round(mibPerSec(d), 3),
          pulls: d.pulls,
          voidedPulls: d.voided,
          msgsPerPull: round(d.consumed / Math.max(1, d.pulls - d.voided), 2),
          pullMs: rtStats(d.hist),
          cpu,
        },
        brokerRssMiB: s.rss.json(),
      }, errorNotes(fill, 'fill '));
      if (d.consumed !== d.expected) process.exitCode = 1;
    });
  },
};
