#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MiB, round, usPerMessage } from '../common.js';
import { LatencyHistogram } from '../histogram.js';
import { readCpuSeconds } from '../net.js';
import {
  JetStreamPublisher,
  NatsConnection,
  createDurablePullConsumer,
  createFileStream,
  pullDrain,
  waitForJetStream,
} from './nats-lean.js';
import { ProcSampler, binaryVersion, findBinary, startServer, stopAll, type ServerProc } from './procs.js';
import { RedisConnection, StreamAppender, waitForRedis, xreadDrain } from './redis-lean.js';

/**
 * The loads of `npm run bench` against the brokers people would pick instead, started on
 * loopback in the same run: NATS JetStream (file storage) and Redis streams (AOF with
 * appendfsync always, and everysec), through lean clients written over node:net so that the
 * comparison measures servers rather than client libraries.
 *
 * Scenarios, each a table row and one `BENCH_PEERS_JSON ` line per peer configuration:
 *   publish  one connection keeping exactly --inflight publishes outstanding: msgs/s, ack latency
 *   latency  the same with one in flight: latency percentiles
 *   consume  drain a --backlog of messages published beforehand (untimed): msgs/s
 */

const SCENARIOS = ['publish', 'latency', 'consume'] as const;
type Scenario = (typeof SCENARIOS)[number];
const SCENARIO_ALIASES: Record<string, Scenario> = { '1': 'publish', '2': 'latency', '3': 'consume' };
const INSTALL_HINT = 'apt-get install -y nats-server redis-server';

interface Flags {
  size: number;
  duration: number;
  inflight: number;
  backlog: number;
  pullBatch: number;
  pullInflight: number;
  only?: 'nats' | 'redis';
  scenarios: Scenario[];
  dir: string;
  natsServer: string;
  redisServer: string;
}

function positiveInt(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
}

function scenarioList(v: string): Scenario[] {
  const out: Scenario[] = [];
  for (const raw of v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const s = SCENARIO_ALIASES[raw] ?? (SCENARIOS as readonly string[]).find((x) => x === raw);
    if (!s) throw new InvalidArgumentError(`unknown scenario "${raw}": expected a comma-separated list of ${SCENARIOS.join(', ')} (or 1, 2, 3)`);
    if (!out.includes(s as Scenario)) out.push(s as Scenario);
  }
  if (out.length === 0) throw new InvalidArgumentError('no scenario given');
  return out;
}

const program = new Command('bench-peers')
  .description('Runs the benchmark loads against NATS JetStream and Redis streams started on loopback, for ratios against our broker measured on the same machine')
  .option('--size <bytes>', 'message body size', positiveInt('--size', 1, 1024 * 1024 - 1024), 1024)
  .option('--duration <seconds>', 'length of each timed publish scenario', positiveInt('--duration'), 10)
  .option('--inflight <n>', 'publishes outstanding in the publish scenario (and while filling the backlog)', positiveInt('--inflight'), 256)
  .option('--backlog <n>', 'messages published (untimed) before the consume scenario', positiveInt('--backlog'), 1_000_000)
  .option('--pull-batch <n>', 'messages per JetStream pull request / Redis XREAD COUNT', positiveInt('--pull-batch'), 1000)
  .option('--pull-inflight <n>', 'JetStream pull requests outstanding (XREAD is sequential by nature)', positiveInt('--pull-inflight'), 2)
  .option('--only <peer>', 'run one peer only: nats or redis', (v: string) => {
    const p = v.toLowerCase();
    if (p !== 'nats' && p !== 'redis') throw new InvalidArgumentError('expected nats or redis');
    return p;
  })
  .addOption(new Option('--scenarios <list>', 'comma-separated: publish (--inflight outstanding), latency (one outstanding), consume (the --backlog); or 1,2,3')
    .argParser(scenarioList)
    .default([...SCENARIOS], SCENARIOS.join(',')))
  .option('--dir <path>', 'parent of the servers\' temporary data directories', tmpdir())
  .option('--nats-server <path>', 'nats-server binary', 'nats-server')
  .option('--redis-server <path>', 'redis-server binary', 'redis-server')
  .allowExcessArguments(false)
  .addHelpText('after', `
Needs nats-server (2.9) and/or redis-server (7.0); on Debian: ${INSTALL_HINT}
A missing server is skipped; the exit code is 1 when no peer could run or a scenario failed.`)
  .parse();

