import { performance } from 'node:perf_hooks';
import {
  Message, MQClientAPI, Producer, PullConsumer, PullStatus, type MessageQueue, type PullResult, type SendResult,
} from '../src/client/index.js';
import { createTopic, fmtDuration, fmtInt, log, MiB, round, RssSampler, sleep, usPerMessage, type Row } from './common.js';
import { LatencyHistogram } from './histogram.js';
import { readCpuSeconds } from './net.js';
import { BrokerChild, type BrokerConf } from './standalone-child.js';

/**
 * The load loops (sends with N outstanding, drains with pulls over all queues) and `System`,
 * the child broker plus the clients a scenario drives it with.
 */

export interface LoadOptions {
  /** Progress prefix on stderr. */
  label: string;
  /** Sends are spread over these: outstanding send i belongs to producer i mod n. */
  producers: readonly Producer[];
  /** Outstanding sends in total (across all producers). */
  inflight: number;
  /** Topic of send number `seq` (0, 1, 2, … in the order the sends start). */
  topicOf: (seq: number) => string;
  body: Buffer;
  /** Messages per send (a batch when > 1). Default 1. */
  batch?: number;
  /** Stop after this long … */
  durationMs?: number;
  /** … or once this many messages are stored (failed sends are retried). */
  messages?: number;
  /** Progress line period; 0 = none. Default 1000. */
  progressMs?: number;
  /** Appended to each progress line. */
  progressExtra?: () => string;
  /** Give up when nothing succeeded for this long (ms). Default 30 s. */
  stallMs?: number;
}

export interface LoadResult {
  /** Messages stored. */
  ok: number;
  /** Successful send calls (= ok without batches). */
  sends: number;
  errors: number;
  errorSamples: Map<string, number>;
  elapsedMs: number;
  /** Round trip of each successful send call. */
  hist: LatencyHistogram;
  bytes: number;
  /** Messages acknowledged in each second since the start (the last entry is a partial second). */
  perSecond: number[];
  lastResult?: SendResult;
}

export interface LoadRun {
  /** Messages stored so far. */
  readonly ok: number;
  /** Ends the run: no new sends start; resolves `done` once the outstanding ones answered. */
  stop(): void;
  done: Promise<LoadResult>;
}

export function startLoad(o: LoadOptions): LoadRun {
  const hist = new LatencyHistogram();
  const errorSamples = new Map<string, number>();
  const perSecond: number[] = [];
  const batch = Math.max(1, o.batch ?? 1);
  const stallMs = o.stallMs ?? 30_000;
  let ok = 0;
  let sends = 0;
  let errors = 0;
  let issued = 0;
  let seq = 0;
  let stop = false;
  let stalled = false;
  let lastResult: SendResult | undefined;
  const start = performance.now();
  let lastOkAt = start;
  const endAt = o.durationMs !== undefined ? start + o.durationMs : Number.POSITIVE_INFINITY;

  let lastOk = 0;
  let lastTick = start;
  const ticker = (o.progressMs ?? 1000) > 0 ? setInterval(() => {
    const now = performance.now();
    const rate = ((ok - lastOk) * 1000) / (now - lastTick);
    let line = `  ${o.label}: ${Math.round(rate)} msg/s, total ${o.messages !== undefined ? `${fmtInt(ok)}/${fmtInt(o.messages)}` : ok}, errors ${errors}`;
    if (o.messages !== undefined && ok > 0) {
      const avg = (ok * 1000) / (now - start);
      line += ` (${round((100 * ok) / o.messages, 1)}%, ETA ${fmtDuration((o.messages - ok) / avg)})`;
    }
    if (o.progressExtra) line += o.progressExtra();
    log(line);
    lastOk = ok;
    lastTick = now;
  }, o.progressMs ?? 1000) : undefined;

  const worker = async (p: Producer): Promise<void> => {
    while (!stop) {
      let k = batch;
      if (o.messages !== undefined) {
        k = Math.min(batch, o.messages - issued);
        if (k <= 0) break;
      }
      issued += k;
      const topic = o.topicOf(seq++);
      const t0 = performance.now();
      try {
        const r = k === 1 && batch === 1
          ? await p.send(new Message(topic, o.body))
          : await p.send(Array.from({ length: k }, () => new Message(topic, o.body)));
        const now = performance.now();
        hist.record(now - t0);
        ok += k;
        sends++;
        lastOkAt = now;
        lastResult = r;
        const sec = Math.floor((now - start) / 1000);
        perSecond[sec] = (perSecond[sec] ?? 0) + k;
        if (now >= endAt) stop = true;
        continue;
      } catch (err) {
        issued -= k;
        errors++;
        const key = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 200);
        errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
        if (performance.now() - lastOkAt > stallMs) {
          stalled = true;
          stop = true;
        }
        // Back off a little so a dead broker does not turn the loop into a spin.
        await sleep(10);
      }
      if (performance.now() >= endAt) stop = true;
    }
  };
  const stopTimer = o.durationMs !== undefined ? setTimeout(() => { stop = true; }, o.durationMs) : undefined;
  const workers: Promise<void>[] = [];
  for (let i = 0; i < o.inflight; i++) workers.push(worker(o.producers[i % o.producers.length]!));
  const done = Promise.all(workers).then(() => {
    clearTimeout(stopTimer);
    clearInterval(ticker);
    if (stalled) {
      const sample = [...errorSamples.keys()][0] ?? '';
      throw new Error(`${o.label}: no send succeeded for ${stallMs / 1000} s; gave up after ${ok} messages (${sample})`);
    }
    for (let i = 0; i < perSecond.length; i++) perSecond[i] ??= 0;
    const elapsedMs = performance.now() - start;
    return { ok, sends, errors, errorSamples, elapsedMs, hist, bytes: ok * o.body.length, perSecond, lastResult };
  });
  return {
    get ok() { return ok; },
    stop: () => { stop = true; },
    done,
  };
}

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  return startLoad(o).done;
}

