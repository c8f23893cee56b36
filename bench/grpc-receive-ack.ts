import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { MQClientAPI } from '../src/client/index.js';
import { LatencyHistogram } from './histogram.js';
import { readCpuSeconds } from './net.js';
import { emit, log, makeBody, round, rtRows, rtStats, type Row } from './common.js';

/**
 * gRPC receive-to-ack throughput and receive latency with the official Node 5.x client
 * (`rocketmq-client-nodejs`) against the standalone's proxy (local mode), the standalone in a
 * child process so the client's work does not share its event loop.
 *
 *  1. backlog: `--messages` bodies of `--size` bytes are sent first (5.x Producer, `--inflight` at once);
 *  2. drain: `--consumers` SimpleConsumers each loop receive(32) → ack every message, until the
 *     backlog is gone — messages acked per second, and the latency of each ReceiveMessage call that
 *     returned messages (the empty long polls at the end are not counted);
 *  3. end to end: one message every `--interval` ms while consumers long-poll — send start to
 *     receive, p50 / p99.
 */
const program = new Command('grpc-receive-ack')
  .description('receive-to-ack throughput and receive latency of the gRPC endpoint with rocketmq-client-nodejs')
  .option('--messages <n>', 'backlog size', (v) => Number(v), 20_000)
  .option('--size <bytes>', 'body size', (v) => Number(v), 1024)
  .option('--inflight <n>', 'sends in flight while building the backlog', (v) => Number(v), 64)
  .option('--consumers <n>', 'SimpleConsumers draining at once', (v) => Number(v), 4)
  .option('--queues <n>', 'queues of the topic', (v) => Number(v), 8)
  .option('--e2e <n>', 'messages of the end-to-end phase', (v) => Number(v), 500)
  .option('--interval <ms>', 'pause between end-to-end sends', (v) => Number(v), 5);

const STANDALONE_JS = fileURLToPath(new URL('../src/cli/standalone.js', import.meta.url));
const quiet = { info(): void {}, warn(): void {}, error(): void {}, debug(): void {}, close(): void {} };

/** CPU time (user + system) of a process so far, ms (Linux /proc). */
function cpuMs(pid: number): number {
  const sec = readCpuSeconds(pid);
  return sec === undefined ? NaN : sec * 1000;
}

interface Child {
  proc: ChildProcess;
  brokerAddr: string;
  proxyAddr: string;
}

/** The standalone CLI on free ports; resolves with its addresses from the "started" line. */
function startChild(dir: string): Promise<Child> {
  // RMQ_BENCH_CHILD_NODE_ARGS="--cpu-prof" profiles the system under test.
  const nodeArgs = (process.env.RMQ_BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, STANDALONE_JS, '--store', join(dir, 'store'), '--namesrv-port', '0', '--broker-port', '0', '--proxy-port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROCKETMQ_LOG_LEVEL: 'info' },
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the standalone did not start within 30 s')), 30_000);
    proc.once('exit', (code) => reject(new Error(`the standalone exited with ${code}`)));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /RocketMQ standalone started: NameServer [^,]+, Broker ([\d.]+:\d+), Proxy ([\d.]+:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.removeAllListeners('data');
        proc.stdout!.resume();
        resolve({ proc, brokerAddr: m[1]!, proxyAddr: m[2]! });
      }
    });
  });
}

