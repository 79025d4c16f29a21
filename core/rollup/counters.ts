/**
 * Merging stored rows and the metrics derived from them: what the query service does with
 * rows read over a time range.
 */
import { Hll } from '../sketch/hll.ts';
import { emptyCounters, type Counters, type RollupRow } from './model.ts';

/** a + b as a new object; revenue sums per currency. */
export function addCounters(a: Counters, b: Counters): Counters {
  const revenue: Record<string, number> = { ...a.revenue };
  for (const [cur, v] of Object.entries(b.revenue)) revenue[cur] = (revenue[cur] ?? 0) + v;
  return {
    pageviews: a.pageviews + b.pageviews,
    events: a.events + b.events,
    visits: a.visits + b.visits,
    bounces: a.bounces + b.bounces,
    durationMs: a.durationMs + b.durationMs,
    conversions: a.conversions + b.conversions,
    revenue,
  };
}

/** Sums counters and unions the visitor sketches (a visitor seen in two rows counts once). */
export function mergeRows(rows: readonly RollupRow[]): RollupRow {
  let counters = emptyCounters();
  const sketch = Hll.create();
  for (const row of rows) {
    counters = addCounters(counters, row);
    if (row.visitors.length > 0) sketch.merge(Hll.fromBytes(row.visitors));
  }
  return { ...counters, visitors: sketch.toBytes() };
}

/** Unique visitors of a stored sketch. */
export function visitorCount(row: Pick<RollupRow, 'visitors'>): number {
  return row.visitors.length === 0 ? 0 : Hll.fromBytes(row.visitors).estimate();
}

function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

/** Pageviews per visit; 0 when there were no visits. */
export function viewsPerVisit(c: Pick<Counters, 'pageviews' | 'visits'>): number {
  return ratio(c.pageviews, c.visits);
}

/** Fraction (0..1) of visits with a single interaction; 0 when there were no visits. */
export function bounceRate(c: Pick<Counters, 'bounces' | 'visits'>): number {
  return ratio(c.bounces, c.visits);
}

/** Mean visit duration in ms; 0 when there were no visits. */
export function avgVisitDurationMs(c: Pick<Counters, 'durationMs' | 'visits'>): number {
  return ratio(c.durationMs, c.visits);
}