export function tps(r: LoadResult): number {
  return r.elapsedMs > 0 ? (r.ok * 1000) / r.elapsedMs : 0;
}

export function mibPerSec(r: { bytes: number; elapsedMs: number }): number {
  return r.elapsedMs > 0 ? r.bytes / MiB / (r.elapsedMs / 1000) : 0;
}

/** `error ×n: …` lines, for after a table. */
export function printErrors(r: LoadResult): void {
  for (const line of errorNotes(r, '')) console.log(line);
}

/** One line per distinct send error. */
export function errorNotes(r: LoadResult, prefix = 'send '): string[] {
  return [...r.errorSamples].map(([msg, n]) => `${prefix}error ×${n}: ${msg}`);
}

export interface DrainOptions {
  label?: string;
  pullBatch: number;
  /** Pulls outstanding per queue (default 1: each pull waits for the answer before it). */
  pullInflight?: number;
  progressMs?: number;
}

export interface DrainResult {
  consumed: number;
  expected: number;
  elapsedMs: number;
  queues: number;
  bytes: number;
  pulls: number;
  /** Pulls whose answers were dropped: issued past one that made no progress or went past them (see pullInflight). */
  voided: number;
  /** Round trip of each pull. */
  hist: LatencyHistogram;
}

/** Reads every queue of `topic` from its min to its max offset, one puller per queue, all queues at once. */
export async function drainQueues(consumer: PullConsumer, topic: string, o: DrainOptions): Promise<DrainResult> {
  const queues = await waitForQueues(consumer, topic);
  const ranges = await Promise.all(queues.map(async (mq) => ({ mq, min: await consumer.minOffset(mq), max: await consumer.maxOffset(mq) })));
  const expected = ranges.reduce((s, r) => s + (r.max - r.min), 0);
  const hist = new LatencyHistogram();
  let consumed = 0;
  let bytes = 0;
  let pulls = 0;
  let voided = 0;
  const start = performance.now();
  let last = 0;
  let lastTick = start;
  const label = o.label ?? 'consume';
  const ticker = (o.progressMs ?? 1000) > 0 ? setInterval(() => {
    const now = performance.now();
    log(`  ${label}: ${Math.round(((consumed - last) * 1000) / (now - lastTick))} msg/s, total ${consumed}/${expected}`);
    last = consumed;
    lastTick = now;
  }, o.progressMs ?? 1000) : undefined;
  const depth = o.pullInflight ?? 1;
  /**
   * Keeps `depth` pulls outstanding per queue, each at the offset the one before it ends at when it
   * returns a full batch. Answers are taken in offset order. One that ends short (the broker's
   * per-pull byte cap) leaves a gap before the next pull's offset: a pull for just the gap goes to
   * the front, and the pulls past it stand. An answer that makes no progress voids the pulls past
   * it, and the window restarts there.
   */
  const drain = async ({ mq, min, max }: { mq: MessageQueue; min: number; max: number }): Promise<void> => {
    type Pending = { offset: number; result: Promise<{ r: PullResult; rt: number }> };
    const window: Pending[] = [];
    let next = min;
    let offset = min;
    let idle = 0;
    const pull = (at: number, count: number): Pending => {
      const t0 = performance.now();
      pulls++;
      return { offset: at, result: consumer.pull(mq, '*', at, count).then((r) => ({ r, rt: performance.now() - t0 })) };
    };
    const voidWindow = async (): Promise<void> => {
      const stale = window.splice(0);
      voided += stale.length;
      await Promise.allSettled(stale.map((p) => p.result));
    };
    try {
      while (offset < max) {
        // With nothing outstanding the next pull starts where the last answer ended.
        if (window.length === 0) next = offset;
        while (window.length < depth && next < max) {
          window.push(pull(next, o.pullBatch));
          next += o.pullBatch;
        }
        // Anything from `offset` up to the next outstanding pull's start is a gap.
        if (offset < window[0]!.offset) window.unshift(pull(offset, Math.min(o.pullBatch, window[0]!.offset - offset)));
        const head = window.shift()!;
        const { r, rt } = await head.result;
        hist.record(rt);
        if (r.pullStatus === PullStatus.FOUND) {
          consumed += r.msgFoundList.length;
          for (const m of r.msgFoundList) bytes += m.body.length;
        }
        if (r.nextBeginOffset > offset) {
          offset = r.nextBeginOffset;
          idle = 0;
          if (window.length > 0 && offset > window[0]!.offset) {
            // Past the next pull's start (no pull asks for more than reaches it): start over from here.
            await voidWindow();
            next = offset;
          }
        } else if (++idle > 50) {
          throw new Error(`queue ${mq.brokerName}/${mq.queueId} stuck at offset ${offset} of ${max} (${r.pullStatus})`);
        } else {
          await voidWindow();
          next = offset;
          await sleep(20);
        }
      }
    } finally {
      await voidWindow();
    }
  };
  try {
    await Promise.all(ranges.map(drain));
  } finally {
    clearInterval(ticker);
  }
  return { consumed, expected, elapsedMs: performance.now() - start, queues: queues.length, bytes, pulls, voided, hist };
}

