/**
 * Latency of the query service over 30 days of hourly rollups: p50/p99 of aggregate and
 * timeseries, uncached (every run reads the store) and cached (every run after the first is a
 * cache hit). Runs the service directly, without HTTP or auth, so the numbers are the query path.
 *
 * Sequential runs on purpose: the point is per-query latency, not throughput (coalescing would
 * hide store reads under concurrency).
 */
import { performance } from 'node:perf_hooks';
import type { Cache, Registry, RollupStore } from '../core/ports/index.ts';
import { DAY_MS, HOUR_MS } from '../core/time.ts';
import { createQueryService, type QueryService } from '../query/service.ts';
import { bucketsFromHits, type Hit } from '../tests/support/hits.ts';
import { MemoryCache } from '../tests/support/fakes/cache.ts';

export interface BenchOptions {
  /** Default 'bench-site'. */
  trackingId?: string;
  /** Runs per query and cache mode. Default 200. */
  iterations?: number;
  /** Clock for the queries (and the seed). Default Date.now(). */
  now?: number;
  /** Default 'Europe/Berlin': 30d then mixes day and hour rows; 'UTC' reads day rows only. */
  timezone?: string;
  /**
   * The cache the cached runs go through: pass the profile's (Redis in the cluster, so a hit is a
   * network round trip). Default: an in-process cache, as the embedded profile has.
   */
  cache?: Cache;
  /** Write 30 days of hourly data first (hour and day buckets). Default false: the store has it. */
  seed?: boolean | { visitorsPerHour?: number; pages?: number };
}

export interface Latency {
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface BenchReport {
  trackingId: string;
  timezone: string;
  aggregate: { uncached: Latency; cached: Latency };
  /** period=30d, interval=day. */
  timeseriesDaily: { uncached: Latency; cached: Latency };
  /** period=30d, interval=hour (720 buckets). */
  timeseriesHourly: { uncached: Latency; cached: Latency };
}

export async function bench(rollups: RollupStore, options: BenchOptions = {}): Promise<BenchReport> {
  const trackingId = options.trackingId ?? 'bench-site';
  const iterations = options.iterations ?? 200;
  const now = options.now ?? Date.now();
  const timezone = options.timezone ?? 'Europe/Berlin';
  if (options.seed) await seedHourly(rollups, trackingId, now, options.seed === true ? {} : options.seed);

  const service = (cache: Cache) => createQueryService({ rollups, cache, registry: NO_REGISTRY, now: () => now }, {});
  const uncached = service(NEVER_CACHE);
  const cached = service(options.cache ?? new MemoryCache(() => now));
  const common = { site_id: trackingId, period: '30d', timezone };
  const queries = {
    aggregate: ['aggregate', { ...common, metrics: 'visitors,visits,pageviews,bounce_rate,visit_duration' }],
    timeseriesDaily: ['timeseries', { ...common, interval: 'day', metrics: 'visitors,pageviews' }],
    timeseriesHourly: ['timeseries', { ...common, interval: 'hour', metrics: 'visitors,pageviews' }],
  } as const;

  const report = { trackingId, timezone } as BenchReport;
  for (const [name, [endpoint, params]] of Object.entries(queries) as [keyof typeof queries, (typeof queries)[keyof typeof queries]][]) {
    report[name] = {
      uncached: await measure(uncached, endpoint, params, iterations),
      cached: await measure(cached, endpoint, params, iterations),
    };
  }
  return report;
}

async function measure(service: QueryService, endpoint: 'aggregate' | 'timeseries', params: Record<string, string>, iterations: number): Promise<Latency> {
  const query = service.parse(endpoint, params);
  if ('ok' in query) throw new Error(`bench query rejected: ${query.detail}`);
  await service.run(query); // warm-up (and, for the cached service, the one miss)
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const answer = await service.run(query);
    samples.push(performance.now() - t0);
    if ('ok' in answer) throw new Error(`bench query failed: ${answer.detail}`);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { n: samples.length, p50Ms: at(0.5), p99Ms: at(0.99), meanMs: samples.reduce((s, x) => s + x, 0) / samples.length };
}

/** 31 days of hour and day buckets ending at `now`, with a few visitors and pages per hour. */
export async function seedHourly(rollups: RollupStore, trackingId: string, now: number, o: { visitorsPerHour?: number; pages?: number } = {}): Promise<void> {
  const perHour = o.visitorsPerHour ?? 20;
  const pages = o.pages ?? 50;
  const first = Math.floor((now - 31 * DAY_MS) / HOUR_MS) * HOUR_MS;
  const hits: Hit[] = [];
  for (let h = first, n = 0; h < now; h += HOUR_MS) {
    for (let i = 0; i < perHour; i++, n++) {
      hits.push({ ts: h + i * 1000, visitor: `v${n % (perHour * 200)}`, pageviews: 1 + (n % 4), bounce: n % 3 === 0, dims: { page: `/page/${n % pages}` } });
    }
  }
  const checkpoint = await rollups.checkpoint(0);
  await rollups.commit({ partition: 0, nextOffset: checkpoint, buckets: bucketsFromHits(trackingId, hits, ['hour', 'day']), sessions: [], seen: [] });
}

/** Every lookup misses and nothing is kept: each run reads the store. */
const NEVER_CACHE: Cache = {
  get: async () => undefined,
  set: async () => {},
  delete: async () => {},
  incr: async () => 0,
  setIfAbsent: async (_k, v) => v,
  close: async () => {},
};

/** The bench calls `run`, which does no auth; anything touching the registry is a bug. */
const NO_REGISTRY = new Proxy({} as Registry, {
  get: () => () => Promise.reject(new Error('query bench: the registry is not used')),
});
