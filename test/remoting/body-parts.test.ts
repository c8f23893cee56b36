import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjacentJoined } from '../../src/common/bytes.js';

test('a pull body joins records that lie back to back in memory, and keeps the others apart, in order', () => {
  const arena = Buffer.alloc(64);
  for (let i = 0; i < arena.length; i++) arena[i] = i;
  const other = Buffer.from([200, 201, 202]);
  const parts = [arena.subarray(0, 10), arena.subarray(10, 25), arena.subarray(25, 30), other, arena.subarray(40, 50), arena.subarray(50, 64)];
  const joined = adjacentJoined(parts);
  assert.equal(joined.length, 3);
  assert.deepEqual(Buffer.concat(joined), Buffer.concat(parts));
  // Views of the same memory, not copies.
  assert.equal(joined[0]!.buffer, arena.buffer);
  assert.equal(joined[1], other);
  // Nothing adjacent (a gap, another buffer, the wrong order): the same array back.
  const apart = [arena.subarray(0, 4), arena.subarray(5, 9), other, arena.subarray(20, 24), arena.subarray(10, 20)];
  assert.equal(adjacentJoined(apart), apart);
  assert.deepEqual(adjacentJoined([]), []);
  const one = [other];
  assert.equal(adjacentJoined(one), one);
});
