/**
 * A builder of consistent rollups: the same hits summed into minute, hour and day buckets, as the
 * aggregator would, so tests can check that mixed-granularity reads agree.
 */
import { Hll } from '../../core/sketch/hll.ts';
import { emptyCounters, type BreakdownRow, type BucketKey, type Dimension, type RollupRow, type StoredBucket } from '../../core/rollup/model.ts';
import { bucketStart, GRANULARITIES, type Granularity } from '../../core/time.ts';

/** One visit in test data: a visitor's session, counted in the bucket of `ts`. */
export interface Hit {
  ts: number;
  visitor: string;
  pageviews?: number;
  events?: number;
  bounce?: boolean;
  durationMs?: number;
  conversions?: number;
  revenue?: Record<string, number>;
  dims?: Partial<Record<Dimension, string>>;
}

interface MutableRow {
  counters: ReturnType<typeof emptyCounters>;
  hll: Hll;
}

/** Minute, hour and day buckets holding `hits`; minute buckets carry totals only, like the real ones. */
export function bucketsFromHits(trackingId: string, hits: readonly Hit[], granularities: readonly Granularity[] = GRANULARITIES): StoredBucket[] {
  const buckets = new Map<string, { key: BucketKey; totals: MutableRow; breakdowns: Map<string, MutableRow> }>();
  for (const hit of hits) {
    for (const granularity of granularities) {
      const start = bucketStart(hit.ts, granularity);
      const id = `${granularity}|${start}`;
      let b = buckets.get(id);
      if (!b) buckets.set(id, (b = { key: { trackingId, granularity, start }, totals: newRow(), breakdowns: new Map() }));
      addHit(b.totals, hit);
      if (granularity === 'minute') continue;
      for (const [dim, value] of Object.entries(hit.dims ?? {})) {
        const k = `${dim}\u0000${value}`;
        let r = b.breakdowns.get(k);
        if (!r) b.breakdowns.set(k, (r = newRow()));
        addHit(r, hit);
      }
    }
  }
  return [...buckets.values()].map((b) => ({
    ...b.key,
    totals: toRow(b.totals),
    breakdowns: [...b.breakdowns].map(([k, r]): BreakdownRow => {
      const [dimension, value] = k.split('\u0000') as [Dimension, string];
      return { ...toRow(r), dimension, value };
    }),
    logicVersion: 1,
  }));
}

function newRow(): MutableRow {
  return { counters: emptyCounters(), hll: Hll.create() };
}

function addHit(r: MutableRow, hit: Hit): void {
  const c = r.counters;
  c.pageviews += hit.pageviews ?? 1;
  c.events += hit.events ?? 0;
  c.visits += 1;
  c.bounces += hit.bounce === false ? 0 : 1;
  c.durationMs += hit.durationMs ?? 0;
  c.conversions += hit.conversions ?? 0;
  for (const [cur, v] of Object.entries(hit.revenue ?? {})) c.revenue[cur] = (c.revenue[cur] ?? 0) + v;
  r.hll.add(hit.visitor);
}

function toRow(r: MutableRow): RollupRow {
  return { ...r.counters, revenue: { ...r.counters.revenue }, visitors: r.hll.toBytes() };
}
