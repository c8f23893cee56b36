import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The system under test when no --namesrv is given: the standalone CLI in a child process, on
 * free ports, storing under a temporary directory that is removed at the end.
 */
export interface StandaloneChild {
  namesrvAddr: string;
  brokerAddr: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

const STANDALONE_JS = fileURLToPath(new URL('../src/cli/standalone.js', import.meta.url));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '0.0.0.0', exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A broker port whose fast port (−2) and HA port (+1) are free as well. */
async function freeBrokerPort(avoid: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await anyFreePort();
    if (p < 1026 || p + 1 > 65535 || Math.abs(p - avoid) <= 2) continue;
    if ((await portFree(p - 2)) && (await portFree(p + 1))) return p;
  }
  throw new Error('no free broker port found (with listenPort − 2 and + 1 free too)');
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

function logTail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export async function startStandaloneChild(flushDiskType: string, readyTimeoutMs = 60_000): Promise<StandaloneChild> {
  if (!existsSync(STANDALONE_JS)) throw new Error(`${STANDALONE_JS} not found: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'rmq-bench-'));
  const namesrvPort = await anyFreePort();
  const brokerPort = await freeBrokerPort(namesrvPort);
  const conf = join(dir, 'broker.conf');
  writeFileSync(conf, [
    `flushDiskType=${flushDiskType}`,
    'brokerIP1=127.0.0.1',
    'autoCreateTopicEnable=true',
    '',
  ].join('\n'));
  const logFile = join(dir, 'standalone.log');
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [STANDALONE_JS, '--store', join(dir, 'store'), '--namesrv-port', String(namesrvPort), '--broker-port', String(brokerPort), '-c', conf], {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, ROCKETMQ_LOG_LEVEL: process.env.ROCKETMQ_LOG_LEVEL ?? 'info' },
    });
  } finally {
    closeSync(logFd);
  }
  let exited = false;
  const exitP = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitP;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + readyTimeoutMs;
  while (!(await answers(namesrvPort)) || !(await answers(brokerPort))) {
    if (exited || Date.now() > end) {
      const tail = logTail(logFile);
      await stop();
      throw new Error(`the standalone child ${exited ? 'exited' : `did not open ports ${namesrvPort}/${brokerPort} within ${readyTimeoutMs} ms`}; its log ends with:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { namesrvAddr: `127.0.0.1:${namesrvPort}`, brokerAddr: `127.0.0.1:${brokerPort}`, pid: child.pid!, dir, stop };
}

/** Resident set size of a process in bytes (Linux /proc), or undefined when unreadable. */
export function readRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