const flags = program.opts<Flags>();
const body = randomBytes(flags.size);

function log(line: string): void {
  process.stderr.write(line + '\n');
}

// ---- closed-loop publishing ------------------------------------------------------------------

type SendFn = (done: (err?: Error) => void) => void;

interface LoopResult {
  ok: number;
  errors: number;
  errorSamples: Map<string, number>;
  elapsedMs: number;
  hist: LatencyHistogram;
}

/**
 * Keeps exactly `inflight` sends outstanding (a new one as each completes) until `durationMs` has
 * passed or `count` have been issued, then waits for the outstanding ones. Latency is from the
 * send call to its completion callback.
 */
function closedLoop(label: string, send: SendFn, inflight: number, until: { durationMs: number } | { count: number }): Promise<LoopResult> {
  const hist = new LatencyHistogram();
  const errorSamples = new Map<string, number>();
  const count = 'count' in until ? until.count : Number.POSITIVE_INFINITY;
  let ok = 0;
  let errors = 0;
  let issued = 0;
  let outstanding = 0;
  let stopping = false;
  const start = performance.now();
  let lastAck = Date.now();
  let lastOk = 0;
  let lastTick = start;
  return new Promise<LoopResult>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      stopping = true;
      clearTimeout(stopTimer);
      clearInterval(ticker);
      resolve({ ok, errors, errorSamples, elapsedMs: performance.now() - start, hist });
    };
    const one = (): void => {
      issued++;
      outstanding++;
      const t0 = performance.now();
      send((err) => {
        outstanding--;
        if (err) {
          errors++;
          const key = `${err.name}: ${err.message}`.slice(0, 200);
          errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
          if (errors >= 100) stopping = true; // a dead server must not turn this into a spin
        } else {
          hist.record(performance.now() - t0);
          ok++;
          lastAck = Date.now();
        }
        if (!stopping && issued < count) one();
        else if (outstanding === 0) finish();
      });
    };
    const stopTimer = 'durationMs' in until ? setTimeout(() => { stopping = true; }, until.durationMs) : undefined;
    const ticker = setInterval(() => {
      const now = performance.now();
      log(`  ${label}: ${Math.round(((ok - lastOk) * 1000) / (now - lastTick))} msg/s, total ${ok}${errors ? `, errors ${errors}` : ''}`);
      lastOk = ok;
      lastTick = now;
      if (Date.now() - lastAck > 30_000) {
        errors += outstanding;
        errorSamples.set(`no completion for 30 s with ${outstanding} outstanding`, outstanding);
        finish();
      }
    }, 1000);
    for (let i = 0; i < inflight && issued < count; i++) one();
  });
}

// ---- results ---------------------------------------------------------------------------------

interface Row {
  scenario: Scenario;
  peer: 'nats-jetstream' | 'redis';
  config: string;
  serverVersion: string;
  inflight?: number;
  msgs: number;
  errors: number;
  errorSamples?: Map<string, number>;
  elapsedMs: number;
  bytes: number;
  hist?: LatencyHistogram;
  backlog?: number;
  pullBatch?: number;
  pullInflight?: number;
  requests?: number;
  serverRssPeak: number;
  serverCpuSec: number;
  clientCpuSec: number;
  error?: string;
}

const COLUMNS: Array<[string, number]> = [
  ['scenario', 9], ['peer', 15], ['config', 14], ['inflight', 8], ['msgs', 9], ['msgs/s', 9], ['MiB/s', 7],
  ['p50 ms', 8], ['p99 ms', 8], ['max ms', 8], ['srv CPU%', 8], ['cli CPU%', 8], ['srv µs/msg', 10], ['cli µs/msg', 10], ['srv RSS MiB', 11],
];

function tableLine(cells: Array<string | number>): string {
  return cells.map((c, i) => (i < 3 ? String(c).padEnd(COLUMNS[i]![1]) : String(c).padStart(COLUMNS[i]![1]))).join('  ');
}

