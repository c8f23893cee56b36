import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { decodeReceiptHandle, encodeReceiptHandle } from '../../src/proxy/receipt-handle.js';
import { decodeTransactionId, encodeTransactionId } from '../../src/proxy/transaction-id.js';
import { Authenticator } from '../../src/proxy/authentication.js';
import { ProxyError } from '../../src/proxy/status.js';
import { md5Hex, messageTypeOf, toGrpcMessage, wrapNamespace } from '../../src/proxy/message-converter.js';
import { acceptedTypes } from '../../src/proxy/grpc-messaging-application.js';
import { topicMessageTypeOf } from '../../src/proxy/local-messaging-processor.js';
import { parseProxyConfig } from '../../src/proxy/proxy-config.js';
import { fromRecord, toRecord, type PopCheckPoint } from '../../src/broker/pop/pop-checkpoint.js';
import { ReviveHeap } from '../../src/broker/pop/revive-heap.js';
import { decodeRecord, encodeRecord } from '../../src/common/message-record.js';
import { encodeProperties } from '../../src/common/properties.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';

test('receipt handle: upstream layout, space-separated, round trip; anything else is refused', () => {
  const h = { ckQueueOffset: 10, popTime: 1_700_000_000_000, invisibleTime: 30_000, reviveQid: 0, topicType: 1, brokerName: 'broker-a', queueId: 3, queueOffset: 12, commitLogOffset: 4096 };
  const text = encodeReceiptHandle(h);
  assert.equal(text, '10 1700000000000 30000 0 1 broker-a 3 12 4096');
  assert.deepEqual(decodeReceiptHandle(text), h);
  for (const bad of ['', 'garbage', '10 1700000000000 30000 0 1 broker-a 3 12', '10 x 30000 0 1 broker-a 3 12 4096', '10 1700000000000 30000 0 7 broker-a 3 12 4096', '10 0 30000 0 0 b 3 12 4096']) {
    assert.equal(decodeReceiptHandle(bad), undefined, bad);
  }
});

test('transaction id: names the broker and the half message offsets', () => {
  const t = { brokerName: 'broker-a', commitLogOffset: 123456, tranStateTableOffset: 7, brokerTransactionId: '0102FC0000000140CE0B1339AB00000000' };
  const text = encodeTransactionId(t);
  assert.match(text, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeTransactionId(text), t);
  assert.equal(decodeTransactionId(''), undefined);
  assert.equal(decodeTransactionId('not+base64'), undefined);
  assert.equal(decodeTransactionId(Buffer.from('v2 a 1 2 x').toString('base64url')), undefined);
});

test('check point records round trip, acks included', () => {
  const ck: PopCheckPoint = {
    group: 'G', topic: 'T', retry: true, queueId: 2, startOffset: 100, popTime: 1000, invisibleTime: 500,
    offsets: [100, 102, 105], acked: [false, true, false], ackedCount: 1, order: true, attempts: [0, 1, 2], reviveAt: 1500,
  };
  const rec = toRecord(ck, true);
  assert.deepEqual(rec, { c: 'G', t: 'T', r: 1, q: 2, so: 100, pt: 1000, it: 500, d: [0, 2, 5], o: 1, a: [0, 1, 2], k: [2] });
  assert.deepEqual(fromRecord(JSON.parse(JSON.stringify(rec))), ck);
  assert.equal(fromRecord({ ...rec, d: [] }), undefined);
  assert.equal(fromRecord({ ...rec, so: 'x' as unknown as number }), undefined);
});

test('revive heap pops in time order', () => {
  const h = new ReviveHeap();
  const times = [50, 10, 40, 10, 30, 20, 60, 0];
  times.forEach((t, i) => h.push(t, `k${i}`));
  const out: number[] = [];
  while (h.size > 0) {
    out.push(h.peekTime()!);
    h.pop();
  }
  assert.deepEqual(out, [...times].sort((a, b) => a - b));
});

test('signature check: the facts sheet vector, and refusals', async () => {
  const auth = new Authenticator([{ accessKey: 'AK', secretKey: 'SK' }]);
  const md = new Metadata();
  md.set('x-mq-date-time', '20261121T111718Z');
  md.set('authorization', 'MQv2-HMAC-SHA1 Credential=AK, SignedHeaders=x-mq-date-time, Signature=9F98F644901BC31D5A97DED183A824196E5D372A');
  assert.equal(await auth.check(md), 'AK');
  md.set('authorization', 'MQv2-HMAC-SHA1 Credential=AK, SignedHeaders=x-mq-date-time, Signature=0000');
  await assert.rejects(auth.check(md), (e: unknown) => e instanceof ProxyError && e.code === D.Code.UNAUTHORIZED);
  await assert.rejects(auth.check(new Metadata()), (e: unknown) => e instanceof ProxyError && e.code === D.Code.UNAUTHORIZED);
});

