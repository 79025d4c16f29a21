/** The collector's public API, for the appliance that mounts it. */
export { createCollector, registerCollectorRoutes, type Collector, type CollectorDeps } from './http.ts';
export { DEFAULT_COLLECTOR_CONFIG, resolveCollectorConfig, type CollectorConfig, type CollectorConfigInput } from './config.ts';
export { openGeoReader, defaultGeoDbPath, type GeoReader } from './enrich/geo.ts';
export { createLocalRateLimiter } from '../core/rate-limit.ts';
export type { IngestCounters } from './counters.ts';
export { snippetFor } from './tracker/snippet.ts';
export { getTracker, buildTracker, type TrackerBundle } from './tracker/build.ts';
