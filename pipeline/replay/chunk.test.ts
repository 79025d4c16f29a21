/**
 * A replayed day equals the reference: computeRollups over the whole archive, restricted to that
 * day's buckets, for event streams whose visits cross midnight, need more than one session
 * timeout of warm-up, and run on past the end of the day.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { EnrichedEvent } from '../../core/event.ts';
import type { ArchiveQuery, RawArchive, RollupStore } from '../../core/ports/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { computeRollups, type RollupOptions } from '../rollup/index.ts';
import { makeEvent } from '../../tests/support/events.ts';
import { chainStarts, countedBy, recomputeDay } from './chunk.ts';

const D0 = Date.UTC(2026, 10, 10);
const T = 30 * MINUTE_MS;
const OPTIONS: RollupOptions = { sessionTimeoutMs: T, topK: 3, logicVersion: 7 };

function byTime(a: EnrichedEvent, b: EnrichedEvent): number {
  return a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

export function memoryArchive(events: readonly EnrichedEvent[]): RawArchive {
  const sorted = [...events].sort(byTime);
  const pick = (q: ArchiveQuery) => sorted.filter((e) => q.trackingIds.includes(e.trackingId) && e.ts >= q.from && e.ts < q.to);
  return {
    insert: async () => ({ inserted: 0, duplicates: 0 }),
    async *scan(q, pageSize = 1000) {
      const all = pick(q);
      for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
    },
    count: async (q) => pick(q).length,
    deleteBefore: async () => 0,
    close: async () => {},
  };
}

function stubStore(seen: Set<string> = new Set()): RollupStore {
  return {
    checkpoint: async () => 0,
    claim: async () => 0,
    commit: async () => {},
    getBuckets: async () => [],
    getSessions: async () => [],
    seenEventIds: async (_site, ids) => new Set(ids.filter((id) => seen.has(id))),
    readTotals: async () => [],
    readBreakdown: async () => [],
    prune: async () => {},
    deleteTrackingId: async () => {},
    close: async () => {},
  };
}

const visitorArb = fc.record({
  start: fc.integer({ min: -20 * HOUR_MS, max: 2 * DAY_MS }),
  // Gaps: mostly inside a visit, sometimes a new visit; "marathon" visitors never pause long.
  marathon: fc.boolean(),
  gaps: fc.array(fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 29 * MINUTE_MS }) },
    { weight: 1, arbitrary: fc.constant(T) },
    { weight: 2, arbitrary: fc.integer({ min: T + 1, max: 6 * HOUR_MS }) },
  ), { minLength: 1, maxLength: 40 }),
  paths: fc.array(fc.constantFrom('/', '/a', '/b', '/c', '/d', '/e'), { minLength: 41, maxLength: 41 }),
  source: fc.constantFrom('', 'google.com', 'news.example', 'x.com', 'y.com'),
  revenue: fc.option(fc.nat(10_000), { freq: 3 }),
});

type GeneratedVisitor = { start: number; marathon: boolean; gaps: number[]; paths: string[]; source: string; revenue: number | null };

function eventsOf(visitors: GeneratedVisitor[]): EnrichedEvent[] {
  const out: EnrichedEvent[] = [];
  visitors.forEach((v, vi) => {
    let ts = D0 + v.start;
    const gaps = v.marathon ? Array.from({ length: 60 }, (_, i) => (20 + (i % 9)) * MINUTE_MS) : v.gaps;
    [0, ...gaps].forEach((gap, i) => {
      ts += gap;
      const custom = i % 4 === 3;
      out.push(makeEvent({
        eventId: `e-${String(vi).padStart(3, '0')}-${String(i).padStart(3, '0')}`,
        trackingId: 'site-r',
        visitorId: `v-${vi}`,
        ts,
        receivedAt: ts,
        path: v.paths[i % v.paths.length],
        source: i === 0 ? v.source : '',
        type: custom ? 'event' : 'pageview',
        name: custom ? 'Purchase' : '',
        revenue: custom && v.revenue !== null ? { amount: v.revenue / 100, currency: 'EUR' } : null,
        browser: vi % 3 === 0 ? 'Firefox' : 'Chrome',
      }));
    });
  });
  return out;
}

test('each replayed day equals computeRollups over everything, restricted to the day', async () => {
  await fc.assert(fc.asyncProperty(fc.array(visitorArb, { minLength: 1, maxLength: 12 }), async (visitors) => {
    const events = eventsOf(visitors);
    const reference = computeRollups([...events].sort(byTime), OPTIONS);
    const archive = memoryArchive(events);
    const now = D0 + 10 * DAY_MS;
    for (let day = D0 - DAY_MS; day <= D0 + 3 * DAY_MS; day += DAY_MS) {
      // The first scan's margin changes how much is read at once, never the result.
      const marginMs = [undefined, 0, 3 * DAY_MS][Math.floor(day / DAY_MS) % 3];
      const r = await recomputeDay({
        trackingId: 'site-r', day, options: OPTIONS, archive, rollups: stubStore(), now,
        counted: countedBy(stubStore(), 'site-r', now, 48 * HOUR_MS), pageSize: 7, marginMs,
      });
      const want = reference.buckets.filter((b) => b.start >= day && b.start < day + DAY_MS);
      assert.deepEqual(r.buckets, want, `buckets of ${new Date(day).toISOString()}`);
      assert.equal(r.eventsInDay, events.filter((e) => e.ts >= day && e.ts < day + DAY_MS).length);
      // Every visit that overlaps the day (several per visitor are kept) comes out of the day's recompute as it is.
      const overlapping = reference.sessions.filter((s) => s.start < day + DAY_MS && s.end >= day);
      assert.deepEqual(r.sessions, overlapping, `visits overlapping ${new Date(day).toISOString()}`);
    }
  }), { numRuns: 60 });
});

test('events the live path has not counted yet are left out (and the day is the rest)', async () => {
  const now = D0 + 10 * HOUR_MS;
  const events = [0, 1, 2, 3].map((i) => makeEvent({ eventId: `c-${i}`, trackingId: 'site-r', visitorId: `v${i}`, ts: D0 + i * HOUR_MS, receivedAt: now - 60_000 }));
  const seen = new Set(['c-0', 'c-2']);
  const r = await recomputeDay({
    trackingId: 'site-r', day: D0, options: OPTIONS, archive: memoryArchive(events), rollups: stubStore(seen), now,
    counted: countedBy(stubStore(seen), 'site-r', now, 48 * HOUR_MS),
  });
  assert.equal(r.eventsInDay, 4);
  assert.equal(r.eventsLeftToLive, 2);
  assert.deepEqual(r.buckets, computeRollups(events.filter((e) => seen.has(e.eventId)), OPTIONS).buckets);
  // Received before the dedup window: counted whether or not the seen entry is still there.
  const old = events.map((e) => ({ ...e, receivedAt: now - 50 * HOUR_MS }));
  const all = await recomputeDay({
    trackingId: 'site-r', day: D0, options: OPTIONS, archive: memoryArchive(old), rollups: stubStore(), now,
    counted: countedBy(stubStore(), 'site-r', now, 48 * HOUR_MS),
  });
  assert.equal(all.eventsLeftToLive, 0);
  assert.deepEqual(all.buckets, computeRollups(old, OPTIONS).buckets);
});

test('buckets the recompute no longer produces are written empty; old and new day figures', async () => {
  const e = makeEvent({ eventId: 'x-1', trackingId: 'site-r', ts: D0 + 5 * HOUR_MS + 7 * MINUTE_MS, receivedAt: D0 });
  const stale = computeRollups([makeEvent({ eventId: 'x-0', trackingId: 'site-r', ts: D0 + 9 * HOUR_MS, receivedAt: D0 }), e], { ...OPTIONS, logicVersion: 0 });
  const store: RollupStore = {
    ...stubStore(),
    readTotals: async (_site, g, from, to) => stale.buckets.filter((b) => b.granularity === g && b.start >= from && b.start < to).map((b) => ({ ...b.totals, start: b.start })),
  };
  const r = await recomputeDay({ trackingId: 'site-r', day: D0, options: OPTIONS, archive: memoryArchive([e]), rollups: store, now: D0 + 3 * DAY_MS, counted: async (x) => x });
  const emptied = r.buckets.filter((b) => b.totals.pageviews === 0);
  assert.deepEqual(emptied.map((b) => [b.granularity, b.start]), [['minute', D0 + 9 * HOUR_MS], ['hour', D0 + 9 * HOUR_MS]]);
  assert.ok(r.buckets.every((b) => b.logicVersion === 7));
  assert.deepEqual([r.old.pageviews, r.new.pageviews, r.old.visits, r.new.visits], [2, 1, 2, 1]);
});

test('chainStarts follows a visit back while the gaps stay within the timeout', () => {
  const at = (min: number, v = 'a') => makeEvent({ visitorId: v, ts: D0 + min * MINUTE_MS });
  const chains = chainStarts([at(-200), at(-150), at(-125), at(-100), at(-75), at(-50), at(-25), at(-300, 'b'), at(-31, 'b'), at(-40, 'c')], D0, T);
  // a: back from −25 while gaps ≤ 30 min, to −150 (−200 is 50 min before it); b and c end more than 30 min before the day.
  assert.deepEqual([...chains], [['a', D0 - 150 * MINUTE_MS]]);
});
