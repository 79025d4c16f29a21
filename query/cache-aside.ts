/**
 * Cache-aside on the Cache port, with coalescing of identical queries in flight.
 *
 * The key is a hash of the normalised query (absolute ranges, canonical zone, sorted metrics) and
 * the site's data version, so a data-version bump makes every cached answer of that site
 * unreachable without deleting anything; old entries expire by TTL.
 *
 * Coalescing is per process: N identical requests arriving together share one cache lookup and at
 * most one store read; all of them report the leader's hit/miss. Across processes (cluster) the
 * shared cache does the rest after the first answer lands.
 *
 * The cache is an accelerator, never a dependency: when it fails, the query is answered from the
 * store and the failure is logged.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../core/ports/index.ts';

export type CacheStatus = 'hit' | 'miss';

export interface Cached {
  value: string;
  cache: CacheStatus;
}

/** Bump when the shape of cached answers changes, so a deploy does not serve the old shape. */
const FORMAT = 2; // 2: direct traffic is labelled "Direct / None" in source breakdowns

export function cacheKey(normalisedQuery: unknown, dataVersion: number): string {
  const digest = createHash('sha256').update(JSON.stringify([FORMAT, normalisedQuery, dataVersion])).digest('hex');
  return `q:${digest}`;
}

// The site's data version (seeded, never going backwards) lives in core/data-version.ts.
export { dataVersionKey, readDataVersion } from '../core/data-version.ts';

export interface CacheAside {
  /** The cached value of `key`, or computes, stores for `ttlMs` and returns it. */
  get(key: string, ttlMs: number, compute: () => Promise<string>): Promise<Cached>;
  /** Requests currently being computed (for tests and stats). */
  inFlight(): number;
}

export function createCacheAside(cache: Cache, log: (message: string) => void): CacheAside {
  const inflight = new Map<string, Promise<Cached>>();

  async function load(key: string, ttlMs: number, compute: () => Promise<string>): Promise<Cached> {
    let hit: string | undefined;
    try {
      hit = await cache.get(key);
    } catch (err) {
      log(`query cache read failed, answering from the store: ${(err as Error).message}`);
    }
    if (hit !== undefined) return { value: hit, cache: 'hit' };
    const value = await compute();
    try {
      await cache.set(key, value, ttlMs);
    } catch (err) {
      log(`query cache write failed: ${(err as Error).message}`);
    }
    return { value, cache: 'miss' };
  }

  return {
    get(key, ttlMs, compute) {
      let p = inflight.get(key);
      if (!p) {
        p = load(key, ttlMs, compute).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },
    inFlight: () => inflight.size,
  };
}
