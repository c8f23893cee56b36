import { answers, freePort, readCpuSeconds, readRss } from '../net.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Child server processes for the peer benchmark: locating binaries, free loopback ports, starting
 * a server in its own temporary directory, stopping it and removing the directory, and sampling
 * its memory and CPU from /proc.
 */

/** Debian keeps some servers (nats-server) in sbin directories that are not on every user's PATH. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable found on PATH or in the sbin directories, or undefined. */
export function findBinary(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First line of `<bin> <args>` (e.g. `nats-server --version`), or `unknown`. */
export function binaryVersion(bin: string, args: string[] = ['--version']): string {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0];
  return out || 'unknown';
}

export interface ServerProc {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  /** Last lines of the server's own log (stdout and stderr). */
  logTail(lines?: number): string;
  /** SIGTERM (SIGKILL after a grace period), then removes the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Label for messages, e.g. `nats-server`. */
  name: string;
  bin: string;
  /** Builds the argument list once the port and the directory are known. */
  args: (port: number, dir: string) => string[];
  /** Parent of the temporary directory (default: os.tmpdir()). */
  baseDir?: string;
  readyTimeoutMs?: number;
}

const live = new Set<ServerProc>();
let shuttingDown = false;

/** Stops every server still running and refuses to start more (for signal handlers and fatal errors). */
export async function stopAll(): Promise<void> {
  shuttingDown = true;
  await Promise.all([...live].map((s) => s.stop().catch(() => undefined)));
}

/** Starts a server on a free loopback port in a fresh temporary directory and waits until it accepts connections. */
export async function startServer(opts: StartOptions): Promise<ServerProc> {
  const port = await freePort('127.0.0.1');
  if (shuttingDown) throw new Error(`not starting ${opts.name}: shutting down`);
  const dir = mkdtempSync(join(opts.baseDir ?? tmpdir(), `peer-${opts.name}-`));
  const logFile = join(dir, 'server.log');
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.bin, opts.args(port, dir), { stdio: ['ignore', logFd, logFd], cwd: dir });
  } finally {
    closeSync(logFd);
  }
  let exited = false;
  let spawnError: Error | undefined;
  const exitP = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });
  const logTail = (lines = 20): string => {
    if (!existsSync(logFile)) return '(no log)';
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  };
  let stopping: Promise<void> | undefined;
  const proc: ServerProc = {
    name: opts.name,
    pid: child.pid ?? -1,
    port,
    dir,
    logTail,
    stop: () => {
      stopping ??= (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exitP;
          clearTimeout(killer);
        }
        live.delete(proc);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  live.add(proc);
  const timeout = opts.readyTimeoutMs ?? 15_000;
  const end = Date.now() + timeout;
  while (!(await answers(port))) {
    if (exited || shuttingDown || Date.now() > end) {
      const tail = logTail();
      await proc.stop();
      const why = spawnError ? `could not be spawned (${spawnError.message})` : exited ? 'exited' : shuttingDown ? 'was stopped: shutting down' : `did not open port ${port} within ${timeout} ms`;
      throw new Error(`${opts.name} ${why}; its log ends with:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** Samples a process's RSS every interval, keeping the peak; also measures its CPU time between start and stop. */
export class ProcSampler {
  peakRss = 0;
  cpuSec = 0;
  private timer?: NodeJS.Timeout;
  private cpu0 = 0;

  constructor(private readonly pid: number, private readonly intervalMs = 100) {}

  start(): this {
    this.peakRss = 0;
    this.cpu0 = readCpuSeconds(this.pid) ?? 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  private sample(): void {
    const v = readRss(this.pid);
    if (v !== undefined && v > this.peakRss) this.peakRss = v;
  }

  stop(): this {
    clearInterval(this.timer);
    this.sample();
    const cpu1 = readCpuSeconds(this.pid);
    this.cpuSec = cpu1 === undefined ? 0 : cpu1 - this.cpu0;
    return this;
  }
}
