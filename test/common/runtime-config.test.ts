import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_CONFIG_SPEC } from '../../src/common/config-loader.js';
import { defaultBrokerConfig } from '../../src/common/config.js';
import { parseProperties } from '../../src/common/properties-file.js';
import { ConfigUpdateError, persistProperties, RuntimeConfig } from '../../src/common/runtime-config.js';

test('persistProperties replaces entries where they stand, keeps comments, drops duplicates, appends new keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rmq-runtime-config-'));
  try {
    const file = join(dir, 'broker.conf');
    writeFileSync(file, '# my broker\nbrokerName = broker-a\nmaxMessageSize=1\\\n  23\n! note\nmaxMessageSize: 7\ndeleteWhen=04\n');
    persistProperties(file, [['maxMessageSize', '1024'], ['fileReservedTime', '48']]);
    assert.equal(readFileSync(file, 'utf8'), '# my broker\nbrokerName = broker-a\nmaxMessageSize=1024\n! note\ndeleteWhen=04\nfileReservedTime=48\n');
    const fresh = join(dir, 'config', 'new.properties');
    persistProperties(fresh, [['regionId', 'a b']]);
    assert.equal(parseProperties(readFileSync(fresh, 'utf8')).get('regionId'), 'a b');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RuntimeConfig.update checks every key before applying any', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rmq-runtime-config-'));
  try {
    const cfg = defaultBrokerConfig();
    const rc = new RuntimeConfig({
      role: 'broker', sections: [{ spec: BROKER_CONFIG_SPEC, target: cfg }], runtimeKeys: new Set(['brokerPermission', 'traceOn']),
      blackList: new Set(['brokerConfigPath']), filePath: join(dir, 'b.properties'), fileHint: 'broker.conf',
    });
    assert.throws(() => rc.update('traceOn=false\nbrokerPermission=99\n'), (e: unknown) => e instanceof ConfigUpdateError && /brokerPermission/.test(e.message));
    assert.equal(cfg.traceOn, true, 'nothing applied');
    const before = rc.dataVersion.counter;
    assert.deepEqual(rc.update('traceOn=false\nbrokerPermission=4').map((c) => [c.key, c.value, c.previous]), [['traceOn', false, true], ['brokerPermission', 4, 6]]);
    assert.equal(cfg.brokerPermission, 4);
    assert.ok(rc.dataVersion.counter > before);
    assert.match(rc.toText(), /^brokerPermission=4$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
