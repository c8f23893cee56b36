import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBatchBody } from '../../src/common/batch-body.js';
import { encodeBatchBody } from '../../src/client/message.js';

test('a batch body decodes back to its entries; an empty body has none', () => {
  const body = encodeBatchBody([{ flag: 3, body: Buffer.from('héllo'), properties: 'KEYS\u0001k\u0002' }, { flag: 0, body: Buffer.alloc(0), properties: '' }]);
  assert.deepEqual(decodeBatchBody(body).map((e) => [e.flag, e.body.toString(), e.properties]), [[3, 'héllo', 'KEYS\u0001k\u0002'], [0, '', '']]);
  assert.deepEqual(decodeBatchBody(Buffer.alloc(0)), []);
});

test('a malformed batch body is refused naming the byte where it stops making sense', () => {
  const one = encodeBatchBody([{ flag: 0, body: Buffer.from('abc'), properties: 'A\u0001b\u0002' }]);
  const two = Buffer.concat([one, one]);
  // Cut inside the second message's header.
  assert.throws(() => decodeBatchBody(two.subarray(0, one.length + 10)), new RegExp(`batch body truncated at byte ${one.length}:`));
  // A size reaching past the body, and one too small for a header.
  const big = Buffer.from(two);
  big.writeInt32BE(1000, one.length);
  assert.throws(() => decodeBatchBody(big), new RegExp(`batch message at byte ${one.length} declares size 1000, outside the body of ${two.length} bytes`));
  const small = Buffer.from(one);
  small.writeInt32BE(8, 0);
  assert.throws(() => decodeBatchBody(small), /declares size 8/);
  // A body length running past the message, or negative.
  const longBody = Buffer.from(one);
  longBody.writeInt32BE(9, 16);
  assert.throws(() => decodeBatchBody(longBody), /body length 9 outside its size/);
  longBody.writeInt32BE(-1, 16);
  assert.throws(() => decodeBatchBody(longBody), /body length -1 outside its size/);
  // Properties running past the message.
  const longProps = Buffer.from(one);
  longProps.writeInt16BE(50, 20 + 3);
  assert.throws(() => decodeBatchBody(longProps), /properties outside its size/);
  // The whole message is still intact and decodes.
  assert.equal(decodeBatchBody(one)[0]!.body.toString(), 'abc');
});
