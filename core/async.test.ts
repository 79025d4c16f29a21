import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, withTimeout } from './async.ts';

test('sleep waits, and an abort ends it early', async () => {
  const t0 = Date.now();
  await sleep(20);
  assert.ok(Date.now() - t0 >= 15);
  const ac = new AbortController();
  const t1 = Date.now();
  const waiting = sleep(10_000, ac.signal);
  ac.abort();
  await waiting;
  assert.ok(Date.now() - t1 < 1_000);
  await sleep(10_000, ac.signal); // already aborted: returns at once
});

test('withTimeout passes the value through, or rejects with the message', async () => {
  assert.equal(await withTimeout(Promise.resolve(7), 1_000), 7);
  await assert.rejects(withTimeout(new Promise(() => {}), 10), /^Error: timeout$/);
  await assert.rejects(withTimeout(new Promise(() => {}), 10, 'Kafka did not answer'), /Kafka did not answer/);
  await assert.rejects(withTimeout(Promise.reject(new Error('own')), 1_000), /own/);
});
