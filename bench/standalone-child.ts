import { answers, freePort, readRss } from './net.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS, serverEnv } from '../src/cli/node-flags.js';

/**
 * The system under test: the standalone CLI (`dist/src/cli/standalone.js`) in a child process,
 * on free ports, with a broker.conf written by the bench, storing under a temporary directory.
 * A child can be killed and started again on the same directory and ports (restart scenarios);
 * its log (pino JSON lines on stdout/stderr) goes to `<dir>/standalone.log` and can be waited on.
 */

/** The legacy handle of `startStandaloneChild`: stop() also removes the directory. */
export interface StandaloneChild {
  namesrvAddr: string;
  brokerAddr: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

export type BrokerConf = Record<string, string | number | boolean>;

export interface ChildOptions {
  /** broker.conf entries, over the bench's defaults (brokerIP1=127.0.0.1, autoCreateTopicEnable=true). */
  conf?: BrokerConf;
  /** Parent of the temporary directory (default: the OS temp dir). */
  parentDir?: string;
  /** Time allowed until both ports answer (ms). Default 60 s. */
  readyTimeoutMs?: number;
  /** Leave the directory in place on dispose(). */
  keepDir?: boolean;
}

/** One pino line of the child's log. */
export interface LogEntry {
  /** Epoch ms of the line (pino's `time`). */
  time: number;
  level: string;
  msg: string;
}

const STANDALONE_JS = fileURLToPath(new URL('../src/cli/standalone.js', import.meta.url));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A broker port whose fast port (−2) and HA port (+1) are free as well. */
async function freeBrokerPort(avoid: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 1026 || p + 1 > 65535 || Math.abs(p - avoid) <= 2) continue;
    if ((await portFree(p - 2)) && (await portFree(p + 1))) return p;
  }
  throw new Error('no free broker port found (with listenPort − 2 and + 1 free too)');
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  const size = fileSize(file);
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(size - offset);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function parseLogLine(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(line) as { time?: unknown; level?: unknown; msg?: unknown };
    const time = typeof o.time === 'string' ? Date.parse(o.time) : typeof o.time === 'number' ? o.time : NaN;
    if (!Number.isFinite(time) || typeof o.msg !== 'string') return undefined;
    return { time, level: String(o.level ?? ''), msg: o.msg };
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every child not yet exited, and every directory not yet disposed: a bench that ends early leaves neither behind. */
const live = new Set<BrokerChild>();
const undisposed = new Set<Layout>();
process.once('exit', () => {
  for (const c of live) c.killNow();
  for (const l of undisposed) removeDir(l);
});

function removeDir(l: Layout): void {
  undisposed.delete(l);
  if (!l.keepDir) rmSync(l.dir, { recursive: true, force: true });
}

interface Layout {
  dir: string;
  keepDir: boolean;
  conf: BrokerConf;
  namesrvPort: number;
  brokerPort: number;
}

export class BrokerChild {
  readonly namesrvAddr: string;
  readonly brokerAddr: string;
  readonly pid: number;
  /** Epoch ms just before the process was spawned. */
  readonly spawnedAt: number;
  /** Epoch ms when both ports first answered. */
  readyAt = 0;
  private exitedFlag = false;
  private readonly exitP: Promise<void>;
  /** Where this process's lines start in the (shared, appended) log file. */
  private readonly logStart: number;

  private constructor(private readonly layout: Layout, private readonly proc: ChildProcess, spawnedAt: number, logStart: number) {
    this.namesrvAddr = `127.0.0.1:${layout.namesrvPort}`;
    this.brokerAddr = `127.0.0.1:${layout.brokerPort}`;
    this.pid = proc.pid!;
    this.spawnedAt = spawnedAt;
    this.logStart = logStart;
    live.add(this);
    this.exitP = new Promise((resolve) => proc.once('exit', () => {
      this.exitedFlag = true;
      live.delete(this);
      resolve();
    }));
  }

  /** Starts a standalone in a new temporary directory on free ports and waits until both ports answer. */
  static async start(opts: ChildOptions = {}): Promise<BrokerChild> {
    if (!existsSync(STANDALONE_JS)) throw new Error(`${STANDALONE_JS} not found: run npm run build first`);
    const parent = opts.parentDir ?? tmpdir();
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, 'rmq-bench-'));
    const namesrvPort = await freePort();
    const brokerPort = await freeBrokerPort(namesrvPort);
    const conf: BrokerConf = { brokerIP1: '127.0.0.1', autoCreateTopicEnable: true, ...opts.conf };
    writeFileSync(join(dir, 'broker.conf'), Object.entries(conf).map(([k, v]) => `${k}=${String(v)}`).join('\n') + '\n');
    const layout: Layout = { dir, keepDir: opts.keepDir ?? false, conf, namesrvPort, brokerPort };
    undisposed.add(layout);
    return BrokerChild.spawn(layout, opts.readyTimeoutMs);
  }

  private static async spawn(layout: Layout, readyTimeoutMs = 60_000): Promise<BrokerChild> {
    const logFile = join(layout.dir, 'standalone.log');
    const logStart = fileSize(logFile);
    const logFd = openSync(logFile, 'a');
    let c: BrokerChild;
    try {
      const spawnedAt = Date.now();
      const proc = spawn(process.execPath, [
        ...SERVER_NODE_FLAGS, ...childNodeArgs(),
        STANDALONE_JS, '--store', join(layout.dir, 'store'),
        '--namesrv-port', String(layout.namesrvPort), '--broker-port', String(layout.brokerPort),
        // No scenario here talks to the proxy; a fixed 8081 fails whenever another standalone runs.
        '--proxy-port', '0',
        '-c', join(layout.dir, 'broker.conf'),
      ], {
        stdio: ['ignore', logFd, logFd],
        env: serverEnv({ ...process.env, ROCKETMQ_LOG_LEVEL: process.env.ROCKETMQ_LOG_LEVEL ?? 'info' }),
      });
      c = new BrokerChild(layout, proc, spawnedAt, logStart);
    } finally {
      closeSync(logFd);
    }
    const end = Date.now() + readyTimeoutMs;
    while (!(await answers(layout.namesrvPort)) || !(await answers(layout.brokerPort))) {
      if (c.exited || Date.now() > end) {
        const tail = c.logTail();
        await c.dispose();
        throw new Error(`the standalone child ${c.exited ? 'exited' : `did not open ports ${layout.namesrvPort}/${layout.brokerPort} within ${readyTimeoutMs} ms`}; its log ends with:\n${tail}`);
      }
      await sleep(50);
    }
    c.readyAt = Date.now();
    return c;
  }

  get dir(): string {
    return this.layout.dir;
  }

  get storeDir(): string {
    return join(this.layout.dir, 'store');
  }

  get logFile(): string {
    return join(this.layout.dir, 'standalone.log');
  }

  get conf(): Readonly<BrokerConf> {
    return this.layout.conf;
  }

  get exited(): boolean {
    return this.exitedFlag;
  }

  /** Resident set size in bytes, or undefined once the process is gone. */
  rss(): number | undefined {
    return this.exitedFlag ? undefined : readRss(this.pid);
  }

  /** Sends `signal` and waits for the exit; resolves with the ms it took. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const t0 = performance.now();
    if (!this.exitedFlag) {
      this.proc.kill(signal);
      await this.exitP;
    }
    return performance.now() - t0;
  }

  /** Clean stop (SIGTERM, SIGKILL after `timeoutMs`); resolves with the ms until the process exited. */
  async stop(timeoutMs = 60_000): Promise<number> {
    const t0 = performance.now();
    if (!this.exitedFlag) {
      this.proc.kill('SIGTERM');
      const killer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
      await this.exitP;
      clearTimeout(killer);
    }
    return performance.now() - t0;
  }

  /** Starts the standalone again on the same directory, store, broker.conf and ports (after it exited). */
  async restart(readyTimeoutMs?: number): Promise<BrokerChild> {
    if (!this.exitedFlag) throw new Error(`restart() of a child that is still running (pid ${this.pid})`);
    return BrokerChild.spawn(this.layout, readyTimeoutMs);
  }

  /** Stops the process if running, then removes the directory (unless keepDir). */
  async dispose(): Promise<void> {
    await this.stop(15_000);
    removeDir(this.layout);
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    if (!this.exitedFlag) this.proc.kill('SIGKILL');
  }

  /** The parsed log lines this process wrote so far. */
  logEntries(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const line of readFrom(this.logFile, this.logStart).split('\n')) {
      const e = parseLogLine(line);
      if (e) out.push(e);
    }
    return out;
  }

  /** The first line of this process whose msg matches, or undefined. */
  findLog(pattern: RegExp): LogEntry | undefined {
    return this.logEntries().find((e) => pattern.test(e.msg));
  }

  /** Waits for a log line of this process matching `pattern`. */
  async waitForLog(pattern: RegExp, timeoutMs = 120_000): Promise<LogEntry> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const e = this.findLog(pattern);
      if (e) return e;
      if (this.exitedFlag) throw new Error(`the standalone child exited before logging ${pattern}; its log ends with:\n${this.logTail()}`);
      if (Date.now() > end) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms; the log ends with:\n${this.logTail()}`);
      await sleep(50);
    }
  }

  logTail(lines = 30): string {
    const text = readFrom(this.logFile, this.logStart);
    return text ? text.split('\n').slice(-lines).join('\n') : '(no log)';
  }
}

/** Starts the standalone with `flushDiskType` (the default run's system under test). */
export async function startStandaloneChild(flushDiskType: string, readyTimeoutMs = 60_000): Promise<StandaloneChild> {
  const c = await BrokerChild.start({ conf: { flushDiskType }, readyTimeoutMs });
  return { namesrvAddr: c.namesrvAddr, brokerAddr: c.brokerAddr, pid: c.pid, dir: c.dir, stop: () => c.dispose() };
}

/** Disposes every child still running (signal handlers). */
export async function disposeAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.dispose()));
  for (const l of [...undisposed]) removeDir(l);
}

/**
 * Extra node flags for the child from `BENCH_BROKER_NODE_ARGS` (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the broker at load; NODE_OPTIONS refuses those.
 */
function childNodeArgs(): string[] {
  return (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}
