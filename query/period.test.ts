import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HOUR_MS, MINUTE_MS } from '../core/time.ts';
import { bucketEdges, defaultInterval, previousRange, resolveRange, type PeriodSpec } from './period.ts';
import { canonicalTimeZone, formatInZone, offsetAt, parseDateTime, parseLocalDate, startOfLocalDay } from './tz.ts';

const iso = (t: number) => new Date(t).toISOString();
const d = (s: string) => parseLocalDate(s)!;
const BERLIN = 'Europe/Berlin';

describe('time zones', () => {
  test('canonical names, unknown zones', () => {
    assert.equal(canonicalTimeZone('europe/berlin'), 'Europe/Berlin');
    assert.equal(canonicalTimeZone('UTC'), 'UTC');
    assert.equal(canonicalTimeZone('Mars/Olympus'), undefined);
    assert.equal(canonicalTimeZone(''), undefined);
  });

  test('offsets and ISO labels with the offset of the instant', () => {
    assert.equal(offsetAt(BERLIN, Date.UTC(2025, 0, 1)), HOUR_MS);
    assert.equal(offsetAt(BERLIN, Date.UTC(2025, 6, 1)), 2 * HOUR_MS);
    assert.equal(formatInZone(BERLIN, Date.UTC(2025, 2, 30, 1)), '2025-03-30T03:00:00+02:00');
    assert.equal(formatInZone('UTC', Date.UTC(2025, 2, 30, 1)), '2025-03-30T01:00:00+00:00');
    assert.equal(formatInZone('Asia/Kolkata', Date.UTC(2025, 0, 1)), '2025-01-01T05:30:00+05:30');
    assert.equal(formatInZone('America/New_York', Date.UTC(2025, 0, 1)), '2024-12-31T19:00:00-05:00');
  });

  test('local midnight, including days a DST change skips or repeats', () => {
    assert.equal(iso(startOfLocalDay(BERLIN, d('2025-03-30'))), '2025-03-29T23:00:00.000Z');
    assert.equal(iso(startOfLocalDay(BERLIN, d('2025-10-26'))), '2025-10-25T22:00:00.000Z');
    // Santiago springs forward at midnight: the day starts at 01:00 local.
    assert.equal(formatInZone('America/Santiago', startOfLocalDay('America/Santiago', d('2024-09-08'))), '2024-09-08T01:00:00-03:00');
    // Havana falls back at 01:00 to midnight: midnight happens twice, the day starts at the first.
    assert.equal(iso(startOfLocalDay('America/Havana', d('2024-11-03'))), '2024-11-03T04:00:00.000Z');
  });

  test('dates and datetimes: impossible ones are rejected, no offset means local', () => {
    assert.equal(parseLocalDate('2025-02-30'), undefined);
    assert.equal(parseLocalDate('2024-02-29')?.day, 29);
    assert.equal(parseLocalDate('2025-1-01'), undefined);
    assert.equal(parseDateTime('2025-03-01T10:00:00Z', BERLIN), Date.UTC(2025, 2, 1, 10));
    assert.equal(parseDateTime('2025-03-01T10:00:00+02:00', 'UTC'), Date.UTC(2025, 2, 1, 8));
    assert.equal(parseDateTime('2025-03-01T10:00', BERLIN), Date.UTC(2025, 2, 1, 9));
    assert.equal(parseDateTime('2025-07-01', BERLIN), Date.UTC(2025, 5, 30, 22));
    assert.equal(parseDateTime('2025-03-01T25:00:00Z', BERLIN), undefined);
    assert.equal(parseDateTime('yesterday', BERLIN), undefined);
  });
});

