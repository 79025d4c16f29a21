/**
 * The query service: parses a stats request, checks the key, plans the read, and answers through
 * the cache (cache-aside keyed by the normalised query and the site's data version, with identical
 * queries in flight coalesced). HTTP lives in routes.ts; this file has no fastify in it.
 */
import { ConfigError, reject, type Rejection } from '../core/errors.ts';
import { estimateUnion } from '../core/sketch/hll.ts';
import type { ApiKeyRecord, Cache, Registry, RollupStore, TrackingIdRecord } from '../core/ports/index.ts';
import { MINUTE_MS } from '../core/time.ts';
import { RANGE_CLOSED_AFTER_MS } from '../core/rollup/closed.ts';
import type { FastifyInstance } from 'fastify';
import { createAuth } from './auth.ts';
import { addQueryRoutes } from './http.ts';
import { cacheKey, createCacheAside, readDataVersion, type CacheStatus } from './cache-aside.ts';
import { change, type Metric } from './metrics.ts';
import { parseQuery, type BreakdownQuery, type Endpoint, type StatsQuery } from './params.ts';
import { bucketEdges, defaultInterval, previousRange, REALTIME_VISITORS_MS, resolveRange, type Range, type Resolution } from './period.ts';
import { displayValue } from './labels.ts';
import { newestMinuteBucket, readBreakdown, readSeries, type ReadDeps } from './read.ts';
import { checkEmbedToken, embedTokenOf } from './embed/verify.ts';
import { scopeEmbedParams } from './embed/scope.ts';
import { canonicalTimeZone, formatInZone } from './tz.ts';

export interface QueryDeps {
  rollups: RollupStore;
  cache: Cache;
  registry: Registry;
  /** Clock, ms; Date.now by default. */
  now?: () => number;
  /**
   * Newest event time folded into rollups, per tracking ID, when this process runs the aggregator
   * (embedded profile). Without it (or for a site it has not seen since start) `meta.dataAsOf`
   * is the start of the newest minute bucket with data.
   */
  newestEventTs?: () => Record<string, number> | undefined;
  log?: (message: string) => void;
}

export interface QueryConfig {
  /** TTL of answers whose range reaches into buckets still being written. Default 5_000 (5 s). */
  openRangeTtlMs?: number;
  /** TTL of answers over closed buckets only. Default 600_000 (10 min). */
  closedRangeTtlMs?: number;
  /**
   * An answer whose range ended this long ago gets the closed-range TTL: from then on every late
   * event of the range bumps the site's data version (core/rollup/closed.ts), so long TTLs are
   * safe. Default RANGE_CLOSED_AFTER_MS, 3_660_000 (61 min).
   */
  closedAfterMs?: number;
  /** How long API-key and tracking-ID lookups are memoised. Default 10_000 (10 s). */
  authMemoMs?: number;
  /** Zone used when a request has no `timezone`. Default 'UTC'. */
  defaultTimezone?: string;
  /** Longest range one query may span. Default 3_700 days (~10 years). */
  maxRangeDays?: number;
  /** Most buckets one timeseries may return. Default 5_000. */
  maxTimeseriesBuckets?: number;
  /** Breakdown page size: default 100, at most 1_000. */
  defaultBreakdownLimit?: number;
  maxBreakdownLimit?: number;
}

export type ResolvedQueryConfig = Readonly<Required<QueryConfig>>;

export const DEFAULT_QUERY_CONFIG: ResolvedQueryConfig = Object.freeze({
  openRangeTtlMs: 5_000, // 5 s
  closedRangeTtlMs: 600_000, // 10 min
  closedAfterMs: RANGE_CLOSED_AFTER_MS, // 61 min
  authMemoMs: 10_000, // 10 s
  defaultTimezone: 'UTC',
  maxRangeDays: 3_700, // ~10 years
  maxTimeseriesBuckets: 5_000,
  defaultBreakdownLimit: 100,
  maxBreakdownLimit: 1_000,
});

