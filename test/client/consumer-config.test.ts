import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushConsumer, type PushConsumerOptions } from '../../src/client/push-consumer.js';
import { LitePullConsumer } from '../../src/client/lite-pull-consumer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { ClientErrorCode, MQClientError } from '../../src/client/errors.js';

// Consumer settings upstream's checkConfig refuses (DefaultMQPushConsumerImpl,
// DefaultLitePullConsumerImpl, DefaultMQPullConsumerImpl) are refused here too, not clamped.

function refused(make: () => unknown, pattern: RegExp): void {
  assert.throws(make, (err: unknown) => err instanceof MQClientError && err.code === ClientErrorCode.ARGUMENT_ILLEGAL && pattern.test(err.message));
}

test('the push consumer refuses settings out of upstream checkConfig ranges and takes their bounds', () => {
  const cases: Array<[keyof PushConsumerOptions, number, number, number]> = [
    ['consumeThreadMax', 1, 1000, 1001],
    ['consumeConcurrentlyMaxSpan', 1, 65535, 65536],
    ['pullThresholdForQueue', 1, 65535, 65536],
    ['pullThresholdSizeForQueue', 1, 1024, 1025],
    ['consumeMessageBatchMaxSize', 1, 1024, 1025],
    ['pullBatchSize', 1, 1024, 1025],
    ['popInvisibleTime', 5000, 300_000, 300_001],
    ['popBatchNums', 1, 32, 33],
  ];
  for (const [name, min, max, over] of cases) {
    refused(() => new PushConsumer({ group: 'G', [name]: over }), new RegExp(`^${name} out of range \\[${min}, ${max}\\]`));
    refused(() => new PushConsumer({ group: 'G', [name]: min - 1 }), new RegExp(`^${name} out of range`));
    refused(() => new PushConsumer({ group: 'G', [name]: min + 0.5 }), new RegExp(`^${name} out of range`));
    new PushConsumer({ group: 'G', [name]: min });
    new PushConsumer({ group: 'G', [name]: max });
  }
  // A short invisible time used to be taken silently as the default minute.
  refused(() => new PushConsumer({ group: 'G', popInvisibleTime: 1000 }), /popInvisibleTime out of range \[5000, 300000\]/);
});

test('every consumer refuses the DEFAULT_CONSUMER group, as upstream, but not in a namespace', () => {
  const msg = /^consumerGroup can not equal DEFAULT_CONSUMER, please specify another one/;
  refused(() => new PushConsumer({ group: 'DEFAULT_CONSUMER' }), msg);
  refused(() => new LitePullConsumer({ group: 'DEFAULT_CONSUMER' }), msg);
  refused(() => new PullConsumer({ group: 'DEFAULT_CONSUMER' }), msg);
  new PushConsumer({ group: 'DEFAULT_CONSUMER', namespace: 'ns1' });
});

test('a long poll the broker may hold longer than the client waits for it is refused', () => {
  const msg = /consumerTimeoutMillisWhenSuspend must greater than brokerSuspendMaxTimeMillis/;
  refused(() => new LitePullConsumer({ group: 'G', brokerSuspendMaxTimeMillis: 40_000 }), msg);
  refused(() => new LitePullConsumer({ group: 'G', brokerSuspendMaxTimeMillis: 20_000, consumerTimeoutMillisWhenSuspend: 10_000 }), msg);
  refused(() => new PushConsumer({ group: 'G', brokerSuspendMaxTimeMillis: 31_000 }), msg);
  new LitePullConsumer({ group: 'G', brokerSuspendMaxTimeMillis: 30_000 });
  new PushConsumer({ group: 'G', brokerSuspendMaxTimeMillis: 30_000 });
});
