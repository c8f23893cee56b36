#!/usr/bin/env node
import { Command } from 'commander';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MQClientAPI } from '../src/client/index.js';
import { decodeProperties, encodeProperties } from '../src/common/properties.js';
import { PullSysFlag } from '../src/common/sysflag.js';
import { startStandalone } from '../src/standalone.js';
import { createTopicOn, emit, fmtBytes, fmtInt, log, makeBody, MiB, positiveInt, round, RssSampler, sleep, type Row } from './common.js';
import { BrokerChild, disposeAllChildren, type BrokerConf } from './standalone-child.js';

/**
 * Timer messages on the broker (standalone CLI in a child process), driven by our own client:
 *
 * 1. lateness — `--lateness` timers with TIMER_DELIVER_MS spread over `--spread` seconds; a long
 *    polling consumer per queue notes when each becomes visible. Lateness is reported against
 *    the requested time (the broker files timers under the requested time rounded down to the
 *    1 s precision, as upstream, so negative values up to −1000 ms are expected) and against
 *    that slot time (TIMER_OUT_MS), both as seen by the consumer and as stamped by the broker
 *    (TIMER_DEQUEUE_MS).
 * 2. capacity — `--pending` timers due in 1–2 hours, sent with `--inflight` outstanding; the
 *    broker's RSS is sampled as they accumulate, after they are all filed into the TimerLog, and
 *    after a SIGKILL and restart (with the time recovery took). `--plain` sends the same messages
 *    without the timer property, as a control.
 * 3. `--in-process` (run node with --expose-gc): the broker in this process instead, and after a
 *    forced full GC at every step the memory it retains — V8 heap and Buffers — as timers
 *    accumulate. RSS alone includes garbage not yet collected and allocator high-water marks.
 *
 * `npm run build && node dist/bench/timer-capacity.js [--pending 1000000] [--inflight 2000]
 *  [--lateness 2000] [--spread 20] [--size 64] [--skip-lateness] [--skip-capacity] [--plain] [--broker-conf k=v]`
 * `node --expose-gc dist/bench/timer-capacity.js --in-process [--pending 1000000] [--plain]`
 */

interface Options {
  pending: number;
  inflight: number;
  lateness: number;
  spread: number;
  size: number;
  skipLateness: boolean;
  skipCapacity: boolean;
  plain: boolean;
  inProcess: boolean;
  brokerConf: BrokerConf;
}

const QUEUES = 8;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function dist(label: string, values: number[]): { rows: Row[]; json: Record<string, number> } {
  const s = [...values].sort((a, b) => a - b);
  const json = { min: s[0] ?? Number.NaN, p50: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99), max: s[s.length - 1] ?? Number.NaN };
  return { rows: (Object.keys(json) as Array<keyof typeof json>).map((k) => [`${label} ${k} (ms)`, round(json[k], 1)]), json };
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(dir)) {
      const st = statSync(join(dir, f));
      n += st.isDirectory() ? dirBytes(join(dir, f)) : st.blocks * 512;
    }
  } catch {
    return n;
  }
  return n;
}

/** Bytes written to the TimerLog: the apparent size of its segments. */
function timerLogBytes(store: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(join(store, 'timerlog'))) n += statSync(join(store, 'timerlog', f)).size;
  } catch {
    return 0;
  }
  return n;
}

function sendHeader(topic: string, queueId: number, props: Record<string, string>) {
  return {
    producerGroup: 'timer-bench-pg', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: QUEUES, queueId, sysFlag: 0,
    bornTimestamp: Date.now(), flag: 0, properties: encodeProperties(props),
  };
}

