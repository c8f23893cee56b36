import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { MQClientAPI, PullStatus, SendStatus } from '../../src/client/mq-client-api.js';
import { decodeBatchBody, encodeBatchBody } from '../../src/client/message.js';
import { isRetriable } from '../../src/client/errors.js';
import type { SendMessageRequestHeader } from '../../src/client/headers.js';
import { createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { MQBrokerError, RemotingConnectError } from '../../src/remoting/errors.js';
import { encodeRecord } from '../../src/common/message-record.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { startFakeServer } from './fake-server.js';

const seen: RemotingCommand[] = [];
let sendCode: number = ResponseCode.SUCCESS;
let pullCode: number = ResponseCode.SUCCESS;

function record(queueOffset: number, body: Buffer, sysFlag: number, props: string): Buffer {
  return encodeRecord({
    queueId: 0, flag: 0, queueOffset, physicalOffset: 100 * queueOffset, sysFlag, bornTimestamp: 1, bornHost: encodeSocketAddress('127.0.0.1', 5),
    storeTimestamp: 2, storeHost: encodeSocketAddress('127.0.0.1', 10911), reconsumeTimes: 0, preparedTransactionOffset: 0,
    body, topic: Buffer.from('T'), properties: Buffer.from(props),
  });
}

const server = await startFakeServer({
  [RequestCode.GET_ROUTEINFO_BY_TOPIC]: (req) => {
    seen.push(req);
    if (req.extFields?.topic !== 'T') return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, 'No topic route info in name server for the topic: ' + req.extFields?.topic);
    return createResponse(req, 0, undefined, {
      body: Buffer.from('{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"b","cluster":"C"}],"filterServerTable":{},' +
        '"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}'),
    });
  },
  [RequestCode.SEND_MESSAGE_V2]: (req) => {
    seen.push(req);
    if (sendCode !== 0 && sendCode > 12) return createResponse(req, sendCode, 'nope');
    return createResponse(req, sendCode, undefined, { extFields: { msgId: 'OFFSETID', queueId: req.extFields?.e, queueOffset: 41, MSG_REGION: 'R1', TRACE_ON: 'false' } });
  },
  [RequestCode.SEND_BATCH_MESSAGE]: (req) => {
    seen.push(req);
    return createResponse(req, 0, undefined, { extFields: { msgId: 'O1,O2', queueId: req.extFields?.e, queueOffset: 7 } });
  },
  [RequestCode.PULL_MESSAGE]: (req) => {
    seen.push(req);
    const ext = { suggestWhichBrokerId: 0, nextBeginOffset: 12, minOffset: 0, maxOffset: 12 };
    if (pullCode !== 0) return createResponse(req, pullCode, 'pull says ' + pullCode, { extFields: pullCode < 22 ? ext : {} });
    const body = Buffer.concat([
      record(10, deflateSync(Buffer.from('A'.repeat(5000))), 0x301, 'TAGS\u0001TagA\u0002UNIQ_KEY\u0001U10\u0002'),
      record(11, Buffer.from('b'), 0, 'TAGS\u0001TagB\u0002'),
    ]);
    return createResponse(req, 0, undefined, { extFields: ext, body });
  },
  [RequestCode.QUERY_CONSUMER_OFFSET]: (req) =>
    req.extFields?.queueId === '1' ? createResponse(req, 0, undefined, { extFields: { offset: 99 } }) : createResponse(req, ResponseCode.QUERY_NOT_FOUND, 'Not found'),
  [RequestCode.GET_KV_CONFIG]: (req) =>
    req.extFields?.key === 'k' ? createResponse(req, 0, undefined, { extFields: { value: 'v' } }) : createResponse(req, ResponseCode.QUERY_NOT_FOUND, 'No config item'),
});

const api = new MQClientAPI();
const jsonApi = new MQClientAPI({ serializeType: 'JSON' });
after(async () => {
  await api.shutdown();
  await jsonApi.shutdown();
  await server.shutdown();
});

const header: SendMessageRequestHeader = {
  producerGroup: 'PG', topic: 'T', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 2, sysFlag: 0, bornTimestamp: 1700000000000,
  flag: 3, properties: 'UNIQ_KEY\u0001MYID\u0002WAIT\u0001true\u0002', brokerName: 'b',
};

test('route with unquoted broker ids; an unknown topic is a retriable TOPIC_NOT_EXIST', async () => {
  const route = await api.getTopicRouteInfoFromNameServer(server.addr, 'T');
  assert.equal(route.brokerDatas[0]!.brokerAddrs['0'], '127.0.0.1:10911');
  await assert.rejects(api.getTopicRouteInfoFromNameServer(server.addr, 'Nope'),
    (e: unknown) => e instanceof MQBrokerError && e.responseCode === ResponseCode.TOPIC_NOT_EXIST && e.retriable);
});

test('send: V2 short keys on the wire; SendResult from the response header', async () => {
  sendCode = 0;
  const r = await api.sendMessage(server.addr, 'b', header, Buffer.from('body'));
  const req = seen.at(-1)!;
  assert.equal(req.code, RequestCode.SEND_MESSAGE_V2);
  assert.equal(req.serializeType, SerializeType.ROCKETMQ);
  assert.deepEqual(req.extFields, {
    a: 'PG', b: 'T', c: 'TBW102', d: '4', e: '2', f: '0', g: '1700000000000', h: '3', i: header.properties, j: '0', k: 'false', m: 'false', n: 'b',
  });
  assert.equal(req.body?.toString(), 'body');
  assert.deepEqual(r, {
    sendStatus: SendStatus.SEND_OK, msgId: 'MYID', offsetMsgId: 'OFFSETID', messageQueue: { topic: 'T', brokerName: 'b', queueId: 2 },
    queueOffset: 41, regionId: 'R1', traceOn: false,
  });
});