test('a stored message as a gRPC message: system properties apart from user ones, MD5 digest, type', () => {
  const props = encodeProperties({ TAGS: 'tg', KEYS: 'k1 k2', UNIQ_KEY: 'ID1', color: 'red', __SHARDINGKEY: 'grp', RETRY_TOPIC: 'T' });
  const rec = decodeRecord(encodeRecord({
    queueId: 1, flag: 0, queueOffset: 7, physicalOffset: 99, sysFlag: 0, bornTimestamp: 1000, bornHost: encodeSocketAddress('10.0.0.1', 5),
    storeTimestamp: 2000, storeHost: encodeSocketAddress('10.0.0.2', 10911), reconsumeTimes: 2, preparedTransactionOffset: 0,
    body: Buffer.from('hello'), topic: Buffer.from('%RETRY%G_T'), properties: Buffer.from(props),
  }));
  const m = toGrpcMessage(rec, { topic: 'ns%T', namespace: 'ns', receiptHandle: 'h', deliveryAttempt: 3 });
  const sp = m.getSystemProperties()!;
  assert.equal(m.getTopic()?.getName(), 'T');
  assert.equal(m.getTopic()?.getResourceNamespace(), 'ns');
  assert.equal(sp.getTag(), 'tg');
  assert.deepEqual(sp.getKeysList(), ['k1', 'k2']);
  assert.equal(sp.getMessageId(), 'ID1');
  assert.equal(sp.getBodyDigest()?.getType(), D.DigestType.MD5);
  assert.equal(sp.getBodyDigest()?.getChecksum(), md5Hex(Buffer.from('hello')));
  assert.equal(sp.getBodyDigest()?.getChecksum(), '5D41402ABC4B2A76B9719D911017C592');
  assert.equal(sp.getMessageType(), D.MessageType.FIFO);
  assert.equal(sp.getMessageGroup(), 'grp');
  assert.equal(sp.getDeliveryAttempt(), 3);
  assert.equal(sp.getReceiptHandle(), 'h');
  assert.equal(sp.getBornHost(), '10.0.0.1');
  assert.deepEqual([...m.getUserPropertiesMap().entries()], [['color', 'red']]);
  assert.equal(messageTypeOf(new Map([['TRAN_MSG', 'true']]), 0), D.MessageType.TRANSACTION);
  assert.equal(messageTypeOf(new Map([['TIMER_DELIVER_MS', '1']]), 0), D.MessageType.DELAY);
  assert.equal(messageTypeOf(new Map(), 0), D.MessageType.NORMAL);
});

test('namespaces, topic message types and the proxy config file', () => {
  assert.equal(wrapNamespace('T', 'ns'), 'ns%T');
  assert.equal(wrapNamespace('ns%T', 'ns'), 'ns%T');
  assert.equal(wrapNamespace('%DLQ%G', 'ns'), '%DLQ%ns%G');
  assert.equal(wrapNamespace('T', undefined), 'T');
  assert.equal(topicMessageTypeOf({ 'message.type': 'FIFO' }), 'FIFO');
  assert.equal(topicMessageTypeOf({ '+message.type': 'delay' }), 'DELAY');
  assert.equal(topicMessageTypeOf({}), undefined);
  assert.deepEqual(acceptedTypes('TRANSACTION'), [D.MessageType.TRANSACTION]);
  assert.deepEqual(acceptedTypes('MIXED'), [D.MessageType.NORMAL, D.MessageType.FIFO, D.MessageType.DELAY, D.MessageType.TRANSACTION]);
  const { config, unknown } = parseProxyConfig('{"minInvisibleTimeMillsForRecv": 1000, "grpcBossLoopNum": 1, "acl": {"accounts": [{"accessKey": "a", "secretKey": "b"}]}}', 'f');
  assert.deepEqual(config, { minInvisibleTimeMillsForRecv: 1000, acl: { accounts: [{ accessKey: 'a', secretKey: 'b' }] } });
  assert.deepEqual(unknown, ['grpcBossLoopNum']);
  // Upstream AuthConfig's keys, read from the same rmq-proxy.json.
  const auth = parseProxyConfig(JSON.stringify({
    authenticationEnabled: true, authorizationEnabled: true, rocketMQClusterName: 'c1', userCacheRefreshSeconds: 1, aclCacheExpiredSeconds: 9,
    authenticationProvider: 'org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider',
    authorizationMetadataProvider: 'org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider',
  }), 'f');
  assert.deepEqual(auth.unknown, []);
  assert.equal(auth.config.authenticationEnabled, true);
  assert.equal(auth.config.authorizationEnabled, true);
  assert.equal(auth.config.rocketMQClusterName, 'c1');
  assert.equal(auth.config.userCacheRefreshSeconds, 1);
  assert.equal(auth.config.aclCacheExpiredSeconds, 9);
  assert.throws(() => parseProxyConfig('{"authenticationEnabled": 1}', 'f'), /true or false/);
  assert.throws(() => parseProxyConfig('{"maxReceiveBatchSize": -1}', 'f'), /non-negative integer/);
  assert.throws(() => parseProxyConfig('[', 'f'), /not valid JSON/);
});