/** A successful answer: the JSON body as text (cached answers are sent without re-serialising). */
export interface QueryAnswer {
  json: string;
  cache: CacheStatus;
}

export interface QueryService {
  readonly config: ResolvedQueryConfig;
  /** Adds the stats routes to an app (what registerQueryRoutes does with a service it creates). */
  register(app: FastifyInstance): Promise<void>;
  /** The whole request: authenticate, parse, authorise, answer. What the routes call. */
  handle(endpoint: Endpoint, authorization: string | undefined, params: Record<string, unknown>): Promise<QueryAnswer | Rejection>;
  authenticate(authorization: string | undefined): Promise<ApiKeyRecord | Rejection>;
  authorize(key: ApiKeyRecord, trackingId: string): Promise<TrackingIdRecord | Rejection>;
  parse(endpoint: Endpoint, params: Record<string, unknown>): StatsQuery | Rejection;
  /** Answers a parsed query, without auth (the caller has checked it). */
  run(query: StatsQuery): Promise<QueryAnswer | Rejection>;
}

export function resolveQueryConfig(config: QueryConfig): ResolvedQueryConfig {
  const c = { ...DEFAULT_QUERY_CONFIG, ...stripUndefined(config) };
  const problems: string[] = [];
  for (const k of ['openRangeTtlMs', 'closedRangeTtlMs', 'closedAfterMs', 'authMemoMs'] as const) {
    if (!Number.isFinite(c[k]) || c[k] < 0) problems.push(`query.${k} must be a number of ms >= 0 (got ${c[k]})`);
  }
  for (const k of ['maxRangeDays', 'maxTimeseriesBuckets', 'defaultBreakdownLimit', 'maxBreakdownLimit'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) problems.push(`query.${k} must be a whole number >= 1 (got ${c[k]})`);
  }
  if (c.defaultBreakdownLimit > c.maxBreakdownLimit) problems.push('query.defaultBreakdownLimit must not exceed query.maxBreakdownLimit');
  const tz = canonicalTimeZone(c.defaultTimezone);
  if (!tz) problems.push(`query.defaultTimezone must be an IANA time zone such as UTC or Europe/Berlin (got '${c.defaultTimezone}')`);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...c, defaultTimezone: tz! });
}

