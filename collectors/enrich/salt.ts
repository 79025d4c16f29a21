/**
 * Daily salts for cookieless visitor IDs. The salt of a UTC day is 32 random bytes, shared
 * by every collector through the Cache port (setIfAbsent: the first writer wins) and stored
 * for at most 48 h. Once it expires nobody, including us, can link a visitor ID back to an
 * IP + user agent, or link one day's visitors to the next day's.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { Cache } from '../../core/ports.ts';
import { DAY_MS, dayOf } from '../../core/time.ts';

/** How long the shared cache keeps a salt, ms. Long enough to cover the day from any clock skew, never longer. */
export const SALT_TTL_MS = 48 * 60 * 60 * 1000;

export interface SaltSource {
  /** Hex salt of the UTC day holding `ts` (ms). */
  saltFor(ts: number): Promise<string>;
}

export interface SaltSourceOptions {
  /** Injected for tests. */
  randomBytes?: (n: number) => Buffer;
}

export function createSaltSource(cache: Pick<Cache, 'setIfAbsent'>, options: SaltSourceOptions = {}): SaltSource {
  const random = options.randomBytes ?? nodeRandomBytes;
  // Per-day memo so the hot path does not ask the cache each request. Holds the in-flight
  // promise so concurrent first requests of a day share one setIfAbsent.
  const memo = new Map<number, Promise<string>>();

  return {
    saltFor(ts) {
      const day = dayOf(ts);
      const hit = memo.get(day);
      if (hit) return hit;
      // Forget days more than a day behind this one: the in-process copy must not
      // outlive the 48 h the shared copy is allowed.
      for (const d of memo.keys()) if (d < day - DAY_MS) memo.delete(d);
      const p = cache.setIfAbsent(`salt:${new Date(day).toISOString().slice(0, 10)}`, random(32).toString('hex'), SALT_TTL_MS);
      memo.set(day, p);
      p.catch(() => memo.delete(day)); // a cache outage must not pin a failed lookup for the day
      return p;
    },
  };
}