async function main(): Promise<void> {
  const o = program.parse().opts<{ messages: number; size: number; inflight: number; consumers: number; queues: number; e2e: number; interval: number }>();
  const dir = mkdtempSync(join(tmpdir(), 'rmq-bench-grpc-'));
  const child = await startChild(dir);
  const api = new MQClientAPI();
  const topic = `GrpcBench_${Date.now()}`;
  const group = `GrpcBenchG_${Date.now()}`;
  const clients: Array<{ shutdown(): Promise<void> }> = [];
  try {
    await api.createTopic(child.brokerAddr, 'TBW102', {
      topicName: topic, readQueueNums: o.queues, writeQueueNums: o.queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
    const producer = new Producer({ endpoints: child.proxyAddr, namespace: '', topic, logger: quiet });
    await producer.startup();
    clients.push(producer);
    const body = makeBody(o.size);

    // 1. backlog
    log(`sending ${o.messages} messages of ${o.size} bytes…`);
    const sendStart = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: o.inflight }, async () => {
      while (next < o.messages) {
        next++;
        await producer.send({ topic, tag: 'bench', body });
      }
    }));
    const sendMs = performance.now() - sendStart;

    // 2. drain: receive → ack
    const consumers: SimpleConsumer[] = [];
    for (let i = 0; i < o.consumers; i++) {
      const c = new SimpleConsumer({ endpoints: child.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 2000, logger: quiet });
      await c.startup();
      consumers.push(c);
      clients.push(c);
    }
    log(`draining with ${o.consumers} SimpleConsumers…`);
    const receiveRpc = new LatencyHistogram();
    let acked = 0;
    let emptyInARow = 0;
    const drainStart = performance.now();
    const serverCpu0 = cpuMs(child.proc.pid!);
    const clientCpu0 = process.cpuUsage();
    await Promise.all(consumers.map(async (c) => {
      while (acked < o.messages && emptyInARow < 3) {
        const t0 = performance.now();
        const batch = await c.receive(32, 60_000);
        if (batch.length > 0) receiveRpc.record(performance.now() - t0);
        if (batch.length === 0) {
          emptyInARow++;
          continue;
        }
        emptyInARow = 0;
        await Promise.all(batch.map((m) => c.ack(m)));
        acked += batch.length;
      }
    }));
    const drainMs = performance.now() - drainStart;
    const serverCpu = cpuMs(child.proc.pid!) - serverCpu0;
    const cu = process.cpuUsage(clientCpu0);
    const clientCpu = (cu.user + cu.system) / 1000;

    // 3. end to end, with consumers waiting in long polls
    log(`end to end: ${o.e2e} messages, one every ${o.interval} ms…`);
    const e2e = new LatencyHistogram();
    const sentAt = new Map<string, number>();
    let received = 0;
    let stop = false;
    const receivers = consumers.map(async (c) => {
      while (!stop) {
        const batch = await c.receive(32, 60_000);
        const now = performance.now();
        for (const m of batch) {
          const t = sentAt.get(m.body.toString());
          if (t !== undefined) {
            e2e.record(now - t);
            received++;
          }
          void c.ack(m);
        }
      }
    });
    for (let i = 0; i < o.e2e; i++) {
      const key = `e2e-${i}`;
      sentAt.set(key, performance.now());
      await producer.send({ topic, body: Buffer.from(key) });
      await new Promise((r) => setTimeout(r, o.interval));
    }
    const end = Date.now() + 10_000;
    while (received < o.e2e && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(receivers);

    const rows: Row[] = [
      ['messages', o.messages],
      ['body (bytes)', o.size],
      ['send throughput (msg/s)', round(o.messages / (sendMs / 1000), 0)],
      ['consumers', o.consumers],
      ['receive→ack throughput (msg/s)', round(acked / (drainMs / 1000), 0)],
      ['drain: server CPU per 1000 msgs (ms)', round(serverCpu / (acked / 1000), 0)],
      ['drain: client CPU per 1000 msgs (ms)', round(clientCpu / (acked / 1000), 0)],
      ...rtRows('ReceiveMessage call returning messages', receiveRpc, ['p50', 'p99', 'max']),
      ...rtRows('send→receive end to end', e2e, ['p50', 'p99', 'max']),
    ];
    emit('grpc-receive-ack', rows, {
      messages: o.messages, size: o.size, consumers: o.consumers, sendPerSec: round(o.messages / (sendMs / 1000), 0),
      receiveAckPerSec: round(acked / (drainMs / 1000), 0), receiveRpc: rtStats(receiveRpc), endToEnd: rtStats(e2e),
    });
  } finally {
    for (const c of clients) await c.shutdown().catch(() => undefined);
    await api.shutdown();
    child.proc.kill('SIGTERM');
    await new Promise((r) => child.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