test('send: codes 10/11/12 are statuses; other codes throw with the retry classification', async () => {
  for (const [code, status] of [[10, SendStatus.FLUSH_DISK_TIMEOUT], [11, SendStatus.SLAVE_NOT_AVAILABLE], [12, SendStatus.FLUSH_SLAVE_TIMEOUT]] as const) {
    sendCode = code;
    assert.equal((await api.sendMessage(server.addr, 'b', header, Buffer.from('x'))).sendStatus, status);
  }
  sendCode = ResponseCode.SERVICE_NOT_AVAILABLE;
  await assert.rejects(api.sendMessage(server.addr, 'b', header, Buffer.from('x')), (e: unknown) => e instanceof MQBrokerError && e.retriable && e.responseCode === 14);
  sendCode = ResponseCode.MESSAGE_ILLEGAL;
  await assert.rejects(api.sendMessage(server.addr, 'b', header, Buffer.from('x')), (e: unknown) => e instanceof MQBrokerError && !e.retriable && /nope/.test(e.message));
  sendCode = 0;
});

test('JSON serialization is used when asked', async () => {
  await jsonApi.sendMessage(server.addr, 'b', header, Buffer.from('x'));
  assert.equal(seen.at(-1)!.serializeType, SerializeType.JSON);
  assert.equal(seen.at(-1)!.extFields?.b, 'T');
});

test('batch: code 320, m=true, msgId = inner UNIQ_KEYs', async () => {
  const body = encodeBatchBody([
    { flag: 0, body: Buffer.from('1'), properties: 'UNIQ_KEY\u0001A\u0002' },
    { flag: 0, body: Buffer.from('2'), properties: 'UNIQ_KEY\u0001B\u0002' },
  ]);
  const r = await api.sendBatch(server.addr, 'b', { ...header, properties: 'WAIT\u0001true\u0002' }, body);
  const req = seen.at(-1)!;
  assert.equal(req.code, RequestCode.SEND_BATCH_MESSAGE);
  assert.equal(req.extFields?.m, 'true');
  assert.equal(decodeBatchBody(req.body!).length, 2);
  assert.equal(r.msgId, 'A,B');
  assert.equal(r.offsetMsgId, 'O1,O2');
  assert.equal(r.queueOffset, 7);
  assert.equal(r.regionId, 'DefaultRegion');
  assert.equal(r.traceOn, true);
});

test('pull: FOUND decodes, inflates and re-checks tags; other statuses carry the offsets', async () => {
  pullCode = 0;
  const h = {
    consumerGroup: 'G', topic: 'T', queueId: 0, queueOffset: 10, maxMsgNums: 32, sysFlag: 4, commitOffset: 0,
    suspendTimeoutMillis: 0, subscription: 'TagA', subVersion: 1, expressionType: 'TAG',
  };
  const r = await api.pullMessage(server.addr, h, 3000);
  assert.equal(seen.at(-1)!.extFields?.subscription, 'TagA');
  assert.equal(r.pullStatus, PullStatus.FOUND);
  assert.equal(r.nextBeginOffset, 12);
  assert.equal(r.msgFoundList.length, 1);
  const m = r.msgFoundList[0]!;
  assert.equal(m.body.toString(), 'A'.repeat(5000));
  assert.equal(m.msgId, 'U10');
  assert.equal(m.queueOffset, 10);
  assert.equal(m.propertyMap.get('MAX_OFFSET'), '12');
  const all = await api.pullMessage(server.addr, { ...h, subscription: '*' }, 3000);
  assert.deepEqual(all.msgFoundList.map((x) => x.tags), ['TagA', 'TagB']);
  for (const [code, status] of [[19, PullStatus.NO_NEW_MSG], [20, PullStatus.NO_MATCHED_MSG], [21, PullStatus.OFFSET_ILLEGAL]] as const) {
    pullCode = code;
    const x = await api.pullMessage(server.addr, h, 3000);
    assert.equal(x.pullStatus, status);
    assert.equal(x.maxOffset, 12);
    assert.equal(x.msgFoundList.length, 0);
  }
  pullCode = ResponseCode.SUBSCRIPTION_NOT_EXIST;
  await assert.rejects(api.pullMessage(server.addr, h, 3000), (e: unknown) => e instanceof MQBrokerError && e.responseCode === 24);
  pullCode = 0;
});

test('consumer offset: QUERY_NOT_FOUND is -1; KV: QUERY_NOT_FOUND is undefined', async () => {
  assert.equal(await api.queryConsumerOffset(server.addr, { consumerGroup: 'G', topic: 'T', queueId: 0 }), -1);
  assert.equal(await api.queryConsumerOffset(server.addr, { consumerGroup: 'G', topic: 'T', queueId: 1 }), 99);
  assert.equal(await api.getKVConfig(server.addr, 'NS', 'k'), 'v');
  assert.equal(await api.getKVConfig(server.addr, 'NS', 'other'), undefined);
});

test('an unsupported request code surfaces as a non-retriable broker error', async () => {
  await assert.rejects(api.getBrokerRuntimeInfo(server.addr), (e: unknown) => e instanceof MQBrokerError && e.responseCode === 3 && !isRetriable(e));
});

test('a connection failure is a retriable RemotingError', async () => {
  const gone = await startFakeServer({});
  const addr = gone.addr;
  await gone.shutdown();
  await assert.rejects(api.getMaxOffset(addr, 'T', 0, 1000), (e: unknown) => e instanceof RemotingConnectError && isRetriable(e));
});
