/**
 * The I/O edge of the query service: reads rollup rows for a plan and folds them into metric
 * values. Everything else it calls is pure.
 */
import type { RollupStore } from '../core/ports/index.ts';
import type { Dimension } from '../core/rollup/model.ts';
import { addRow, deriveMetrics, emptyAccumulator, type Accumulator, type EstimateUnion, type Metric, type MetricValues } from './metrics.ts';
import { bucketIndex, planReads } from './plan.ts';

export interface ReadDeps {
  rollups: RollupStore;
  estimate: EstimateUnion;
}

/**
 * Metric values per bucket of `edges` (n+1 edges -> n values); empty buckets are zeros.
 *
 * With `pagePrefix`, the values are folded from the `page` breakdown rows whose path starts with
 * it (hour and day rows only, so the edges must be on whole hours). Pages past a bucket's top-K
 * are kept as `(other)` and cannot be matched: a prefix over very many distinct pages reads low.
 */
export async function readSeries(deps: ReadDeps, trackingId: string, edges: readonly number[], metrics: readonly Metric[], pagePrefix?: string): Promise<MetricValues[]> {
  const spans = planReads(edges);
  if (pagePrefix && spans.some((s) => s.granularity === 'minute')) throw new Error(`page-filtered range ${edges[0]}..${edges.at(-1)} is not on whole hours`);
  const parts = await Promise.all(spans.map((s) => pagePrefix
    ? deps.rollups.readBreakdown(trackingId, s.granularity, s.from, s.to, 'page').then((rows) => rows.filter((r) => r.value.startsWith(pagePrefix)))
    : deps.rollups.readTotals(trackingId, s.granularity, s.from, s.to)));
  const buckets: Accumulator[] = Array.from({ length: edges.length - 1 }, emptyAccumulator);
  for (const rows of parts) {
    for (const row of rows) {
      const i = bucketIndex(edges, row.start);
      // A store returning rows outside what was asked is a store bug; ignoring them keeps numbers right.
      if (i >= 0) addRow(buckets[i], row);
    }
  }
  return buckets.map((acc) => deriveMetrics(acc, metrics, deps.estimate));
}

export interface BreakdownEntry {
  value: string;
  /** Always computed: breakdowns sort by it. */
  visitors: number;
  metrics: MetricValues;
}

/**
 * Breakdown of [from, to) by one dimension, merged over buckets, sorted by visitors (desc) then
 * value (asc) so pages are stable. Breakdowns exist on hour and day rows only, so the range must
 * be on whole hours (the service resolves breakdown ranges at hour resolution).
 */
export async function readBreakdown(
  deps: ReadDeps, trackingId: string, from: number, to: number, dimension: Dimension, metrics: readonly Metric[], pagePrefix?: string,
): Promise<BreakdownEntry[]> {
  const spans = planReads([from, to]);
  if (spans.some((s) => s.granularity === 'minute')) throw new Error(`breakdown range ${from}..${to} is not on whole hours`);
  const parts = await Promise.all(spans.map((s) => deps.rollups.readBreakdown(trackingId, s.granularity, s.from, s.to, dimension)));
  const byValue = new Map<string, Accumulator>();
  for (const rows of parts) {
    for (const row of rows) {
      if (pagePrefix && !row.value.startsWith(pagePrefix)) continue;
      let acc = byValue.get(row.value);
      if (!acc) byValue.set(row.value, (acc = emptyAccumulator()));
      addRow(acc, row);
    }
  }
  const entries: BreakdownEntry[] = [];
  for (const [value, acc] of byValue) {
    const visitors = acc.sketches.length === 0 ? 0 : Math.round(deps.estimate(acc.sketches));
    entries.push({ value, visitors, metrics: deriveMetrics(acc, metrics, () => visitors) });
  }
  return entries.sort((a, b) => b.visitors - a.visitors || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/**
 * Freshness without the aggregator's in-process figure: the start of the newest minute bucket
 * of the last `lookbackMs` that has data, or undefined. (Events are late by at most a few
 * seconds, so the newest minute bucket is where the newest event is.)
 */
export async function newestMinuteBucket(rollups: RollupStore, trackingId: string, now: number, lookbackMs = 3 * 3_600_000): Promise<number | undefined> {
  const to = Math.floor(now / 60_000) * 60_000 + 60_000;
  const rows = await rollups.readTotals(trackingId, 'minute', to - lookbackMs, to);
  const withData = rows.filter((r) => r.pageviews + r.events + r.visits > 0);
  return withData.length ? Math.max(...withData.map((r) => r.start)) : undefined;
}
