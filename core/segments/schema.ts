/**
 * The columns of explore segments: what the segment writer puts in Parquet files, what the tail
 * holds for the open part of today, and what the explore compiler reads. One list, so the three
 * cannot drift. Values are raw ('' stays ''; display labels are applied on output).
 */

/** Session-level columns: taken from the visit's first event, on every events row and every visits row. */
export const SESSION_COLUMNS = [
  'entry_page', 'entry_hostname', 'source', 'referrer', 'channel',
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content',
  'country', 'region', 'city', 'device', 'browser', 'browser_version', 'os', 'os_version',
] as const;
export type SessionColumn = (typeof SESSION_COLUMNS)[number];

/** DuckDB types of the `events` files, in file order. props is MAP(VARCHAR, VARCHAR): numbers as String(v). */
export const EVENT_COLUMNS = {
  event_id: 'VARCHAR',
  visit_id: 'VARCHAR',
  visitor_id: 'VARCHAR',
  ts: 'BIGINT',
  received_at: 'BIGINT',
  type: 'VARCHAR',
  name: 'VARCHAR',
  hostname: 'VARCHAR',
  page: 'VARCHAR',
  revenue_currency: 'VARCHAR',
  revenue_minor: 'BIGINT',
  props: 'MAP(VARCHAR, VARCHAR)',
  ...Object.fromEntries(SESSION_COLUMNS.map((c) => [c, 'VARCHAR'])),
} as const satisfies Record<string, string>;

/** DuckDB types of the `visits` files (one row per visit that starts in the day). */
export const VISIT_COLUMNS = {
  visit_id: 'VARCHAR',
  visitor_id: 'VARCHAR',
  start_ts: 'BIGINT',
  end_ts: 'BIGINT',
  exit_page: 'VARCHAR',
  exit_hostname: 'VARCHAR',
  pageviews: 'BIGINT',
  events: 'BIGINT',
  is_bounce: 'BOOLEAN',
  duration_ms: 'BIGINT',
  ...Object.fromEntries(SESSION_COLUMNS.map((c) => [c, 'VARCHAR'])),
} as const satisfies Record<string, string>;

export type SessionValues = Record<SessionColumn, string>;

export interface SegmentEventRow extends SessionValues {
  event_id: string;
  /** The eventId of the visit's first event. */
  visit_id: string;
  visitor_id: string;
  ts: number;
  received_at: number;
  type: 'pageview' | 'event';
  name: string;
  hostname: string;
  page: string;
  revenue_currency: string | null;
  /** Exact, in the currency's minor units. */
  revenue_minor: number | null;
  props: Record<string, string>;
}

export interface SegmentVisitRow extends SessionValues {
  visit_id: string;
  visitor_id: string;
  start_ts: number;
  end_ts: number;
  exit_page: string;
  exit_hostname: string;
  pageviews: number;
  events: number;
  is_bounce: boolean;
  duration_ms: number;
}

/** Bumped when the rows built from the same events change (sessionizer, channel map, columns): old days are rebuilt. */
export const SEGMENT_LOGIC_VERSION = 1;
