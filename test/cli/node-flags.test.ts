import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../src/cli/node-flags.js';

// The server flags can only be given where a process starts; every such place must carry them.

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npm start and the server CLIs start node with SERVER_NODE_FLAGS', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${SERVER_NODE_FLAGS.join(' ')} dist/src/cli/standalone.js`);
  for (const cli of ['standalone', 'mqbroker', 'mqproxy']) {
    const first = readFileSync(`${root}src/cli/${cli}.ts`, 'utf8').split('\n')[0];
    assert.equal(first, `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`, `shebang of ${cli}`);
  }
});

test('both benches run their load generators with SERVER_NODE_FLAGS, ours and the peers\' alike', () => {
  // A client draining 1 KiB messages at 400,000 a second runs a full collection every ~100 ms
  // with V8's default old-space sizing: the clients' GC would be measured instead of the servers.
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.bench, `npm run build && node ${SERVER_NODE_FLAGS.join(' ')} dist/bench/bench.js`);
  assert.equal(pkg.scripts['bench:peers'], `npm run build && node ${SERVER_NODE_FLAGS.join(' ')} dist/bench/peers/bench-peers.js`);
});
