/**
 * The shared Cache on Redis. `get` answers undefined and `set`/`delete` do nothing while Redis is
 * down (queries run uncached). `incr` and `setIfAbsent` reject instead: a made-up counter or a
 * value that is not the cluster-wide winner would be wrong, not just slow. (The daily salts of
 * visitor IDs are not kept here: Redis has no persistence, so they live in the registry, see
 * core/salt.ts.)
 */
import type { Cache } from '../../../core/ports/index.ts';
import type { RedisConnection } from './redis-connection.ts';

export function createRedisCache(redis: Pick<RedisConnection, 'client' | 'keyPrefix'>): Cache {
  const { client } = redis;
  const prefix = `${redis.keyPrefix}c:`;
  function ttlOf(ttlMs: number): number | undefined {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}; use Infinity to keep the entry until it is evicted.`);
    return Number.isFinite(ttlMs) ? Math.max(1, Math.ceil(ttlMs)) : undefined;
  }
  return {
    async get(key) {
      try {
        return (await client.get(prefix + key)) ?? undefined;
      } catch {
        return undefined;
      }
    },
    async set(key, value, ttlMs) {
      const ttl = ttlOf(ttlMs);
      try {
        if (ttl === undefined) await client.set(prefix + key, value);
        else await client.set(prefix + key, value, 'PX', ttl);
      } catch {
        // Down: the value is simply not cached.
      }
    },
    async delete(key) {
      try {
        await client.del(prefix + key);
      } catch {
        // Down: entries expire by their TTL.
      }
    },
    async incr(key) {
      return client.incr(prefix + key);
    },
    async setIfAbsent(key, value, ttlMs) {
      const ttl = ttlOf(ttlMs);
      // One atomic command (Redis >= 7.0): stores unless present, and returns what was there.
      const args: (string | number)[] = [prefix + key, value, ...(ttl === undefined ? [] : ['PX', ttl]), 'NX', 'GET'];
      const previous = (await client.call('SET', ...args)) as string | null;
      return previous ?? value;
    },
    async close() {
      // The connection belongs to the storage, which closes it.
    },
  };
}