export function waitForQueues(consumer: PullConsumer, topic: string): Promise<MessageQueue[]> {
  const end = Date.now() + 35_000;
  const attempt = async (): Promise<MessageQueue[]> => {
    try {
      return await consumer.fetchSubscribeMessageQueues(topic);
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(250);
      return attempt();
    }
  };
  return attempt();
}

/** Sum over the queues of `topic` of the max offset: messages dispatched to the ConsumeQueues. */
export async function queuedMessages(consumer: PullConsumer, topic: string): Promise<number> {
  const queues = await waitForQueues(consumer, topic);
  const maxes = await Promise.all(queues.map((mq) => consumer.maxOffset(mq)));
  return maxes.reduce((a, b) => a + b, 0);
}

export interface SystemOptions {
  conf: BrokerConf;
  serialize: 'ROCKETMQ' | 'JSON';
  parentDir?: string;
  keepDir?: boolean;
  /** Producers batch single sends (autoBatch) with this batchMaxDelayMs; undefined: off. */
  autoBatchDelayMs?: number;
  /** autoBatch: batchMaxBytes (undefined: the producer's default, 32 KiB). */
  autoBatchBytes?: number;
}

/** CPU used so far by the broker child and by this process (the clients), taken at a phase's start. */
export interface CpuMark {
  brokerSec: number | undefined;
  client: NodeJS.CpuUsage;
  atMs: number;
}

/** CPU the broker and the clients took over a phase, and the phase's wall-clock length. */
export interface CpuTaken {
  brokerSec: number | undefined;
  clientSec: number;
  wallSec: number;
}

/** The CPU of phases taken together (slices of one load). */
export function addCpu(a: CpuTaken, b: CpuTaken): CpuTaken {
  return {
    brokerSec: a.brokerSec !== undefined && b.brokerSec !== undefined ? a.brokerSec + b.brokerSec : undefined,
    clientSec: a.clientSec + b.clientSec,
    wallSec: a.wallSec + b.wallSec,
  };
}

/**
 * CPU over a phase: each process's whole CPU time (every thread, user and system), as a share of
 * one core and per message. The peers' bench reports its servers' and its own CPU the same way.
 */
export interface CpuUse {
  brokerPct: number | null;
  clientPct: number;
  brokerUsPerMsg: number | null;
  clientUsPerMsg: number | null;
}

export function cpuUse(t: CpuTaken, messages: number): CpuUse {
  const pct = (cpu: number): number => (t.wallSec > 0 ? Math.round((cpu / t.wallSec) * 100) : 0);
  return {
    brokerPct: t.brokerSec === undefined ? null : pct(t.brokerSec),
    clientPct: pct(t.clientSec),
    brokerUsPerMsg: t.brokerSec === undefined ? null : usPerMessage(t.brokerSec, messages),
    clientUsPerMsg: usPerMessage(t.clientSec, messages),
  };
}

