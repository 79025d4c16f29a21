/**
 * The Mongo Registry's read-through cache of tracking IDs and API keys (misses included), for a
 * few seconds. A change made through any node is published on the invalidation channel (Redis
 * pub/sub in the cluster profile); every node drops the entry at once. When the channel is down
 * the TTL alone bounds how long another node can answer from an old copy.
 */

/** How a registry change reaches the other nodes (Redis pub/sub in the cluster profile). */
export interface RegistryInvalidation {
  publish(message: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(onMessage: (message: string) => void): () => void;
}

export type CacheKind = 'tid' | 'key';

export interface LookupCacheOptions {
  ttlMs: number;
  maxEntries: number;
  invalidation?: RegistryInvalidation;
  now: () => number;
}

export interface LookupCache {
  /** The cached value of (kind, key), or what `load` returns (stored unless invalidated meanwhile). A copy either way. */
  cached<T>(kind: CacheKind, key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /** Drops the entry here and tells the other nodes (best effort). */
  invalidate(kind: CacheKind, key: string): Promise<void>;
  close(): void;
}

export function createLookupCache(options: LookupCacheOptions): LookupCache {
  const { ttlMs, maxEntries, now } = options;
  const cache = new Map<string, { value: unknown; expires: number }>();
  /** Bumped by every invalidation, so a load that started before a change does not store the old value. */
  const versions = new Map<string, number>();
  const cacheKey = (kind: CacheKind, key: string) => `${kind}:${key}`;

  function invalidateLocal(k: string): void {
    cache.delete(k);
    versions.set(k, (versions.get(k) ?? 0) + 1);
    if (versions.size > maxEntries * 2) versions.clear();
  }
  const unsubscribe = options.invalidation?.subscribe((message) => {
    try {
      const { k } = JSON.parse(message) as { k?: unknown };
      if (typeof k === 'string') invalidateLocal(k);
    } catch {
      // Not ours.
    }
  });

  return {
    async cached<T>(kind: CacheKind, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
      const k = cacheKey(kind, key);
      const hit = cache.get(k);
      if (hit && hit.expires > now()) return clone(hit.value as T | undefined);
      const version = versions.get(k) ?? 0;
      const value = await load();
      if ((versions.get(k) ?? 0) === version) {
        cache.delete(k);
        cache.set(k, { value, expires: now() + ttlMs });
        if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
      }
      return clone(value);
    },

    async invalidate(kind, key) {
      const k = cacheKey(kind, key);
      invalidateLocal(k);
      // Best effort: without Redis the other nodes see the change when their entry expires.
      await options.invalidation?.publish(JSON.stringify({ k })).catch(() => {});
    },

    close() {
      unsubscribe?.();
      cache.clear();
    },
  };
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}
