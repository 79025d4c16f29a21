/** The Cassandra rollup layout's partition periods (pure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { periodOf, periodsIn } from './cassandra-rows.ts';

const D = (s: string) => Date.parse(`${s}Z`);

test('minute and hour buckets are partitioned by UTC day, day buckets by UTC month', () => {
  assert.equal(periodOf('minute', D('2030-07-15T23:59:00')), D('2030-07-15T00:00:00'));
  assert.equal(periodOf('hour', D('2030-07-15T05:00:00')), D('2030-07-15T00:00:00'));
  assert.equal(periodOf('day', D('2030-07-15T00:00:00')), D('2030-07-01T00:00:00'));
});

test('the periods of a range are every one it touches, in order; an empty range has none', () => {
  assert.deepEqual(periodsIn('hour', D('2030-07-30T12:00:00'), D('2030-08-01T01:00:00')), [D('2030-07-30T00:00:00'), D('2030-07-31T00:00:00'), D('2030-08-01T00:00:00')]);
  assert.deepEqual(periodsIn('day', D('2030-11-15T00:00:00'), D('2031-01-02T00:00:00')), [D('2030-11-01T00:00:00'), D('2030-12-01T00:00:00'), D('2031-01-01T00:00:00')]);
  // [from, to): a range ending at midnight does not reach into the next day.
  assert.deepEqual(periodsIn('minute', D('2030-07-15T10:00:00'), D('2030-07-16T00:00:00')), [D('2030-07-15T00:00:00')]);
  assert.deepEqual(periodsIn('hour', D('2030-07-15T10:00:00'), D('2030-07-15T10:00:00')), []);
});