export function createQueryService(deps: QueryDeps, config: QueryConfig = {}): QueryService {
  const cfg = resolveQueryConfig(config);
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const auth = createAuth({ registry: deps.registry }, { memoMs: cfg.authMemoMs });
  const cached = createCacheAside(deps.cache, log);
  const reads: ReadDeps = { rollups: deps.rollups, estimate: estimateUnion };
  const limits = {
    defaultTimezone: cfg.defaultTimezone, maxRangeDays: cfg.maxRangeDays,
    maxBreakdownLimit: cfg.maxBreakdownLimit, defaultBreakdownLimit: cfg.defaultBreakdownLimit,
  };

  const parse = (endpoint: Endpoint, params: Record<string, unknown>) => parseQuery(endpoint, params, limits);

  async function run(query: StatsQuery): Promise<QueryAnswer | Rejection> {
    const at = now();
    const plan = planQuery(query, at, cfg);
    if ('ok' in plan) return plan;
    const dataVersion = await readDataVersion(deps.cache, query.trackingId, now);
    const compute = async () => JSON.stringify(await answer(plan, dataVersion ?? null));
    // Without a data version the key could outlive a late write: answer from the store, uncached.
    if (dataVersion === undefined) return { json: await compute(), cache: 'miss' };
    const ttl = plan.range.to > at - cfg.closedAfterMs ? cfg.openRangeTtlMs : cfg.closedRangeTtlMs;
    const result = await cached.get(cacheKey(plan.key, dataVersion), ttl, compute);
    if (plan.endpoint === 'breakdown') return { json: pageOf(result.value, plan.page, plan.limit), cache: result.cache };
    return { json: result.value, cache: result.cache };
  }

  async function answer(plan: Plan, dataVersion: number | null): Promise<unknown> {
    const meta = {
      from: formatInZone(plan.timezone, plan.range.from),
      to: formatInZone(plan.timezone, plan.range.to),
      timezone: plan.timezone,
      dataVersion,
      ...(plan.pagePrefix ? { pagePrefix: plan.pagePrefix } : {}),
    };
    switch (plan.endpoint) {
      case 'realtime_visitors': {
        const [values] = await readSeries(reads, plan.trackingId, [plan.range.from, plan.range.to], ['visitors']);
        return values.visitors;
      }
      case 'aggregate': {
        const [current, previous] = await Promise.all([
          readSeries(reads, plan.trackingId, [plan.range.from, plan.range.to], plan.metrics, plan.pagePrefix).then((v) => v[0]),
          plan.previous ? readSeries(reads, plan.trackingId, [plan.previous.from, plan.previous.to], plan.metrics, plan.pagePrefix).then((v) => v[0]) : undefined,
        ]);
        const newest = deps.newestEventTs?.()?.[plan.trackingId] ?? (await newestMinuteBucket(deps.rollups, plan.trackingId, now()));
        // To the minute on both paths (the in-process aggregator knows the event's ms, the rollups
        // only its minute bucket), so the answer does not change precision with a restart.
        const asOf = newest === undefined ? undefined : Math.floor(newest / MINUTE_MS) * MINUTE_MS;
        const results: Record<string, unknown> = {};
        for (const m of plan.metrics) {
          results[m] = previous ? { value: current[m], change: change(current[m]!, previous[m]!) } : { value: current[m] };
        }
        const comparison = plan.previous
          ? { comparison: { from: formatInZone(plan.timezone, plan.previous.from), to: formatInZone(plan.timezone, plan.previous.to) } }
          : {};
        // dataAsOf: how current the numbers are (newest event folded in); null when nothing recent.
        return { results, meta: { ...meta, period: plan.period, ...comparison, dataAsOf: asOf === undefined ? null : new Date(asOf).toISOString() } };
      }
      case 'timeseries': {
        const values = await readSeries(reads, plan.trackingId, plan.edges, plan.metrics, plan.pagePrefix);
        const results = values.map((v, i) => ({ date: formatInZone(plan.timezone, plan.edges[i]), ...v }));
        return { results, meta: { ...meta, period: plan.period, interval: plan.interval } };
      }
      case 'breakdown': {
        const entries = await readBreakdown(reads, plan.trackingId, plan.range.from, plan.range.to, plan.property, plan.metrics, plan.pagePrefix);
        const results = entries.map((e) => ({ [plan.property]: displayValue(plan.property, e.value), ...e.metrics }));
        return { results, meta: { ...meta, period: plan.period, property: plan.property } };
      }
    }
  }

  const service: QueryService = {
    config: cfg,
    authenticate: auth.authenticate,
    authorize: auth.authorize,
    parse,
    run,
    async handle(endpoint, authorization, params) {
      // Dashboard embed tokens (query/embed): one tracking ID, with the token's fixed filter.
      const embedToken = embedTokenOf(authorization);
      if (embedToken) {
        const claims = await checkEmbedToken(deps.registry, embedToken, now());
        if ('ok' in claims) return claims;
        const scoped = scopeEmbedParams(endpoint, params, claims);
        if ('ok' in scoped) return scoped;
        const query = parse(endpoint, scoped.params);
        return 'ok' in query ? query : run(query);
      }
      const key = await auth.authenticate(authorization);
      if ('ok' in key) return key;
      const query = parse(endpoint, params);
      if ('ok' in query) return query;
      const site = await auth.authorize(key, query.trackingId);
      if ('ok' in site) return site;
      return run(query);
    },
    async register(app) {
      addQueryRoutes(app, service);
    },
  };
  return service;
}

