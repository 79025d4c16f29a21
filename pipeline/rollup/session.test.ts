import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { EnrichedEvent } from '../../core/event.ts';
import type { Dimension, StoredBucket } from '../../core/rollup/model.ts';
import { HOUR_MS, MINUTE_MS, type Granularity } from '../../core/time.ts';
import { visitorCount } from '../../core/rollup/counters.ts';
import { NONE } from '../../core/rollup/labels.ts';
import { joinedVisits, startSession, extendSession } from './session.ts';
import { computeRollups, RollupState } from './state.ts';
import { BASE_TS, makeEvent } from '../../tests/support/events.ts';

const T = BASE_TS; // 22:00 UTC
const MIN30 = 30 * MINUTE_MS;

function bucket(buckets: StoredBucket[], granularity: Granularity, start: number, trackingId = 'site-a'): StoredBucket | undefined {
  return buckets.find((b) => b.trackingId === trackingId && b.granularity === granularity && b.start === start);
}

function rows(b: StoredBucket | undefined, dimension: Dimension): Record<string, { visits: number; bounces: number; durationMs: number; pageviews: number }> {
  const out: Record<string, { visits: number; bounces: number; durationMs: number; pageviews: number }> = {};
  for (const r of b?.breakdowns ?? []) {
    if (r.dimension === dimension) out[r.value] = { visits: r.visits, bounces: r.bounces, durationMs: r.durationMs, pageviews: r.pageviews };
  }
  return out;
}

function visitRows(b: StoredBucket | undefined, dimension: Dimension): Record<string, [number, number, number]> {
  const out: Record<string, [number, number, number]> = {};
  for (const [value, r] of Object.entries(rows(b, dimension))) if (r.visits !== 0) out[value] = [r.visits, r.bounces, r.durationMs];
  return out;
}

function totalVisits(events: EnrichedEvent[]): number {
  return computeRollups(events).buckets.filter((b) => b.granularity === 'day').reduce((s, b) => s + b.totals.visits, 0);
}

