#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Message, MQClientAPI, Producer, PullConsumer, PullStatus, masterAddrOf, type MessageQueue } from '../src/client/index.js';
import { LatencyHistogram } from './histogram.js';
import { readRss, startStandaloneChild, type StandaloneChild } from './standalone-child.js';

/**
 * Load generator in the manner of upstream's benchmark Producer/Consumer: phase 1 sends for a
 * fixed time from N producers with M sends in flight each; phase 2 drains everything sent with
 * pulls over all queues. Prints a table and one `BENCH_JSON ` line.
 */

interface Flags {
  producers: number;
  inflight: number;
  size: number;
  duration: number;
  topic?: string;
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  namesrv?: string;
  queues: number;
  pullBatch: number;
  consume: boolean;
  serialize: 'ROCKETMQ' | 'JSON';
  brokerPid?: number;
}

function positiveInt(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function choice<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    const u = v.toUpperCase() as T;
    if (!values.includes(u)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return u;
  };
}

const program = new Command('bench')
  .description('RocketMQ send/consume benchmark against a standalone child process or an existing system')
  .option('--producers <n>', 'producer instances, one connection each', positiveInt('--producers'), 4)
  .option('--inflight <n>', 'outstanding sends per producer', positiveInt('--inflight'), 64)
  .option('--size <bytes>', 'message body size', positiveInt('--size'), 1024)
  .option('--duration <seconds>', 'send phase length', positiveInt('--duration'), 10)
  .option('--topic <name>', 'topic (default BenchmarkTest-<timestamp>)')
  .option('--flush <type>', 'flushDiskType of the child broker: ASYNC_FLUSH or SYNC_FLUSH', choice(['ASYNC_FLUSH', 'SYNC_FLUSH'] as const), 'ASYNC_FLUSH')
  .option('--namesrv <addr>', 'use an existing system at this NameServer instead of starting one')
  .option('--queues <n>', 'create the topic with n read/write queues on every master first; 0 = rely on auto-creation', positiveInt('--queues', 0), 8)
  .option('--pull-batch <n>', 'messages per pull in the consume phase', positiveInt('--pull-batch'), 32)
  .option('--no-consume', 'skip the consume phase')
  .option('--serialize <type>', 'request header serialization: ROCKETMQ or JSON', choice(['ROCKETMQ', 'JSON'] as const), 'ROCKETMQ')
  .option('--broker-pid <pid>', 'with --namesrv: sample this process for broker RSS', positiveInt('--broker-pid'))
  .allowExcessArguments(false)
  .parse();

const flags = program.opts<Flags>();
const MiB = 1024 * 1024;
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

function log(line: string): void {
  process.stderr.write(line + '\n');
}

/** Samples a process's RSS every 250 ms, keeping the peak and the last value. */
class RssSampler {
  peak = 0;
  last = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly read: () => number | undefined) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  sample(): void {
    const v = this.read();
    if (v === undefined) return;
    this.last = v;
    if (v > this.peak) this.peak = v;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** Creates the topic on every master broker of the cluster and waits until the NameServer routes it. */
async function createTopic(api: MQClientAPI, namesrvAddr: string, topic: string, queues: number): Promise<void> {
  const cluster = await waitFor('a registered broker', async () => {
    const ci = await api.getBrokerClusterInfo(namesrvAddr);
    return Object.keys(ci.brokerAddrTable).length > 0 ? ci : undefined;
  }, 30_000);
  for (const bd of Object.values(cluster.brokerAddrTable)) {
    const addr = masterAddrOf(bd);
    if (!addr) continue;
    await api.createTopic(addr, 'TBW102', {
      topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
  }
  await waitFor(`the route of ${topic}`, async () => {
    const r = await api.getTopicRouteInfoFromNameServer(namesrvAddr, topic);
    return r.queueDatas.length > 0 ? r : undefined;
  }, 35_000);
}

interface SendPhase {
  ok: number;
  errors: number;
  errorSamples: Map<string, number>;
  elapsedMs: number;
  hist: LatencyHistogram;
  bytes: number;
}

async function sendPhase(producers: Producer[], topic: string, body: Buffer): Promise<SendPhase> {
  const hist = new LatencyHistogram();
  const errorSamples = new Map<string, number>();
  let ok = 0;
  let errors = 0;
  let stop = false;
  const start = performance.now();
  const endAt = start + flags.duration * 1000;
  let lastOk = 0;
  let lastTick = start;
  const ticker = setInterval(() => {
    const now = performance.now();
    log(`  send: ${Math.round(((ok - lastOk) * 1000) / (now - lastTick))} msg/s, total ${ok}, errors ${errors}`);
    lastOk = ok;
    lastTick = now;
  }, 1000);
  const worker = async (p: Producer): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        await p.send(new Message(topic, body));
        hist.record(performance.now() - t0);
        ok++;
      } catch (err) {
        errors++;
        const key = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 200);
        errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
        // Back off a little so a dead broker does not turn the loop into a spin.
        await new Promise((r) => setTimeout(r, 10));
      }
      if (performance.now() >= endAt) stop = true;
    }
  };
  const stopTimer = setTimeout(() => { stop = true; }, flags.duration * 1000);
  const workers: Promise<void>[] = [];
  for (const p of producers) for (let i = 0; i < flags.inflight; i++) workers.push(worker(p));
  await Promise.all(workers);
  clearTimeout(stopTimer);
  clearInterval(ticker);
  const elapsedMs = performance.now() - start;
  return { ok, errors, errorSamples, elapsedMs, hist, bytes: ok * body.length };
}

