// Runs every compiled test file under dist/test with node's own test runner.
// Node 20 cannot glob by itself, so the file list is built here.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = collect('dist/test');
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files found under dist/test (did the build run?)');
  process.exit(1);
}
// --test-force-exit: third-party clients (ali-ons) keep timers alive after close(); our own
// roles are checked for leftover handles by test/e2e/handles.test.ts instead.
// The tests' temporary files (stores, and what mqadmin writes under the temp dir, such as message
// bodies in rocketmq/msgbodys) go to a directory of this run, removed when it ends.
const runTmp = mkdtempSync(join(tmpdir(), 'rmq-tests-'));
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', '--test-force-exit', ...files], {
  stdio: 'inherit',
  env: { ...process.env, ROCKETMQ_LOG_LEVEL: process.env.ROCKETMQ_LOG_LEVEL ?? 'warn', TMPDIR: runTmp },
});
rmSync(runTmp, { recursive: true, force: true });
process.exit(res.status ?? 1);
