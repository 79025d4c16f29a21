/**
 * One code path, two profiles: this is the only place that knows which adapters back the ports.
 * embedded — one SQLite file in the data folder and an in-process cache and rate limiter;
 * cluster   — Kafka, MongoDB, Cassandra and Redis (see appliance/storage/cluster).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AlmanacConfig, Role } from './config.ts';
import type { EventLog, Registry } from '../../core/ports/index.ts';
import { openEmbeddedStorage } from '../storage/embedded/index.ts';
import { createLocalRateLimiter } from '../../core/rate-limit.ts';

export type { Storage } from '../storage/storage.ts';
import type { Storage } from '../storage/storage.ts';

/**
 * The services each role cannot work without, by the names Storage.ping() reports (both
 * profiles' names: a node reports only its own profile's).
 */
export const REQUIRED_SERVICES: Record<Role, readonly string[]> = {
  collector: ['sqlite', 'kafka', 'mongodb'],
  archiver: ['sqlite', 'kafka', 'mongodb'],
  aggregator: ['sqlite', 'kafka', 'cassandra'],
  query: ['sqlite', 'cassandra', 'mongodb'],
  admin: ['sqlite', 'mongodb'],
};

export function sqlitePath(config: Pick<AlmanacConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'almanac.sqlite');
}

export async function openStorage(config: Readonly<AlmanacConfig>): Promise<Storage> {
  if (config.profile === 'cluster') {
    const { openClusterStorage } = await import('../storage/cluster/index.ts');
    const ns = config.cluster.namespace;
    // The default namespace keeps the adapters' historical names (topic almanac.events, keyspace almanac).
    return openClusterStorage(config, { topic: `${ns}.events`, keyspace: ns, redisKeyPrefix: `${ns}:` });
  }
  mkdirSync(config.dataDir, { recursive: true });
  const s = openEmbeddedStorage({ path: sqlitePath(config), partitions: config.partitions, logRetentionMs: config.pipeline.logRetentionHours * 3_600_000 });
  return {
    eventLog: s.eventLog,
    archive: s.archive,
    rollups: s.rollups,
    registry: s.registry,
    cache: s.cache,
    rateLimiter: createLocalRateLimiter(),
    trimLog: () => s.eventLog.trim(),
    ping: async () => ({ sqlite: (await s.registry.listTenants().then(() => true, () => false)) }),
    close: () => s.close(),
  };
}

/** For CLI commands that only touch the registry. */
/** The registry (CLI commands), with the event log beside it (replays choose their source by it). */
export async function openRegistryOnly(config: Readonly<AlmanacConfig>): Promise<Registry & { eventLog: EventLog }> {
  const storage = await openStorage(config);
  const registry = storage.registry;
  return { ...bindAll(registry), eventLog: storage.eventLog, close: () => storage.close() };
}

function bindAll<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(o)).concat(Object.keys(o))) {
    const v = (o as Record<string, unknown>)[key];
    if (typeof v === 'function' && key !== 'constructor') out[key] = (v as (...a: unknown[]) => unknown).bind(o);
  }
  return out as T;
}
