import { performance } from 'node:perf_hooks';
import { createTopicOn, emit, fmtInt, log, makeBody, masterAddrs, pool, round, rtRows, rtStats, waitForRoute } from '../common.js';
import { addCpu, cpuRows, cpuUse, errorNotes, runLoad, tps, warmUp, withSystem, type CpuTaken, type CpuUse, type LoadOptions, type LoadResult } from '../load.js';
import { LatencyHistogram } from '../histogram.js';
import { loadShape, systemOptions, type Scenario } from './types.js';

/**
 * The same load on one topic and round-robin over --topics topics (each with --queues queues),
 * all created first with UPDATE_AND_CREATE_TOPIC and routed by the NameServer before the clock
 * starts. After a warm-up of each, the timed slices (SLICES of each load) alternate in the
 * Thue-Morse order (one, many, many, one, many, one, one, many, ...): the machine drifts over a
 * run (a second phase of the very same load measured 0.79-0.89 of the first when they ran one
 * after the other), and this order gives both loads the same share of a drift that is linear or
 * quadratic in time; short slices spread the machine's brief dips over both. The same load on
 * both sides then measures 0.97-1.02.
 */
const SLICES = 8;

/** Bit i of the Thue-Morse sequence: the parity of the ones in i. */
function thueMorse(i: number): number {
  let n = i;
  let p = 0;
  while (n > 0) {
    p ^= n & 1;
    n >>= 1;
  }
  return p;
}
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

      const oneLoad: LoadOptions = { label: '1 topic', producers, inflight: o.inflight, topicOf: () => one, body };
      const manyLoad: LoadOptions = { label: `${o.topics} topics`, producers, inflight: o.inflight, topicOf: (seq) => names[seq % names.length]!, body };
      if (o.warmup > 0) {
        log(`topics: warm-up, ${o.warmup} s of each load`);
        for (const load of [oneLoad, manyLoad]) await runLoad({ ...load, label: `${load.label} warm-up`, durationMs: o.warmup * 1000 });
      }
      const slice = (o.duration * 1000) / SLICES;
      log(`topics: timed, ${o.duration} s of each load in ${SLICES} slices, in the Thue-Morse order (one, many, many, one, many, one, one, many, ...); ${o.inflight} in flight over ${o.producers} producers`);
      const ones: LoadResult[] = [];
      const manys: LoadResult[] = [];
      const cpus: { one?: CpuTaken; many?: CpuTaken } = {};
      for (let i = 0; i < 2 * SLICES; i++) {
        const which = thueMorse(i) === 0 ? 'one' : 'many';
        const load = which === 'one' ? oneLoad : manyLoad;
        const mark = s.cpuMark();
        const r = await runLoad({ ...load, durationMs: slice, progressMs: 0 });
        const cpu = s.cpuSince(mark);
        cpus[which] = cpus[which] === undefined ? cpu : addCpu(cpus[which]!, cpu);
        (which === 'one' ? ones : manys).push(r);
        log(`  ${i + 1}/${2 * SLICES}: ${load.label} ${fmtInt(tps(r))} msg/s`);
      }
      const r1 = ones.reduce(mergeLoads);
      const rN = manys.reduce(mergeLoads);
      s.rss.sample();
      const info = await s.runtimeInfo().catch(() => ({} as Record<string, string>));
      const ratio = tps(r1) > 0 ? tps(rN) / tps(r1) : 0;
      const cpu1 = cpuUse(cpus.one!, r1.ok);
      const cpuN = cpuUse(cpus.many!, rN.ok);
      const part = (r: LoadResult, cpu: CpuUse): Record<string, unknown> => ({
        durationSec: round(r.elapsedMs / 1000, 3), ok: r.ok, errors: r.errors, tps: round(tps(r), 1), ackMs: rtStats(r.hist), cpu,
      });
      emit('topics', [
        ['flushDiskType', flush],
        ['in flight (total) / producers', `${o.inflight} / ${o.producers}`],
        ['message size (bytes)', o.size],
        ['warm-up / timed per load (s)', `${o.warmup} / ${o.duration} (${SLICES} slices each, Thue-Morse order)`],
        ['topics × queues', `${o.topics} × ${o.queues}`],
        ['create all topics (s)', round(createMs / 1000, 2)],
        ['… until all routed (s)', round(routedMs / 1000, 2)],
        ['ConsumeQueues on the broker', info.consumeQueueCount ?? 'n/a'],
        ['1 topic msgs/s', Math.round(tps(r1))],
        ...rtRows('1 topic ack', r1.hist, ['p50', 'p99', 'max']),
        ...cpuRows(cpu1, '1 topic: '),
        [`${o.topics} topics msgs/s`, Math.round(tps(rN))],
        ...rtRows(`${o.topics} topics ack`, rN.hist, ['p50', 'p99', 'max']),
        ...cpuRows(cpuN, `${o.topics} topics: `),
        [`${o.topics} topics / 1 topic`, round(ratio, 3)],
        ...s.rss.rows(),
      ], {
        ...loadShape(o, flush),
        topics: o.topics,
        warmupSec: o.warmup,
        createSec: round(createMs / 1000, 3),
        routedSec: round(routedMs / 1000, 3),
        consumeQueues: info.consumeQueueCount !== undefined ? Number(info.consumeQueueCount) : null,
        oneTopic: part(r1, cpu1),
        manyTopics: part(rN, cpuN),
        sliceTps: { oneTopic: ones.map((r) => round(tps(r), 1)), manyTopics: manys.map((r) => round(tps(r), 1)) },
        ratio: round(ratio, 4),
        brokerRssMiB: s.rss.json(),
      }, [...errorNotes(r1, '1 topic: '), ...errorNotes(rN, `${o.topics} topics: `)]);
    });
  },
};

/** Two timed runs of one load as one: counts and time summed, latencies merged. */
function mergeLoads(a: LoadResult, b: LoadResult): LoadResult {
  const hist = new LatencyHistogram();
  hist.merge(a.hist);
  hist.merge(b.hist);
  const errorSamples = new Map(a.errorSamples);
  for (const [k, n] of b.errorSamples) errorSamples.set(k, (errorSamples.get(k) ?? 0) + n);
  return {
    ...a,
    ok: a.ok + b.ok, sends: a.sends + b.sends, errors: a.errors + b.errors, errorSamples,
    elapsedMs: a.elapsedMs + b.elapsedMs, hist, bytes: a.bytes + b.bytes, perSecond: [...a.perSecond, ...b.perSecond],
  };
}