async function lateness(child: BrokerChild, o: Options): Promise<void> {
  const topic = 'TimerLatenessBench';
  const api = new MQClientAPI();
  const consumerApi = new MQClientAPI();
  await createTopicOn(api, child.brokerAddr, topic, QUEUES);
  const seen = new Map<number, { clientMs: number; requested: number; outMs: number; dequeueMs: number }>();
  let stop = false;
  const pullers = Array.from({ length: QUEUES }, async (_, q) => {
    let offset = 0;
    while (!stop) {
      const r = await consumerApi.pullMessage(child.brokerAddr, {
        consumerGroup: 'timer-bench-cg', topic, queueId: q, queueOffset: offset, maxMsgNums: 32,
        sysFlag: PullSysFlag.FLAG_SUBSCRIPTION | PullSysFlag.FLAG_SUSPEND, commitOffset: 0, suspendTimeoutMillis: 1000, subscription: '*', subVersion: 0,
      }, 5000).catch(() => undefined);
      const now = Date.now();
      if (!r) { await sleep(20); continue; }
      for (const m of r.msgFoundList) {
        const [id, requested] = m.body.toString().split(':').map(Number) as [number, number];
        const p = decodeProperties(m.properties);
        seen.set(id, { clientMs: now, requested, outMs: Number(p.get('TIMER_OUT_MS')), dequeueMs: Number(p.get('TIMER_DEQUEUE_MS')) });
      }
      offset = r.nextBeginOffset;
    }
  });
  const t0 = Date.now() + 2000;
  log(`lateness: ${o.lateness} timers over ${o.spread} s from ${new Date(t0).toISOString()}`);
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < o.lateness) {
      const i = next++;
      const at = t0 + Math.floor(Math.random() * o.spread * 1000);
      await api.sendMessage(child.brokerAddr, 'timer-bench', sendHeader(topic, i % QUEUES, { TIMER_DELIVER_MS: String(at) }), Buffer.from(`${i}:${at}`));
    }
  }));
  const end = t0 + o.spread * 1000 + 10_000;
  while (seen.size < o.lateness && Date.now() < end) await sleep(100);
  stop = true;
  await Promise.all(pullers);
  await consumerApi.shutdown();
  await api.shutdown();
  const v = [...seen.values()];
  const vsRequested = dist('consumer − requested', v.map((x) => x.clientMs - x.requested));
  const vsSlot = dist('consumer − slot', v.map((x) => x.clientMs - x.outMs));
  const brokerVsSlot = dist('broker dequeue − slot', v.map((x) => x.dequeueMs - x.outMs));
  const early = v.filter((x) => x.dequeueMs < x.outMs).length;
  emit('timer-lateness', [
    ['timers', fmtInt(o.lateness)], ['delivered', fmtInt(seen.size)], ['delivered before their slot', early],
    ...vsRequested.rows, ...vsSlot.rows, ...brokerVsSlot.rows,
  ], { timers: o.lateness, delivered: seen.size, spreadSec: o.spread, vsRequested: vsRequested.json, vsSlot: vsSlot.json, brokerVsSlot: brokerVsSlot.json }, [
    'slot = TIMER_OUT_MS = the requested time rounded down to timerPrecisionMs (1000 ms), as upstream: "consumer − requested" lies in (−1000, 0] plus the delivery delay',
  ]);
}

