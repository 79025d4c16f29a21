/**
 * Query-string parsing for the stats endpoints: raw parameters -> a typed, normalised query, or a
 * Rejection whose detail names the parameter and what is allowed. Pure; nothing here knows `now`.
 *
 * Unknown parameters are rejected rather than ignored: a Plausible user sending `filters=...`
 * must not silently get unfiltered numbers.
 */
import { reject, type Rejection } from '../core/errors.ts';
import { charCount, TRACKING_ID_PATTERN } from '../core/event.ts';
import { DIMENSIONS, type Dimension } from '../core/rollup/model.ts';
import { METRICS, type Metric } from './metrics.ts';
import { INTERVALS, PERIODS, type Interval, type PeriodName, type PeriodSpec } from './period.ts';
import { canonicalTimeZone, daysBetween, parseDateTime, parseLocalDate } from './tz.ts';

export type Endpoint = 'aggregate' | 'timeseries' | 'breakdown' | 'realtime_visitors';

interface RangeQuery {
  trackingId: string;
  /** Canonical IANA name. */
  timezone: string;
  period: PeriodName | 'from_to';
  spec: PeriodSpec;
  /** Deduplicated, in METRICS order (stable cache keys and response shapes). */
  metrics: Metric[];
  /** Only pages whose path starts with this (read from the page breakdown rows; see read.ts). */
  pagePrefix?: string;
}

export interface AggregateQuery extends RangeQuery {
  endpoint: 'aggregate';
  compare: 'previous_period' | null;
}

export interface TimeseriesQuery extends RangeQuery {
  endpoint: 'timeseries';
  /** undefined: chosen from the period (see defaultInterval). */
  interval: Interval | undefined;
}

export interface BreakdownQuery extends RangeQuery {
  endpoint: 'breakdown';
  property: Dimension;
  limit: number;
  page: number;
}

export interface RealtimeVisitorsQuery {
  endpoint: 'realtime_visitors';
  trackingId: string;
}

export type StatsQuery = AggregateQuery | TimeseriesQuery | BreakdownQuery | RealtimeVisitorsQuery;

export interface ParseLimits {
  /** Zone used when the request has no `timezone`. */
  defaultTimezone: string;
  /** Longest range a query may span, in days. */
  maxRangeDays: number;
  maxBreakdownLimit: number;
  defaultBreakdownLimit: number;
}

export const COMMON_PARAMS = ['site_id', 'period', 'date', 'from', 'to', 'timezone', 'metrics'];
export const ALLOWED_PARAMS: Readonly<Record<Endpoint, readonly string[]>> = {
  aggregate: [...COMMON_PARAMS, 'compare', 'page_prefix'],
  timeseries: [...COMMON_PARAMS, 'interval', 'page_prefix'],
  breakdown: [...COMMON_PARAMS, 'property', 'limit', 'page', 'page_prefix'],
  realtime_visitors: ['site_id'],
};

/** Plausible's prefixed property names, accepted as aliases. */
export const PROPERTY_ALIASES: Readonly<Record<string, Dimension>> = {
  'event:page': 'page', 'event:name': 'event', 'visit:entry_page': 'entry_page', 'visit:exit_page': 'exit_page',
  'visit:source': 'source', 'visit:utm_source': 'utm_source', 'visit:utm_medium': 'utm_medium',
  'visit:utm_campaign': 'utm_campaign', 'visit:country': 'country', 'visit:device': 'device',
  'visit:browser': 'browser', 'visit:os': 'os',
};

/** Metrics that page rows hold as such, so page_prefix can give them for aggregate and timeseries. */
export const PAGE_METRICS: readonly Metric[] = ['visitors', 'pageviews'];

/** Breakdowns whose values are page paths, so page_prefix can filter them. */
export const PAGE_DIMENSIONS: readonly Dimension[] = ['page', 'entry_page', 'exit_page'];

const TRACKING_ID = new RegExp(TRACKING_ID_PATTERN);
/** Longest page_prefix, in characters. */
export const MAX_PAGE_PREFIX_CHARS = 512;

