import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseMessageFilter, isTagExpressionType, recordPropertiesText, RetrySql92MessageFilter, Sql92MessageFilter, TagMessageFilter, type FilterSettings } from '../../src/broker/filter.js';
import { encodeRecord } from '../../src/common/message-record.js';
import { encodeProperties } from '../../src/common/properties.js';
import { buildSubscription, buildTagSubscription } from '../../src/common/subscription.js';
import { compileSql92 } from '../../src/filter/index.js';
import { ResponseCode } from '../../src/remoting/codes.js';

function record(props: Record<string, string>, opts: { topic?: string; v6?: boolean } = {}): Buffer {
  const host = opts.v6 ? Buffer.alloc(20, 1) : Buffer.from([127, 0, 0, 1, 0, 0, 0x2a, 0x9f]);
  return encodeRecord({
    queueId: 0, flag: 0, queueOffset: 0, physicalOffset: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeTimestamp: 2, storeHost: host,
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from('body'), topic: Buffer.from(opts.topic ?? 'T'), properties: Buffer.from(encodeProperties(props)),
  });
}

const settings = (over: Partial<FilterSettings> = {}): FilterSettings => ({
  enablePropertyFilter: true, filterSupportRetry: false, subscriptionOf: () => undefined, ...over,
});

test('recordPropertiesText reads the properties of V1 and V2 (long topic) records, IPv4 and IPv6 hosts', () => {
  const props = { TAGS: 'TagA', a: '1', UNIQ_KEY: 'k' };
  const want = encodeProperties(props);
  assert.equal(recordPropertiesText(record(props)), want);
  assert.equal(recordPropertiesText(record(props, { v6: true })), want);
  assert.equal(recordPropertiesText(record(props, { topic: 'T'.repeat(200) })), want);
  assert.equal(recordPropertiesText(record({})), '');
});

test('Sql92MessageFilter: every ConsumeQueue entry passes, the record decides', () => {
  const f = new Sql92MessageFilter(compileSql92("TAGS = 'TagA' AND a > 1"));
  assert.equal(f.isMatchedByConsumeQueue(), true);
  assert.equal(f.isMatchedByCommitLog(record({ TAGS: 'TagA', a: '2' })), true);
  assert.equal(f.isMatchedByCommitLog(record({ TAGS: 'TagB', a: '2' })), false);
  assert.equal(f.isMatchedByCommitLog(record({ TAGS: 'TagA' })), false, 'missing property');
  assert.equal(f.isMatchedByCommitLog(record({ TAGS: 'TagA', a: 'x' })), false, 'evaluation error');
});

test('chooseMessageFilter: TAG, SQL92, disabled, malformed, unknown type', () => {
  assert.ok(isTagExpressionType('TAG') && isTagExpressionType('') && isTagExpressionType(undefined) && !isTagExpressionType('SQL92'));
  assert.ok(chooseMessageFilter(buildTagSubscription('T', 'TagA'), settings()).filter instanceof TagMessageFilter);
  assert.ok(chooseMessageFilter(buildTagSubscription('T', 'TagA'), settings({ enablePropertyFilter: false })).filter instanceof TagMessageFilter);
  assert.ok(chooseMessageFilter(buildSubscription('T', 'a = 1', 'SQL92'), settings()).filter instanceof Sql92MessageFilter);

  const off = chooseMessageFilter(buildSubscription('T', 'a = 1', 'SQL92'), settings({ enablePropertyFilter: false }));
  assert.equal(off.code, ResponseCode.SYSTEM_ERROR);
  assert.equal(off.remark, 'The broker does not support consumer to filter message by SQL92');

  // As upstream, a malformed expression is a parse failure even when SQL92 is disabled.
  for (const enablePropertyFilter of [true, false]) {
    const bad = chooseMessageFilter(buildSubscription('T', 'a = = 1', 'SQL92'), settings({ enablePropertyFilter }));
    assert.equal(bad.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    assert.match(bad.remark ?? '', /^parse the consumer's subscription failed: .*line 1, column 5/);
  }
  assert.equal(chooseMessageFilter(buildSubscription('T', undefined, 'SQL92'), settings()).code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  const unknown = chooseMessageFilter(buildSubscription('T', 'x', 'CLASS'), settings());
  assert.equal(unknown.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  assert.match(unknown.remark ?? '', /expression type CLASS is not supported/);
});

test("filterSupportRetry: an SQL92 retry-topic pull uses the group's filter of the message's original topic", () => {
  const retrySub = buildSubscription('%RETRY%G', 'TRUE', 'SQL92');
  const subs = new Map([['Orders', buildSubscription('Orders', "region = 'eu'", 'SQL92')], ['Tagged', buildTagSubscription('Tagged', 'A')]]);
  const chosen = chooseMessageFilter(retrySub, settings({ filterSupportRetry: true, subscriptionOf: (t) => subs.get(t) }));
  const f = chosen.filter;
  assert.ok(f instanceof RetrySql92MessageFilter);
  assert.equal(f.isMatchedByConsumeQueue(), true);
  assert.equal(f.isMatchedByCommitLog(record({ RETRY_TOPIC: 'Orders', region: 'eu' }, { topic: '%RETRY%G' })), true);
  assert.equal(f.isMatchedByCommitLog(record({ RETRY_TOPIC: 'Orders', region: 'us' }, { topic: '%RETRY%G' })), false);
  assert.equal(f.isMatchedByCommitLog(record({ RETRY_TOPIC: 'Tagged', region: 'us' }, { topic: '%RETRY%G' })), true, 'a TAG subscription: no SQL filtering');
  assert.equal(f.isMatchedByCommitLog(record({ RETRY_TOPIC: 'Unknown' }, { topic: '%RETRY%G' })), true, 'no subscription');
  assert.equal(f.isMatchedByCommitLog(record({ region: 'us' }, { topic: '%RETRY%G' })), true, 'no RETRY_TOPIC');

  // Without filterSupportRetry the retry subscription's own expression applies (upstream ExpressionMessageFilter).
  const own = chooseMessageFilter(buildSubscription('%RETRY%G', "region = 'us'", 'SQL92'), settings({ subscriptionOf: (t) => subs.get(t) })).filter;
  assert.ok(own instanceof Sql92MessageFilter);
  assert.equal(own.isMatchedByCommitLog!(record({ RETRY_TOPIC: 'Orders', region: 'eu' }, { topic: '%RETRY%G' })), false);
  // ...and a TAG retry subscription (what clients send: "*") matches every retry message either way.
  for (const filterSupportRetry of [true, false]) {
    const tag = chooseMessageFilter(buildTagSubscription('%RETRY%G', '*'), settings({ filterSupportRetry, subscriptionOf: (t) => subs.get(t) })).filter;
    assert.ok(tag instanceof TagMessageFilter);
    assert.equal(tag.isMatchedByConsumeQueue(12345), true);
  }
});