/** The inflight column: sends outstanding, or for consume `<per request>×<requests outstanding>`. */
function inflightCell(r: Row): string | number {
  if (r.scenario === 'consume') return r.pullBatch ? `${r.pullBatch}×${r.pullInflight ?? 1}` : '-';
  return r.inflight ?? '-';
}

function tableRow(r: Row): string {
  const secs = r.elapsedMs / 1000;
  const pct = (cpu: number): string => (secs > 0 ? String(Math.round((cpu / secs) * 100)) : '-');
  if (r.error) return tableLine([r.scenario, r.peer, r.config, inflightCell(r), `FAILED: ${r.error.split('\n')[0]}`]);
  const lat = (q: number | 'max'): string | number => (r.hist ? round(q === 'max' ? r.hist.max() : r.hist.percentile(q), 3) : '-');
  return tableLine([
    r.scenario, r.peer, r.config, inflightCell(r), r.msgs, Math.round(r.msgs / secs), round(r.bytes / MiB / secs, 1),
    lat(0.5), lat(0.99), lat('max'), pct(r.serverCpuSec), pct(r.clientCpuSec),
    usPerMessage(r.serverCpuSec, r.msgs) ?? '-', usPerMessage(r.clientCpuSec, r.msgs) ?? '-', round(r.serverRssPeak / MiB, 1),
  ]);
}

function jsonOf(r: Row): Record<string, unknown> {
  const secs = r.elapsedMs / 1000;
  return {
    scenario: r.scenario,
    peer: r.peer,
    config: r.config,
    serverVersion: r.serverVersion,
    size: flags.size,
    inflight: r.inflight ?? null,
    ...(r.scenario === 'consume' ? { backlog: r.backlog, pullBatch: r.pullBatch, pullInflight: r.pullInflight ?? null, requests: r.requests } : {}),
    ok: !r.error,
    error: r.error ?? null,
    durationSec: round(secs, 3),
    msgs: r.msgs,
    errors: r.errors,
    msgsPerSec: secs > 0 ? round(r.msgs / secs, 1) : 0,
    mibPerSec: secs > 0 ? round(r.bytes / MiB / secs, 3) : 0,
    latencyMs: r.hist
      ? { avg: round(r.hist.mean(), 3), p50: round(r.hist.percentile(0.5), 3), p99: round(r.hist.percentile(0.99), 3), p999: round(r.hist.percentile(0.999), 3), max: round(r.hist.max(), 3) }
      : null,
    serverRssPeakMiB: round(r.serverRssPeak / MiB, 1),
    serverCpuPct: secs > 0 ? round((r.serverCpuSec / secs) * 100, 1) : 0,
    clientCpuPct: secs > 0 ? round((r.clientCpuSec / secs) * 100, 1) : 0,
    serverUsPerMsg: usPerMessage(r.serverCpuSec, r.msgs),
    clientUsPerMsg: usPerMessage(r.clientCpuSec, r.msgs),
    host: { cpus: cpus().length, node: process.version },
  };
}

// ---- peers -----------------------------------------------------------------------------------

interface Peer {
  id: 'nats' | 'redis';
  bin: string;
  version: string;
}

type Measured = Omit<Row, 'scenario' | 'peer' | 'config' | 'serverVersion' | 'serverRssPeak' | 'serverCpuSec' | 'clientCpuSec'>;

/** Runs `timed` against a started server, measuring its CPU and the bench's own over that phase only. */
async function measure(srv: ServerProc, timed: () => Promise<Measured>): Promise<Measured & { serverCpuSec: number; clientCpuSec: number }> {
  const cpu0 = readCpuSeconds(srv.pid) ?? 0;
  const self0 = process.cpuUsage();
  const m = await timed();
  const self = process.cpuUsage(self0);
  return { ...m, serverCpuSec: (readCpuSeconds(srv.pid) ?? cpu0) - cpu0, clientCpuSec: (self.user + self.system) / 1e6 };
}

function loopMeasured(r: LoopResult, inflight: number): Measured {
  return { inflight, msgs: r.ok, errors: r.errors, errorSamples: r.errorSamples, elapsedMs: r.elapsedMs, bytes: r.ok * flags.size, hist: r.hist };
}

