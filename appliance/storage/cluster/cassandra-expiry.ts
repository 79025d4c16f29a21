/**
 * What the Cassandra RollupStore removes: expired sessions and seen IDs (prune, through the
 * expiry index that every commit writes), and a deleted tenant's buckets (deleteTrackingId).
 */
import type cassandra from 'cassandra-driver';
import { HOUR_MS } from '../../../core/time.ts';
import type { RollupCql } from './cassandra-cql.ts';
import { mapLimit } from '../../../core/async.ts';
import { selectAll } from './cassandra-select.ts';
import { hourOf, num, periodsIn } from './cassandra-rows.ts';

/** Deletes the seen IDs seen before `limit` ('seen'), or the sessions that ended before it ('session'). */
export async function pruneKind(client: cassandra.Client, Q: RollupCql, concurrency: number, kind: 'seen' | 'session', limit: number): Promise<void> {
  const hours = (await selectAll(client, Q.selectExpiryHours, [kind, hourOf(limit)])).map((r) => num(r.hour));
  for (const hour of hours) {
    const whole = hour + HOUR_MS <= limit;
    const rows = await selectAll(client, Q.selectExpiry, [kind, hour]);
    if (kind === 'seen') {
      const expired = new Map<string, [string, string]>();
      for (const r of rows) {
        for (const [trackingId, eventId, at] of JSON.parse(r.items as string) as [string, string, number][]) {
          if (at < limit) expired.set(`${trackingId}\u0000${eventId}`, [trackingId, eventId]);
        }
      }
      await mapLimit([...expired.values()], concurrency, ([t, e]) => client.execute(Q.deleteSeen, [t, e]));
    } else {
      const keys = new Map<string, [string, string]>();
      for (const r of rows) {
        for (const [trackingId, visitorId] of JSON.parse(r.items as string) as [string, string][]) keys.set(`${trackingId}\u0000${visitorId}`, [trackingId, visitorId]);
      }
      await mapLimit([...keys.values()], concurrency, async ([t, v]) => {
        const s = (await client.execute(Q.selectSessionEnd, [t, v])).first();
        // The session may have been extended since it was indexed here: then it lives on (and is
        // indexed under its new end hour). The delete carries the version's own write time, so it
        // cannot remove a newer version written meanwhile.
        if (s && num(s.end_ts) < limit) await client.execute(Q.deleteSession, [s.wt, t, v]);
      });
    }
    if (whole) {
      await client.execute(Q.deleteExpiry, [kind, hour]);
      await client.execute(Q.deleteExpiryHour, [kind, hour]);
    }
  }
}

/**
 * Tenant deletion: partition deletes of every (granularity, period) in the range. Their write
 * time is now, so they shadow every bucket written before; the tracking ID is revoked first, so
 * none come after. Sessions and seen-IDs cannot be listed by tracking ID here: they expire with
 * pruning.
 */
export async function deleteTrackingIdRollups(client: cassandra.Client, Q: RollupCql, concurrency: number, trackingId: string, range: { from: number; to: number }): Promise<void> {
  const timestamp = Date.now() * 1000;
  const work = (['minute', 'hour', 'day'] as const).flatMap((g) => periodsIn(g, range.from, range.to).map((p) => [g, p] as const));
  await mapLimit(work, concurrency, async ([granularity, period]) => {
    await client.execute(Q.deleteTotalsPartition, [trackingId, granularity, period], { prepare: true, timestamp });
    await client.execute(Q.deleteBreakdownsPartition, [trackingId, granularity, period], { prepare: true, timestamp });
  });
}