describe('periods -> ranges', () => {
  const now = Date.UTC(2025, 2, 30, 12, 34, 56); // Sunday 30 March 2025, Berlin's spring-forward day
  const range = (spec: PeriodSpec, tz = BERLIN, at = now) => {
    const r = resolveRange(spec, tz, at, 'hour');
    return [iso(r.from), iso(r.to), (r.to - r.from) / HOUR_MS] as const;
  };

  test('day: today in the zone; a DST day is 23 or 25 hours', () => {
    assert.deepEqual(range({ kind: 'days', count: 1, end: 'today' }), ['2025-03-29T23:00:00.000Z', '2025-03-30T22:00:00.000Z', 23]);
    assert.deepEqual(range({ kind: 'days', count: 1, end: d('2025-10-26') }), ['2025-10-25T22:00:00.000Z', '2025-10-26T23:00:00.000Z', 25]);
    assert.deepEqual(range({ kind: 'days', count: 1, end: 'today' }, 'UTC'), ['2025-03-30T00:00:00.000Z', '2025-03-31T00:00:00.000Z', 24]);
    // Just before midnight UTC it is already the next day in Berlin.
    assert.equal(range({ kind: 'days', count: 1, end: 'today' }, BERLIN, Date.UTC(2025, 0, 1, 23, 30))[0], '2025-01-01T23:00:00.000Z');
  });

  test('7d and 30d end with the anchor day, inclusive', () => {
    assert.deepEqual(range({ kind: 'days', count: 7, end: 'today' }), ['2025-03-23T23:00:00.000Z', '2025-03-30T22:00:00.000Z', 7 * 24 - 1]);
    assert.deepEqual(range({ kind: 'days', count: 30, end: d('2025-01-15') }, 'UTC'), ['2024-12-17T00:00:00.000Z', '2025-01-16T00:00:00.000Z', 720]);
  });

  test('month, 6mo, 12mo are calendar months in the zone', () => {
    assert.deepEqual(range({ kind: 'months', count: 1, anchor: d('2024-02-10') }), ['2024-01-31T23:00:00.000Z', '2024-02-29T23:00:00.000Z', 29 * 24]);
    assert.deepEqual(range({ kind: 'months', count: 1, anchor: 'today' }), ['2025-02-28T23:00:00.000Z', '2025-03-31T22:00:00.000Z', 31 * 24 - 1]);
    assert.deepEqual(range({ kind: 'months', count: 6, anchor: 'today' }).slice(0, 2), ['2024-09-30T22:00:00.000Z', '2025-03-31T22:00:00.000Z']);
    // Crossing a year boundary.
    assert.deepEqual(range({ kind: 'months', count: 12, anchor: d('2025-01-31') }, 'UTC').slice(0, 2), ['2024-02-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z']);
    const r = resolveRange({ kind: 'months', count: 1, anchor: d('2024-02-10') }, BERLIN, now, 'hour');
    assert.deepEqual(r.days, { start: d('2024-02-01'), count: 29 });
  });

  test('custom: first to last day inclusive', () => {
    assert.deepEqual(range({ kind: 'custom', start: d('2025-03-29'), end: d('2025-03-30') }), ['2025-03-28T23:00:00.000Z', '2025-03-30T22:00:00.000Z', 47]);
    assert.deepEqual(range({ kind: 'custom', start: d('2025-03-01'), end: d('2025-03-01') }, 'UTC').slice(2), [24]);
  });

  test('realtime: the last 30 minutes including the current minute', () => {
    const r = resolveRange({ kind: 'realtime' }, BERLIN, now, 'minute');
    assert.equal(iso(r.to), '2025-03-30T12:35:00.000Z');
    assert.equal(r.to - r.from, 30 * MINUTE_MS);
  });

  test('explicit instants: floored and ceiled to the resolution', () => {
    const spec: PeriodSpec = { kind: 'instants', from: Date.UTC(2025, 0, 1, 10, 15), to: Date.UTC(2025, 0, 1, 12, 5) };
    assert.deepEqual(range(spec).slice(0, 2), ['2025-01-01T10:00:00.000Z', '2025-01-01T13:00:00.000Z']);
    const m = resolveRange(spec, BERLIN, now, 'minute');
    assert.deepEqual([iso(m.from), iso(m.to)], ['2025-01-01T10:15:00.000Z', '2025-01-01T12:05:00.000Z']);
  });

  test('half-hour zones: day edges are floored to the UTC hour, consecutive days still tile', () => {
    const a = resolveRange({ kind: 'days', count: 1, end: d('2025-01-10') }, 'Asia/Kolkata', now, 'hour');
    const b = resolveRange({ kind: 'days', count: 1, end: d('2025-01-11') }, 'Asia/Kolkata', now, 'hour');
    assert.deepEqual([iso(a.from), iso(a.to)], ['2025-01-09T18:00:00.000Z', '2025-01-10T18:00:00.000Z']);
    assert.equal(b.from, a.to);
  });
});

describe('previous period', () => {
  test('day-based ranges move back by as many local days', () => {
    const dst = resolveRange({ kind: 'days', count: 1, end: d('2025-03-30') }, BERLIN, 0, 'hour');
    const prev = previousRange(dst, BERLIN, 'hour');
    assert.deepEqual([iso(prev.from), iso(prev.to)], ['2025-03-28T23:00:00.000Z', '2025-03-29T23:00:00.000Z']);
    assert.equal(prev.to, dst.from);
    const march = resolveRange({ kind: 'months', count: 1, anchor: d('2025-03-05') }, 'UTC', 0, 'hour');
    const before = previousRange(march, 'UTC', 'hour');
    assert.deepEqual([iso(before.from), iso(before.to)], ['2025-01-29T00:00:00.000Z', '2025-03-01T00:00:00.000Z']);
  });

  test('instant ranges move back by their length', () => {
    const r = resolveRange({ kind: 'realtime' }, 'UTC', Date.UTC(2025, 0, 1, 12, 0, 30), 'minute');
    const p = previousRange(r, 'UTC', 'minute');
    assert.deepEqual([p.to, p.to - p.from], [r.from, 30 * MINUTE_MS]);
  });
});

