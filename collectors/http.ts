/**
 * The collector, for the appliance that mounts it into its fastify server: its parts (ingest
 * counters, GeoIP, daily salts, the intake steps of ingest/) put together, and registered as an
 * encapsulated plugin. What each URL answers: routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { EventLog, RateLimiter, Registry } from '../core/ports/index.ts';
import { createAuthenticator } from './auth.ts';
import { resolveCollectorConfig, type CollectorConfig, type CollectorConfigInput } from './config.ts';
import { createIngestCounters, type IngestCounters } from './counters.ts';
import { createEnricher, createSaltSource, openGeoReader, type GeoReader, type SaltSource } from './enrich/index.ts';
import { createIngest } from './ingest/pipeline.ts';
import { createLocalRateLimiter } from '../core/rate-limit.ts';
import { collectorPlugin } from './routes.ts';
import { getTracker } from './tracker/build.ts';

export type { CollectorConfig, CollectorConfigInput } from './config.ts';
export { DEFAULT_COLLECTOR_CONFIG } from './config.ts';

export interface CollectorDeps {
  eventLog: Pick<EventLog, 'append'>;
  /** Tracking IDs, tenants, ingest counters, and the daily salts shared by every collector (getOrCreateDailySalt). */
  registry: Pick<Registry, 'getTrackingId' | 'getTenant' | 'addIngestCounts' | 'getOrCreateDailySalt'>;
  /** Shared limiter in a cluster; defaults to an in-process one (createLocalRateLimiter). */
  rateLimiter?: RateLimiter;
  /**
   * Country lookups, opened once (openGeoReader). Undefined: the collector opens the bundled
   * DB-IP Lite database itself; null: no geolocation (country '').
   */
  geo?: GeoReader | null;
  now?: () => number;
  /** Operational messages (503s, failed counter flushes). Defaults to the fastify app's logger. */
  log?: (message: string) => void;
}

export interface Collector {
  /**
   * Adds the routes to `app` (as an encapsulated plugin; live once the app is ready) and stops
   * the collector when `app` closes. Call before app.ready()/listen().
   */
  register(app: FastifyInstance): void;
  /** In-memory ingest totals since start, per tracking ID ('' = unattributed). */
  readonly counters: IngestCounters;
  readonly config: CollectorConfig;
  /** The daily salts this process holds (memoised from the registry). */
  readonly salts: SaltSource;
  /** Stops the counter flush timer and flushes pending counts. Idempotent. */
  stop(): Promise<void>;
}

const SALT_FORGET_EVERY_MS = 60_000; // 1 min

export function createCollector(deps: CollectorDeps, configInput: CollectorConfigInput = {}): Collector {
  const config = resolveCollectorConfig(configInput);
  const now = deps.now ?? Date.now;
  let appLog: FastifyInstance['log'] | undefined;
  const log = (message: string, err: unknown) => {
    const text = `${message}: ${err instanceof Error ? err.message : String(err)}`;
    if (deps.log) deps.log(text);
    else appLog?.warn({ err }, message);
  };
  const counters = createIngestCounters({
    registry: deps.registry,
    now,
    onFlushError: (err) => log('collector: ingest counters flush failed; will retry', err),
  });
  const geo =
    deps.geo !== undefined
      ? deps.geo
      : openGeoReader().catch((err) => {
          log('collector: cannot open the GeoIP database; countries will be empty', err);
          return null;
        });
  const salts = createSaltSource(deps.registry);
  const ingest = createIngest(
    {
      eventLog: deps.eventLog,
      rateLimiter: deps.rateLimiter ?? createLocalRateLimiter({ now }),
      auth: createAuthenticator({ registry: deps.registry, now }, { memoMs: config.authMemoMs }),
      enricher: createEnricher({ salts, geo }, { uaMemoEntries: config.uaMemoEntries }),
      counters,
      now,
      onUnavailable: (err, what) => log(`collector: answered 503, ${what}`, err),
    },
    config,
  );
  counters.start(config.counterFlushMs);
  // Without traffic no lookup would drop an old salt from memory: look every minute, so no copy
  // outlives the 48 h a salt may be kept.
  const saltTimer = setInterval(() => salts.forget(now(), SALT_FORGET_EVERY_MS), SALT_FORGET_EVERY_MS);
  saltTimer.unref();
  void getTracker().catch(() => {}); // build early; a failure surfaces on GET /tracker.js

  let stopped: Promise<void> | undefined;
  const collector: Collector = {
    counters,
    config,
    register(app) {
      appLog = app.log;
      app.register(async (scope) => collectorPlugin(scope, ingest, counters, config, log));
      app.addHook('onClose', async () => collector.stop());
    },
    salts,
    stop() {
      clearInterval(saltTimer);
      stopped ??= counters.stop();
      return stopped;
    },
  };
  return collector;
}

/** Shorthand for createCollector(deps, config).register(app); returns the collector (stop, counters). */
export function registerCollectorRoutes(app: FastifyInstance, deps: CollectorDeps, config: CollectorConfigInput = {}): Collector {
  const c = createCollector(deps, config);
  c.register(app);
  return c;
}