describe('sessionization edges', () => {
  test('a gap of exactly the timeout continues the visit; one ms more starts a new one', () => {
    const a = makeEvent({ ts: T });
    assert.equal(totalVisits([a, makeEvent({ ts: T + MIN30 })]), 1);
    assert.equal(totalVisits([a, makeEvent({ ts: T + MIN30 + 1 })]), 2);
    // The same boundary holds backwards (an earlier event exactly timeout before the start).
    assert.equal(totalVisits([a, makeEvent({ ts: T - MIN30 })]), 1);
    assert.deepEqual(joinedVisits([startSession(a)], T - MIN30 - 1, MIN30), { from: 0, to: 0 });
    assert.deepEqual(joinedVisits([startSession(a)], T - MIN30, MIN30), { from: 0, to: 1 });
  });

  test('a late event before the start extends it and moves the entry page', () => {
    const { buckets, sessions } = computeRollups([
      makeEvent({ ts: T + 20 * MINUTE_MS, path: '/b' }),
      makeEvent({ ts: T + 5 * MINUTE_MS, path: '/a' }),
    ]);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].start, T + 5 * MINUTE_MS);
    assert.equal(sessions[0].entryPage, '/a');
    assert.equal(sessions[0].exitPage, '/b');
    const hour = bucket(buckets, 'hour', T);
    assert.deepEqual(rows(hour, 'entry_page'), {
      '/a': { visits: 1, bounces: 0, durationMs: 15 * MINUTE_MS, pageviews: 0 },
      // The retracted value keeps its (zero) row: its slot is never freed.
      '/b': { visits: 0, bounces: 0, durationMs: 0, pageviews: 0 },
    });
    assert.deepEqual(rows(hour, 'exit_page'), { '/b': { visits: 1, bounces: 0, durationMs: 15 * MINUTE_MS, pageviews: 0 } });
    // The visit moved minute buckets: the old start minute keeps a zero visit count.
    assert.equal(bucket(buckets, 'minute', T + 20 * MINUTE_MS)!.totals.visits, 0);
    assert.equal(bucket(buckets, 'minute', T + 5 * MINUTE_MS)!.totals.visits, 1);
  });

  test('a late event moving the start across an hour and a day boundary moves the visit', () => {
    const midnight = T + 2 * HOUR_MS;
    const { buckets } = computeRollups([
      makeEvent({ ts: midnight + 10 * MINUTE_MS, path: '/late-start' }),
      makeEvent({ ts: midnight - 10 * MINUTE_MS, path: '/real-start' }),
    ]);
    assert.equal(bucket(buckets, 'day', midnight)!.totals.visits, 0);
    assert.equal(bucket(buckets, 'day', midnight - 24 * HOUR_MS)!.totals.visits, 1);
    assert.equal(bucket(buckets, 'day', midnight - 24 * HOUR_MS)!.totals.durationMs, 20 * MINUTE_MS);
    assert.equal(bucket(buckets, 'hour', midnight)!.totals.visits, 0);
    assert.equal(bucket(buckets, 'hour', midnight - HOUR_MS)!.totals.visits, 1);
    // Each pageview still counts in its own bucket.
    assert.equal(bucket(buckets, 'day', midnight)!.totals.pageviews, 1);
    assert.equal(bucket(buckets, 'day', midnight - 24 * HOUR_MS)!.totals.pageviews, 1);
  });

  test('bounce becomes non-bounce: the bounce is retracted and the duration grows', () => {
    const state = new RollupState();
    state.apply([makeEvent({ ts: T + MINUTE_MS, path: '/x' })]);
    let hour = bucket(state.takeDirty().buckets, 'hour', T)!;
    assert.deepEqual([hour.totals.visits, hour.totals.bounces, hour.totals.durationMs], [1, 1, 0]);
    assert.deepEqual(rows(hour, 'entry_page')['/x'], { visits: 1, bounces: 1, durationMs: 0, pageviews: 0 });

    state.apply([makeEvent({ ts: T + 4 * MINUTE_MS, type: 'event', name: 'signup', path: '/y' })]);
    hour = bucket(state.takeDirty().buckets, 'hour', T)!;
    assert.deepEqual([hour.totals.visits, hour.totals.bounces, hour.totals.durationMs], [1, 0, 3 * MINUTE_MS]);
    assert.deepEqual(rows(hour, 'entry_page')['/x'], { visits: 1, bounces: 0, durationMs: 3 * MINUTE_MS, pageviews: 0 });
    // The exit page moved from /x to /y.
    assert.deepEqual(rows(hour, 'exit_page'), {
      '/x': { visits: 0, bounces: 0, durationMs: 0, pageviews: 0 },
      '/y': { visits: 1, bounces: 0, durationMs: 3 * MINUTE_MS, pageviews: 0 },
    });
  });

  test('a late event from long ago is an earlier visit of its own, kept beside the latest', () => {
    const now = makeEvent({ ts: T + 90 * MINUTE_MS, path: '/now' });
    const old = makeEvent({ ts: T, path: '/old' });
    const { buckets, sessions } = computeRollups([now, old]);
    assert.deepEqual(sessions.map((s) => s.entryPage), ['/old', '/now']);
    const hour = bucket(buckets, 'hour', T)!;
    assert.deepEqual([hour.totals.visits, hour.totals.bounces], [1, 1]);
    assert.deepEqual(rows(hour, 'entry_page'), { '/old': { visits: 1, bounces: 1, durationMs: 0, pageviews: 0 } });
  });

  // Regression: a second late event of that old visit counted as yet another visit.
  test('late events join the earlier visit they belong to, and one that bridges two visits merges them', () => {
    const state = new RollupState();
    state.apply([makeEvent({ ts: T + 75 * MINUTE_MS, path: '/now' }), makeEvent({ ts: T, path: '/old' })]);
    state.apply([makeEvent({ ts: T + 20 * MINUTE_MS, path: '/old-2' })]);
    let diff = state.takeDirty();
    assert.deepEqual(diff.sessions.map((s) => [s.entryPage, s.exitPage, s.pageviews]), [['/old', '/old-2', 2], ['/now', '/now', 1]]);
    let hour = bucket(diff.buckets, 'hour', T)!;
    assert.deepEqual([hour.totals.visits, hour.totals.bounces, hour.totals.durationMs], [1, 0, 20 * MINUTE_MS]);
    // 28 min after the old visit's end and 27 min before the latest visit: one visit of 4 pageviews.
    state.apply([makeEvent({ ts: T + 48 * MINUTE_MS, path: '/bridge' })]);
    diff = state.takeDirty();
    assert.deepEqual(diff.sessions.map((s) => [s.start, s.end, s.entryPage, s.exitPage, s.pageviews]), [[T, T + 75 * MINUTE_MS, '/old', '/now', 4]]);
    hour = bucket(diff.buckets, 'hour', T)!;
    assert.deepEqual([hour.totals.visits, hour.totals.bounces, hour.totals.durationMs], [1, 0, 75 * MINUTE_MS]);
    assert.deepEqual(visitRows(hour, 'exit_page'), { '/now': [1, 0, 75 * MINUTE_MS] });
    // The merged-away visit started in the next hour: its contribution there is retracted.
    assert.deepEqual([bucket(diff.buckets, 'hour', T + HOUR_MS)!.totals.visits, bucket(diff.buckets, 'minute', T + 75 * MINUTE_MS)!.totals.visits], [0, 0]);
  });

  test('visits that ended more than historyMs before the latest event are forgotten', () => {
    const { sessions } = computeRollups(
      [makeEvent({ ts: T }), makeEvent({ ts: T + 5 * HOUR_MS }), makeEvent({ ts: T + 10 * HOUR_MS })],
      { historyMs: 5 * HOUR_MS },
    );
    assert.deepEqual(sessions.map((s) => s.start), [T + 5 * HOUR_MS, T + 10 * HOUR_MS]);
  });

  test('a later event past the timeout starts a new visit; the earlier one is kept beside it', () => {
    const { sessions, buckets } = computeRollups([makeEvent({ ts: T }), makeEvent({ ts: T + 2 * HOUR_MS, path: '/next' })]);
    assert.deepEqual(sessions.map((s) => s.entryPage), ['/', '/next']);
    assert.equal(buckets.filter((b) => b.granularity === 'hour').reduce((s, b) => s + b.totals.visits, 0), 2);
  });

  test('equal timestamps: first/last event are decided by eventId, not arrival order', () => {
    const a = makeEvent({ eventId: 'a', ts: T, path: '/a', source: 'a.example' });
    const b = makeEvent({ eventId: 'b', ts: T, path: '/b', source: 'b.example' });
    const ab = computeRollups([a, b]);
    const ba = computeRollups([b, a]);
    assert.deepEqual(ab.sessions, ba.sessions);
    assert.equal(ab.sessions[0].entryPage, '/a');
    assert.equal(ab.sessions[0].exitPage, '/b');
    assert.equal(ab.sessions[0].source, 'a.example');
    // Visits land on the same values; arrival order only leaves zero rows behind (slots are kept).
    for (const dim of ['entry_page', 'exit_page', 'source'] as const) {
      assert.deepEqual(visitRows(bucket(ab.buckets, 'hour', T), dim), visitRows(bucket(ba.buckets, 'hour', T), dim), dim);
    }
  });

  test('session state depends on the set of events, not their order', () => {
    const evs = [0, 7, 3, 12, 5].map((m, i) => makeEvent({ eventId: `e${i}`, ts: T + m * MINUTE_MS, path: `/p${i}` }));
    const forward = evs.slice(1).reduce(extendSession, startSession(evs[0]));
    const reversed = [...evs].reverse();
    const backward = reversed.slice(1).reduce(extendSession, startSession(reversed[0]));
    assert.deepEqual(forward, backward);
    assert.deepEqual([forward.entryPage, forward.exitPage, forward.pageviews], ['/p0', '/p3', 5]);
  });

  test('session-level dimensions come from the first event and move with it', () => {
    const { buckets } = computeRollups([
      makeEvent({ ts: T + 10 * MINUTE_MS, source: 'news.example', utmCampaign: 'spring' }),
      makeEvent({ ts: T + 5 * MINUTE_MS, source: '', utmCampaign: '' }),
    ]);
    const hour = bucket(buckets, 'hour', T)!;
    assert.equal(rows(hour, 'source')[NONE].visits, 1);
    assert.equal(rows(hour, 'source')['news.example'].visits, 0);
    assert.equal(rows(hour, 'utm_campaign')[NONE].visits, 1);
    // Pageviews stay with the source known when they were counted (sketches cannot be retracted).
    assert.equal(rows(hour, 'source')['news.example'].pageviews, 1);
    assert.equal(rows(hour, 'source')[NONE].pageviews, 1);
  });
});

