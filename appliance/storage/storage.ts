/** What a profile opens: one adapter per port (core/ports), plus the profile's own extras. */
import type { Cache, EventLog, RateLimiter, RawArchive, Registry, RollupStore } from '../../core/ports/index.ts';
import type { NodeLiveness } from './cluster/redis.ts';

export interface Storage {
  eventLog: EventLog;
  archive: RawArchive;
  rollups: RollupStore;
  registry: Registry;
  cache: Cache;
  rateLimiter: RateLimiter;
  /** Embedded log only: drops records every group processed and past retention (Kafka has its own retention). */
  trimLog?: () => Promise<number>;
  /** Cluster only: which appliance nodes are alive (Redis keys with a TTL). */
  nodes?: NodeLiveness;
  /** Round-trip checks per service, for /healthz. */
  ping(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}
