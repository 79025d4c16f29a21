/**
 * Periods -> UTC ranges, the previous period, and timeseries buckets. Pure: `now` and the zone
 * are arguments.
 *
 * Ranges are half-open [from, to) in UTC ms. Rollup buckets are UTC minutes, hours and days, so a
 * range can only be read at whole-bucket edges: ranges are snapped to the read resolution
 * ('minute' for realtime and minute intervals, 'hour' otherwise). In zones with whole-hour offsets
 * local day edges are whole UTC hours and nothing is lost. In zones with a :30 or :45 offset
 * (Asia/Kolkata, Australia/Adelaide, Asia/Kathmandu...) a local day edge falls inside a UTC hour and
 * is floored to that hour: "today" in Kolkata reads 18:00-18:00 UTC instead of 18:30-18:30. Both
 * edges move the same way, so consecutive days still tile without gaps or overlap. (Minute rows
 * could make those edges exact, but minute rows carry no breakdowns and are the first rows a store
 * would expire, so hour rows keep totals and breakdowns consistent.)
 */
import { HOUR_MS, MINUTE_MS } from '../core/time.ts';
import { addDays, addMonths, daysBetween, localDateOf, startOfLocalDay, type LocalDate } from './tz.ts';

export const PERIODS = ['realtime', 'day', '7d', '30d', 'month', '6mo', '12mo', 'custom'] as const;
export type PeriodName = (typeof PERIODS)[number];

export const INTERVALS = ['minute', 'hour', 'day', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

/** How far back `realtime` reaches, and the realtime visitors endpoint. */
export const REALTIME_MS = 30 * MINUTE_MS;
export const REALTIME_VISITORS_MS = 5 * MINUTE_MS;

/** What the caller asked for, validated but not yet anchored to `now`. */
export type PeriodSpec =
  | { kind: 'realtime' }
  /** `count` local days starting at `start`, or ending today (in the zone) when `end` is 'today'. */
  | { kind: 'days'; count: number; end: LocalDate | 'today' }
  /** `count` calendar months ending with the month holding `anchor` (today when 'today'). */
  | { kind: 'months'; count: number; anchor: LocalDate | 'today' }
  | { kind: 'custom'; start: LocalDate; end: LocalDate }
  | { kind: 'instants'; from: number; to: number };

export type Resolution = 'minute' | 'hour';

export interface Range {
  from: number;
  to: number;
  /** Local calendar days the range spans, when it is made of whole local days. */
  days?: { start: LocalDate; count: number };
}

/** Anchors a spec to `now` in `tz` and snaps it to `resolution`. */
export function resolveRange(spec: PeriodSpec, tz: string, now: number, resolution: Resolution): Range {
  switch (spec.kind) {
    case 'realtime': {
      // The last 30 minutes including the minute in progress.
      const end = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      return snapInstants(end - REALTIME_MS, end, resolution);
    }
    case 'days': {
      const end = spec.end === 'today' ? localDateOf(tz, now) : spec.end;
      return daySpan(addDays(end, 1 - spec.count), spec.count, tz, resolution);
    }
    case 'months': {
      const anchor = spec.anchor === 'today' ? localDateOf(tz, now) : spec.anchor;
      const start = addMonths({ ...anchor, day: 1 }, 1 - spec.count);
      const end = addMonths({ ...anchor, day: 1 }, 1);
      return daySpan(start, daysBetween(start, end), tz, resolution);
    }
    case 'custom':
      return daySpan(spec.start, daysBetween(spec.start, spec.end) + 1, tz, resolution);
    case 'instants':
      return snapInstants(spec.from, spec.to, resolution);
  }
}

/**
 * The previous period of equal length, ending where `range` starts. Day-based ranges move back by
 * the same number of local days (so a 23-hour DST Sunday compares with the 24-hour Sunday before,
 * and "this month" with as many days before it); instant ranges by the same number of ms.
 */
export function previousRange(range: Range, tz: string, resolution: Resolution): Range {
  if (range.days) return daySpan(addDays(range.days.start, -range.days.count), range.days.count, tz, resolution);
  return { from: range.from - (range.to - range.from), to: range.from };
}

function daySpan(start: LocalDate, count: number, tz: string, resolution: Resolution): Range {
  return {
    from: snapDown(startOfLocalDay(tz, start), resolution),
    to: snapDown(startOfLocalDay(tz, addDays(start, count)), resolution),
    days: { start, count },
  };
}

function snapInstants(from: number, to: number, resolution: Resolution): Range {
  // Cover what was asked: floor the start, ceil the end.
  const size = resolution === 'minute' ? MINUTE_MS : HOUR_MS;
  return { from: snapDown(from, resolution), to: Math.ceil(to / size) * size };
}

export function snapDown(t: number, resolution: Resolution): number {
  const size = resolution === 'minute' ? MINUTE_MS : HOUR_MS;
  return Math.floor(t / size) * size;
}

/** The interval a timeseries uses when none is given: Plausible's defaults. */
export function defaultInterval(spec: PeriodSpec, tz: string, now: number): Interval {
  switch (spec.kind) {
    case 'realtime': return 'minute';
    case 'days': return spec.count === 1 ? 'hour' : 'day';
    case 'months': return spec.count === 1 ? 'day' : 'month';
    case 'custom': return 'day';
    case 'instants': {
      const r = resolveRange(spec, tz, now, 'hour');
      return r.to - r.from <= 48 * HOUR_MS ? 'hour' : 'day';
    }
  }
}

/**
 * Bucket edges of a timeseries over `range`: n+1 ascending instants for n buckets. Minute and hour
 * buckets are UTC buckets (the same in every zone with whole-hour offsets); day and month buckets
 * start at local midnight, snapped like range edges, so a DST day is a 23- or 25-hour bucket.
 * Partial buckets at either end are kept (explicit from/to need not fall on a local midnight).
 * Returns undefined when there would be more than `maxBuckets`.
 */
export function bucketEdges(range: Range, interval: Interval, tz: string, maxBuckets: number): number[] | undefined {
  const edges = [range.from];
  if (interval === 'minute' || interval === 'hour') {
    const size = interval === 'minute' ? MINUTE_MS : HOUR_MS;
    if ((range.to - range.from) / size > maxBuckets) return undefined;
    for (let t = Math.floor(range.from / size) * size + size; t < range.to; t += size) edges.push(t);
  } else {
    const resolution: Resolution = range.from % HOUR_MS === 0 && range.to % HOUR_MS === 0 ? 'hour' : 'minute';
    let date = localDateOf(tz, range.from);
    if (interval === 'month') date = { ...date, day: 1 };
    for (;;) {
      date = interval === 'day' ? addDays(date, 1) : addMonths(date, 1);
      const t = snapDown(startOfLocalDay(tz, date), resolution);
      if (t >= range.to) break;
      if (t > edges[edges.length - 1]) edges.push(t);
      if (edges.length > maxBuckets) return undefined;
    }
  }
  edges.push(range.to);
  return edges;
}