async function capacity(child: BrokerChild, o: Options): Promise<void> {
  const topic = 'TimerCapacityBench';
  const apis = Array.from({ length: 4 }, () => new MQClientAPI());
  await createTopicOn(apis[0]!, child.brokerAddr, topic, QUEUES);
  const body = makeBody(o.size);
  await sleep(1000);
  const rss0 = child.rss() ?? 0;
  const sampler = new RssSampler(() => child.rss()).start();
  const rows: Row[] = [['broker RSS before (MiB)', round(rss0 / MiB, 1)]];
  const curve: Array<{ pending: number; rssMiB: number }> = [{ pending: 0, rssMiB: round(rss0 / MiB, 1) }];
  log(`capacity: sending ${fmtInt(o.pending)} timers due in 1-2 h, ${o.inflight} in flight`);
  const start = performance.now();
  let next = 0;
  let acked = 0;
  let errors = 0;
  let mark = Math.min(100_000, o.pending);
  const step = mark;
  const base = Date.now() + 3600_000;
  await Promise.all(Array.from({ length: o.inflight }, async (_, w) => {
    const api = apis[w % apis.length]!;
    while (next < o.pending) {
      const i = next++;
      // --plain: the same messages without the timer property (a control for the RSS figures).
      const props = { [o.plain ? 'X_DELIVER_MS' : 'TIMER_DELIVER_MS']: String(base + (i % 3600) * 1000 + (i % 997)) };
      for (;;) {
        try {
          await api.sendMessage(child.brokerAddr, 'timer-bench', sendHeader(topic, i % QUEUES, props), body, 10_000);
          break;
        } catch (err) {
          if (++errors % 100 === 1) log(`send failed (${errors} so far): ${(err as Error).message}`);
          await sleep(100);
        }
      }
      acked++;
      if (acked >= mark) {
        const rss = child.rss() ?? 0;
        curve.push({ pending: acked, rssMiB: round(rss / MiB, 1) });
        log(`  ${fmtInt(acked)} sent, ${fmtInt(acked / ((performance.now() - start) / 1000))}/s, broker RSS ${round(rss / MiB, 1)} MiB`);
        mark += step;
      }
    }
  }));
  const sendSec = (performance.now() - start) / 1000;
  for (const a of apis) await a.shutdown();
  // Every timer filed: the TimerLog holds one 52-byte unit each (and the lateness run's).
  const fileStart = performance.now();
  const units = o.pending + (o.skipLateness ? 0 : o.lateness);
  while (!o.plain && timerLogBytes(child.storeDir) < units * 52) await sleep(200);
  const filedAfter = (performance.now() - fileStart) / 1000;
  await sleep(5000);
  const rssFiled = child.rss() ?? 0;
  sampler.stop();
  rows.push(
    ['timers pending', fmtInt(o.pending)], ['send rate (msg/s)', fmtInt(o.pending / sendSec)], ['send errors (retried)', errors],
    ['all filed (s after last ack)', round(filedAfter, 1)],
    ...curve.slice(1).map((c): Row => [`broker RSS at ${fmtInt(c.pending)} sent (MiB)`, c.rssMiB]),
    ['broker RSS, all filed, settled (MiB)', round(rssFiled / MiB, 1)],
    ...sampler.rows('broker'),
    ['timer log on disk', fmtBytes(timerLogBytes(child.storeDir))],
    ['timer wheel file', o.plain ? 'n/a' : fmtBytes(statSync(join(child.storeDir, 'timerwheel')).size)],
    ['commit log on disk', fmtBytes(dirBytes(join(child.storeDir, 'commitlog')))],
  );

  // Crash with everything pending, then recover.
  await child.kill('SIGKILL');
  const t0 = performance.now();
  const again = await child.restart(300_000);
  const readyMs = performance.now() - t0;
  const loaded = await again.waitForLog(/timer store loaded/, 60_000);
  await sleep(5000);
  const rssAfter = again.rss() ?? 0;
  rows.push(
    ['restart after SIGKILL: ports ready (ms)', round(readyMs, 0)],
    ['timer store recovery', loaded.msg.replace(/^timer store loaded /, '')],
    ['broker RSS after restart, settled (MiB)', round(rssAfter / MiB, 1)],
  );
  emit(o.plain ? 'timer-capacity-control-plain' : 'timer-capacity', rows, {
    plain: o.plain, pending: o.pending, sendRate: Math.round(o.pending / sendSec), rssBeforeMiB: round(rss0 / MiB, 1), rssFiledMiB: round(rssFiled / MiB, 1),
    rss: sampler.json(), curve, restartReadyMs: Math.round(readyMs), rssAfterRestartMiB: round(rssAfter / MiB, 1),
    timerLogBytes: timerLogBytes(again.storeDir),
  });
}