interface ConsumePhase {
  consumed: number;
  expected: number;
  elapsedMs: number;
  queues: number;
  bytes: number;
}

async function consumePhase(consumer: PullConsumer, topic: string): Promise<ConsumePhase> {
  const queues = await waitFor(`readable queues of ${topic}`, () => consumer.fetchSubscribeMessageQueues(topic), 35_000);
  const ranges = await Promise.all(queues.map(async (mq) => ({ mq, min: await consumer.minOffset(mq), max: await consumer.maxOffset(mq) })));
  const expected = ranges.reduce((s, r) => s + (r.max - r.min), 0);
  let consumed = 0;
  let bytes = 0;
  const start = performance.now();
  let last = 0;
  let lastTick = start;
  const ticker = setInterval(() => {
    const now = performance.now();
    log(`  consume: ${Math.round(((consumed - last) * 1000) / (now - lastTick))} msg/s, total ${consumed}/${expected}`);
    last = consumed;
    lastTick = now;
  }, 1000);
  const drain = async ({ mq, min, max }: { mq: MessageQueue; min: number; max: number }): Promise<void> => {
    let offset = min;
    let idle = 0;
    while (offset < max) {
      const r = await consumer.pull(mq, '*', offset, flags.pullBatch);
      if (r.pullStatus === PullStatus.FOUND) {
        consumed += r.msgFoundList.length;
        for (const m of r.msgFoundList) bytes += m.body.length;
      }
      if (r.nextBeginOffset > offset) {
        offset = r.nextBeginOffset;
        idle = 0;
      } else if (++idle > 50) {
        throw new Error(`queue ${mq.brokerName}/${mq.queueId} stuck at offset ${offset} of ${max} (${r.pullStatus})`);
      } else {
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  };
  try {
    await Promise.all(ranges.map(drain));
  } finally {
    clearInterval(ticker);
  }
  return { consumed, expected, elapsedMs: performance.now() - start, queues: queues.length, bytes };
}

function table(rows: Array<[string, string | number]>): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

async function main(): Promise<void> {
  let child: StandaloneChild | undefined;
  const onSignal = (): void => {
    void (child?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
    const rss = new RssSampler(() => (brokerPid !== undefined ? readRss(brokerPid) : undefined));
    rss.start();
    const clientRss = new RssSampler(() => process.memoryUsage().rss);
    clientRss.start();
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
    // Text of random letters: realistic, and compressible like upstream's when --size ≥ 4096.
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const body = Buffer.from(Array.from(randomBytes(flags.size), (b) => alphabet[b % alphabet.length]).join(''));
    // One warm-up send per producer: route lookup and connection set-up stay out of the figures.
    await Promise.all(producers.map((p) => p.send(new Message(topic, body))));

    log(`phase 1: send for ${flags.duration} s, ${flags.producers} producers × ${flags.inflight} in flight, ${flags.size}-byte bodies`);
    const s = await sendPhase(producers, topic, body);
    const sendTps = (s.ok * 1000) / s.elapsedMs;

    let c: ConsumePhase | undefined;
    if (flags.consume) {
      log('phase 2: drain with pulls over all queues');
      consumer = new PullConsumer({ group: `BenchmarkConsumer-${Date.now()}`, namesrvAddr, serializeType: flags.serialize });
      await consumer.start();
      c = await consumePhase(consumer, topic);
    }
    rss.stop();
    clientRss.stop();

    const consumeTps = c ? (c.consumed * 1000) / c.elapsedMs : 0;
    const hasRss = brokerPid !== undefined && rss.peak > 0;
    const rows: Array<[string, string | number]> = [
      ['topic', topic],
      ['system', child ? `standalone child (${flags.flush})` : `existing at ${namesrvAddr}`],
      ['producers × inflight', `${flags.producers} × ${flags.inflight}`],
      ['message size (bytes)', flags.size],
      ['send duration (s)', round(s.elapsedMs / 1000)],
      ['sent OK', s.ok],
      ['send errors', s.errors],
      ['send TPS', Math.round(sendTps)],
      ['send MiB/s', round(s.bytes / MiB / (s.elapsedMs / 1000))],
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
        ['consume MiB/s', round(c.bytes / MiB / (c.elapsedMs / 1000))],
      );
    }
    rows.push(
      ['broker RSS peak (MiB)', hasRss ? round(rss.peak / MiB, 1) : 'n/a (use --broker-pid)'],
      ['broker RSS final (MiB)', hasRss ? round(rss.last / MiB, 1) : 'n/a'],
      ['bench RSS peak (MiB)', round(clientRss.peak / MiB, 1)],
    );
    console.log(table(rows));
    for (const [msg, n] of s.errorSamples) console.log(`error ×${n}: ${msg}`);

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
        mibPerSec: round(s.bytes / MiB / (s.elapsedMs / 1000), 3),
        rtMs: {
          avg: round(s.hist.mean(), 3),
          p50: round(s.hist.percentile(0.5), 3),
          p99: round(s.hist.percentile(0.99), 3),
          p999: round(s.hist.percentile(0.999), 3),
          max: round(s.hist.max(), 3),
        },
      },
      consume: c
        ? { queues: c.queues, consumed: c.consumed, expected: c.expected, durationSec: round(c.elapsedMs / 1000, 3), tps: round(consumeTps, 1), mibPerSec: round(c.bytes / MiB / (c.elapsedMs / 1000), 3) }
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
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