// ---------------------------------------------------------------- planning (pure)

interface PlanBase {
  trackingId: string;
  timezone: string;
  pagePrefix?: string;
  /** The range read (for TTL and meta). */
  range: Range;
  /** Everything that determines the answer, with absolute times: hashed into the cache key. */
  key: unknown;
}

type Plan =
  | (PlanBase & { endpoint: 'realtime_visitors' })
  | (PlanBase & { endpoint: 'aggregate'; period: string; metrics: Metric[]; previous?: Range })
  | (PlanBase & { endpoint: 'timeseries'; period: string; metrics: Metric[]; interval: string; edges: number[] })
  | (PlanBase & { endpoint: 'breakdown'; period: string; metrics: Metric[]; property: BreakdownQuery['property']; page: number; limit: number });

/** Anchors a query to `now`: absolute ranges, buckets and the cache key. */
export function planQuery(query: StatsQuery, now: number, cfg: Pick<ResolvedQueryConfig, 'maxTimeseriesBuckets'>): Plan | Rejection {
  if (query.endpoint === 'realtime_visitors') {
    const to = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const range = { from: to - REALTIME_VISITORS_MS, to };
    return { endpoint: query.endpoint, trackingId: query.trackingId, timezone: 'UTC', range, key: ['rv', query.trackingId, range.from, range.to] };
  }
  const base = { trackingId: query.trackingId, timezone: query.timezone, period: query.period, metrics: query.metrics, pagePrefix: query.pagePrefix };
  const common = [query.endpoint, query.trackingId, query.timezone, query.period, query.metrics, query.pagePrefix ?? null];
  // Page figures exist on hour and day rows only.
  const finest: Resolution = query.pagePrefix ? 'hour' : 'minute';
  switch (query.endpoint) {
    case 'aggregate': {
      const resolution: Resolution = query.spec.kind === 'realtime' ? finest : 'hour';
      const range = resolveRange(query.spec, query.timezone, now, resolution);
      const previous = query.compare === 'previous_period' ? previousRange(range, query.timezone, resolution) : undefined;
      return { ...base, endpoint: query.endpoint, range, previous, key: [...common, range.from, range.to, previous?.from, previous?.to] };
    }
    case 'timeseries': {
      const interval = query.interval ?? defaultInterval(query.spec, query.timezone, now);
      const resolution: Resolution = query.spec.kind === 'realtime' || interval === 'minute' ? 'minute' : 'hour';
      const range = resolveRange(query.spec, query.timezone, now, resolution);
      const edges = bucketEdges(range, interval, query.timezone, cfg.maxTimeseriesBuckets);
      if (!edges) {
        return reject('invalid_query', `interval: '${interval}' gives more than ${cfg.maxTimeseriesBuckets} buckets over this period; use a coarser interval or a shorter period`);
      }
      return { ...base, endpoint: query.endpoint, range, interval, edges, key: [...common, interval, range.from, range.to] };
    }
    case 'breakdown': {
      // Breakdowns live on hour and day rows only, so even realtime is read on whole hours.
      const range = resolveRange(query.spec, query.timezone, now, 'hour');
      // Page and limit are not in the key: one cached sorted list serves every page.
      return { ...base, endpoint: query.endpoint, range, property: query.property, page: query.page, limit: query.limit, key: [...common, query.property, range.from, range.to] };
    }
  }
}

/** Slices one page out of a cached full breakdown, and says where it is in the list. */
function pageOf(json: string, page: number, limit: number): string {
  const body = JSON.parse(json) as { results: unknown[]; meta: Record<string, unknown> };
  const start = (page - 1) * limit;
  const results = body.results.slice(start, start + limit);
  return JSON.stringify({ results, meta: { ...body.meta, page, limit, totalRows: body.results.length, hasMore: start + limit < body.results.length } });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
