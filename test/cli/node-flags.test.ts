import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVER_GLIBC_TUNABLES, SERVER_NODE_FLAGS, serverEnv } from '../../src/cli/node-flags.js';

// The server flags can only be given where a process starts; every such place must carry them.

const root = fileURLToPath(new URL('../../../', import.meta.url));

// The caller's own tunables follow ours, so that theirs win where both set one.
const tunables = `GLIBC_TUNABLES=${SERVER_GLIBC_TUNABLES}:\${GLIBC_TUNABLES}`;

test('npm start and the server CLIs start node with SERVER_NODE_FLAGS and SERVER_GLIBC_TUNABLES', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `${tunables} node ${SERVER_NODE_FLAGS.join(' ')} dist/src/cli/standalone.js`);
  for (const cli of ['standalone', 'mqbroker', 'mqproxy']) {
    const first = readFileSync(`${root}src/cli/${cli}.ts`, 'utf8').split('\n')[0];
    assert.equal(first, `#!/usr/bin/env -S ${tunables} node ${SERVER_NODE_FLAGS.join(' ')}`, `shebang of ${cli}`);
  }
});

test('serverEnv puts the server tunables before the caller\'s', () => {
  assert.equal(serverEnv({ A: '1' }).GLIBC_TUNABLES, `${SERVER_GLIBC_TUNABLES}:`);
  assert.equal(serverEnv({ A: '1' }).A, '1');
  assert.equal(serverEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES, `${SERVER_GLIBC_TUNABLES}:glibc.malloc.hugetlb=0`);
});

test('both benches run their load generators with SERVER_NODE_FLAGS, ours and the peers\' alike', () => {
  // A client draining 1 KiB messages at 400,000 a second runs a full collection every ~100 ms
  // with V8's default old-space sizing: the clients' GC would be measured instead of the servers.
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.bench, `npm run build && node ${SERVER_NODE_FLAGS.join(' ')} dist/bench/bench.js`);
  assert.equal(pkg.scripts['bench:peers'], `npm run build && node ${SERVER_NODE_FLAGS.join(' ')} dist/bench/peers/bench-peers.js`);
});

/** glibc's version where the process runs, when it is glibc (`glibc.malloc.hugetlb` came in 2.35). */
function glibcVersion(): number[] | undefined {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return header?.glibcVersionRuntime?.split('.').map(Number);
}

test('a server process has its large buffers advised as huge pages', { skip: thpSkip() }, () => {
  // A 20 MB Buffer (the size of an IndexFile's slot table), then the mappings advised with
  // MADV_HUGEPAGE: smaps lists them with the VmFlag `hg`, whether or not the kernel found huge
  // pages for them at that moment.
  const probe = 'const b = Buffer.alloc(20 << 20); b[0] = 1; '
    + 'const n = require("fs").readFileSync("/proc/self/smaps", "utf8").split("\\n").filter((l) => l.startsWith("VmFlags:") && / hg( |$)/.test(l)).length; '
    + 'process.stdout.write(String(n));';
  const advised = (env: NodeJS.ProcessEnv): number => Number(execFileSync(process.execPath, ['-e', probe], { env, encoding: 'utf8' }));
  const plain = { ...process.env };
  delete plain.GLIBC_TUNABLES;
  assert.equal(advised(plain), 0, 'without the tunable nothing is advised');
  assert.ok(advised(serverEnv(plain)) > 0, 'with SERVER_GLIBC_TUNABLES the buffer is advised');
  assert.equal(advised(serverEnv({ ...plain, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })), 0, 'the caller\'s own setting wins');
});

function thpSkip(): string | false {
  if (!existsSync('/sys/kernel/mm/transparent_hugepage/enabled')) return 'the kernel has no transparent huge pages';
  if (/\[never\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))) return 'transparent huge pages are off on this machine';
  const v = glibcVersion();
  if (!v || v[0]! < 2 || (v[0] === 2 && v[1]! < 35)) return 'glibc.malloc.hugetlb needs glibc 2.35 or later';
  return false;
}
