import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, HOUR_MS } from '../core/time.ts';
import { bucketIndex, cover, planReads } from './plan.ts';

const T = Date.UTC(2025, 0, 10);
const shape = (spans: ReturnType<typeof cover>) => spans.map((s) => `${s.granularity}:${(s.to - s.from) / (s.granularity === 'day' ? DAY_MS : s.granularity === 'hour' ? HOUR_MS : 60_000)}`);

describe('read plan', () => {
  test('whole UTC days are day rows', () => {
    assert.deepEqual(shape(cover(T, T + 30 * DAY_MS)), ['day:30']);
  });

  test('local days off UTC midnight: day rows inside, hour rows at the edges (Berlin 30d = 29 days + 24 hours)', () => {
    const from = T - HOUR_MS;
    assert.deepEqual(shape(cover(from, from + 30 * DAY_MS)), ['hour:1', 'day:29', 'hour:23']);
  });

  test('less than a whole UTC day is hour rows; sub-hour edges are minute rows', () => {
    assert.deepEqual(shape(cover(T + HOUR_MS, T + 5 * HOUR_MS)), ['hour:4']);
    assert.deepEqual(shape(cover(T + 50 * 60_000, T + 2 * HOUR_MS + 600_000)), ['minute:10', 'hour:1', 'minute:10']);
    assert.deepEqual(shape(cover(T + 60_000, T + 31 * 60_000)), ['minute:30']);
  });

  test('the pieces tile the range exactly', () => {
    for (const [a, b] of [[T - 7 * 60_000, T + 3 * DAY_MS + 5 * HOUR_MS + 60_000], [T + 1, T + DAY_MS - 1]]) {
      const spans = cover(a, b);
      assert.equal(spans[0].from, a);
      assert.equal(spans.at(-1)!.to, b);
      for (let i = 1; i < spans.length; i++) assert.equal(spans[i].from, spans[i - 1].to);
    }
  });

  test('adjacent pieces of one granularity become one read per run', () => {
    // A daily Berlin timeseries over 3 days: no local day is a UTC day, so one hour read.
    const edges = [T - HOUR_MS, T + DAY_MS - HOUR_MS, T + 2 * DAY_MS - HOUR_MS, T + 3 * DAY_MS - HOUR_MS];
    assert.deepEqual(shape(planReads(edges)), ['hour:72']);
    // A daily UTC timeseries: one day read.
    assert.deepEqual(shape(planReads([T, T + DAY_MS, T + 2 * DAY_MS])), ['day:2']);
  });

  test('rows go to the bucket holding their start', () => {
    const edges = [0, 10, 20, 30];
    assert.deepEqual([0, 9, 10, 29, 30, -1].map((s) => bucketIndex(edges, s)), [0, 0, 1, 2, -1, -1]);
  });
});