export function cpuRows(c: CpuUse, what = ''): Row[] {
  const show = (v: number | null): string | number => (v === null ? 'n/a' : v);
  return [
    [`${what}broker / client CPU (% of a core)`, `${show(c.brokerPct)} / ${c.clientPct}`],
    [`${what}broker / client CPU per msg (µs)`, `${show(c.brokerUsPerMsg)} / ${show(c.clientUsPerMsg)}`],
  ];
}

/** A standalone child with its RSS sampled, an admin API, and the clients a scenario started. */
export class System {
  readonly admin: MQClientAPI;
  readonly rss: RssSampler;
  private readonly clients: Array<Producer | PullConsumer> = [];

  private constructor(public child: BrokerChild, private readonly serialize: 'ROCKETMQ' | 'JSON', private readonly o: SystemOptions) {
    this.admin = new MQClientAPI({ serializeType: serialize });
    this.rss = new RssSampler(() => this.child.rss()).start();
  }

  static async start(o: SystemOptions): Promise<System> {
    const child = await BrokerChild.start({ conf: o.conf, parentDir: o.parentDir, keepDir: o.keepDir });
    log(`  standalone child: NameServer ${child.namesrvAddr}, Broker ${child.brokerAddr}, pid ${child.pid}, store ${child.storeDir}`);
    return new System(child, o.serialize, o);
  }

  get namesrvAddr(): string {
    return this.child.namesrvAddr;
  }

  /** Marks the start of a phase whose CPU `cpuSince` reports. */
  cpuMark(): CpuMark {
    return { brokerSec: readCpuSeconds(this.child.pid), client: process.cpuUsage(), atMs: performance.now() };
  }

  /** CPU of the broker and of the clients since `m`. */
  cpuSince(m: CpuMark): CpuTaken {
    const now = readCpuSeconds(this.child.pid);
    const c = process.cpuUsage(m.client);
    return {
      brokerSec: now !== undefined && m.brokerSec !== undefined ? now - m.brokerSec : undefined,
      clientSec: (c.user + c.system) / 1e6,
      wallSec: (performance.now() - m.atMs) / 1000,
    };
  }

  async producers(n: number): Promise<Producer[]> {
    const out: Producer[] = [];
    for (let i = 0; i < n; i++) {
      const p = new Producer({
        group: 'BenchmarkProducer', namesrvAddr: this.namesrvAddr, serializeType: this.serialize, instanceName: `bench-${process.pid}-${this.clients.length}`,
        autoBatch: this.o.autoBatchDelayMs !== undefined, batchMaxDelayMs: this.o.autoBatchDelayMs, batchMaxBytes: this.o.autoBatchBytes,
      });
      await p.start();
      this.clients.push(p);
      out.push(p);
    }
    return out;
  }

  async consumer(group = `BenchmarkConsumer-${Date.now()}`): Promise<PullConsumer> {
    const c = new PullConsumer({ group, namesrvAddr: this.namesrvAddr, serializeType: this.serialize });
    await c.start();
    this.clients.push(c);
    return c;
  }

  createTopic(topic: string, queues: number): Promise<void> {
    return createTopic(this.admin, this.namesrvAddr, topic, queues);
  }

  async runtimeInfo(): Promise<Record<string, string>> {
    return this.admin.getBrokerRuntimeInfo(this.child.brokerAddr);
  }

  /** CommitLog bytes the broker holds (commitLogMaxOffset − commitLogMinOffset). */
  async commitLogBytes(): Promise<number> {
    const t = await this.runtimeInfo();
    return Number(t.commitLogMaxOffset ?? 0) - Number(t.commitLogMinOffset ?? 0);
  }

  /** Shuts every client down (the broker keeps running). */
  async closeClients(): Promise<void> {
    const cs = this.clients.splice(0);
    await Promise.all(cs.map((c) => c.shutdown().catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.rss.stop();
    await this.closeClients();
    await this.admin.shutdown().catch(() => undefined);
    await this.child.dispose();
  }
}

/** One send per producer: route lookup and connection set-up stay out of the figures. */
export async function warmUp(producers: readonly Producer[], topic: string, body: Buffer): Promise<void> {
  await Promise.all(producers.map((p) => p.send(new Message(topic, body))));
}

/** Starts a System, runs `fn`, and always closes it (clients, child, directory). */
export async function withSystem<T>(o: SystemOptions, fn: (s: System) => Promise<T>): Promise<T> {
  const s = await System.start(o);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