export function parseQuery(endpoint: Endpoint, raw: Record<string, unknown>, limits: ParseLimits): StatsQuery | Rejection {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (!ALLOWED_PARAMS[endpoint].includes(name)) {
      return invalid(name, `is not a parameter of this endpoint; allowed: ${ALLOWED_PARAMS[endpoint].join(', ')}`);
    }
    if (typeof value !== 'string') return invalid(name, 'give it once, as a single value');
    params[name] = value;
  }

  const siteId = params.site_id;
  if (siteId === undefined || siteId === '') return invalid('site_id', 'is required: the tracking ID of the site');
  if (!TRACKING_ID.test(siteId)) return invalid('site_id', 'must be a tracking ID: 1-64 letters, digits, - or _');
  if (endpoint === 'realtime_visitors') return { endpoint, trackingId: siteId };

  const timezone = params.timezone === undefined ? limits.defaultTimezone : canonicalTimeZone(params.timezone);
  if (!timezone) return invalid('timezone', `'${params.timezone}' is not an IANA time zone; use a name such as Europe/Berlin or UTC`);

  const period = parsePeriod(params, timezone, limits);
  if ('ok' in period) return period;

  const metrics = parseMetrics(params.metrics);
  if (!Array.isArray(metrics)) return metrics;

  const pagePrefix = params.page_prefix;
  if (pagePrefix !== undefined && (!pagePrefix.startsWith('/') || charCount(pagePrefix) > MAX_PAGE_PREFIX_CHARS)) {
    return invalid('page_prefix', 'must be a URL path starting with "/", such as /blog/');
  }
  // Per-page rows count the page's visitors and pageviews; visits belong to their entry page.
  if (pagePrefix && endpoint !== 'breakdown' && metrics.some((m) => !PAGE_METRICS.includes(m))) {
    return invalid('page_prefix', `goes with the metrics ${PAGE_METRICS.join(', ')} only (visit metrics are kept per entry page: use a breakdown by entry_page)`);
  }
  const base: RangeQuery = { trackingId: siteId, timezone, period: period.name, spec: period.spec, metrics, ...(pagePrefix ? { pagePrefix } : {}) };
  switch (endpoint) {
    case 'aggregate': {
      const compare = params.compare;
      if (compare !== undefined && compare !== 'previous_period') return invalid('compare', "allowed: previous_period");
      return { ...base, endpoint, compare: compare ?? null };
    }
    case 'timeseries': {
      const interval = params.interval;
      if (interval !== undefined && !(INTERVALS as readonly string[]).includes(interval)) {
        return invalid('interval', `allowed: ${INTERVALS.join(', ')}`);
      }
      if (pagePrefix && (interval === 'minute' || period.spec.kind === 'realtime')) {
        return invalid('page_prefix', 'page figures exist per hour and day: use interval=hour or coarser, and a period other than realtime');
      }
      return { ...base, endpoint, interval: interval as Interval | undefined };
    }
    case 'breakdown': {
      const raw = params.property;
      if (raw === undefined) return invalid('property', `is required; allowed: ${DIMENSIONS.join(', ')}`);
      const property = (DIMENSIONS as readonly string[]).includes(raw) ? (raw as Dimension) : PROPERTY_ALIASES[raw];
      if (!property) return invalid('property', `allowed: ${DIMENSIONS.join(', ')}`);
      if (pagePrefix && !PAGE_DIMENSIONS.includes(property)) {
        return invalid('page_prefix', `only breaks down by ${PAGE_DIMENSIONS.join(', ')} (other dimensions are not kept per page)`);
      }
      const limit = parsePositiveInt(params.limit, limits.defaultBreakdownLimit);
      if (limit === undefined || limit > limits.maxBreakdownLimit) return invalid('limit', `must be a whole number from 1 to ${limits.maxBreakdownLimit}`);
      const page = parsePositiveInt(params.page, 1);
      if (page === undefined) return invalid('page', 'must be a whole number from 1');
      return { ...base, endpoint, property, limit, page };
    }
  }
}

