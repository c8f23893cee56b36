import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KVConfigManager } from '../../src/namesrv/kv-config-manager.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { memoryLogger, request, startNamesrv } from './helpers.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'namesrv-kv-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a kvConfig.json written by a Java NameServer loads', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'kvConfig.json');
    await writeFile(path, '{"configTable":{"ORDER_TOPIC_CONFIG":{"T":"broker-a:4"},"NS":{"k":"v"}}}');
    const kv = new KVConfigManager(path, memoryLogger().logger);
    await kv.load();
    assert.equal(kv.getKVConfig('ORDER_TOPIC_CONFIG', 'T'), 'broker-a:4');
    assert.deepEqual(kv.getKVListByNamespace('NS'), { k: 'v' });
    assert.equal(kv.getKVListByNamespace('none'), undefined);
  });
});

test('concurrent puts are all persisted, atomically, in a directory created on demand', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'nested', 'kvConfig.json');
    const kv = new KVConfigManager(path, memoryLogger().logger);
    await kv.load();
    await Promise.all(Array.from({ length: 20 }, (_, i) => kv.putKVConfig('NS', `k${i}`, `v${i}`)));
    await kv.deleteKVConfig('NS', 'k0');
    const saved = JSON.parse(await readFile(path, 'utf8')) as { configTable: { NS: Record<string, string> } };
    assert.equal(Object.keys(saved.configTable.NS).length, 19);
    assert.deepEqual(await readdir(join(dir, 'nested')), ['kvConfig.json'], 'no temp file is left behind');
    // An emptied namespace stays listed, as upstream.
    for (let i = 1; i < 20; i++) await kv.deleteKVConfig('NS', `k${i}`);
    assert.deepEqual(kv.getKVListByNamespace('NS'), {});
  });
});

test('a corrupt KV file stops start-up with a message that says what to do', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'kvConfig.json'), '{"configTable":');
    await assert.rejects(startNamesrv({}, { dir }), /kvConfig\.json is not valid JSON .*repair it or move it away/);
    await writeFile(join(dir, 'kvConfig.json'), '{"configTable":[1]}');
    await assert.rejects(startNamesrv({}, { dir }), /"configTable" must be an object/);
    // Empty file: treated as no config at all.
    await writeFile(join(dir, 'kvConfig.json'), '');
    const t = await startNamesrv({}, { dir });
    await t.close();
  });
});

test('a failed write is reported to the caller', async () => {
  await withDir(async (dir) => {
    // The path's parent is a file, so the directory cannot be created.
    await writeFile(join(dir, 'file'), 'x');
    const kv = new KVConfigManager(join(dir, 'file', 'kvConfig.json'), memoryLogger('fatal').logger);
    await assert.rejects(kv.putKVConfig('NS', 'k', 'v'), /persisting KV config .* failed/);
    // The queue keeps working after a failure.
    await assert.rejects(kv.putKVConfig('NS', 'k2', 'v'), /failed/);
    await kv.flush();
  });
});

test('a PUT that cannot reach the disk answers SYSTEM_ERROR saying why', async () => {
  await withDir(async (dir) => {
    const t = await startNamesrv({ kvConfigPath: join(dir, 'sub', 'kvConfig.json') }, { dir, logger: memoryLogger('fatal').logger });
    const client = new RemotingClient();
    try {
      // The directory the file should go into is now a plain file.
      await writeFile(join(dir, 'sub'), 'x');
      const res = await client.invoke(t.addr, request(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: 'k', value: 'v' }), 5000);
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
      assert.match(res.remark ?? '', /persisting KV config to .*kvConfig\.json failed: .*check that the directory is writable/);
    } finally {
      await client.shutdown();
      await t.close();
    }
  });
});