describe('timeseries buckets', () => {
  const labels = (edges: number[], tz: string) => edges.slice(0, -1).map((t) => formatInZone(tz, t));

  test('hour buckets over a 23-hour DST day', () => {
    const r = resolveRange({ kind: 'days', count: 1, end: d('2025-03-30') }, BERLIN, 0, 'hour');
    const edges = bucketEdges(r, 'hour', BERLIN, 1000)!;
    assert.equal(edges.length - 1, 23);
    assert.deepEqual(labels(edges, BERLIN).slice(0, 3), ['2025-03-30T00:00:00+01:00', '2025-03-30T01:00:00+01:00', '2025-03-30T03:00:00+02:00']);
  });

  test('day buckets start at local midnight; DST days are 23/25 hours', () => {
    const r = resolveRange({ kind: 'custom', start: d('2025-10-25'), end: d('2025-10-27') }, BERLIN, 0, 'hour');
    const edges = bucketEdges(r, 'day', BERLIN, 1000)!;
    assert.deepEqual(labels(edges, BERLIN), ['2025-10-25T00:00:00+02:00', '2025-10-26T00:00:00+02:00', '2025-10-27T00:00:00+01:00']);
    assert.deepEqual(edges.slice(1).map((t, i) => (t - edges[i]) / HOUR_MS), [24, 25, 24]);
  });

  test('month buckets are calendar months in the zone', () => {
    const r = resolveRange({ kind: 'months', count: 6, anchor: d('2025-03-15') }, BERLIN, 0, 'hour');
    const edges = bucketEdges(r, 'month', BERLIN, 1000)!;
    assert.deepEqual(labels(edges, BERLIN).map((s) => s.slice(0, 10)), ['2024-10-01', '2024-11-01', '2024-12-01', '2025-01-01', '2025-02-01', '2025-03-01']);
  });

  test('partial buckets at explicit from/to are kept', () => {
    const r = { from: Date.UTC(2025, 0, 1, 10), to: Date.UTC(2025, 0, 3, 5) };
    const edges = bucketEdges(r, 'day', 'UTC', 1000)!;
    assert.deepEqual(edges.map(iso), ['2025-01-01T10:00:00.000Z', '2025-01-02T00:00:00.000Z', '2025-01-03T00:00:00.000Z', '2025-01-03T05:00:00.000Z']);
  });

  test('minute buckets, and the bucket cap', () => {
    const r = resolveRange({ kind: 'realtime' }, 'UTC', Date.UTC(2025, 0, 1, 12), 'minute');
    assert.equal(bucketEdges(r, 'minute', 'UTC', 1000)!.length, 31);
    assert.equal(bucketEdges(r, 'minute', 'UTC', 29), undefined);
    const year = resolveRange({ kind: 'months', count: 12, anchor: d('2025-01-01') }, 'UTC', 0, 'hour');
    assert.equal(bucketEdges(year, 'hour', 'UTC', 5000), undefined);
    assert.equal(bucketEdges(year, 'day', 'UTC', 5000)!.length, 367);
  });

  test('default intervals follow Plausible', () => {
    const now = Date.UTC(2025, 0, 1);
    assert.equal(defaultInterval({ kind: 'realtime' }, 'UTC', now), 'minute');
    assert.equal(defaultInterval({ kind: 'days', count: 1, end: 'today' }, 'UTC', now), 'hour');
    assert.equal(defaultInterval({ kind: 'days', count: 30, end: 'today' }, 'UTC', now), 'day');
    assert.equal(defaultInterval({ kind: 'months', count: 1, anchor: 'today' }, 'UTC', now), 'day');
    assert.equal(defaultInterval({ kind: 'months', count: 12, anchor: 'today' }, 'UTC', now), 'month');
    assert.equal(defaultInterval({ kind: 'instants', from: now, to: now + 48 * HOUR_MS }, 'UTC', now), 'hour');
    assert.equal(defaultInterval({ kind: 'instants', from: now, to: now + 49 * HOUR_MS }, 'UTC', now), 'day');
  });
});
