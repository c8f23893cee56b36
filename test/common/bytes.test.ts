import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int16At, int32At, readLong, writeLong } from '../../src/common/bytes.js';

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

test('int16At and int32At read what readInt16BE and readInt32BE read, signs included', () => {
  const buf = Buffer.from([0x00, 0x01, 0x7f, 0xff, 0x80, 0x00, 0xff, 0xff, 0xff, 0xfe, 0x12, 0x34, 0x56, 0x78]);
  for (let p = 0; p + 2 <= buf.length; p++) assert.equal(int16At(buf, p), buf.readInt16BE(p), `16 bits at ${p}`);
  for (let p = 0; p + 4 <= buf.length; p++) assert.equal(int32At(buf, p), buf.readInt32BE(p), `32 bits at ${p}`);
  const random = Buffer.alloc(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  for (let p = 0; p + 4 <= random.length; p += 3) {
    assert.equal(int16At(random, p), random.readInt16BE(p));
    assert.equal(int32At(random, p), random.readInt32BE(p));
  }
});
