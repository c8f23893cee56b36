import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Runs the compiled CLI entry points as real child processes, the way a user or `npm start` does,
 * and reads their pino JSON log lines from stdout.
 */

export type CliName = 'mqnamesrv' | 'mqbroker' | 'standalone';

export interface LogLine {
  level: string;
  name?: string;
  msg: string;
  [k: string]: unknown;
}

export function cliPath(name: CliName): string {
  return resolve(process.cwd(), 'dist', 'src', 'cli', `${name}.js`);
}

function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ROCKETMQ_LOG_LEVEL: 'info' };
  // A developer's own NAMESRV_ADDR must not leak into the brokers under test.
  delete env.NAMESRV_ADDR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command that is expected to end by itself (--help, -p, a start-up failure). */
export function runCli(
  name: CliName,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath(name), ...args], {
      cwd: opts.cwd,
      env: childEnv(opts.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running server process. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: CliName,
    args: string[],
    opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
  ) {
    this.child = spawn(process.execPath, [cliPath(name), ...args], {
      cwd: opts.cwd,
      env: childEnv(opts.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      partial += d;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const text = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          // Not a log line (e.g. -p output); kept in stdout only.
        }
      }
      this.notify();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.notify();
    });
    this.exited = new Promise((res) => {
      this.child.on('close', (code, signal) => {
        this.notify();
        res({ code, signal });
      });
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first log line whose msg matches; rejects on exit or timeout, showing the output. */
  waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<LogLine> {
    return new Promise((res, rej) => {
      let done = false;
      const check = (): void => {
        if (done) return;
        const hit = this.lines.find((l) => pattern.test(l.msg));
        if (hit) {
          finish();
          res(hit);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish();
          rej(new Error(`${this.name} exited before logging ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        rej(new Error(`${this.name} did not log ${pattern} within ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        rej(new Error(`${this.name} did not exit within ${timeoutMs} ms of ${signal}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last-resort cleanup for a failed test: never leave a server running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Every IPv4 host:port in a log message, in order ("listening on 0.0.0.0:9876" → [9876]). */
export function portsIn(msg: string): number[] {
  return [...msg.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}:(\d+)\b/g)].map((m) => Number(m[1]));
}

/** No stack frames: expected failures are explained in one line, not dumped. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+\(.+:\d+:\d+\)$/m.test(text) || /^\s+at .+:\d+:\d+$/m.test(text);
}
