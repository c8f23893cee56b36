import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BusyPoll } from '../../src/remoting/busy-poll.js';

test('busy polling: the window opens for requests that come one at a time, and closes for requests that come seldom', async () => {
  const bp = new BusyPoll(2000);
  bp.onRead(1); // nothing came before: a long gap
  assert.equal(bp.windowMicros, 0);
  assert.equal(bp.isSpinning, false);
  bp.onRead(1); // right after the last: polling would have caught it
  assert.equal(bp.windowMicros, 500);
  assert.equal(bp.isSpinning, true);
  bp.onRead(1); // caught while polling: the window stays
  assert.equal(bp.windowMicros, 500);
  await sleep(20);
  assert.equal(bp.isSpinning, false, 'polling stops when the window has passed without a read');
  // Each request later than the longest window halves it, down to nothing.
  const windows: number[] = [];
  for (let i = 0; i < 3; i++) {
    bp.onRead(1);
    windows.push(bp.windowMicros);
    await sleep(20);
  }
  assert.deepEqual(windows, [250, 125, 0]);
  assert.equal(bp.isSpinning, false);
});

test('busy polling: no polling while reads bring many requests, and the window grows up to its maximum', async () => {
  const bp = new BusyPoll(2000);
  bp.onRead(30);
  const windows: number[] = [];
  for (let i = 0; i < 4; i++) {
    bp.onRead(30);
    windows.push(bp.windowMicros);
    assert.equal(bp.isSpinning, false, 'a loaded loop is not kept turning');
  }
  assert.deepEqual(windows, [500, 1000, 2000, 2000]);
  // The load drops to one request per read: polling starts once the average follows.
  let reads = 0;
  while (!bp.isSpinning && reads < 50) {
    bp.onRead(1);
    reads++;
  }
  assert.ok(bp.isSpinning);
  assert.ok(reads > 5, `polling started after ${reads} single reads`);
  // Load again while polling: the polling stops at its next turn.
  for (let i = 0; i < 10; i++) bp.onRead(30);
  await sleep(5);
  assert.equal(bp.isSpinning, false);
});

test('busy polling: 0 disables it', () => {
  const bp = new BusyPoll(0);
  for (let i = 0; i < 10; i++) bp.onRead(1);
  assert.equal(bp.windowMicros, 0);
  assert.equal(bp.isSpinning, false);
});
