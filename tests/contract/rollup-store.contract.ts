/**
 * Contract of the RollupStore port (SQLite, Cassandra). Each test uses its own tracking IDs and
 * its own partition numbers, so a shared store can hold other data.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { PartitionFencedError, type RollupStore } from '../../core/ports/index.ts';
import type { BreakdownRow, Dimension, RollupRow, SessionState, StoredBucket } from '../../core/rollup/model.ts';
import type { Granularity } from '../../core/time.ts';
import { DAY_MS, HOUR_MS } from '../../core/time.ts';
import { unique, type Harness } from './fixtures.ts';

const H0 = Date.UTC(2030, 2, 1);

function sketch(): Uint8Array {
  return new Uint8Array(randomBytes(64));
}
function row(pageviews: number, extra: Partial<RollupRow> = {}): RollupRow {
  return { pageviews, events: 1, visits: 2, bounces: 1, durationMs: 12_345, conversions: 1, revenue: { EUR: 1250, USD: 99 }, visitors: sketch(), ...extra };
}
function breakdown(dimension: Dimension, value: string, pageviews: number): BreakdownRow {
  return { ...row(pageviews), dimension, value };
}
function bucket(trackingId: string, granularity: Granularity, start: number, pageviews: number, breakdowns: BreakdownRow[] = []): StoredBucket {
  return { trackingId, granularity, start, totals: row(pageviews), breakdowns, logicVersion: 1 };
}
function session(trackingId: string, visitorId: string, start: number, end: number): SessionState {
  return {
    trackingId, visitorId, start, end,
    firstEventId: `${visitorId}-first`, lastEventId: `${visitorId}-last`,
    entryPage: '/', exitPage: '/pricing', pageviews: 3, events: 1,
    source: 'search.example', utmSource: 'news', utmMedium: 'email', utmCampaign: 'spring',
    country: 'FR', device: 'mobile', browser: 'Safari', os: 'iOS',
  };
}
/** A partition number no other test uses. */
const freshPartition = () => randomInt(1_000, 1_000_000_000);
const byKey = (a: BreakdownRow, b: BreakdownRow) => (a.dimension + '\0' + a.value < b.dimension + '\0' + b.value ? -1 : 1);
const sorted = (b: StoredBucket): StoredBucket => ({ ...b, breakdowns: [...b.breakdowns].sort(byKey) });

