/**
 * Test support for replays: the reference (computeRollups over the whole raw archive of a site)
 * and a bucket-by-bucket comparison with what a rollup store holds.
 */
import type { EnrichedEvent } from '../../core/event.ts';
import type { EventLog, RawArchive, RollupStore } from '../../core/ports/index.ts';
import type { BreakdownRow, RollupRow, StoredBucket } from '../../core/rollup/model.ts';
import { DAY_MS, GRANULARITIES } from '../../core/time.ts';
import { computeRollups, type RollupDiff, type RollupOptions } from '../../pipeline/rollup/index.ts';

/** Every archived event of the site, in (ts, eventId) order. */
export async function archivedEvents(archive: RawArchive, trackingId: string, now = Date.now()): Promise<EnrichedEvent[]> {
  const out: EnrichedEvent[] = [];
  for await (const page of archive.scan({ trackingIds: [trackingId], from: 0, to: now + DAY_MS }, 5000)) out.push(...page);
  return out;
}

/** The reference: a fresh RollupState over the whole archive of the site, in time order. */
export async function reference(archive: RawArchive, trackingId: string, options: RollupOptions): Promise<RollupDiff> {
  return computeRollups(await archivedEvents(archive, trackingId), options);
}

/** Every bucket the store holds for the site with a start in [from, to). */
export async function storedBuckets(rollups: RollupStore, trackingId: string, from: number, to: number): Promise<StoredBucket[]> {
  const keys = [];
  for (const granularity of GRANULARITIES) {
    for (const row of await rollups.readTotals(trackingId, granularity, from, to)) keys.push({ trackingId, granularity, start: row.start });
  }
  const out: StoredBucket[] = [];
  for (let i = 0; i < keys.length; i += 500) out.push(...(await rollups.getBuckets(keys.slice(i, i + 500))));
  return out;
}

const isEmptyRow = (r: RollupRow) =>
  r.pageviews === 0 && r.events === 0 && r.visits === 0 && r.bounces === 0 && r.durationMs === 0 && r.conversions === 0 &&
  Object.values(r.revenue).every((v) => v === 0) && r.visitors.length === 0;

function rowText(r: RollupRow): string {
  const revenue = Object.entries(r.revenue).filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([r.pageviews, r.events, r.visits, r.bounces, r.durationMs, r.conversions, revenue, Buffer.from(r.visitors).toString('base64')]);
}

/** A bucket as comparable text; an empty bucket (what a replay writes for a vanished one) is ''. */
function bucketText(b: StoredBucket | undefined): string {
  if (!b) return '';
  const rows = b.breakdowns.map((r: BreakdownRow) => `${r.dimension}\u0000${r.value}\u0000${rowText(r)}`).sort();
  if (isEmptyRow(b.totals) && b.breakdowns.every(isEmptyRow)) return '';
  return [rowText(b.totals), ...rows].join('\n');
}

export interface BucketDifference {
  key: string;
  stored: string;
  reference: string;
}

/** Buckets of [from, to) that differ between the store and the reference (totals, every breakdown row, sketches). */
export function compareBuckets(stored: readonly StoredBucket[], ref: readonly StoredBucket[], from: number, to: number): BucketDifference[] {
  const key = (b: StoredBucket) => `${b.granularity} ${new Date(b.start).toISOString()}`;
  const a = new Map(stored.filter((b) => b.start >= from && b.start < to).map((b) => [key(b), b]));
  const r = new Map(ref.filter((b) => b.start >= from && b.start < to).map((b) => [key(b), b]));
  const out: BucketDifference[] = [];
  for (const k of new Set([...a.keys(), ...r.keys()])) {
    const x = bucketText(a.get(k));
    const y = bucketText(r.get(k));
    if (x !== y) out.push({ key: k, stored: x.slice(0, 300), reference: y.slice(0, 300) });
  }
  return out.sort((p, q) => (p.key < q.key ? -1 : 1));
}

/** Waits until the archiver and the aggregator have consumed everything appended so far. */
export async function waitCaughtUp(eventLog: Pick<EventLog, 'endOffsets' | 'committedOffsets'>, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [end, archived, aggregated] = await Promise.all([
      eventLog.endOffsets(), eventLog.committedOffsets('almanac-archiver'), eventLog.committedOffsets('almanac-aggregator'),
    ]);
    if (end.every((e, p) => (archived[p] ?? 0) >= e && (aggregated[p] ?? 0) >= e)) return;
    if (Date.now() > until) throw new Error(`pipeline not caught up after ${timeoutMs} ms: end ${end}, archiver ${archived}, aggregator ${aggregated}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
