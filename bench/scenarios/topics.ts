import { performance } from 'node:perf_hooks';
import { createTopicOn, emit, fmtInt, log, makeBody, masterAddrs, pool, round, rtRows, rtStats, waitForRoute } from '../common.js';
import { errorNotes, runLoad, tps, warmUp, withSystem, type LoadOptions, type LoadResult } from '../load.js';
import { loadShape, systemOptions, type Scenario } from './types.js';

/**
 * The same load on one topic, then round-robin over --topics topics (each with --queues queues),
 * created first with UPDATE_AND_CREATE_TOPIC and routed by the NameServer before the clock starts.
 */
export const topicsScenario: Scenario = {
  name: 'topics',
  summary: '--topics (1000) topics × --queues queues under load vs one topic: msgs/s of both and the ratio',
  async run(o) {
    const sys = systemOptions(o, { flushDiskType: o.flush });
    const flush = String(sys.conf.flushDiskType);
    await withSystem(sys, async (s) => {
      const stamp = Date.now();
      const one = `Bench-one-${stamp}`;
      await s.createTopic(one, o.queues);
      const producers = await s.producers(o.producers);
      const body = makeBody(o.size);
      await warmUp(producers, one, body);
      /** The warm-up (untimed), then the timed phase. */
      const measure = async (load: LoadOptions): Promise<LoadResult> => {
        if (o.warmup > 0) await runLoad({ ...load, label: `${load.label} warm-up`, durationMs: o.warmup * 1000 });
        return runLoad({ ...load, durationMs: o.duration * 1000 });
      };
      log(`topics: baseline, one topic, ${o.warmup} s warm-up + ${o.duration} s, ${o.inflight} in flight over ${o.producers} producers`);
      const r1 = await measure({ label: '1 topic', producers, inflight: o.inflight, topicOf: () => one, body });

      const names = Array.from({ length: o.topics }, (_, i) => `Bench-t${stamp}-${i}`);
      const brokers = await masterAddrs(s.admin, s.namesrvAddr);
      log(`topics: creating ${fmtInt(o.topics)} topics × ${o.queues} queues on ${brokers.length} broker(s)…`);
      const t0 = performance.now();
      let created = 0;
      const ticker = setInterval(() => log(`  created ${created}/${o.topics}`), 2000);
      try {
        await pool(names, 8, async (t) => {
          for (const addr of brokers) await createTopicOn(s.admin, addr, t, o.queues);
          created++;
        });
      } finally {
        clearInterval(ticker);
      }
      const createMs = performance.now() - t0;
      await pool(names, 32, (t) => waitForRoute(s.admin, s.namesrvAddr, t, 120_000));
      const routedMs = performance.now() - t0;
      log(`topics: created in ${round(createMs / 1000)} s, all routed after ${round(routedMs / 1000)} s; loading the routes into the producers`);
      await pool(producers.flatMap((p) => names.map((t) => ({ p, t }))), 32, async ({ p, t }) => { await p.fetchPublishMessageQueues(t); });

      log(`topics: round-robin over ${fmtInt(o.topics)} topics, ${o.warmup} s warm-up + ${o.duration} s`);
      const rN = await measure({ label: `${o.topics} topics`, producers, inflight: o.inflight, topicOf: (seq) => names[seq % names.length]!, body });
      s.rss.sample();
      const info = await s.runtimeInfo().catch(() => ({} as Record<string, string>));
      const ratio = tps(r1) > 0 ? tps(rN) / tps(r1) : 0;
      const part = (r: LoadResult): Record<string, unknown> => ({
        durationSec: round(r.elapsedMs / 1000, 3), ok: r.ok, errors: r.errors, tps: round(tps(r), 1), ackMs: rtStats(r.hist),
      });
      emit('topics', [
        ['flushDiskType', flush],
        ['in flight (total) / producers', `${o.inflight} / ${o.producers}`],
        ['message size (bytes)', o.size],
        ['warm-up / duration per phase (s)', `${o.warmup} / ${o.duration}`],
        ['topics × queues', `${o.topics} × ${o.queues}`],
        ['create all topics (s)', round(createMs / 1000, 2)],
        ['… until all routed (s)', round(routedMs / 1000, 2)],
        ['ConsumeQueues on the broker', info.consumeQueueCount ?? 'n/a'],
        ['1 topic msgs/s', Math.round(tps(r1))],
        ...rtRows('1 topic ack', r1.hist, ['p50', 'p99', 'max']),
        [`${o.topics} topics msgs/s`, Math.round(tps(rN))],
        ...rtRows(`${o.topics} topics ack`, rN.hist, ['p50', 'p99', 'max']),
        [`${o.topics} topics / 1 topic`, round(ratio, 3)],
        ...s.rss.rows(),
      ], {
        ...loadShape(o, flush),
        topics: o.topics,
        warmupSec: o.warmup,
        createSec: round(createMs / 1000, 3),
        routedSec: round(routedMs / 1000, 3),
        consumeQueues: info.consumeQueueCount !== undefined ? Number(info.consumeQueueCount) : null,
        oneTopic: part(r1),
        manyTopics: part(rN),
        ratio: round(ratio, 4),
        brokerRssMiB: s.rss.json(),
      }, [...errorNotes(r1, '1 topic: '), ...errorNotes(rN, `${o.topics} topics: `)]);
    });
  },
};
