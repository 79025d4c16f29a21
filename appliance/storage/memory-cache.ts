/**
 * The in-process cache of the embedded profile: an LRU bounded by entry count, with a TTL per
 * entry. One process owns it, so every operation is atomic by construction (no await inside).
 */
import { LRUCache } from 'lru-cache';
import type { Cache } from '../../core/ports/index.ts';

export interface MemoryCacheOptions {
  /** Least recently used entries are evicted past this count (counters too). */
  maxEntries: number;
}

export function createMemoryCache(options: MemoryCacheOptions): Cache {
  if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}.`);
  }
  const lru = new LRUCache<string, string>({ max: options.maxEntries });

  function ttlOf(ttlMs: number): number {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}; use Infinity to keep the entry until it is evicted.`);
    // lru-cache reads ttl 0 as "no expiry".
    return Number.isFinite(ttlMs) ? ttlMs : 0;
  }

  return {
    async get(key) {
      return lru.get(key);
    },
    async set(key, value, ttlMs) {
      lru.set(key, value, { ttl: ttlOf(ttlMs) });
    },
    async delete(key) {
      lru.delete(key);
    },
    async incr(key) {
      const current = lru.get(key);
      const n = current === undefined ? 0 : Number(current);
      if (!Number.isSafeInteger(n)) throw new Error(`Cannot increment cache key '${key}': it holds '${current}', not an integer.`);
      // Like Redis INCR: a counter keeps the TTL it had (none when incr created it).
      // (getRemainingTTL is Infinity for an entry without TTL; ttl 0 below means none.)
      const remaining = current === undefined ? Infinity : lru.getRemainingTTL(key);
      lru.set(key, String(n + 1), { ttl: Number.isFinite(remaining) ? Math.max(1, remaining) : 0 });
      return n + 1;
    },
    async setIfAbsent(key, value, ttlMs) {
      const ttl = ttlOf(ttlMs);
      const existing = lru.get(key);
      if (existing !== undefined) return existing;
      lru.set(key, value, { ttl });
      return value;
    },
    async close() {
      lru.clear();
    },
  };
}
