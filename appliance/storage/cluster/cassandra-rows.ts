/**
 * The Cassandra RollupStore's row layout: the partition periods of a bucket, and the mapping
 * between driver rows or statement parameters and the port's records. Pure functions.
 */
import type cassandra from 'cassandra-driver';
import type { RollupRow, SessionState } from '../../../core/rollup/model.ts';
import { DAY_MS, HOUR_MS, dayOf, type Granularity } from '../../../core/time.ts';
import { encodeEarlier, type VisitorRecord } from '../visit-history.ts';

export type Row = cassandra.types.Row;

/** The partition unit of a bucket: its UTC day, or its UTC month for day buckets. */
export function periodOf(granularity: Granularity, start: number): number {
  if (granularity !== 'day') return dayOf(start);
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Periods that can hold bucket starts in [from, to), in order. */
export function periodsIn(granularity: Granularity, from: number, to: number): number[] {
  if (!(from < to)) return [];
  const out: number[] = [];
  const lastPeriod = periodOf(granularity, to - 1);
  for (let p = periodOf(granularity, from); p <= lastPeriod;) {
    out.push(p);
    if (granularity === 'day') {
      const d = new Date(p);
      p = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    } else p += DAY_MS;
  }
  return out;
}

export function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/** A bigint, Long or number column as a number (null as 0). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'bigint') return Number(v);
  return (v as { toNumber(): number }).toNumber();
}

export function counterParams(r: RollupRow): unknown[] {
  return [r.pageviews, r.events, r.visits, r.bounces, r.durationMs, r.conversions, r.revenue, Buffer.from(r.visitors.buffer, r.visitors.byteOffset, r.visitors.byteLength)];
}

export function rollupRowFromCassandra(r: Row): RollupRow {
  const revenue: Record<string, number> = {};
  for (const [k, v] of Object.entries((r.revenue ?? {}) as Record<string, unknown>)) revenue[k] = num(v);
  const b = r.visitors as Buffer | null;
  return {
    pageviews: num(r.pageviews),
    events: num(r.events),
    visits: num(r.visits),
    bounces: num(r.bounces),
    durationMs: num(r.duration_ms),
    conversions: num(r.conversions),
    revenue,
    // A plain Uint8Array (same memory), as the port promises.
    visitors: b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0),
  };
}

export function sessionParams({ latest: s, earlier }: VisitorRecord): unknown[] {
  return [
    s.trackingId, s.visitorId, s.start, s.end, s.firstEventId, s.lastEventId, s.entryPage, s.exitPage,
    s.pageviews, s.events, s.source, s.utmSource, s.utmMedium, s.utmCampaign, s.country, s.device, s.browser, s.os,
    encodeEarlier(earlier),
  ];
}

export function sessionFromCassandra(r: Row): SessionState {
  return {
    trackingId: r.tracking_id as string,
    visitorId: r.visitor_id as string,
    start: num(r.start_ts),
    end: num(r.end_ts),
    firstEventId: r.first_event_id as string,
    lastEventId: r.last_event_id as string,
    entryPage: r.entry_page as string,
    exitPage: r.exit_page as string,
    pageviews: num(r.pageviews),
    events: num(r.events),
    source: r.source as string,
    utmSource: r.utm_source as string,
    utmMedium: r.utm_medium as string,
    utmCampaign: r.utm_campaign as string,
    country: r.country as string,
    device: r.device as string,
    browser: r.browser as string,
    os: r.os as string,
  };
}
