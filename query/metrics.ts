/**
 * Metric names, merging rollup rows, and the derived metrics, as the API reports them. Pure.
 *
 * Units follow Plausible's Stats API so its users read the numbers the same way:
 * bounce_rate in whole percent, visit_duration in whole seconds, views_per_visit to 2 decimals.
 * revenue is an object of ISO currency -> amount in the currency's major unit (12.5 EUR), because
 * amounts in different currencies cannot be added. (The rollups keep exact minor units.)
 */
import type { Counters, RollupRow, SketchBytes } from '../core/rollup/model.ts';
import { emptyCounters } from '../core/rollup/model.ts';
import { avgVisitDurationMs, bounceRate, viewsPerVisit } from '../core/rollup/counters.ts';
import { fromMinorUnits } from '../core/rollup/labels.ts';

export const METRICS = [
  'visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events', 'conversions', 'revenue',
] as const;
export type Metric = (typeof METRICS)[number];

export type Revenue = Record<string, number>;
export type MetricValue = number | Revenue;
export type MetricValues = Partial<Record<Metric, MetricValue>>;

/** Unique visitors of the union of sketches. */
export type EstimateUnion = (sketches: readonly SketchBytes[]) => number;

/** Counters summed and sketches collected, to be estimated once at the end. */
export interface Accumulator {
  counters: Counters;
  sketches: SketchBytes[];
}

export function emptyAccumulator(): Accumulator {
  return { counters: emptyCounters(), sketches: [] };
}

export function addRow(acc: Accumulator, row: RollupRow): void {
  const c = acc.counters;
  c.pageviews += row.pageviews;
  c.events += row.events;
  c.visits += row.visits;
  c.bounces += row.bounces;
  c.durationMs += row.durationMs;
  c.conversions += row.conversions;
  for (const [currency, amount] of Object.entries(row.revenue)) c.revenue[currency] = (c.revenue[currency] ?? 0) + amount;
  acc.sketches.push(row.visitors);
}

/** The requested metrics of an accumulator. `estimate` is only called when visitors are asked for. */
export function deriveMetrics(acc: Accumulator, metrics: readonly Metric[], estimate: EstimateUnion): MetricValues {
  const c = acc.counters;
  const out: MetricValues = {};
  for (const m of metrics) out[m] = metricValue(m, c, () => (acc.sketches.length === 0 ? 0 : Math.round(estimate(acc.sketches))));
  return out;
}

function metricValue(m: Metric, c: Counters, visitors: () => number): MetricValue {
  switch (m) {
    case 'visitors': return visitors();
    case 'visits': return c.visits;
    case 'pageviews': return c.pageviews;
    case 'events': return c.events;
    case 'conversions': return c.conversions;
    case 'revenue': return Object.fromEntries(Object.entries(c.revenue).map(([currency, minor]) => [currency, fromMinorUnits(minor)]));
    // The definitions (and "0 when there were no visits") are the pipeline's; only units are ours.
    case 'views_per_visit': return round(viewsPerVisit(c), 2);
    case 'bounce_rate': return Math.round(bounceRate(c) * 100);
    case 'visit_duration': return Math.round(avgVisitDurationMs(c) / 1000);
  }
}

/** The value of a metric when there is no data: what empty timeseries buckets are filled with. */
export function zeroMetrics(metrics: readonly Metric[]): MetricValues {
  const out: MetricValues = {};
  for (const m of metrics) out[m] = m === 'revenue' ? {} : 0;
  return out;
}

/**
 * Change against the previous period in percent, 1 decimal; null when the previous value is 0
 * (no meaningful ratio). For revenue, per currency present in either period.
 */
export function change(current: MetricValue, previous: MetricValue): number | null | Record<string, number | null> {
  if (typeof current === 'number' && typeof previous === 'number') return percentChange(current, previous);
  const cur = current as Revenue;
  const prev = previous as Revenue;
  const out: Record<string, number | null> = {};
  for (const currency of new Set([...Object.keys(cur), ...Object.keys(prev)]).values()) {
    out[currency] = percentChange(cur[currency] ?? 0, prev[currency] ?? 0);
  }
  return out;
}

export function percentChange(current: number, previous: number): number | null {
  if (previous === 0) return null;
  return round(((current - previous) / previous) * 100, 1);
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
