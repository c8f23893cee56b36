import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderError, reqLongSaturated } from '../../src/remoting/header.js';

// reqLongSaturated: a Java long time bound, saturated past 2^53 and refused where Long.parseLong refuses.

test('reqLongSaturated: ordinary values as they are, Java long extremes saturate to safe integers', () => {
  const read = (v: string): number => reqLongSaturated({ t: v }, 't');
  assert.equal(read('0'), 0);
  assert.equal(read('1700000000000'), 1700000000000);
  assert.equal(read('-1'), -1);
  assert.equal(read('+42'), 42);
  assert.equal(read('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.equal(read('9007199254740993'), Number.MAX_SAFE_INTEGER);
  assert.equal(read('9223372036854775807'), Number.MAX_SAFE_INTEGER);
  assert.equal(read('-9223372036854775808'), -Number.MAX_SAFE_INTEGER);
  assert.equal(read('00000000000000000012'), 12);
});

test('reqLongSaturated: missing, malformed and beyond-long values are HeaderErrors naming the field', () => {
  for (const v of [undefined, '', '-', '12a', '1.5', '9223372036854775808', '-9223372036854775809', '99999999999999999999999']) {
    assert.throws(() => reqLongSaturated(v === undefined ? {} : { endTimestamp: v }, 'endTimestamp'), (e: unknown) => e instanceof HeaderError && /endTimestamp/.test(e.message), String(v));
  }
});
