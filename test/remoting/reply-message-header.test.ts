import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeCommand } from '../../src/remoting/codec.js';
import { RequestCode, SerializeType } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { HeaderError } from '../../src/remoting/header.js';
import { decodeReplyMessageRequestHeader, encodeReplyMessageRequestHeader, type ReplyMessageRequestHeader } from '../../src/remoting/protocol/index.js';

// PUSH_REPLY_MESSAGE_TO_CLIENT header: upstream ReplyMessageRequestHeader's field names, its
// @CFNotNull fields required when read.

const header: ReplyMessageRequestHeader = {
  producerGroup: 'PG', topic: 'DefaultCluster_REPLY_TOPIC', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0,
  bornTimestamp: 1_700_000_000_123, flag: 0, properties: 'CORRELATION_ID\u0001c-1\u0002', reconsumeTimes: 0, unitMode: false,
  bornHost: '127.0.0.1:50000', storeHost: '127.0.0.1:10911', storeTimestamp: 1_700_000_000_456,
};

test('the header survives a frame in both serializations, under upstream\'s field names', () => {
  const ext = encodeReplyMessageRequestHeader(header);
  assert.deepEqual(Object.keys(ext).sort(), ['bornHost', 'bornTimestamp', 'defaultTopic', 'defaultTopicQueueNums', 'flag', 'producerGroup',
    'properties', 'queueId', 'reconsumeTimes', 'storeHost', 'storeTimestamp', 'sysFlag', 'topic', 'unitMode']);
  for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const cmd = decodeCommand(encodeCommand(createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, { extFields: ext, serializeType })).subarray(4));
    assert.deepEqual(decodeReplyMessageRequestHeader(cmd.extFields), header);
  }
  const { properties: _p, reconsumeTimes: _r, ...bare } = header;
  assert.deepEqual(decodeReplyMessageRequestHeader(encodeReplyMessageRequestHeader(bare)), { ...bare, properties: undefined, reconsumeTimes: undefined });
});

test('a missing required field is a HeaderError naming it', () => {
  for (const field of ['producerGroup', 'topic', 'defaultTopic', 'defaultTopicQueueNums', 'queueId', 'sysFlag', 'bornTimestamp', 'flag', 'bornHost', 'storeHost', 'storeTimestamp']) {
    const ext = encodeReplyMessageRequestHeader(header);
    delete ext[field];
    assert.throws(() => decodeReplyMessageRequestHeader(ext), (e: unknown) => e instanceof HeaderError && e.message.includes(`<${field}>`), field);
  }
  assert.throws(() => decodeReplyMessageRequestHeader({ ...encodeReplyMessageRequestHeader(header), queueId: 'x' }), /<queueId> = "x" is not an integer/);
});
