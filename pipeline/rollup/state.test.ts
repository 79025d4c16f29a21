import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { EnrichedEvent } from '../../core/event.ts';
import { OTHER, type BreakdownRow, type Dimension, type StoredBucket } from '../../core/rollup/model.ts';
import { bucketStart, GRANULARITIES, type Granularity } from '../../core/time.ts';
import { visitorCount } from '../../core/rollup/counters.ts';
import { toMinorUnits } from '../../core/rollup/labels.ts';
import { EVENT_SESSION_DIMS, SESSION_ROW_DIMS } from './session.ts';
import { computeRollups, RollupState, type RollupDiff, type RollupOptions } from './state.ts';
import { eventStream, scatteredArrivals, SMALL_SHAPE, splitAt, type StreamShape } from '../../tests/support/event-streams.ts';
import { MemoryRollupStore } from '../../tests/support/fakes/rollup-store.ts';

const TIMEOUT = 30 * 60_000;
const RUNS = 80;

/** Drives RollupState like the aggregator: per batch, load what the store has, apply, write back. */
function runBatched(
  events: readonly EnrichedEvent[],
  cuts: readonly number[],
  options: Partial<RollupOptions>,
  mode: 'fresh' | 'persistent',
  evictAfter: readonly boolean[] = [],
): RollupDiff {
  const store = new MemoryRollupStore();
  let state = new RollupState(options);
  splitAt(events, cuts).forEach((batch, i) => {
    if (mode === 'fresh') state = new RollupState(options);
    state.loadSessions(store.sessionsOf(state.sessionKeysFor(batch)));
    state.loadBuckets(store.bucketsOf(state.bucketKeysFor(batch)));
    state.apply(batch);
    store.write(state.takeDirty());
    if (evictAfter[i % Math.max(evictAfter.length, 1)]) {
      state.evictBucketsBefore(Infinity);
      state.evictSessionsEndedBefore(Infinity);
    }
  });
  return store.all();
}

const cutsArb = fc.array(fc.nat(), { maxLength: 8 });

describe('batching does not change the result', () => {
  for (const mode of ['fresh', 'persistent'] as const) {
    test(`${mode} state per batch, round-tripped through a store, equals computeRollups`, () => {
      fc.assert(
        fc.property(eventStream(), cutsArb, fc.array(fc.boolean(), { maxLength: 4 }), (events, cuts, evict) => {
          const expected = computeRollups(events, { topK: 100 });
          assert.deepEqual(runBatched(events, cuts, { topK: 100 }, mode, evict), expected);
        }),
        { numRuns: RUNS },
      );
    });
  }

  test('also with top-K overflowing (slots are assigned in log order, never freed)', () => {
    fc.assert(
      fc.property(eventStream(), cutsArb, (events, cuts) => {
        assert.deepEqual(runBatched(events, cuts, { topK: 2 }, 'fresh'), computeRollups(events, { topK: 2 }));
      }),
      { numRuns: RUNS },
    );
  });

  test('one event at a time equals all at once', () => {
    fc.assert(
      fc.property(eventStream(), (events) => {
        const cuts = events.map((_, i) => i);
        assert.deepEqual(runBatched(events, cuts, {}, 'fresh'), computeRollups(events));
      }),
      { numRuns: 30 },
    );
  });
});

// ---------------------------------------------------------------- arrival order

/**
 * What must not depend on arrival order: per bucket every totals counter and the visitor
 * sketch, the visits/bounces/duration of every session-level breakdown value (entry and exit
 * pages included), pageviews per page and events per name. Left out: rows that dropped to zero
 * (slots are never freed) and the pageviews/visitors of event rows broken down by a visit's
 * source, UTM, device…, which go with the visit's first event as known when they are counted.
 */
function orderFreeView(diff: RollupDiff): unknown[] {
  return diff.buckets.map((b) => {
    const visitRows: Record<string, [number, number, number]> = {};
    const eventRows: Record<string, [number, number, number]> = {};
    for (const r of b.breakdowns) {
      if ((SESSION_ROW_DIMS as readonly string[]).includes(r.dimension) && (r.visits !== 0 || r.bounces !== 0 || r.durationMs !== 0)) {
        visitRows[`${r.dimension} ${r.value}`] = [r.visits, r.bounces, r.durationMs];
      }
      if ((r.dimension === 'page' || r.dimension === 'event') && (r.pageviews !== 0 || r.events !== 0)) {
        eventRows[`${r.dimension} ${r.value}`] = [r.pageviews, r.events, r.conversions];
      }
    }
    return { key: `${b.trackingId} ${b.granularity} ${new Date(b.start).toISOString()}`, totals: b.totals, visitRows, eventRows };
  });
}

