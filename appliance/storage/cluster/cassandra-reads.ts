/** The reads of the Cassandra RollupStore: buckets, sessions, seen IDs, and totals and breakdowns over a range. */
import type cassandra from 'cassandra-driver';
import type { RollupStore } from '../../../core/ports/index.ts';
import { DIMENSIONS, type BreakdownRow, type BucketKey, type Dimension, type StoredBucket } from '../../../core/rollup/model.ts';
import type { RollupCql } from './cassandra-cql.ts';
import { mapLimit } from '../../../core/async.ts';
import { selectAll } from './cassandra-select.ts';
import { num, periodOf, periodsIn, rollupRowFromCassandra, sessionFromCassandra, type Row } from './cassandra-rows.ts';
import { decodeBreakdownRows } from './rollup-codec.ts';
import { decodeEarlier, distinctVisitors } from '../visit-history.ts';

export type RollupReads = Pick<RollupStore, 'getBuckets' | 'getSessions' | 'seenEventIds' | 'readTotals' | 'readBreakdown'>;

/** `concurrency`: parallel requests of one read. */
export function createRollupReads(client: cassandra.Client, Q: RollupCql, concurrency: number): RollupReads {
  async function readBucket(k: BucketKey): Promise<StoredBucket | undefined> {
    const period = periodOf(k.granularity, k.start);
    const row = (await client.execute(Q.selectBucket, [k.trackingId, k.granularity, period, k.start])).first();
    if (!row) return undefined;
    const breakdowns: BreakdownRow[] = [];
    if (row.has_breakdowns) {
      const rows = await selectAll(client, Q.selectBucketBreakdowns, [k.trackingId, k.granularity, period, [...DIMENSIONS], k.start]);
      for (const r of rows) breakdowns.push(...decodeBreakdownRows(r.rows as Buffer, r.dimension as Dimension));
    }
    return { trackingId: k.trackingId, granularity: k.granularity, start: k.start, totals: rollupRowFromCassandra(row), breakdowns, logicVersion: row.logic_version as number };
  }

  return {
    async getBuckets(keys) {
      const found = await mapLimit(keys, concurrency, readBucket);
      return found.filter((b): b is StoredBucket => b !== undefined);
    },

    async getSessions(keys) {
      const found = await mapLimit(distinctVisitors(keys), concurrency, async (k) => (await client.execute(Q.selectSession, [k.trackingId, k.visitorId])).first());
      return found
        .filter((r): r is Row => r !== null && r !== undefined)
        .flatMap((r) => [...decodeEarlier(r.earlier as string | null, r.tracking_id as string, r.visitor_id as string), sessionFromCassandra(r)]);
    },

    async seenEventIds(trackingId, eventIds) {
      const unique = [...new Set(eventIds)];
      const chunks: string[][] = [];
      for (let i = 0; i < unique.length; i += 100) chunks.push(unique.slice(i, i + 100));
      const seen = new Set<string>();
      await mapLimit(chunks, Math.max(1, concurrency / 4), async (chunk) => {
        for (const r of (await client.execute(Q.selectSeen, [trackingId, chunk])).rows) seen.add(r.event_id as string);
      });
      return seen;
    },

    async readTotals(trackingId, granularity, from, to) {
      const perPeriod = await mapLimit(periodsIn(granularity, from, to), concurrency, (period) =>
        selectAll(client, Q.selectTotals, [trackingId, granularity, period, from, to]));
      return perPeriod.flat().map((r) => Object.assign(rollupRowFromCassandra(r), { start: num(r.bucket_start) }));
    },

    async readBreakdown(trackingId, granularity, from, to, dimension) {
      const perPeriod = await mapLimit(periodsIn(granularity, from, to), concurrency, (period) =>
        selectAll(client, Q.selectBreakdown, [trackingId, granularity, period, dimension, from, to]));
      const out: (BreakdownRow & { start: number })[] = [];
      for (const r of perPeriod.flat()) {
        const start = num(r.bucket_start);
        const rows = decodeBreakdownRows(r.rows as Buffer, dimension).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
        for (const row of rows) out.push(Object.assign(row, { start }));
      }
      return out;
    },
  };
}