async function fillBacklog(label: string, send: SendFn): Promise<void> {
  log(`  filling a backlog of ${flags.backlog} messages (untimed)…`);
  const r = await closedLoop(label, send, flags.inflight, { count: flags.backlog });
  if (r.ok !== flags.backlog) {
    const first = [...r.errorSamples.keys()][0] ?? 'unknown';
    throw new Error(`backlog fill stored ${r.ok}/${flags.backlog} messages (${r.errors} errors, e.g. ${first})`);
  }
  log(`  backlog stored in ${round(r.elapsedMs / 1000, 1)} s (${Math.round((r.ok * 1000) / r.elapsedMs)} msg/s)`);
}

async function runNats(peer: Peer, scenario: Scenario): Promise<Row> {
  const srv = await startServer({ name: 'nats-server', bin: peer.bin, baseDir: flags.dir, args: (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir] });
  const sampler = new ProcSampler(srv.pid).start();
  let nc: NatsConnection | undefined;
  try {
    nc = await NatsConnection.connect('127.0.0.1', srv.port);
    await waitForJetStream(nc);
    const stream = `BENCH_${scenario.toUpperCase()}`;
    const subject = `bench.${scenario}`;
    await createFileStream(nc, stream, [subject]);
    const pub = new JetStreamPublisher(nc, subject);
    const send: SendFn = (done) => pub.publish(body, done);
    let m;
    if (scenario === 'consume') {
      await fillBacklog('fill', send);
      await createDurablePullConsumer(nc, stream, 'bench');
      const conn = nc;
      m = await measure(srv, async () => {
        const r = await pullDrain(conn, stream, 'bench', flags.backlog, flags.pullBatch, flags.pullInflight);
        return { msgs: r.messages, errors: 0, elapsedMs: r.elapsedMs, bytes: r.bytes, backlog: flags.backlog, pullBatch: flags.pullBatch, pullInflight: flags.pullInflight, requests: r.requests };
      });
    } else {
      const inflight = scenario === 'publish' ? flags.inflight : 1;
      m = await measure(srv, async () => loopMeasured(await closedLoop(`js publish ×${inflight}`, send, inflight, { durationMs: flags.duration * 1000 }), inflight));
    }
    sampler.stop();
    return { scenario, peer: 'nats-jetstream', config: 'file storage', serverVersion: peer.version, serverRssPeak: sampler.peakRss, ...m };
  } finally {
    sampler.stop();
    nc?.close();
    await srv.stop();
  }
}