export function rollupStoreContract(name: string, make: () => Promise<Harness<RollupStore>>): void {
  describe(name, () => {
    let store: RollupStore;
    let harness: Harness<RollupStore>;
    before(async () => {
      harness = await make();
      store = harness.port;
    });
    after(async () => harness.cleanup());

    test('a partition that never committed has checkpoint 0', async () => {
      assert.equal(await store.checkpoint(freshPartition()), 0);
    });

    test('one commit makes buckets, sessions, seen IDs and the checkpoint visible together', async () => {
      const site = unique('commit');
      const partition = freshPartition();
      const b = bucket(site, 'hour', H0, 10, [breakdown('page', '/a', 6), breakdown('page', '/b', 4), breakdown('country', 'DE', 10)]);
      const s = session(site, 'v1', H0 + 1000, H0 + 5000);
      await store.commit({ partition, nextOffset: 42, buckets: [b], sessions: [s], seen: [{ trackingId: site, eventId: 'e1', at: H0 }] });

      assert.equal(await store.checkpoint(partition), 42);
      const [got] = await store.getBuckets([{ trackingId: site, granularity: 'hour', start: H0 }]);
      assert.deepEqual(sorted(got), sorted(b));
      assert.deepEqual(await store.getSessions([{ trackingId: site, visitorId: 'v1' }]), [s]);
      assert.deepEqual(await store.seenEventIds(site, ['e1', 'e2']), new Set(['e1']));
    });

    test('the checkpoint follows the latest commit of each partition', async () => {
      const p1 = freshPartition();
      const p2 = p1 + 1;
      await store.commit({ partition: p1, nextOffset: 10, buckets: [], sessions: [], seen: [] });
      await store.commit({ partition: p1, nextOffset: 25, buckets: [], sessions: [], seen: [] });
      await store.commit({ partition: p2, nextOffset: 3, buckets: [], sessions: [], seen: [] });
      assert.equal(await store.checkpoint(p1), 25);
      assert.equal(await store.checkpoint(p2), 3);
    });

    test('fencing: after another instance claims a partition, the old owner\'s commit is refused and leaves nothing', async (t) => {
      if (!harness.another) return t.skip('the harness cannot open a second instance');
      const other = await harness.another();
      const site = unique('fence');
      const partition = freshPartition();
      assert.equal(await store.claim(partition), 0);
      await store.commit({ partition, nextOffset: 5, buckets: [bucket(site, 'hour', H0, 1)], sessions: [], seen: [] });

      // The partition moves: the new owner claims it and sees the old owner's last commit.
      assert.equal(await other.claim(partition), 5);
      const stale = bucket(site, 'hour', H0 + HOUR_MS, 99);
      await assert.rejects(
        store.commit({ partition, nextOffset: 9, buckets: [stale], sessions: [session(site, 'zombie', H0, H0 + 1)], seen: [{ trackingId: site, eventId: 'z1', at: H0 }] }),
        (err: Error & { code?: string }) => err.code === 'partition_fenced' && err instanceof PartitionFencedError,
      );
      assert.equal(await other.checkpoint(partition), 5);
      assert.deepEqual(await other.getBuckets([{ trackingId: site, granularity: 'hour', start: H0 + HOUR_MS }]), []);
      assert.deepEqual(await other.getSessions([{ trackingId: site, visitorId: 'zombie' }]), []);
      assert.deepEqual(await other.seenEventIds(site, ['z1']), new Set());
      // Still refused later: a fenced instance does not take the partition back by itself.
      await assert.rejects(store.commit({ partition, nextOffset: 10, buckets: [], sessions: [], seen: [] }), PartitionFencedError);

      // The new owner commits on top of what the old one left.
      await other.commit({ partition, nextOffset: 12, buckets: [bucket(site, 'hour', H0 + HOUR_MS, 3)], sessions: [], seen: [] });
      assert.equal(await store.checkpoint(partition), 12);
      const [got] = await store.getBuckets([{ trackingId: site, granularity: 'hour', start: H0 + HOUR_MS }]);
      assert.equal(got.totals.pageviews, 3);

      // Claiming again (the group gave the partition back) makes the first instance the writer again.
      assert.equal(await store.claim(partition), 12);
      await store.commit({ partition, nextOffset: 13, buckets: [], sessions: [], seen: [] });
      await assert.rejects(other.commit({ partition, nextOffset: 14, buckets: [], sessions: [], seen: [] }), PartitionFencedError);
      assert.equal(await other.checkpoint(partition), 13);
    });

    test('concurrent claims: exactly one instance ends up able to commit', async (t) => {
      if (!harness.another) return t.skip('the harness cannot open a second instance');
      const other = await harness.another();
      const partition = freshPartition();
      await Promise.all([store.claim(partition), other.claim(partition)]);
      const results = await Promise.allSettled([
        store.commit({ partition, nextOffset: 1, buckets: [], sessions: [], seen: [] }),
        other.commit({ partition, nextOffset: 2, buckets: [], sessions: [], seen: [] }),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      assert.equal(await store.checkpoint(partition), winner + 1);
    });

    test('a committed bucket replaces its previous version whole', async () => {
      const site = unique('replace');
      const partition = freshPartition();
      const v1 = bucket(site, 'day', H0, 10, [breakdown('page', '/old', 7), breakdown('page', '/kept', 3), breakdown('browser', 'Firefox', 10)]);
      await store.commit({ partition, nextOffset: 1, buckets: [v1], sessions: [], seen: [] });
      const v2 = { ...bucket(site, 'day', H0, 4, [breakdown('page', '/kept', 4)]), logicVersion: 2 };
      await store.commit({ partition, nextOffset: 2, buckets: [v2], sessions: [], seen: [] });

      const [got] = await store.getBuckets([{ trackingId: site, granularity: 'day', start: H0 }]);
      assert.deepEqual(sorted(got), sorted(v2), 'totals replaced, not added; old breakdown rows gone');
      const pages = await store.readBreakdown(site, 'day', H0, H0 + DAY_MS, 'page');
      assert.deepEqual(pages.map((r) => [r.value, r.pageviews]), [['/kept', 4]]);
      assert.deepEqual(await store.readBreakdown(site, 'day', H0, H0 + DAY_MS, 'browser'), []);
      const totals = await store.readTotals(site, 'day', H0, H0 + DAY_MS);
      assert.equal(totals.length, 1);
      assert.equal(totals[0].pageviews, 4);
    });

    test('getBuckets omits keys that have no bucket', async () => {
      const site = unique('missing');
      const b = bucket(site, 'minute', H0, 1);
      await store.commit({ partition: freshPartition(), nextOffset: 1, buckets: [b], sessions: [], seen: [] });
      const got = await store.getBuckets([
        { trackingId: site, granularity: 'minute', start: H0 - 60_000 },
        { trackingId: site, granularity: 'minute', start: H0 },
        { trackingId: site, granularity: 'hour', start: H0 },
      ]);
      assert.deepEqual(got, [b]);
    });

    test('readTotals returns [from, to) of one granularity and site, ordered by start', async () => {
      const site = unique('totals');
      const other = unique('totals-other');
      const hours = [5, 0, 3, 1, 4, 2].map((h) => bucket(site, 'hour', H0 + h * HOUR_MS, 100 + h));
      const day = bucket(site, 'day', H0, 999);
      const foreign = bucket(other, 'hour', H0 + 2 * HOUR_MS, 7);
      await store.commit({ partition: freshPartition(), nextOffset: 1, buckets: [...hours, day, foreign], sessions: [], seen: [] });

      const rows = await store.readTotals(site, 'hour', H0 + HOUR_MS, H0 + 4 * HOUR_MS);
      assert.deepEqual(rows.map((r) => r.start), [1, 2, 3].map((h) => H0 + h * HOUR_MS));
      assert.deepEqual(rows.map((r) => r.pageviews), [101, 102, 103]);
      const h1 = hours.find((b) => b.start === H0 + HOUR_MS)!;
      assert.deepEqual(rows[0], { ...h1.totals, start: h1.start }, 'counters, revenue and sketch round-trip');
      assert.deepEqual((await store.readTotals(site, 'day', H0, H0 + DAY_MS)).map((r) => r.pageviews), [999]);
      assert.deepEqual(await store.readTotals(site, 'hour', H0 + 6 * HOUR_MS, H0 + 9 * HOUR_MS), []);
    });

    test('readBreakdown returns one dimension, unmerged, within [from, to)', async () => {
      const site = unique('breakdown');
      const buckets = [0, 1, 2].map((h) =>
        bucket(site, 'hour', H0 + h * HOUR_MS, 10, [breakdown('source', 'a.example', h + 1), breakdown('source', 'b.example', 1), breakdown('os', 'Linux', 10)]),
      );
      await store.commit({ partition: freshPartition(), nextOffset: 1, buckets, sessions: [], seen: [] });
      const rows = await store.readBreakdown(site, 'hour', H0 + HOUR_MS, H0 + 3 * HOUR_MS, 'source');
      assert.equal(rows.length, 4, 'one row per bucket and value');
      for (const r of rows) assert.equal(r.dimension, 'source');
      const key = (r: { start: number; value: string }) => `${(r.start - H0) / HOUR_MS}:${r.value}`;
      assert.deepEqual(rows.map(key).sort(), ['1:a.example', '1:b.example', '2:a.example', '2:b.example']);
      const b1a = buckets[1].breakdowns[0];
      assert.deepEqual(rows.find((r) => key(r) === '1:a.example'), { ...b1a, start: H0 + HOUR_MS });
    });

    test('seenEventIds answers per tracking ID', async () => {
      const site = unique('seen');
      const other = unique('seen-other');
      await store.commit({
        partition: freshPartition(), nextOffset: 1, buckets: [], sessions: [],
        seen: [{ trackingId: site, eventId: 'x1', at: H0 }, { trackingId: site, eventId: 'x2', at: H0 }, { trackingId: other, eventId: 'x3', at: H0 }],
      });
      assert.deepEqual(await store.seenEventIds(site, ['x1', 'x2', 'x3', 'x4']), new Set(['x1', 'x2']));
      assert.deepEqual(await store.seenEventIds(site, []), new Set());
      const many = Array.from({ length: 1500 }, (_, i) => `m${i}`);
      assert.deepEqual(await store.seenEventIds(site, [...many, 'x2']), new Set(['x2']), 'long lists work');
    });

    test('sessions round-trip, are replaced by later commits, and unknown keys are omitted', async () => {
      const site = unique('sessions');
      const partition = freshPartition();
      const a = session(site, 'va', H0, H0 + 10_000);
      const b = session(site, 'vb', H0, H0 + 20_000);
      await store.commit({ partition, nextOffset: 1, buckets: [], sessions: [a, b], seen: [] });
      const a2 = { ...a, end: H0 + 60_000, lastEventId: 'va-later', exitPage: '/checkout', pageviews: 5 };
      await store.commit({ partition, nextOffset: 2, buckets: [], sessions: [a2], seen: [] });
      const got = await store.getSessions([{ trackingId: site, visitorId: 'va' }, { trackingId: site, visitorId: 'nobody' }, { trackingId: site, visitorId: 'vb' }]);
      assert.deepEqual([...got].sort((x, y) => (x.visitorId < y.visitorId ? -1 : 1)), [a2, b]);
    });

    // Every visit a late event can still join is kept, not only the latest.
    test('a visitor keeps several visits: a commit replaces its whole set, reads give each visitor once, by start', async () => {
      const site = unique('visits');
      const partition = freshPartition();
      const v1 = { ...session(site, 'multi', H0, H0 + 60_000), entryPage: '/first', source: '', utmCampaign: 'with "quotes" and ünïcode' };
      const v2 = { ...session(site, 'multi', H0 + 2 * HOUR_MS, H0 + 2 * HOUR_MS + 5_000), firstEventId: 'b-first' };
      const v3 = { ...session(site, 'multi', H0 + 5 * HOUR_MS, H0 + 5 * HOUR_MS), pageviews: 1, events: 0 };
      const other = session(site, 'single', H0, H0 + 1_000);
      // Out of start order on purpose: the store orders a visitor's visits itself.
      await store.commit({ partition, nextOffset: 1, buckets: [], sessions: [v3, v1, other, v2], seen: [] });
      const keys = [{ trackingId: site, visitorId: 'multi' }, { trackingId: site, visitorId: 'multi' }, { trackingId: site, visitorId: 'single' }];
      const byVisitorThenStart = (x: SessionState, y: SessionState) => (x.visitorId < y.visitorId ? -1 : x.visitorId > y.visitorId ? 1 : x.start - y.start);
      assert.deepEqual((await store.getSessions(keys)).sort(byVisitorThenStart), [v1, v2, v3, other]);
      // A late event bridged v1 and v2: the visitor's set shrinks to two, and 'single' is untouched.
      const merged = { ...v1, end: v2.end, lastEventId: v2.lastEventId, pageviews: v1.pageviews + v2.pageviews };
      await store.commit({ partition, nextOffset: 2, buckets: [], sessions: [merged, v3], seen: [] });
      assert.deepEqual((await store.getSessions(keys)).sort(byVisitorThenStart), [merged, v3, other]);
      // Down to the latest alone (the earlier ones were forgotten).
      await store.commit({ partition, nextOffset: 3, buckets: [], sessions: [v3], seen: [] });
      assert.deepEqual(await store.getSessions(keys.slice(0, 1)), [v3]);
    });

    test('prune drops sessions that ended before `before` and seen IDs older than `seenBefore`', async () => {
      const site = unique('prune');
      // Far in the past, so this prune does not touch other tests' data.
      const T = Date.UTC(2001, 0, 1);
      await store.commit({
        partition: freshPartition(), nextOffset: 1, buckets: [],
        // 'live' has an earlier visit that ended before T: it goes with the visitor only when its latest does.
        sessions: [session(site, 'old', T - 5000, T - 1000), session(site, 'live', T - 9000, T - 8000), session(site, 'live', T - 5000, T + 1000)],
        seen: [{ trackingId: site, eventId: 'old', at: T - 1 }, { trackingId: site, eventId: 'new', at: T }],
      });
      await store.prune(T, T);
      assert.deepEqual((await store.getSessions([{ trackingId: site, visitorId: 'old' }, { trackingId: site, visitorId: 'live' }])).map((s) => [s.visitorId, s.start]), [['live', T - 9000], ['live', T - 5000]]);
      assert.deepEqual(await store.seenEventIds(site, ['old', 'new']), new Set(['new']));
    });
  });
}

// ---------------------------------------------------------------- tenant deletion (admin API)

/** Contract of RollupStore.deleteTrackingId: every bucket in the range goes, other sites stay. */
export function rollupDeletionContract(name: string, make: () => Promise<Harness<RollupStore>>): void {
  describe(name, () => {
    let store: RollupStore;
    let harness: Harness<RollupStore>;
    before(async () => {
      harness = await make();
      store = harness.port;
    });
    after(async () => harness.cleanup());

    test('deleteTrackingId removes the buckets of every granularity (and breakdowns) of that site only', async () => {
      const doomed = unique('doomed');
      const kept = unique('kept');
      const partition = freshPartition();
      const buckets = (site: string) => [
        bucket(site, 'minute', H0 + 60_000, 1, [breakdown('page', '/a', 1)]),
        bucket(site, 'hour', H0, 2, [breakdown('page', '/a', 2)]),
        bucket(site, 'day', H0 - 40 * DAY_MS, 3, [breakdown('country', 'DE', 3)]),
      ];
      await store.commit({ partition, nextOffset: 1, buckets: [...buckets(doomed), ...buckets(kept)], sessions: [session(kept, 'v1', H0, H0 + 1000)], seen: [] });
      await store.deleteTrackingId(doomed, { from: H0 - 60 * DAY_MS, to: H0 + DAY_MS });

      for (const [g, from] of [['minute', H0], ['hour', H0], ['day', H0 - 60 * DAY_MS]] as const) {
        assert.deepEqual(await store.readTotals(doomed, g, from, H0 + DAY_MS), [], `${g} totals deleted`);
        assert.equal((await store.readTotals(kept, g, from, H0 + DAY_MS)).length, 1, `${g} totals of the other site kept`);
      }
      assert.deepEqual(await store.readBreakdown(doomed, 'hour', H0, H0 + DAY_MS, 'page'), []);
      assert.equal((await store.readBreakdown(kept, 'hour', H0, H0 + DAY_MS, 'page')).length, 1);
      assert.deepEqual(await store.getBuckets([{ trackingId: doomed, granularity: 'hour', start: H0 }]), []);
      assert.equal((await store.getSessions([{ trackingId: kept, visitorId: 'v1' }])).length, 1);
    });
  });
}