function parsePeriod(params: Record<string, string>, tz: string, limits: ParseLimits): { name: RangeQuery['period']; spec: PeriodSpec } | Rejection {
  const { period, date, from, to } = params;
  if (from !== undefined || to !== undefined) {
    if (period !== undefined && period !== 'custom') return invalid('period', 'give either a period or from/to, not both');
    if (date !== undefined) return invalid('date', 'give either date or from/to, not both');
    if (from === undefined || to === undefined) return invalid(from === undefined ? 'from' : 'to', 'from and to go together: ISO datetimes such as 2025-03-01T00:00:00Z');
    const f = parseDateTime(from, tz);
    if (f === undefined) return invalid('from', 'must be an ISO datetime such as 2025-03-01T00:00:00Z (without an offset it is read in `timezone`)');
    const t = parseDateTime(to, tz);
    if (t === undefined) return invalid('to', 'must be an ISO datetime such as 2025-03-02T00:00:00Z (without an offset it is read in `timezone`)');
    if (t <= f) return invalid('to', 'must be after from');
    if (t - f > limits.maxRangeDays * 86_400_000) return invalid('to', `the range may span at most ${limits.maxRangeDays} days`);
    return { name: 'from_to', spec: { kind: 'instants', from: f, to: t } };
  }

  const name = (period ?? '30d') as PeriodName;
  if (!(PERIODS as readonly string[]).includes(name)) return invalid('period', `allowed: ${PERIODS.join(', ')} (or from and to)`);

  if (name === 'custom') {
    const m = date === undefined ? null : /^([^,]+),([^,]+)$/.exec(date);
    const start = m ? parseLocalDate(m[1]) : undefined;
    const end = m ? parseLocalDate(m[2]) : undefined;
    if (!start || !end) return invalid('date', 'period=custom needs date=YYYY-MM-DD,YYYY-MM-DD (first and last day, inclusive) or from and to');
    const days = daysBetween(start, end) + 1;
    if (days < 1) return invalid('date', 'the first day must not be after the last day');
    if (days > limits.maxRangeDays) return invalid('date', `the range may span at most ${limits.maxRangeDays} days`);
    return { name, spec: { kind: 'custom', start, end } };
  }
  if (name === 'realtime') {
    if (date !== undefined) return invalid('date', 'is not used with period=realtime (always the last 30 minutes)');
    return { name, spec: { kind: 'realtime' } };
  }

  let anchor: ReturnType<typeof parseLocalDate> | 'today' = 'today';
  if (date !== undefined) {
    anchor = parseLocalDate(date);
    if (!anchor) return invalid('date', `must be a date YYYY-MM-DD with period=${name}`);
  }
  switch (name) {
    case 'day': return { name, spec: { kind: 'days', count: 1, end: anchor } };
    case '7d': return { name, spec: { kind: 'days', count: 7, end: anchor } };
    case '30d': return { name, spec: { kind: 'days', count: 30, end: anchor } };
    case 'month': return { name, spec: { kind: 'months', count: 1, anchor } };
    case '6mo': return { name, spec: { kind: 'months', count: 6, anchor } };
    case '12mo': return { name, spec: { kind: 'months', count: 12, anchor } };
  }
}

function parseMetrics(raw: string | undefined): Metric[] | Rejection {
  if (raw === undefined) return ['visitors'];
  const asked = raw.split(',').map((s) => s.trim());
  for (const m of asked) {
    if (!(METRICS as readonly string[]).includes(m)) {
      return invalid('metrics', `${m === '' ? 'an empty name' : `'${m}'`} is not a metric; allowed: ${METRICS.join(', ')} (comma-separated)`);
    }
  }
  return METRICS.filter((m) => asked.includes(m));
}

function parsePositiveInt(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 ? n : undefined;
}

function invalid(param: string, what: string): Rejection {
  return reject('invalid_query', `${param}: ${what}`);
}
