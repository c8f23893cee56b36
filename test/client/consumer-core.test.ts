import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ConsumerTasks } from '../../src/client/consumer-core.js';

test('ConsumerTasks.every never runs a periodic task beside itself: a round still going makes the next skip', async () => {
  const tasks = new ConsumerTasks(() => true, pino({ level: 'silent' }));
  let running = 0;
  let most = 0;
  let rounds = 0;
  tasks.every(20, async () => {
    running++;
    rounds++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 150));
    running--;
  });
  try {
    await new Promise((r) => setTimeout(r, 700));
  } finally {
    tasks.stopPeriodic();
  }
  assert.ok(rounds >= 2, `the task ran again after its round (${rounds} rounds)`);
  assert.equal(most, 1);
});

test('ConsumerTasks.every: a failed round is logged and the next still runs', async () => {
  const warnings: string[] = [];
  const log = pino({ level: 'silent' });
  log.warn = ((msg: string) => { warnings.push(msg); }) as typeof log.warn;
  const tasks = new ConsumerTasks(() => true, log);
  let rounds = 0;
  tasks.every(20, async () => {
    rounds++;
    throw new Error(`round ${rounds}`);
  });
  try {
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    tasks.stopPeriodic();
  }
  assert.ok(rounds >= 2);
  assert.match(warnings[0] ?? '', /periodic consumer task failed: round 1/);
});
