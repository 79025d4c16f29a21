/**
 * The explore query: what the v2 API (query/v2) and the v1 `filters=` parser (query/v1-filters.ts)
 * parse into, what embed tokens' fixed filter is, what the planner (route.ts) routes and the
 * compiler (compile.ts) turns into one parameterised DuckDB statement. Shapes only; no I/O.
 */

export const EVENT_DIMENSIONS = ['event:page', 'event:hostname', 'event:name'] as const;
export const VISIT_DIMENSIONS = [
  'visit:entry_page', 'visit:exit_page', 'visit:entry_hostname', 'visit:exit_hostname',
  'visit:source', 'visit:referrer', 'visit:channel',
  'visit:utm_source', 'visit:utm_medium', 'visit:utm_campaign', 'visit:utm_term', 'visit:utm_content',
  'visit:device', 'visit:browser', 'visit:browser_version', 'visit:os', 'visit:os_version', 'visit:country',
] as const;
export const TIME_DIMENSIONS = ['time', 'time:hour', 'time:day', 'time:week', 'time:month'] as const;
export const PROP_PREFIX = 'event:props:';

export type EventDimension = (typeof EVENT_DIMENSIONS)[number];
export type VisitDimension = (typeof VISIT_DIMENSIONS)[number];
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];
export type PropDimension = `event:props:${string}`;
export type DimensionId = EventDimension | VisitDimension | TimeDimension | PropDimension;
/** What a filter may name: every dimension but time. */
export type FilterDimension = Exclude<DimensionId, TimeDimension>;

export const V2_METRICS = [
  'visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration',
  'events', 'percentage', 'total_revenue', 'average_revenue',
] as const;
export type V2Metric = (typeof V2_METRICS)[number];
/** Metrics computed from visits rows: not allowed with an event dimension (Plausible's rule). */
export const SESSION_METRICS: readonly V2Metric[] = ['visits', 'views_per_visit', 'bounce_rate', 'visit_duration'];

/** `starts_with` is internal (the v1 `page_prefix`, embed tokens' old page prefix). */
export type LeafOp = 'is' | 'is_not' | 'contains' | 'contains_not' | 'matches' | 'matches_not' | 'starts_with';

export interface FilterLeaf {
  op: LeafOp;
  dim: FilterDimension;
  /** Clauses, OR-ed for the positive ops; for the `_not` ops, none may match. */
  values: string[];
  caseSensitive: boolean;
}
export type Filter = FilterLeaf | { op: 'and' | 'or'; of: Filter[] } | { op: 'not'; of: Filter };

export const FILTER_LIMITS = { leaves: 64, depth: 6, clausesPerLeaf: 100, clauseChars: 1024, regexChars: 256, regexLeaves: 10, dimensions: 5, propKeyChars: 64 } as const;

export interface ExploreQuery {
  trackingId: string;
  /** IANA time zone of the answer's days/weeks/months. */
  timezone: string;
  /** Absolute range, ms, [from, to). */
  from: number;
  to: number;
  metrics: V2Metric[];
  dimensions: DimensionId[];
  filter: Filter | null;
  /** Each entry names a metric or a dimension of the query. Empty = the default order (time asc, then first metric desc). */
  orderBy: [string, 'asc' | 'desc'][];
  limit: number;
  offset: number;
  include: { totalRows: boolean; timeLabels: boolean; imports: boolean };
}

/** One row of an explore answer: dimension values in query order, metric values in query order. */
export interface ExploreRow {
  dimensions: (string | number)[];
  /** Revenue metrics are {currency: major units}, or null when there was none. */
  metrics: (number | Record<string, number> | null)[];
}

export const isPropDimension = (d: string): d is PropDimension => d.startsWith(PROP_PREFIX) && d.length > PROP_PREFIX.length;
export const isTimeDimension = (d: string): d is TimeDimension => (TIME_DIMENSIONS as readonly string[]).includes(d);
export const isEventDimension = (d: string): boolean => (EVENT_DIMENSIONS as readonly string[]).includes(d) || isPropDimension(d);
