import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** runServer's exit codes and log lines, seen from outside the process. */

const FIXTURE = resolve(process.cwd(), 'dist', 'test', 'cli', 'fixtures', 'run-server.js');

interface Outcome {
  code: number | null;
  lines: { level: string; msg: string; err?: { stack?: string } }[];
  stderr: string;
}

function run(mode: string, signalAfterStart?: NodeJS.Signals): Promise<Outcome> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [FIXTURE, mode], {
      env: { ...process.env, ROCKETMQ_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let signalled = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (signalAfterStart && !signalled && out.includes('fixture started')) {
        signalled = true;
        child.kill(signalAfterStart);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`fixture ${mode} did not exit\n${out}\n${stderr}`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Outcome['lines'][number]);
      res({ code, lines, stderr });
    });
  });
}

test('a clean stop: signal line, stopped line, exit 0', async () => {
  const o = await run('ok', 'SIGTERM');
  assert.equal(o.code, 0, o.stderr);
  assert.deepEqual(o.lines.map((l) => l.msg), ['fixture started', 'SIGTERM received, shutting down fixture', 'fixture stopped']);
});

test('an unexpected start-up error is logged once with its stack, exit 1', async () => {
  const o = await run('start-bug');
  assert.equal(o.code, 1);
  assert.equal(o.lines.length, 1);
  assert.equal(o.lines[0]?.level, 'fatal');
  assert.match(o.lines[0]?.msg ?? '', /fixture failed to start: cannot read properties/);
  assert.match(o.lines[0]?.err?.stack ?? '', /TypeError/);
});

test('an uncaught exception while running logs one line and exits 1', async () => {
  const o = await run('crash-later');
  assert.equal(o.code, 1);
  const fatal = o.lines.filter((l) => l.level === 'fatal');
  assert.equal(fatal.length, 1);
  assert.match(fatal[0]?.msg ?? '', /uncaught exception: boom/);
});

test('a shutdown that hangs is abandoned after the limit with exit 1 and a line saying so', async () => {
  const o = await run('hang-on-shutdown', 'SIGINT');
  assert.equal(o.code, 1);
  assert.match(o.lines.at(-1)?.msg ?? '', /did not finish shutting down within 300 ms/);
});
