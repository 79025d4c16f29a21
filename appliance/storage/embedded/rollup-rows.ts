/**
 * The SQLite rollup store's row layout (tables: schema.ts): the columns of totals, breakdown and
 * session rows, and their mapping to and from the port's records. Pure functions.
 */
import type { BreakdownRow, Dimension, RollupRow, SessionState } from '../../../core/rollup/model.ts';
import type { Granularity } from '../../../core/time.ts';
import { encodeEarlier, type VisitorRecord } from '../visit-history.ts';

export interface CounterColumns {
  pageviews: number;
  events: number;
  visits: number;
  bounces: number;
  duration_ms: number;
  conversions: number;
  revenue: string;
  visitors: Buffer;
}
export interface TotalsRow extends CounterColumns {
  tracking_id: string;
  granularity: Granularity;
  bucket_start: number;
  logic_version: number;
}
export interface BreakdownColumns extends CounterColumns {
  bucket_start: number;
  dimension: Dimension;
  value: string;
}
export interface SessionRow {
  tracking_id: string;
  visitor_id: string;
  start_ts: number;
  end_ts: number;
  first_event_id: string;
  last_event_id: string;
  entry_page: string;
  exit_page: string;
  pageviews: number;
  events: number;
  source: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  country: string;
  device: string;
  browser: string;
  os: string;
  /** The visitor's earlier visits (../visit-history.ts). */
  earlier: string;
}

export function counterColumns(r: RollupRow): CounterColumns {
  return {
    pageviews: r.pageviews,
    events: r.events,
    visits: r.visits,
    bounces: r.bounces,
    duration_ms: r.durationMs,
    conversions: r.conversions,
    revenue: JSON.stringify(r.revenue),
    // A view, not a copy: better-sqlite3 binds Buffers, and the sketch can be large.
    visitors: Buffer.from(r.visitors.buffer, r.visitors.byteOffset, r.visitors.byteLength),
  };
}

export function rollupRowFromSqlite(c: CounterColumns): RollupRow {
  return {
    pageviews: c.pageviews,
    events: c.events,
    visits: c.visits,
    bounces: c.bounces,
    durationMs: c.duration_ms,
    conversions: c.conversions,
    revenue: parseRevenue(c.revenue),
    visitors: plainBytes(c.visitors),
  };
}

/** A row of `SELECT ${COUNTERS}, ...` in raw mode. */
export type RawRow = unknown[];

export function rawRow(r: RawRow): RollupRow {
  return {
    pageviews: r[0] as number,
    events: r[1] as number,
    visits: r[2] as number,
    bounces: r[3] as number,
    durationMs: r[4] as number,
    conversions: r[5] as number,
    revenue: parseRevenue(r[6] as string),
    visitors: plainBytes(r[7] as Buffer),
  };
}

function parseRevenue(json: string): Record<string, number> {
  // Most buckets have no revenue; skip the parser for them.
  return json === '{}' ? {} : (JSON.parse(json) as Record<string, number>);
}

/** A plain Uint8Array (same memory), as the port promises: a Buffer compares unequal in deepStrictEqual. */
function plainBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function breakdownRow(r: BreakdownColumns): BreakdownRow {
  return { ...rollupRowFromSqlite(r), dimension: r.dimension, value: r.value };
}

export function sessionColumns({ latest: s, earlier }: VisitorRecord): SessionRow {
  return {
    earlier: encodeEarlier(earlier),
    tracking_id: s.trackingId,
    visitor_id: s.visitorId,
    start_ts: s.start,
    end_ts: s.end,
    first_event_id: s.firstEventId,
    last_event_id: s.lastEventId,
    entry_page: s.entryPage,
    exit_page: s.exitPage,
    pageviews: s.pageviews,
    events: s.events,
    source: s.source,
    utm_source: s.utmSource,
    utm_medium: s.utmMedium,
    utm_campaign: s.utmCampaign,
    country: s.country,
    device: s.device,
    browser: s.browser,
    os: s.os,
  };
}

export function sessionFromSqlite(r: SessionRow): SessionState {
  return {
    trackingId: r.tracking_id,
    visitorId: r.visitor_id,
    start: r.start_ts,
    end: r.end_ts,
    firstEventId: r.first_event_id,
    lastEventId: r.last_event_id,
    entryPage: r.entry_page,
    exitPage: r.exit_page,
    pageviews: r.pageviews,
    events: r.events,
    source: r.source,
    utmSource: r.utm_source,
    utmMedium: r.utm_medium,
    utmCampaign: r.utm_campaign,
    country: r.country,
    device: r.device,
    browser: r.browser,
    os: r.os,
  };
}
