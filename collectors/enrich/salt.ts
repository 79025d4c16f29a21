/**
 * Daily salts for cookieless visitor IDs. The salt of a UTC day is 32 random bytes, kept in the
 * registry (SQLite in the embedded profile, MongoDB in the cluster), created once per day by
 * compare-and-set (the first writer wins), so it survives restarts and every collector uses the
 * same one. It is deleted, everywhere, once its day began 48 h ago (SALT_MAX_AGE_MS): from then
 * on nobody, including us, can link a visitor ID back to an IP + user agent, or link one day's
 * visitors to the next day's.
 *
 * If the registry cannot be read, saltFor rejects (the collector answers 503): a salt made up
 * here would give the same visitor a second ID.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { SaltRegistry } from '../../core/ports/index.ts';
import { oldestSaltDayToKeep } from '../../core/salt.ts';
import { dayOf } from '../../core/time.ts';

export { oldestSaltDayToKeep, SALT_MAX_AGE_MS } from '../../core/salt.ts';

export interface SaltSource {
  /** Hex salt of the UTC day holding `ts` (ms). Rejects when the registry cannot be read. */
  saltFor(ts: number): Promise<string>;
  /** Forgets the in-process copies that may no longer be kept at `now` (see oldestSaltDayToKeep). */
  forget(now: number, everyMs?: number): void;
  /** The days (ms) held in memory; for tests. */
  heldDays(): number[];
}

export interface SaltSourceOptions {
  /** Injected for tests. */
  randomBytes?: (n: number) => Buffer;
}

export function createSaltSource(registry: Pick<SaltRegistry, 'getOrCreateDailySalt'>, options: SaltSourceOptions = {}): SaltSource {
  const random = options.randomBytes ?? nodeRandomBytes;
  // Per-day memo so the hot path asks the registry once per day per process, never per event.
  // Holds the in-flight promise so concurrent first requests of a day share one lookup.
  const memo = new Map<number, Promise<string>>();

  const source: SaltSource = {
    saltFor(ts) {
      const day = dayOf(ts);
      const hit = memo.get(day);
      if (hit) return hit;
      source.forget(ts);
      const p = registry.getOrCreateDailySalt(day, random(32).toString('hex'));
      memo.set(day, p);
      p.catch(() => memo.delete(day)); // an outage must not pin a failed lookup for the day
      return p;
    },
    forget(now, everyMs = 0) {
      const oldest = oldestSaltDayToKeep(now, everyMs);
      for (const d of memo.keys()) if (d < oldest) memo.delete(d);
    },
    heldDays: () => [...memo.keys()].sort((a, b) => a - b),
  };
  return source;
}
