/**
 * A site's data version: part of every cached answer's key (query/cache-aside.ts) and sent as
 * `meta.dataVersion`, bumped when closed buckets change (late events, replays), so a bump makes
 * the site's cached answers unreachable.
 *
 * It must never go backwards: if it did, a cache (ours, or one shared in front of the API) could
 * serve an answer stored under an older version again. The counter lives in the cache (process
 * memory in the embedded profile, Redis in the cluster), which loses it on a restart or an
 * eviction. So a missing counter is seeded with the current time in ms rather than created at 0:
 * every version handed out before was at most the time it was seeded plus one per bump, and bumps
 * come far slower than one per millisecond (one per aggregator commit that touches a closed
 * bucket), so the new seed is above all of them. No durable write is needed on the hot path; the
 * assumption is a wall clock that does not step back by more than the time since the last seed.
 */
import type { Cache } from './ports/index.ts';

export function dataVersionKey(trackingId: string): string {
  return `dv:${trackingId}`;
}

async function seed(cache: Pick<Cache, 'setIfAbsent'>, trackingId: string, now: () => number): Promise<number> {
  const raw = await cache.setIfAbsent(dataVersionKey(trackingId), String(now()), Infinity);
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : now();
}

/** The site's data version (seeded when missing: one read on the hot path). Undefined when the cache cannot be read. */
export async function readDataVersion(cache: Pick<Cache, 'get' | 'setIfAbsent'>, trackingId: string, now: () => number): Promise<number | undefined> {
  try {
    const raw = await cache.get(dataVersionKey(trackingId));
    const n = Number(raw);
    return raw !== undefined && Number.isSafeInteger(n) ? n : await seed(cache, trackingId, now);
  } catch {
    return undefined;
  }
}

/** Bumps the site's data version (seeding a lost counter first, so it does not restart at 1). */
export async function bumpDataVersion(cache: Pick<Cache, 'setIfAbsent' | 'incr'>, trackingId: string, now: () => number): Promise<number> {
  await seed(cache, trackingId, now);
  return cache.incr(dataVersionKey(trackingId));
}
