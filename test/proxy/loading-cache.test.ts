import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadingCache } from '../../src/proxy/loading-cache.js';

// The cache the cluster-mode proxy keeps the brokers' users and ACLs in, with Guava's semantics
// as upstream's ClusterMetadataService builds them (maximumSize, expireAfterAccess, refreshAfterWrite).

function harness(): { cache: LoadingCache<string>; loads: string[]; setNow(t: number): void; values: Map<string, string | Error>; errors: string[] } {
  let now = 0;
  const loads: string[] = [];
  const errors: string[] = [];
  const values = new Map<string, string | Error>();
  const cache = new LoadingCache<string>(async (k) => {
    loads.push(k);
    const v = values.get(k) ?? `${k}-v`;
    if (v instanceof Error) throw v;
    return v;
  }, { maxNum: 2, expireAfterAccessMs: 10_000, refreshAfterWriteMs: 1_000, now: () => now, onRefreshError: (k) => errors.push(k) });
  return { cache, loads, values, errors, setNow: (t) => { now = t; } };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('loading cache: a miss loads once for concurrent readers; a fresh hit does not load', async () => {
  const h = harness();
  assert.deepEqual(await Promise.all([h.cache.get('a'), h.cache.get('a')]), ['a-v', 'a-v']);
  assert.equal(await h.cache.get('a'), 'a-v');
  assert.deepEqual(h.loads, ['a']);
});

test('loading cache: a stale hit answers the old value and reloads behind it; a failed reload keeps the old value', async () => {
  const h = harness();
  await h.cache.get('a');
  h.values.set('a', 'a-new');
  h.setNow(1_500);
  assert.equal(await h.cache.get('a'), 'a-v', 'the old value while reloading');
  await tick();
  assert.equal(await h.cache.get('a'), 'a-new');
  h.values.set('a', new Error('broker down'));
  h.setNow(3_000);
  assert.equal(await h.cache.get('a'), 'a-new');
  await tick();
  assert.equal(await h.cache.get('a'), 'a-new');
  assert.deepEqual(h.errors, ['a']);
  assert.deepEqual(h.loads, ['a', 'a', 'a']);
});

test('loading cache: an entry unread for expireAfterAccess is loaded again; the least recently read goes past maxNum', async () => {
  const h = harness();
  await h.cache.get('a');
  h.setNow(20_000);
  h.values.set('a', 'a2');
  assert.equal(await h.cache.get('a'), 'a2', 'expired: loaded and waited for');
  await h.cache.get('b');
  await h.cache.get('a');
  await h.cache.get('c');
  assert.equal(h.cache.size, 2);
  h.loads.length = 0;
  await h.cache.get('a');
  await h.cache.get('b');
  assert.deepEqual(h.loads, ['b'], 'b was the least recently read');
});

test('loading cache: a failed first load fails the read and is not cached', async () => {
  const h = harness();
  h.values.set('x', new Error('no broker'));
  await assert.rejects(h.cache.get('x'), /no broker/);
  h.values.delete('x');
  assert.equal(await h.cache.get('x'), 'x-v');
});
