import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alterAttributes, AttributeError, attributeModificationToString, parseAttributeModification, SUBSCRIPTION_GROUP_ATTRIBUTES, TOPIC_ATTRIBUTES,
} from '../../src/common/attributes.js';

// Attribute modifications as upstream's AttributeParser and AttributeUtil read and apply them.

const alter = (create: boolean, current: Record<string, string>, text: string) =>
  alterAttributes(create, TOPIC_ATTRIBUTES, current, parseAttributeModification(text));

test('a modification parses into signed keys and prints back the same', () => {
  const m = parseAttributeModification('+message.type=FIFO,-reserve.time');
  assert.deepEqual([...m], [['+message.type', 'FIFO'], ['-reserve.time', '']]);
  assert.equal(attributeModificationToString(m), '+message.type=FIFO,-reserve.time');
  assert.equal(attributeModificationToString({ 'message.type': 'DELAY' }), '+message.type=DELAY', 'an unsigned key is an addition');
  assert.equal(parseAttributeModification('').size, 0);
  assert.throws(() => parseAttributeModification('message.type=FIFO'), /add\/alter attribute format is wrong: message.type/);
  assert.throws(() => parseAttributeModification('reserve.time'), /delete attribute format is wrong/);
  assert.throws(() => parseAttributeModification('+a=1,+a=2'), /key duplication: \+a/);
});

test('creating a topic may only add known attributes with valid values', () => {
  assert.deepEqual(alter(true, {}, '+message.type=FIFO,+reserve.time=3600'), { 'message.type': 'FIFO', 'reserve.time': '3600' });
  assert.deepEqual(alter(true, {}, '+queue.type=BatchCQ'), { 'queue.type': 'BatchCQ' }, 'unchangeable ones may be set at creation');
  assert.throws(() => alter(true, {}, '-message.type'), /only add attribute is supported while creating topic. key: message.type/);
  assert.throws(() => alter(true, {}, '+colour=red'), /unsupported key: colour/);
  assert.throws(() => alter(true, {}, '+message.type=URGENT'), /value is not in set/);
  assert.throws(() => alter(true, {}, '+reserve.time=-2'), /value is not in range\(-1, 9223372036854775807\)/);
  assert.throws(() => alter(true, {}, '+reserve.time=1.5'), /For input string: "1.5"/);
  assert.throws(() => alter(true, {}, '+message.type=FIFO,-message.type'), AttributeError);
});

test('updating a topic adds, changes and removes changeable attributes only', () => {
  const current = { 'message.type': 'FIFO', 'queue.type': 'SimpleCQ' };
  assert.deepEqual(alter(false, current, '+message.type=NORMAL,+reserve.time=10'), { 'message.type': 'NORMAL', 'queue.type': 'SimpleCQ', 'reserve.time': '10' });
  assert.deepEqual(alter(false, current, '-message.type'), { 'queue.type': 'SimpleCQ' });
  assert.throws(() => alter(false, current, '-reserve.time'), /attempt to delete a nonexistent key: reserve.time/);
  assert.throws(() => alter(false, current, '+queue.type=BatchCQ'), /attempt to update an unchangeable attribute. key: queue.type/);
  assert.throws(() => alter(false, current, '-queue.type'), /unchangeable/);
  assert.deepEqual(alter(false, current, ''), current, 'no modification keeps what is there');
});

test('subscription groups define no attributes', () => {
  assert.deepEqual(alterAttributes(true, SUBSCRIPTION_GROUP_ATTRIBUTES, {}, new Map()), {});
  assert.throws(() => alterAttributes(true, SUBSCRIPTION_GROUP_ATTRIBUTES, {}, new Map([['+a', 'b']])), /unsupported key: a/);
});
