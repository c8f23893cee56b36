import { MQClientAPI, Producer, PullConsumer } from '../src/client/index.js';
import { createTopic, log, makeBody, MiB, round, RssSampler, table, type Row } from './common.js';
import { drainQueues, mibPerSec, printErrors, runLoad, tps, warmUp, type DrainResult } from './load.js';
import { readRss } from './net.js';
import { startStandaloneChild, type StandaloneChild } from './standalone-child.js';

/**
 * The run without a scenario, in the manner of upstream's benchmark Producer/Consumer: phase 1
 * sends for a fixed time from N producers with M sends in flight each; phase 2 drains everything
 * sent with pulls over all queues. Against a standalone child, or an existing system (--namesrv).
 */

export interface DefaultRunFlags {
  producers: number;
  /** Per producer. */
  inflight: number;
  size: number;
  duration: number;
  topic?: string;
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  namesrv?: string;
  queues: number;
  pullBatch: number;
  pullInflight: number;
  consume: boolean;
  serialize: 'ROCKETMQ' | 'JSON';
  brokerPid?: number;
}

export async function defaultRun(flags: DefaultRunFlags): Promise<void> {
  let child: StandaloneChild | undefined;
  const producers: Producer[] = [];
  let consumer: PullConsumer | undefined;
  const admin = new MQClientAPI({ serializeType: flags.serialize });
  try {
    let namesrvAddr = flags.namesrv;
    let brokerPid = flags.brokerPid;
    if (!namesrvAddr) {
      log(`starting the standalone broker (${flags.flush}) in a child process…`);
      child = await startStandaloneChild(flags.flush);
      namesrvAddr = child.namesrvAddr;
      brokerPid = child.pid;
      log(`  NameServer ${child.namesrvAddr}, Broker ${child.brokerAddr}, pid ${child.pid}, store ${child.dir}`);
    }
    const rss = new RssSampler(() => (brokerPid !== undefined ? readRss(brokerPid) : undefined)).start();
    const clientRss = new RssSampler(() => process.memoryUsage().rss).start();
    const topic = flags.topic ?? `BenchmarkTest-${Date.now()}`;
    if (flags.queues > 0) {
      log(`creating topic ${topic} with ${flags.queues} queues per broker…`);
      await createTopic(admin, namesrvAddr, topic, flags.queues);
    }
    for (let i = 0; i < flags.producers; i++) {
      const p = new Producer({ group: 'BenchmarkProducer', namesrvAddr, serializeType: flags.serialize, instanceName: `bench-${process.pid}-${i}` });
      await p.start();
      producers.push(p);
    }
    const body = makeBody(flags.size);
    await warmUp(producers, topic, body);

    log(`phase 1: send for ${flags.duration} s, ${flags.producers} producers × ${flags.inflight} in flight, ${flags.size}-byte bodies`);
    const s = await runLoad({
      label: 'send', producers, inflight: flags.producers * flags.inflight, topicOf: () => topic, body, durationMs: flags.duration * 1000,
    });
    const sendTps = tps(s);

    let c: DrainResult | undefined;
    if (flags.consume) {
      log('phase 2: drain with pulls over all queues');
      consumer = new PullConsumer({ group: `BenchmarkConsumer-${Date.now()}`, namesrvAddr, serializeType: flags.serialize });
      await consumer.start();
      c = await drainQueues(consumer, topic, { pullBatch: flags.pullBatch, pullInflight: flags.pullInflight });
    }
    rss.stop();
    clientRss.stop();

    const consumeTps = c ? (c.consumed * 1000) / c.elapsedMs : 0;
    const hasRss = brokerPid !== undefined && rss.peak > 0;
    const rows: Row[] = [
      ['topic', topic],
      ['system', child ? `standalone child (${flags.flush})` : `existing at ${namesrvAddr}`],
      ['producers × inflight', `${flags.producers} × ${flags.inflight}`],
      ['message size (bytes)', flags.size],
      ['send duration (s)', round(s.elapsedMs / 1000)],
      ['sent OK', s.ok],
      ['send errors', s.errors],
      ['send TPS', Math.round(sendTps)],
      ['send MiB/s', round(mibPerSec(s))],
      ['RT avg (ms)', round(s.hist.mean(), 3)],
      ['RT p50 (ms)', round(s.hist.percentile(0.5), 3)],
      ['RT p99 (ms)', round(s.hist.percentile(0.99), 3)],
      ['RT p99.9 (ms)', round(s.hist.percentile(0.999), 3)],
      ['RT max (ms)', round(s.hist.max(), 3)],
    ];
    if (c) {
      rows.push(
        ['consume queues', c.queues],
        ['consumed / in queues', `${c.consumed} / ${c.expected}`],
        ['consume duration (s)', round(c.elapsedMs / 1000)],
        ['consume TPS', Math.round(consumeTps)],
        ['consume MiB/s', round(mibPerSec(c))],
      );
    }
    rows.push(
      ['broker RSS peak (MiB)', hasRss ? round(rss.peak / MiB, 1) : 'n/a (use --broker-pid)'],
      ['broker RSS final (MiB)', hasRss ? round(rss.last / MiB, 1) : 'n/a'],
      ['bench RSS peak (MiB)', round(clientRss.peak / MiB, 1)],
    );
    console.log(table(rows));
    printErrors(s);

    const json = {
      topic,
      system: child ? 'standalone-child' : 'existing',
      flushDiskType: child ? flags.flush : null,
      producers: flags.producers,
      inflight: flags.inflight,
      size: flags.size,
      queues: flags.queues,
      serialize: flags.serialize,
      send: {
        durationSec: round(s.elapsedMs / 1000, 3),
        ok: s.ok,
        errors: s.errors,
        tps: round(sendTps, 1),
        mibPerSec: round(mibPerSec(s), 3),
        rtMs: {
          avg: round(s.hist.mean(), 3),
          p50: round(s.hist.percentile(0.5), 3),
          p99: round(s.hist.percentile(0.99), 3),
          p999: round(s.hist.percentile(0.999), 3),
          max: round(s.hist.max(), 3),
        },
      },
      consume: c
        ? { queues: c.queues, consumed: c.consumed, expected: c.expected, durationSec: round(c.elapsedMs / 1000, 3), tps: round(consumeTps, 1), mibPerSec: round(mibPerSec(c), 3) }
        : null,
      brokerRssMiB: hasRss ? { peak: round(rss.peak / MiB, 1), final: round(rss.last / MiB, 1) } : null,
      benchRssPeakMiB: round(clientRss.peak / MiB, 1),
    };
    console.log('BENCH_JSON ' + JSON.stringify(json));
    if (c && c.consumed !== c.expected) process.exitCode = 1;
  } finally {
    await consumer?.shutdown().catch(() => undefined);
    await Promise.all(producers.map((p) => p.shutdown().catch(() => undefined)));
    await admin.shutdown().catch(() => undefined);
    if (child) await child.stop();
  }
}
