import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hll } from '../core/sketch/hll.ts';
import { estimateUnion } from '../core/sketch/hll.ts';
import type { RollupRow } from '../core/rollup/model.ts';
import { addRow, change, deriveMetrics, emptyAccumulator, METRICS, zeroMetrics } from './metrics.ts';

function row(visitors: string[], c: Partial<RollupRow>): RollupRow {
  const h = Hll.create();
  for (const v of visitors) h.add(v);
  return { pageviews: 0, events: 0, visits: 0, bounces: 0, durationMs: 0, conversions: 0, revenue: {}, ...c, visitors: h.toBytes() };
}

describe('metrics', () => {
  test('counters sum, visitors are the union, ratios use the merged counters', () => {
    const acc = emptyAccumulator();
    addRow(acc, row(['a', 'b'], { pageviews: 5, visits: 2, bounces: 1, durationMs: 90_000, events: 1, conversions: 1, revenue: { EUR: 1250 } }));
    addRow(acc, row(['b', 'c'], { pageviews: 2, visits: 1, bounces: 1, durationMs: 0, revenue: { EUR: 50, USD: 100 } }));
    assert.deepEqual(deriveMetrics(acc, METRICS, estimateUnion), {
      visitors: 3, visits: 3, pageviews: 7,
      views_per_visit: 2.33, // 7 / 3
      bounce_rate: 67, // 2 of 3 visits, whole percent
      visit_duration: 30, // 90 s over 3 visits
      events: 1, conversions: 1, revenue: { EUR: 13, USD: 1 },
    });
  });

  test('no data: zeros, not NaN; and only the asked metrics, in canonical order', () => {
    const values = deriveMetrics(emptyAccumulator(), ['views_per_visit', 'bounce_rate', 'visit_duration', 'visitors'], estimateUnion);
    assert.deepEqual(values, { visitors: 0, views_per_visit: 0, bounce_rate: 0, visit_duration: 0 });
    assert.deepEqual(zeroMetrics(['visitors', 'revenue']), { visitors: 0, revenue: {} });
  });

  test('visitors is only estimated when asked for', () => {
    const acc = emptyAccumulator();
    addRow(acc, row(['a'], { pageviews: 1 }));
    deriveMetrics(acc, ['pageviews'], () => assert.fail('estimated'));
  });

  test('change in percent, null when the previous value is 0; revenue per currency', () => {
    assert.equal(change(150, 100), 50);
    assert.equal(change(1, 3), -66.7);
    assert.equal(change(0, 0), null);
    assert.equal(change(5, 0), null);
    assert.deepEqual(change({ EUR: 200, USD: 5 }, { EUR: 100, GBP: 10 }), { EUR: 100, USD: null, GBP: -100 });
  });
});
