import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkNamespace, contextWithoutNamespace, getNamespaceFromResource, isAlreadyWithNamespace, namespacedStrategy, queueWithNamespace, queueWithoutNamespace, withoutNamespace, wrapNamespace,
  wrapNamespaceAndRetry,
} from '../../src/client/namespace.js';
import { ClientErrorCode, MQClientError } from '../../src/client/errors.js';
import { AllocateMessageQueueAveragely, AllocateMessageQueueByConfig } from '../../src/client/rebalance/index.js';

// The cases of upstream NamespaceUtilTest, and ours for the option's check.

test('wrapNamespace: topics and groups, retry and DLQ topics keep their prefix in front', () => {
  assert.equal(wrapNamespace('NS', 'Topic'), 'NS%Topic');
  assert.equal(wrapNamespace('NS', '%RETRY%GID'), '%RETRY%NS%GID');
  assert.equal(wrapNamespace('NS', '%DLQ%GID'), '%DLQ%NS%GID');
  assert.equal(wrapNamespaceAndRetry('NS', 'GID'), '%RETRY%NS%GID');
});

test('wrapNamespace: no namespace, an empty name, a name already wrapped or a system resource stay as they are', () => {
  assert.equal(wrapNamespace(undefined, 'Topic'), 'Topic');
  assert.equal(wrapNamespace('', 'Topic'), 'Topic');
  assert.equal(wrapNamespace('NS', ''), '');
  assert.equal(wrapNamespace('NS', 'NS%Topic'), 'NS%Topic');
  assert.equal(wrapNamespace('NS', '%RETRY%NS%GID'), '%RETRY%NS%GID');
  assert.equal(wrapNamespace('NS', '%DLQ%NS%GID'), '%DLQ%NS%GID');
  // A name of another namespace is wrapped once more, as upstream.
  assert.equal(wrapNamespace('NS', 'OTHER%Topic'), 'NS%OTHER%Topic');
  for (const sys of ['TBW102', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC', 'RMQ_SYS_TRACE_TOPIC', 'rmq_sys_anything', 'BenchmarkTest',
    'OFFSET_MOVED_EVENT', 'SELF_TEST_TOPIC', 'TRANS_CHECK_MAX_TIME_TOPIC', 'CHECKPOINT_TOPIC', 'CID_RMQ_SYS_TRANS']) {
    assert.equal(wrapNamespace('NS', sys), sys, sys);
    assert.equal(isAlreadyWithNamespace(sys, 'NS'), false);
  }
});

test('withoutNamespace strips only its own namespace', () => {
  assert.equal(withoutNamespace('NS%Topic', 'NS'), 'Topic');
  assert.equal(withoutNamespace('%RETRY%NS%GID', 'NS'), '%RETRY%GID');
  assert.equal(withoutNamespace('%DLQ%NS%GID', 'NS'), '%DLQ%GID');
  assert.equal(withoutNamespace('OTHER%Topic', 'NS'), 'OTHER%Topic');
  assert.equal(withoutNamespace('%RETRY%OTHER%GID', 'NS'), '%RETRY%OTHER%GID');
  assert.equal(withoutNamespace('NS%Topic', undefined), 'NS%Topic');
  assert.equal(withoutNamespace('Topic', 'NS'), 'Topic');
  // "NSX%Topic" is not in namespace NS.
  assert.equal(withoutNamespace('NSX%Topic', 'NS'), 'NSX%Topic');
  assert.equal(withoutNamespace('RMQ_SYS_TRACE_TOPIC', 'NS'), 'RMQ_SYS_TRACE_TOPIC');
  // Wrapping and stripping are inverse for the names a client uses.
  for (const r of ['Topic', '%RETRY%GID', '%DLQ%GID']) assert.equal(withoutNamespace(wrapNamespace('NS', r), 'NS'), r);
});

test('isAlreadyWithNamespace and getNamespaceFromResource', () => {
  assert.equal(isAlreadyWithNamespace('NS%Topic', 'NS'), true);
  assert.equal(isAlreadyWithNamespace('%RETRY%NS%GID', 'NS'), true);
  assert.equal(isAlreadyWithNamespace('Topic', 'NS'), false);
  assert.equal(isAlreadyWithNamespace('NS%Topic', undefined), false);
  assert.equal(getNamespaceFromResource('NS%Topic'), 'NS');
  assert.equal(getNamespaceFromResource('%DLQ%NS%GID'), 'NS');
  assert.equal(getNamespaceFromResource('Topic'), '');
  assert.equal(getNamespaceFromResource('TBW102'), '');
});

test('queueWithNamespace / queueWithoutNamespace keep the queue and change only its topic', () => {
  const mq = { topic: 'T', brokerName: 'b', queueId: 3 };
  assert.strictEqual(queueWithNamespace(undefined, mq), mq);
  assert.deepEqual(queueWithNamespace('NS', mq), { topic: 'NS%T', brokerName: 'b', queueId: 3 });
  assert.deepEqual(queueWithoutNamespace('NS', { topic: 'NS%T', brokerName: 'b', queueId: 3 }), mq);
  assert.strictEqual(queueWithoutNamespace(undefined, mq), mq);
});

test('checkNamespace: none when empty; names a topic could not carry, or with the separator, are refused', () => {
  assert.equal(checkNamespace(undefined), undefined);
  assert.equal(checkNamespace(''), undefined);
  assert.equal(checkNamespace('MQ_INST-1|a'), 'MQ_INST-1|a');
  for (const bad of ['a b', 'ns.1', 'ns/x', 'é', 'A%B', 'ns:1']) {
    assert.throws(() => checkNamespace(bad), (err: unknown) =>
      err instanceof MQClientError && err.code === ClientErrorCode.ARGUMENT_ILLEGAL && err.message.includes(`[${bad}]`) && err.message.includes('illegal characters'), bad);
  }
});

test('namespacedStrategy: a strategy allocates by plain names and its choice goes back wrapped', () => {
  const wire = [0, 1, 2, 3].map((queueId) => ({ topic: 'NS%T', brokerName: 'b', queueId }));
  const byConfig = new AllocateMessageQueueByConfig([{ topic: 'T', brokerName: 'b', queueId: 2 }]);
  assert.deepEqual(namespacedStrategy('NS', byConfig).allocate('NS%G', 'c1', wire, ['c1']), [wire[2]]);
  const avg = new AllocateMessageQueueAveragely();
  assert.strictEqual(namespacedStrategy(undefined, avg), avg);
  assert.deepEqual(namespacedStrategy('NS', avg).allocate('NS%G', 'c2', wire, ['c1', 'c2']), avg.allocate('NS%G', 'c2', wire, ['c1', 'c2']));
});

test('contextWithoutNamespace: the listener reads the plain queue, and what it sets reaches the service\'s context', () => {
  const ctx = { messageQueue: { topic: 'NS%T', brokerName: 'b', queueId: 1 }, delayLevelWhenNextConsume: 0, ackIndex: 99 };
  const view = contextWithoutNamespace(ctx, 'NS');
  assert.deepEqual(view.messageQueue, { topic: 'T', brokerName: 'b', queueId: 1 });
  assert.equal(view.ackIndex, 99);
  view.delayLevelWhenNextConsume = 3;
  view.ackIndex = 0;
  assert.equal(ctx.delayLevelWhenNextConsume, 3);
  assert.equal(ctx.ackIndex, 0);
  assert.equal(ctx.messageQueue.topic, 'NS%T');
});
