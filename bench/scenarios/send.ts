import { emit, log, makeBody, round, rtRows, rtStats } from '../common.js';
import { cpuRows, cpuUse, errorNotes, mibPerSec, runLoad, tps, warmUp, withSystem, type LoadOptions } from '../load.js';
import { loadShape, systemOptions, type Scenario, type ScenarioOptions } from './types.js';

/** Timed sends to one topic with a fixed number of sends outstanding: async, sync, single. */
async function sendScenario(name: string, o: ScenarioOptions, flushDiskType: string): Promise<void> {
  const sys = systemOptions(o, { flushDiskType });
  const flush = String(sys.conf.flushDiskType);
  await withSystem(sys, async (s) => {
    const topic = `Bench-${name}-${Date.now()}`;
    await s.createTopic(topic, o.queues);
    const producers = await s.producers(o.producers);
    const body = makeBody(o.size);
    await warmUp(producers, topic, body);
    const load: LoadOptions = { label: name, producers, inflight: o.inflight, topicOf: () => topic, body };
    if (o.warmup > 0) {
      log(`${name}: warm-up, ${o.warmup} s untimed`);
      await runLoad({ ...load, label: `${name} warm-up`, durationMs: o.warmup * 1000 });
    }
    log(`${name}: send for ${o.duration} s, ${o.inflight} in flight in total over ${o.producers} producer(s), ${o.size}-byte bodies, ${flush}`);
    const mark = s.cpuMark();
    const r = await runLoad({ ...load, durationMs: o.duration * 1000 });
    const cpu = cpuUse(s.cpuSince(mark), r.ok);
    s.rss.sample();
    emit(name, [
      ['flushDiskType', flush],
      ['in flight (total) / producers', `${o.inflight} / ${o.producers}`],
      ['producer autoBatch', o.autoBatch === undefined ? 'off' : `batchMaxDelayMs ${o.autoBatch}, batchMaxBytes ${o.autoBatchBytes ?? 32 * 1024}`],
      ['message size (bytes)', o.size],
      ['queues', o.queues],
      ['warm-up / duration (s)', `${o.warmup} / ${round(r.elapsedMs / 1000)}`],
      ['sent OK', r.ok],
      ['send errors', r.errors],
      ['msgs/s', Math.round(tps(r))],
      ['MiB/s', round(mibPerSec(r))],
      ...rtRows(o.inflight === 1 ? 'send RT' : 'ack', r.hist),
      ...cpuRows(cpu),
      ...s.rss.rows(),
    ], {
      ...loadShape(o, flush),
      warmupSec: o.warmup,
      durationSec: round(r.elapsedMs / 1000, 3),
      ok: r.ok,
      errors: r.errors,
      tps: round(tps(r), 1),
      mibPerSec: round(mibPerSec(r), 3),
      ackMs: rtStats(r.hist),
      cpu,
      brokerRssMiB: s.rss.json(),
    }, errorNotes(r));
  });
}

export const asyncScenario: Scenario = {
  name: 'async',
  summary: 'ASYNC_FLUSH sends, 1 KiB, 256 in flight in total: msgs/s and ack p50/p99/max',
  run: (o) => sendScenario('async', o, 'ASYNC_FLUSH'),
};

export const syncScenario: Scenario = {
  name: 'sync',
  summary: 'SYNC_FLUSH sends (group commit), same load as async',
  run: (o) => sendScenario('sync', o, 'SYNC_FLUSH'),
};

export const singleScenario: Scenario = {
  name: 'single',
  summary: 'one send in flight (unloaded broker): send RT p50/p99',
  defaults: { inflight: 1, producers: 1 },
  run: (o) => sendScenario('single', o, o.flush),
};