describe('arrival order does not change the visits', () => {
  // Regression: events sent out of ts order (offline queues, server senders, backfills) were
  // split into extra visits by the old "late" rule: +53 % to +118 % visits on real traffic.
  test('any permutation, in any batches through a store, gives computeRollups over the sorted events', () => {
    fc.assert(
      fc.property(scatteredArrivals(), cutsArb, fc.array(fc.boolean(), { maxLength: 4 }), ({ sorted, arrived }, cuts, evict) => {
        const expected = computeRollups(sorted);
        const live = runBatched(arrived, cuts, {}, 'persistent', evict);
        assert.deepEqual(orderFreeView(live), orderFreeView(expected));
        assert.deepEqual(live.sessions, expected.sessions);
        checkInvariants(sorted, expected, 100);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- invariants

interface OracleSession {
  start: number;
  end: number;
  n: number;
  trackingId: string;
}

/**
 * Minimal independent model of the session rule: counts and spans only. A visitor's visits are
 * the runs of its events in ts order with gaps of at most the timeout, whatever the log order.
 */
function oracleSessions(events: readonly EnrichedEvent[]): OracleSession[] {
  const byVisitor = new Map<string, EnrichedEvent[]>();
  for (const e of events) {
    const key = `${e.trackingId}/${e.visitorId}`;
    byVisitor.set(key, [...(byVisitor.get(key) ?? []), e]);
  }
  const all: OracleSession[] = [];
  for (const list of byVisitor.values()) {
    let cur: OracleSession | undefined;
    for (const e of [...list].sort((a, b) => a.ts - b.ts)) {
      if (cur !== undefined && e.ts <= cur.end + TIMEOUT) {
        cur.end = e.ts;
        cur.n++;
      } else {
        cur = { start: e.ts, end: e.ts, n: 1, trackingId: e.trackingId };
        all.push(cur);
      }
    }
  }
  return all;
}

function sumRows(rows: readonly BreakdownRow[], field: 'pageviews' | 'events' | 'visits' | 'bounces' | 'durationMs' | 'conversions'): number {
  return rows.reduce((s, r) => s + r[field], 0);
}

function rowsOf(b: StoredBucket, dimension: Dimension): BreakdownRow[] {
  return b.breakdowns.filter((r) => r.dimension === dimension);
}

function checkInvariants(events: readonly EnrichedEvent[], result: RollupDiff, topK: number): void {
  const pageviews = events.filter((e) => e.type === 'pageview').length;
  const custom = events.filter((e) => e.type === 'event');
  const revenue: Record<string, number> = {};
  for (const e of custom) if (e.revenue) revenue[e.revenue.currency] = (revenue[e.revenue.currency] ?? 0) + toMinorUnits(e.revenue.amount);
  const sessions = oracleSessions(events);

  for (const g of GRANULARITIES) {
    const bs = result.buckets.filter((b) => b.granularity === g);
    const sum = (f: 'pageviews' | 'events' | 'visits' | 'bounces' | 'durationMs' | 'conversions') => bs.reduce((s, b) => s + b.totals[f], 0);
    assert.equal(sum('pageviews'), pageviews, `${g} pageviews`);
    assert.equal(sum('events'), custom.length, `${g} events`);
    assert.equal(sum('conversions'), custom.filter((e) => e.revenue).length, `${g} conversions`);
    const rev: Record<string, number> = {};
    for (const b of bs) for (const [c, v] of Object.entries(b.totals.revenue)) rev[c] = (rev[c] ?? 0) + v;
    assert.deepEqual(rev, revenue, `${g} revenue`);
    // Visits, bounces and duration: per start bucket, against the independent session model.
    for (const b of bs) {
      const mine = sessions.filter((s) => s.trackingId === b.trackingId && bucketStart(s.start, g) === b.start);
      assert.equal(b.totals.visits, mine.length, `${g} visits`);
      assert.equal(b.totals.bounces, mine.filter((s) => s.n === 1).length, `${g} bounces`);
      assert.equal(b.totals.durationMs, mine.reduce((s, x) => s + x.end - x.start, 0), `${g} duration`);
    }
    assert.equal(sum('visits'), sessions.length, `${g} visits == sessions`);
    // Unique visitors per bucket: small counts, so the sketch is exact.
    for (const b of bs) {
      const seen = new Set(events.filter((e) => e.trackingId === b.trackingId && bucketStart(e.ts, g) === b.start).map((e) => e.visitorId));
      assert.equal(visitorCount(b.totals), seen.size, `${g} visitors`);
    }
  }

  for (const b of result.buckets) {
    for (const r of [b.totals, ...b.breakdowns]) {
      for (const f of ['pageviews', 'events', 'visits', 'bounces', 'durationMs', 'conversions'] as const) assert.ok(r[f] >= 0, `${f} never negative`);
      assert.ok(r.bounces <= r.visits);
    }
    if (b.granularity === 'minute') {
      assert.deepEqual(b.breakdowns, []);
      continue;
    }
    const t = b.totals;
    assert.equal(sumRows(rowsOf(b, 'page'), 'pageviews'), t.pageviews, 'page pageviews');
    assert.equal(sumRows(rowsOf(b, 'event'), 'events'), t.events, 'event events');
    assert.equal(sumRows(rowsOf(b, 'event'), 'conversions'), t.conversions, 'event conversions');
    for (const dim of EVENT_SESSION_DIMS) {
      assert.equal(sumRows(rowsOf(b, dim), 'pageviews'), t.pageviews, `${dim} pageviews`);
      assert.equal(sumRows(rowsOf(b, dim), 'events'), t.events, `${dim} events`);
    }
    for (const dim of SESSION_ROW_DIMS) {
      for (const f of ['visits', 'bounces', 'durationMs'] as const) assert.equal(sumRows(rowsOf(b, dim), f), t[f], `${dim} ${f}`);
    }
    for (const dim of new Set(b.breakdowns.map((r) => r.dimension))) {
      assert.ok(rowsOf(b, dim).filter((r) => r.value !== OTHER).length <= topK, `${dim} within top-K`);
    }
  }
}

describe('totals invariants', () => {
  test('sums over buckets and breakdowns match the events; visits match an independent session model', () => {
    fc.assert(fc.property(eventStream(), (events) => checkInvariants(events, computeRollups(events), 100)), { numRuns: RUNS });
  });

  test('in-order streams: a visit is a run of a visitor’s events with gaps ≤ 30 min', () => {
    fc.assert(
      fc.property(eventStream(), (events) => {
        const sorted = [...events].sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
        const byVisitor = new Map<string, number[]>();
        for (const e of sorted) byVisitor.set(`${e.trackingId}/${e.visitorId}`, [...(byVisitor.get(`${e.trackingId}/${e.visitorId}`) ?? []), e.ts]);
        let visits = 0;
        for (const ts of byVisitor.values()) visits += 1 + ts.slice(1).filter((t, i) => t - ts[i] > TIMEOUT).length;
        const day = computeRollups(sorted).buckets.filter((b) => b.granularity === 'day');
        assert.equal(day.reduce((s, b) => s + b.totals.visits, 0), visits);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('top-K', () => {
  const WIDE: StreamShape = {
    ...SMALL_SHAPE,
    paths: Array.from({ length: 12 }, (_, i) => `/page-${i}`),
    sources: ['', ...Array.from({ length: 8 }, (_, i) => `ref${i}.example`)],
  };

  test('past K values per bucket and dimension, OTHER absorbs the rest and sums still match', () => {
    let sawOther = false;
    fc.assert(
      fc.property(eventStream(WIDE), (events) => {
        const topK = 3;
        const result = computeRollups(events, { topK });
        checkInvariants(events, result, topK);
        for (const b of result.buckets.filter((x) => x.granularity !== 'minute')) {
          // The slotted pages are the first K distinct paths pageviewed in this bucket, in log order.
          const paths = events.filter((e) => e.type === 'pageview' && e.trackingId === b.trackingId && bucketStart(e.ts, b.granularity) === b.start).map((e) => e.path);
          const distinct = [...new Set(paths)];
          const slotted = rowsOf(b, 'page').filter((r) => r.value !== OTHER).map((r) => r.value).sort();
          assert.deepEqual(slotted, distinct.slice(0, topK).sort());
          const other = rowsOf(b, 'page').find((r) => r.value === OTHER);
          assert.equal(other?.pageviews ?? 0, paths.filter((p) => !distinct.slice(0, topK).includes(p)).length);
          if (other) sawOther = true;
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(sawOther, 'the generator produced overflowing buckets');
  });

  test('topK 0 sends everything to OTHER', () => {
    fc.assert(
      fc.property(eventStream(), (events) => {
        const result = computeRollups(events, { topK: 0 });
        checkInvariants(events, result, 0);
        for (const b of result.buckets) for (const r of b.breakdowns) assert.equal(r.value, OTHER);
      }),
      { numRuns: 20 },
    );
  });
});

test('buckets come out sorted by tracking ID, granularity, start', () => {
  fc.assert(
    fc.property(eventStream(), (events) => {
      const keys = computeRollups(events).buckets.map((b) => [b.trackingId, GRANULARITIES.indexOf(b.granularity as Granularity), b.start] as const);
      const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1] || a[2] - b[2]));
      assert.deepEqual(keys, sorted);
    }),
    { numRuns: 20 },
  );
});
