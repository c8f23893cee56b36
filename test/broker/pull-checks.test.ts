import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { pullRequest, request, sendRequest, useMQWithClient, type MQWithClient, type PullSpec } from './helpers.js';

// PULL_MESSAGE answers as upstream's PullMessageProcessor words them: the response codes of its
// checks and the header fields of composeResponseHeader.

let s: MQWithClient;
useMQWithClient((x) => { s = x; });

async function invoke(req: RemotingCommand): Promise<RemotingCommand> {
  return s.client.invoke(s.broker, req, 5000);
}

async function ok(req: RemotingCommand): Promise<RemotingCommand> {
  const res = await invoke(req);
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res;
}

function pull(p: PullSpec): Promise<RemotingCommand> {
  return invoke(pullRequest(p));
}

test('a queueId outside the readable queues is INVALID_PARAMETER', async () => {
  await ok(request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'PullQ2', defaultTopic: 'TBW102', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false }));
  for (const queueId of [2, -1]) {
    const res = await pull({ topic: 'PullQ2', queueId });
    assert.equal(res.code, ResponseCode.INVALID_PARAMETER, `queueId ${queueId}: ${res.remark}`);
    assert.match(res.remark ?? '', new RegExp(`queueId\\[${queueId}\\] is illegal, topic:\\[PullQ2\\] topicConfig.readQueueNums:\\[2\\]`));
  }
  assert.equal((await pull({ topic: 'PullQ2', queueId: 1 })).code, ResponseCode.PULL_NOT_FOUND);
});

test("every answer from the store carries the topic's and the group's sysflags", async () => {
  await ok(request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'PullSysFlags', defaultTopic: 'TBW102', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 1, order: false }));
  await ok(request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: 'CG-sysflags', groupSysFlag: 2 }))));
  const empty = await pull({ topic: 'PullSysFlags', group: 'CG-sysflags' });
  assert.equal(empty.code, ResponseCode.PULL_NOT_FOUND);
  assert.equal(empty.extFields?.topicSysFlag, '1');
  assert.equal(empty.extFields?.groupSysFlag, '2');

  await ok(sendRequest({ topic: 'PullSysFlags', body: 'x' }));
  const found = await pull({ topic: 'PullSysFlags', group: 'CG-sysflags' });
  assert.equal(found.code, ResponseCode.SUCCESS, found.remark);
  assert.equal(found.extFields?.topicSysFlag, '1');
  assert.equal(found.extFields?.groupSysFlag, '2');

  // An auto-created group has groupSysFlag 0; the offset it moves to still comes with both.
  const moved = await pull({ topic: 'PullSysFlags', group: 'CG-sysflags-auto', queueOffset: 50 });
  assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);
  assert.equal(moved.extFields?.topicSysFlag, '1');
  assert.equal(moved.extFields?.groupSysFlag, '0');
});
