import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingTable } from '../../src/remoting/pending-table.js';

interface Req { opaque: number; name: string }

test('pending requests are found by opaque once, in any order', () => {
  const t = new PendingTable<Req>(4);
  assert.equal(t.take(1), undefined, 'nothing waits yet');
  for (let o = 1; o <= 10; o++) t.set({ opaque: o, name: `r${o}` });
  assert.equal(t.size, 10);
  assert.equal(t.take(7)?.name, 'r7');
  assert.equal(t.take(7), undefined, 'a response is taken once');
  assert.equal(t.take(99), undefined, 'an unknown opaque finds nothing');
  assert.equal(t.take(3)?.name, 'r3');
  assert.deepEqual(t.values().map((r) => r.opaque).sort((a, b) => a - b), [1, 2, 4, 5, 6, 8, 9, 10]);
  assert.equal(t.size, 8);
});

test('a request still waiting when its slot comes round is kept aside, not overwritten', () => {
  const t = new PendingTable<Req>(2); // 4 slots
  t.set({ opaque: 1, name: 'slow' });
  for (let o = 2; o <= 40; o++) {
    t.set({ opaque: o, name: `r${o}` });
    assert.equal(t.take(o)?.name, `r${o}`);
  }
  t.set({ opaque: 41, name: 'same slot as 1' }); // 41 & 3 === 1
  assert.equal(t.size, 2);
  assert.equal(t.take(1)?.name, 'slow');
  assert.equal(t.take(41)?.name, 'same slot as 1');
  assert.equal(t.size, 0);
  t.set({ opaque: 42, name: 'x' });
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.take(42), undefined);
  assert.deepEqual(t.values(), []);
});
