/**
 * The collector's slice of the configuration. The appliance reads settings from the
 * environment/CLI and passes this typed object in; nothing in collectors/ reads env vars.
 */
import { DEFAULT_MAX_FUTURE_SKEW_MS } from '../core/event.ts';

export interface CollectorConfig {
  /** Largest accepted request body, in bytes, per endpoint. Larger bodies get 413 body_too_large. */
  maxBodyBytes: {
    /** POST /api/event. Default 16 KiB (16_384). */
    event: number;
    /** POST /api/batch. Default 1 MiB (1_048_576). */
    batch: number;
  };
  /** Events whose client timestamp is older than this, in hours, get timestamp_too_old. Default 72. */
  maxEventAgeHours: number;
  /** Client timestamps up to this far ahead, in ms, are clamped to the receive time; further ahead get timestamp_in_future. Default 600_000 (10 min). */
  maxFutureSkewMs: number;
  /**
   * When true the client IP is the first X-Forwarded-For entry (the collector runs behind a
   * reverse proxy that sets it); when false the socket address. Default false: trusting the
   * header without a proxy lets any client pick its IP and so its visitor ID and country.
   */
  trustProxy: boolean;
  /** How often, in ms, the ingest counters are added to the registry. Default 5_000. */
  counterFlushMs: number;
  /** How long, in ms, a tracking ID / tenant lookup is reused before asking the registry again. Default 5_000. */
  authMemoMs: number;
  /** Entries of the user-agent parse memo (LRU). Default 5_000. */
  uaMemoEntries: number;
  /** Token bucket capacity as a multiple of the tenant's rateLimitPerSec. Default 2 (burst = 2 s of traffic). */
  burstFactor: number;
  /** Seconds sent in Retry-After with 503 unavailable. Default 5. */
  unavailableRetryAfterSec: number;
  /** Cache-Control max-age of /tracker.js, in seconds. Default 3_600 (1 h): sites pick up a new tracker within the hour. */
  trackerMaxAgeSec: number;
}

export const DEFAULT_COLLECTOR_CONFIG: CollectorConfig = {
  maxBodyBytes: { event: 16 * 1024, batch: 1024 * 1024 },
  maxEventAgeHours: 72,
  maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS,
  trustProxy: false,
  counterFlushMs: 5_000,
  authMemoMs: 5_000,
  uaMemoEntries: 5_000,
  burstFactor: 2,
  unavailableRetryAfterSec: 5,
  trackerMaxAgeSec: 3_600,
};

/**
 * What callers pass: any subset. `maxBodyBytes` may be one number (e.g. ALMANAC_MAX_BODY_BYTES):
 * it is the batch limit, and the single-event limit is the smaller of it and 16 KiB.
 */
export type CollectorConfigInput = Partial<Omit<CollectorConfig, 'maxBodyBytes'>> & {
  maxBodyBytes?: number | Partial<CollectorConfig['maxBodyBytes']>;
};

/** Fills the defaults in; the appliance validates the values (ConfigError) before they get here. */
export function resolveCollectorConfig(input: CollectorConfigInput = {}): CollectorConfig {
  const d = DEFAULT_COLLECTOR_CONFIG;
  const mb = input.maxBodyBytes;
  const maxBodyBytes =
    typeof mb === 'number' ? { batch: mb, event: Math.min(mb, d.maxBodyBytes.event) } : { ...d.maxBodyBytes, ...stripUndefined(mb ?? {}) };
  return { ...d, ...stripUndefined(input), maxBodyBytes };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
