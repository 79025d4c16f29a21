import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKET_CLOSED_AFTER_MS, isClosedBucket, RANGE_CLOSED_AFTER_MS } from './closed.ts';
import { DAY_MS, HOUR_MS } from '../time.ts';

test('an hour or day bucket is closed 60 s after its end; a minute bucket never', () => {
  const h = 10 * HOUR_MS;
  assert.equal(isClosedBucket({ granularity: 'hour', start: h }, h + HOUR_MS + BUCKET_CLOSED_AFTER_MS), false);
  assert.equal(isClosedBucket({ granularity: 'hour', start: h }, h + HOUR_MS + BUCKET_CLOSED_AFTER_MS + 1), true);
  assert.equal(isClosedBucket({ granularity: 'day', start: 0 }, DAY_MS - 1), false);
  assert.equal(isClosedBucket({ granularity: 'day', start: 0 }, DAY_MS + BUCKET_CLOSED_AFTER_MS + 1), true);
  assert.equal(isClosedBucket({ granularity: 'minute', start: 0 }, DAY_MS), false);
});

test('once a range is closed, the hour bucket of its latest possible event is closed too', () => {
  assert.equal(RANGE_CLOSED_AFTER_MS, 3_660_000);
  for (const to of [10 * HOUR_MS, 10 * HOUR_MS + 1, 10 * HOUR_MS + 30 * 60_000, 11 * HOUR_MS - 1]) {
    const at: number = to + RANGE_CLOSED_AFTER_MS; // the first moment the query service caches the range for long
    const lastEvent = to - 1;
    assert.equal(isClosedBucket({ granularity: 'hour', start: Math.floor(lastEvent / HOUR_MS) * HOUR_MS }, at), true, `range ending at ${to}`);
  }
});