/** Retained memory of an in-process broker (after full GCs) while `--pending` timers accumulate. */
async function retained(o: Options): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('--in-process needs node --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'rmq-timer-bench-'));
  const { pino } = await import('pino');
  // --broker-conf entries apply to the store config here (e.g. messageIndexEnable=false).
  const storeConfig = Object.fromEntries(Object.entries(o.brokerConf).map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(String(v)) ? Number(v) : v]));
  const mq = await startStandalone({ storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, logger: pino({ level: 'warn' }), storeConfig });
  const apis = Array.from({ length: 2 }, () => new MQClientAPI());
  const curve: Array<{ sent: number; pending: number; rssMiB: number; heapUsedMiB: number; arrayBuffersMiB: number }> = [];
  let acked = 0;
  const sample = (): void => {
    gc();
    gc();
    const m = process.memoryUsage();
    curve.push({ sent: acked, pending: mq.broker.timerMessageStore.pendingCount(), rssMiB: round(m.rss / MiB, 1), heapUsedMiB: round(m.heapUsed / MiB, 1), arrayBuffersMiB: round(m.arrayBuffers / MiB, 1) });
    const c = curve[curve.length - 1]!;
    log(`  ${fmtInt(c.sent)} sent, ${fmtInt(c.pending)} pending: rss ${c.rssMiB} MiB, heap used ${c.heapUsedMiB} MiB, buffers ${c.arrayBuffersMiB} MiB`);
  };
  try {
    await createTopicOn(apis[0]!, mq.brokerAddr, 'TimerRetainedBench', QUEUES);
    sample();
    const body = makeBody(o.size);
    const base = Date.now() + 3600_000;
    const step = Math.max(1, Math.floor(o.pending / 5));
    let next = 0;
    let mark = step;
    await Promise.all(Array.from({ length: Math.min(o.inflight, 1000) }, async (_, w) => {
      while (next < o.pending) {
        const i = next++;
        const props = { [o.plain ? 'X_DELIVER_MS' : 'TIMER_DELIVER_MS']: String(base + (i % 3600) * 1000 + (i % 997)) };
        await apis[w % apis.length]!.sendMessage(mq.brokerAddr, 'timer-bench', sendHeader('TimerRetainedBench', i % QUEUES, props), body, 10_000);
        if (++acked >= mark) {
          mark += step;
          // Let filing catch up before measuring.
          while (!o.plain && mq.broker.timerMessageStore.pendingCount() < acked - o.inflight) await sleep(50);
          sample();
        }
      }
    }));
    await sleep(3000);
    sample();
  } finally {
    for (const a of apis) await a.shutdown();
    await mq.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows: Row[] = curve.map((c): Row => [`${fmtInt(c.sent)} sent, ${fmtInt(c.pending)} pending: rss / heap used / buffers (MiB)`, `${c.rssMiB} / ${c.heapUsedMiB} / ${c.arrayBuffersMiB}`]);
  emit(o.plain ? 'timer-retained-control-plain' : 'timer-retained', rows, { plain: o.plain, pending: o.pending, curve }, [
    'measured after two forced full GCs, broker and client in this process; buffers include the 16 MiB wheel and the 64 MiB CommitLog hot-tail cache',
  ]);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('timer-capacity')
    .option('--pending <n>', 'timers left pending for the RSS measurement', positiveInt('--pending'), 1_000_000)
    .option('--inflight <n>', 'sends outstanding', positiveInt('--inflight'), 2000)
    .option('--lateness <n>', 'timers for the lateness measurement', positiveInt('--lateness'), 2000)
    .option('--spread <sec>', 'seconds the lateness timers are spread over', positiveInt('--spread'), 20)
    .option('--size <bytes>', 'body size', positiveInt('--size'), 64)
    .option('--skip-lateness', 'only the capacity run', false)
    .option('--skip-capacity', 'only the lateness run', false)
    .option('--plain', 'control: send the capacity messages without a timer property', false)
    .option('--in-process', 'broker in this process, retained memory after forced GCs (node --expose-gc)', false)
    .option('--broker-conf <k=v>', 'extra broker.conf line (repeatable)', (v: string, prev: BrokerConf) => {
      const i = v.indexOf('=');
      return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
    }, {} as BrokerConf);
  program.parse();
  const o = program.opts<Options>();
  if (o.inProcess) {
    await retained(o);
    return;
  }
  const child = await BrokerChild.start({ conf: { brokerName: 'timer-bench', ...o.brokerConf } });
  try {
    if (!o.skipLateness) await lateness(child, o);
    if (!o.skipCapacity) await capacity(child, o);
  } finally {
    await disposeAllChildren();
  }
}

main().catch(async (err: unknown) => {
  console.error(err);
  await disposeAllChildren();
  process.exit(1);
});
