import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSimpleYaml, YamlSubsetError } from '../../src/common/simple-yaml.js';

// The YAML subset of RocketMQ's own files (plain_acl.yml, tools.yml), read without a YAML library.

test('simple yaml: mappings, sequences of mappings and scalars, comments, quotes, empty values', () => {
  const doc = `# ACL 1.0
globalWhiteRemoteAddresses:
- 10.10.103.*   # same indentation as the key
- "192.168.0.*"
accounts:
  - accessKey: RocketMQ
    secretKey: 'it''s # not a comment'
    whiteRemoteAddress:
    admin: false
    topicPerms: [topicA=DENY, "topicB=PUB|SUB"]
    groupPerms:
      - groupA=DENY
  -
    accessKey: second
    secretKey: "a\\"b"
empty: []
`;
  assert.deepEqual(parseSimpleYaml(doc), {
    globalWhiteRemoteAddresses: ['10.10.103.*', '192.168.0.*'],
    accounts: [
      { accessKey: 'RocketMQ', secretKey: "it's # not a comment", whiteRemoteAddress: null, admin: 'false', topicPerms: ['topicA=DENY', 'topicB=PUB|SUB'], groupPerms: ['groupA=DENY'] },
      { accessKey: 'second', secretKey: 'a"b' },
    ],
    empty: [],
  });
  assert.equal(parseSimpleYaml('# nothing\n\n'), null);
  assert.deepEqual(parseSimpleYaml('accessKey: rocketmq2\nsecretKey: 12345678\n'), { accessKey: 'rocketmq2', secretKey: '12345678' });
});

test('simple yaml: what it does not read is refused with the line, not misread', () => {
  for (const [doc, line] of [['a: &x 1\nb: *x', 1], ['a: |\n  text', 1], ['a: 1\n   b: 2', 2], ['a: "open', 1], ['a:\n  - x\n  y: 1', 3]] as const) {
    assert.throws(() => parseSimpleYaml(doc), (e: unknown) => e instanceof YamlSubsetError && e.line === line, doc);
  }
});