async function runRedis(peer: Peer, scenario: Scenario, fsync: 'always' | 'everysec'): Promise<Row> {
  const srv = await startServer({
    name: 'redis-server',
    bin: peer.bin,
    baseDir: flags.dir,
    args: (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--dir', dir],
  });
  const sampler = new ProcSampler(srv.pid).start();
  let rc: RedisConnection | undefined;
  try {
    rc = await RedisConnection.connect('127.0.0.1', srv.port);
    await waitForRedis(rc);
    const key = `bench:${scenario}`;
    const appender = new StreamAppender(rc, key, body);
    const send: SendFn = (done) => appender.publish(done);
    let m;
    if (scenario === 'consume') {
      await fillBacklog('fill', send);
      const conn = rc;
      m = await measure(srv, async () => {
        const r = await xreadDrain(conn, key, flags.backlog, flags.pullBatch);
        return { msgs: r.messages, errors: 0, elapsedMs: r.elapsedMs, bytes: r.bytes, backlog: flags.backlog, pullBatch: flags.pullBatch, requests: r.requests };
      });
    } else {
      const inflight = scenario === 'publish' ? flags.inflight : 1;
      m = await measure(srv, async () => loopMeasured(await closedLoop(`XADD ×${inflight}`, send, inflight, { durationMs: flags.duration * 1000 }), inflight));
    }
    sampler.stop();
    return { scenario, peer: 'redis', config: `aof ${fsync}`, serverVersion: peer.version, serverRssPeak: sampler.peakRss, ...m };
  } finally {
    sampler.stop();
    rc?.close();
    await srv.stop();
  }
}

interface Job {
  scenario: Scenario;
  peer: Peer;
  config: string;
  run: () => Promise<Row>;
}

/**
 * The matrix: publish against JetStream, Redis always and Redis everysec; latency against
 * JetStream and Redis always; consume against JetStream and Redis (everysec for filling the
 * backlog fast — XREAD writes nothing to the AOF, so the fsync policy does not touch what is timed).
 */
function jobsFor(scenario: Scenario, peers: Peer[]): Job[] {
  const jobs: Job[] = [];
  for (const peer of peers) {
    if (peer.id === 'nats') jobs.push({ scenario, peer, config: 'file storage', run: () => runNats(peer, scenario) });
    else {
      const configs: Array<'always' | 'everysec'> = scenario === 'publish' ? ['always', 'everysec'] : scenario === 'latency' ? ['always'] : ['everysec'];
      for (const fsync of configs) jobs.push({ scenario, peer, config: `aof ${fsync}`, run: () => runRedis(peer, scenario, fsync) });
    }
  }
  return jobs;
}

function findPeers(): Peer[] {
  const peers: Peer[] = [];
  const wanted: Array<['nats' | 'redis', string, string]> = [
    ['nats', flags.natsServer, 'NATS JetStream'],
    ['redis', flags.redisServer, 'Redis streams'],
  ];
  for (const [id, name, what] of wanted) {
    if (flags.only && flags.only !== id) continue;
    const bin = findBinary(name);
    if (!bin) {
      console.log(`${name} not found (looked on PATH and in /usr/local/sbin, /usr/sbin, /sbin); skipping the ${what} peer. Install it with:`);
      console.log(`  ${INSTALL_HINT}`);
      continue;
    }
    peers.push({ id, bin, version: binaryVersion(bin, ['--version']) });
  }
  return peers;
}

async function main(): Promise<void> {
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    log('interrupted: stopping the servers');
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const peers = findPeers();
  if (peers.length === 0) {
    console.log('no peer server available: nothing was measured');
    process.exitCode = 1;
    return;
  }
  for (const p of peers) console.log(`${p.id === 'nats' ? 'nats-server ' : 'redis-server'}  ${p.version}  (${p.bin})`);
  console.log(`size ${flags.size} B, duration ${flags.duration} s, inflight ${flags.inflight}, backlog ${flags.backlog}, pull batch ${flags.pullBatch} × ${flags.pullInflight}, data under ${flags.dir}, ${cpus().length} CPUs, node ${process.version}`);
  console.log('');
  console.log(tableLine(COLUMNS.map(([name]) => name)));

  const rows: Row[] = [];
  for (const scenario of flags.scenarios) {
    for (const job of jobsFor(scenario, peers)) {
      log(`${scenario}: ${job.peer.id === 'nats' ? 'nats-jetstream' : 'redis'} (${job.config})`);
      let row: Row;
      try {
        row = await job.run();
      } catch (err) {
        if (interrupted) return;
        row = {
          scenario, peer: job.peer.id === 'nats' ? 'nats-jetstream' : 'redis', config: job.config, serverVersion: job.peer.version,
          msgs: 0, errors: 0, elapsedMs: 0, bytes: 0, serverRssPeak: 0, serverCpuSec: 0, clientCpuSec: 0, error: (err as Error).message,
        };
      }
      if (interrupted) return;
      if (!row.error && row.errors > 0) row.error = `${row.errors} failed sends, e.g. ${[...(row.errorSamples?.keys() ?? [])][0] ?? '?'}`;
      rows.push(row);
      console.log(tableRow(row));
    }
  }
  console.log('');
  console.log('msgs/s over the timed phase; latency from send to ack (publish/XADD); srv/cli CPU% is the server\'s / this process\'s CPU time over that phase (200 = both cores), then per message;');
  console.log('durability differs: JetStream 2.9 acks from its file store\'s write cache (written in the background, fsynced every 60 s);');
  console.log('Redis "aof always" fsyncs the AOF before it replies, "aof everysec" once a second.');
  for (const r of rows) console.log('BENCH_PEERS_JSON ' + JSON.stringify(jsonOf(r)));
  if (rows.some((r) => r.error)) process.exitCode = 1;
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
