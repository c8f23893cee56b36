import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/common/logger.js';
import type { ExtraInfo } from '../../src/broker/pop/pop-checkpoint.js';
import type { PopAckResult } from '../../src/broker/pop/pop-message-service.js';
import { ReceiptRenewal, type RenewalOptions } from '../../src/proxy/receipt-renewal.js';
import { eventually } from './helpers.js';

// The proxy's renewal policy in cluster mode, driven through the broker-facing callback it is
// given (the end-to-end path through real brokers is in cluster-mode.test.ts).

interface Change { info: ExtraInfo; invisibleTime: number }

function handle(popTime: number, invisibleTime: number, queueOffset = 7): ExtraInfo {
  return { ckQueueOffset: queueOffset, popTime, invisibleTime, reviveQid: 0, topicType: 0, brokerName: 'broker-a', queueId: 1, queueOffset };
}

/** A renewal whose broker answers every change with a handle already due for renewal again (so renewals follow each other at every scan). */
function renewalWith(opts: Partial<RenewalOptions> & { answer?: (c: Change) => PopAckResult | Promise<PopAckResult> }): { r: ReceiptRenewal; changes: Change[] } {
  const changes: Change[] = [];
  const r = new ReceiptRenewal({
    change: async (_b, _g, _t, info, invisibleTime) => {
      changes.push({ info, invisibleTime });
      return opts.answer ? opts.answer({ info, invisibleTime }) : { status: 'OK', extraInfo: handle(Date.now() - invisibleTime, invisibleTime) };
    },
    retryDelay: opts.retryDelay ?? ((n) => 1000 * (n + 1)),
    clientAlive: opts.clientAlive ?? (() => () => true),
    logger: createLogger('renewal-test'),
    checkIntervalMs: 10,
    ...opts,
  });
  r.start();
  return { r, changes };
}

test('renewals follow the upstream steps (1, 3, 5, 10, 30 min, then 1 h each) and an ack takes the newest handle', async () => {
  const { r, changes } = renewalWith({});
  try {
    r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now() - 30_000, 30_000), 0);
    await eventually(() => (changes.length >= 8 ? true : undefined), 5000, 'eight renewals');
    const minutes = changes.slice(0, 8).map((c) => c.invisibleTime / 60_000);
    assert.deepEqual(minutes, [1, 3, 5, 10, 30, 60, 60, 60]);
    const newest = await r.take('broker-a', 'G', 'T', handle(0, 30_000));
    assert.equal(newest.invisibleTime, 60 * 60_000, 'the handle of the last renewal, not the client\'s');
    assert.equal(r.size, 0);
    const seen = changes.length;
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(changes.length, seen, 'no renewal once taken');
  } finally {
    r.stop();
  }
});

test('a receipt is not renewed while it has more than the lead time left', async () => {
  const { r, changes } = renewalWith({ aheadMs: 10_000 });
  try {
    r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now(), 60_000), 0);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(changes.length, 0);
    assert.equal(r.size, 1);
  } finally {
    r.stop();
  }
});

test('after the longest renewal time the message is given back with the group\'s retry delay for its attempts', async () => {
  const { r, changes } = renewalWith({ maxMs: 0, retryDelay: (n) => (n === 2 ? 10_000 : -1) });
  try {
    r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now() - 30_000, 30_000), 2);
    await eventually(() => (changes.length > 0 ? true : undefined), 5000, 'the give-back');
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(changes.map((c) => c.invisibleTime), [10_000]);
    assert.equal(r.size, 0);
  } finally {
    r.stop();
  }
});

test('a receipt of a client that left is made visible within a second and no longer renewed', async () => {
  let alive = true;
  const { r, changes } = renewalWith({ clientAlive: () => () => alive });
  try {
    r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now(), 60_000), 0);
    alive = false;
    await eventually(() => (changes.length > 0 ? true : undefined), 5000, 'the release');
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(changes.map((c) => c.invisibleTime), [1000]);
    assert.equal(r.size, 0);
  } finally {
    r.stop();
  }
});

test('a failing renewal is tried three times, an expired handle not again', async () => {
  const failing = renewalWith({ answer: () => ({ status: 'ERROR', remark: 'broker unreachable' }) });
  const expired = renewalWith({ answer: () => ({ status: 'EXPIRED', remark: 'gone' }) });
  try {
    failing.r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now() - 30_000, 30_000), 0);
    expired.r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now() - 30_000, 30_000), 0);
    await eventually(() => (failing.r.size === 0 && expired.r.size === 0 ? true : undefined), 5000, 'both given up');
    assert.equal(failing.changes.length, 3);
    assert.equal(expired.changes.length, 1);
    // An ack after giving up uses the client's own handle.
    const own = handle(123, 30_000);
    assert.equal(await failing.r.take('broker-a', 'G', 'T', own), own);
  } finally {
    failing.r.stop();
    expired.r.stop();
  }
});

test('an ack during a renewal waits for it and gets the handle it produced', async () => {
  let release!: () => void;
  const gate = new Promise<void>((res) => { release = res; });
  const { r, changes } = renewalWith({
    answer: async (c) => {
      await gate;
      return { status: 'OK', extraInfo: handle(Date.now(), c.invisibleTime) };
    },
  });
  try {
    r.track('broker-a', 'G', 'T', 'client-1', handle(Date.now() - 30_000, 30_000), 0);
    await eventually(() => (changes.length > 0 ? true : undefined), 5000, 'a renewal in flight');
    const taken = r.take('broker-a', 'G', 'T', handle(0, 30_000));
    release();
    assert.equal((await taken).invisibleTime, 60_000);
    assert.equal(changes.length, 1);
  } finally {
    r.stop();
  }
});