describe('event contributions', () => {
  test('revenue in hundredths per currency, conversions, event rows; minute buckets have totals only', () => {
    const { buckets } = computeRollups([
      makeEvent({ ts: T, type: 'event', name: 'purchase', revenue: { amount: 12.34, currency: 'EUR' } }),
      makeEvent({ ts: T + 1, type: 'event', name: 'purchase', revenue: { amount: 1500, currency: 'JPY' } }),
      makeEvent({ ts: T + 2, type: 'event', name: 'signup', visitorId: 'visitor-2' }),
      // Revenue on a pageview is ignored: conversions are custom events.
      makeEvent({ ts: T + 3, revenue: { amount: 5, currency: 'EUR' } }),
    ]);
    const hour = bucket(buckets, 'hour', T)!;
    assert.deepEqual(
      [hour.totals.events, hour.totals.pageviews, hour.totals.conversions, hour.totals.revenue],
      [3, 1, 2, { EUR: 1234, JPY: 150000 }],
    );
    const purchase = hour.breakdowns.find((r) => r.dimension === 'event' && r.value === 'purchase')!;
    assert.deepEqual([purchase.events, purchase.conversions, purchase.revenue], [2, 2, { EUR: 1234, JPY: 150000 }]);
    assert.equal(visitorCount(purchase), 1);
    assert.equal(visitorCount(hour.totals), 2);
    const minute = bucket(buckets, 'minute', T)!;
    assert.deepEqual(minute.breakdowns, []);
    assert.equal(minute.totals.events, 3);
  });

  test('empty dimension values are labelled (none)', () => {
    const { buckets } = computeRollups([makeEvent({ ts: T, country: '', browser: '', source: '' })]);
    const hour = bucket(buckets, 'hour', T)!;
    for (const dim of ['source', 'utm_source', 'utm_medium', 'utm_campaign', 'country', 'browser'] as const) {
      assert.deepEqual(Object.keys(rows(hour, dim)), [NONE], dim);
    }
  });

  test('breakdown rows are sorted by dimension then value', () => {
    const { buckets } = computeRollups([makeEvent({ ts: T, path: '/z' }), makeEvent({ ts: T + 1, path: '/a', visitorId: 'v2' })]);
    const hour = bucket(buckets, 'hour', T)!;
    const pages = hour.breakdowns.filter((r) => r.dimension === 'page').map((r) => r.value);
    assert.deepEqual(pages, ['/a', '/z']);
    assert.equal(hour.breakdowns[0].dimension, 'page');
  });
});

