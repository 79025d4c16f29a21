/**
 * The read-side check shared by the crash and fault tests: the archive holds every accepted
 * eventId exactly once, and every stored bucket (minute/hour/day totals, every breakdown row,
 * visitor sketches byte for byte) equals computeRollups over the archive, with no stored bucket
 * the reference lacks; the visits the aggregator keeps equal the reference's.
 */
import assert from 'node:assert/strict';
import type { EnrichedEvent } from '../../core/event.ts';
import type { RawArchive, RollupStore } from '../../core/ports/index.ts';
import { DAY_MS, MINUTE_MS } from '../../core/time.ts';
import { LOGIC_VERSION } from '../../pipeline/logic-version.ts';
import { computeRollups } from '../../pipeline/rollup/index.ts';
import { archivedEvents, compareBuckets, storedBuckets } from './replay-reference.ts';

export const REFERENCE_OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: LOGIC_VERSION };

export interface Verified {
  events: number;
  buckets: number;
  days: number;
  visits: number;
  pageviews: number;
  /** Custom events (type 'event') in the day buckets. */
  customEvents: number;
}

/**
 * Checks one site. `events` may be given when the caller already read the archive (one scan for
 * several sites); otherwise the site's events are read from `archive`.
 */
export async function verifyAgainstArchive(
  storage: { archive: RawArchive; rollups: RollupStore },
  trackingId: string,
  accepted: ReadonlySet<string>,
  events?: EnrichedEvent[],
): Promise<Verified> {
  const archived = events ?? await archivedEvents(storage.archive, trackingId);
  const ids = archived.map((e) => e.eventId);
  const unique = new Set(ids);
  assert.equal(unique.size, ids.length, `${trackingId}: the archive holds ${ids.length - unique.size} eventIds more than once`);
  const missing = [...accepted].filter((id) => !unique.has(id));
  assert.deepEqual(missing.slice(0, 5), [], `${trackingId}: ${missing.length} accepted eventIds are not in the archive`);
  assert.equal(ids.length, accepted.size, `${trackingId}: archived events ≠ distinct accepted eventIds`);

  const ref = computeRollups(archived, REFERENCE_OPTIONS);
  const to = Date.now() + 2 * DAY_MS;
  const stored = await storedBuckets(storage.rollups, trackingId, 0, to);
  const key = (b: { granularity: string; start: number }) => `${b.granularity} ${new Date(b.start).toISOString()}`;
  const refKeys = new Set(ref.buckets.map(key));
  const extra = stored.filter((b) => !refKeys.has(key(b))).map(key);
  assert.deepEqual(extra.slice(0, 5), [], `${trackingId}: ${extra.length} stored buckets the reference lacks`);
  const differences = compareBuckets(stored, ref.buckets, 0, to);
  if (differences.length > 0) {
    for (const d of differences.slice(0, 5)) console.log(`${trackingId} ${d.key}\n  stored:    ${d.stored.split('\n')[0]}\n  reference: ${d.reference.split('\n')[0]}`);
  }
  assert.deepEqual(differences.slice(0, 3), [], `${trackingId}: ${differences.length} buckets differ from the reference`);
  assert.equal(stored.length, ref.buckets.length);
  assert.deepEqual(new Set(stored.map((b) => b.logicVersion)), new Set([LOGIC_VERSION]));

  const sessions = await storage.rollups.getSessions(ref.sessions.map((s) => ({ trackingId, visitorId: s.visitorId })));
  // Several visits per visitor (every one a late event can still join): by visitor, then start.
  const byId = (a: { visitorId: string; start: number }, b: { visitorId: string; start: number }) => (a.visitorId < b.visitorId ? -1 : a.visitorId > b.visitorId ? 1 : a.start - b.start);
  assert.deepEqual([...sessions].sort(byId), [...ref.sessions].sort(byId), `${trackingId}: the live visits differ from the reference's`);

  const days = ref.buckets.filter((b) => b.granularity === 'day');
  return { events: ids.length, buckets: stored.length, days: days.length, visits: ref.sessions.length, pageviews: days.reduce((n, b) => n + b.totals.pageviews, 0), customEvents: days.reduce((n, b) => n + b.totals.events, 0) };
}
