import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLong, writeLong } from '../../src/common/bytes.js';

test('longs read back as Java longs, negative and above 2^32 included', () => {
  const buf = Buffer.alloc(9);
  for (const v of [0, 1, -1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, -(2 ** 32) - 1, 1_700_000_000_123, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
    buf.writeBigInt64BE(BigInt(v), 1);
    assert.equal(readLong(buf, 1), v, String(v));
    writeLong(buf, v, 0);
    assert.equal(buf.readBigInt64BE(0), BigInt(v), String(v));
  }
});

test('a long past the end of the buffer is a RangeError', () => {
  assert.throws(() => readLong(Buffer.alloc(8), 1), RangeError);
  assert.throws(() => readLong(Buffer.alloc(8), -1), RangeError);
});