describe('working state bookkeeping', () => {
  test('keys to load: sessions not in memory, then event buckets and current session start buckets', () => {
    const state = new RollupState();
    const later = makeEvent({ ts: T + 2 * HOUR_MS + 5 * MINUTE_MS });
    assert.deepEqual(state.sessionKeysFor([later, later]), [{ trackingId: 'site-a', visitorId: 'visitor-1' }]);
    state.loadSessions([{ ...startSession(makeEvent({ ts: T + 2 * HOUR_MS - 10 * MINUTE_MS })) }]);
    assert.deepEqual(state.sessionKeysFor([later]), []);
    const keys = state.bucketKeysFor([later]).map((k) => `${k.granularity}@${(k.start - T) / MINUTE_MS}`);
    assert.deepEqual(keys, ['minute@110', 'minute@125', 'hour@60', 'hour@120', 'day@-1320', 'day@120']);
  });

  test('eviction keeps dirty entries and drops clean ones', () => {
    const state = new RollupState();
    state.apply([makeEvent({ ts: T })]);
    assert.equal(state.evictBucketsBefore(Infinity), 0);
    assert.equal(state.evictSessionsEndedBefore(Infinity), 0);
    state.takeDirty();
    assert.equal(state.evictBucketsBefore(T + HOUR_MS), 2); // the minute and the hour, not the day
    assert.equal(state.evictSessionsEndedBefore(T + 1), 1);
    assert.deepEqual(state.size(), { buckets: 1, sessions: 0, dirtyBuckets: 0, dirtySessions: 0 });
  });

  test('evictBefore evicts both at one horizon; the aggregator aliases match the spec names', () => {
    const state = new RollupState();
    const e = makeEvent({ ts: T });
    assert.deepEqual(state.missingSessionKeys([e]), state.sessionKeysFor([e]));
    assert.deepEqual(state.missingBucketKeys([e]), state.bucketKeysFor([e]));
    state.apply([e]);
    state.takeDirty();
    assert.deepEqual(state.evictBefore(T + 3 * 24 * HOUR_MS), { buckets: 3, sessions: 1 });
  });

  test('loading never overwrites what memory already holds', () => {
    const state = new RollupState();
    state.apply([makeEvent({ ts: T })]);
    const { buckets, sessions } = state.takeDirty();
    state.apply([makeEvent({ ts: T + MINUTE_MS })]);
    state.loadBuckets(buckets); // stale copies from before the second event
    state.loadSessions(sessions);
    const after = state.takeDirty();
    assert.equal(bucket(after.buckets, 'hour', T)!.totals.pageviews, 2);
    assert.equal(after.sessions[0].pageviews, 2);
  });
});
