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
