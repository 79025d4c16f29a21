import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hll } from '../sketch/hll.ts';
import { emptyCounters, type RollupRow } from './model.ts';
import { addCounters, avgVisitDurationMs, bounceRate, mergeRows, viewsPerVisit, visitorCount } from './counters.ts';
import { fromMinorUnits, label, NONE, toMinorUnits } from './labels.ts';

function row(over: Partial<RollupRow>, visitors: string[] = []): RollupRow {
  const h = Hll.create();
  for (const v of visitors) h.add(v);
  return { ...emptyCounters(), visitors: h.toBytes(), ...over };
}

test('addCounters sums every field and revenue per currency, without mutating inputs', () => {
  const a = { ...emptyCounters(), pageviews: 2, visits: 1, revenue: { EUR: 100 } };
  const b = { ...emptyCounters(), pageviews: 3, bounces: 1, durationMs: 5, conversions: 1, events: 4, revenue: { EUR: 50, USD: 7 } };
  assert.deepEqual(addCounters(a, b), { pageviews: 5, events: 4, visits: 1, bounces: 1, durationMs: 5, conversions: 1, revenue: { EUR: 150, USD: 7 } });
  assert.deepEqual(a.revenue, { EUR: 100 });
});

test('mergeRows sums counters and unions visitor sketches', () => {
  const merged = mergeRows([row({ pageviews: 1, visits: 1 }, ['a', 'b']), row({ pageviews: 2 }, ['b', 'c']), row({})]);
  assert.equal(merged.pageviews, 3);
  assert.equal(merged.visits, 1);
  assert.equal(visitorCount(merged), 3);
  assert.deepEqual(mergeRows([]), { ...emptyCounters(), visitors: new Uint8Array(0) });
});

test('derived metrics are zero-safe', () => {
  const none = emptyCounters();
  assert.equal(viewsPerVisit(none), 0);
  assert.equal(bounceRate(none), 0);
  assert.equal(avgVisitDurationMs(none), 0);
  const c = { ...none, pageviews: 9, visits: 4, bounces: 1, durationMs: 8000 };
  assert.equal(viewsPerVisit(c), 2.25);
  assert.equal(bounceRate(c), 0.25);
  assert.equal(avgVisitDurationMs(c), 2000);
});

test('labels and revenue units', () => {
  assert.equal(label(''), NONE);
  assert.equal(label('google.com'), 'google.com');
  assert.equal(toMinorUnits(12.34), 1234);
  assert.equal(toMinorUnits(1500), 150000);
  assert.equal(fromMinorUnits(1234), 12.34);
});
