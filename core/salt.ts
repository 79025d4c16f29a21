/**
 * How long a daily salt of visitor IDs may be kept, shared by every holder: the collectors'
 * memory (collectors/enrich/salt.ts) and the registry (pruned by pipeline/maintenance.ts).
 */

/**
 * How long a salt is kept after its UTC day began, ms: the day itself, plus a day of slack for
 * clocks that disagree; never longer.
 */
export const SALT_MAX_AGE_MS = 48 * 60 * 60 * 1000; // 48 h

/**
 * The start (ms) of the earliest day whose salt may still be kept at `now`, for a holder that
 * looks again only every `everyMs`: a day's salt goes at the first look at or after
 * day + 48 h - everyMs, so it is never kept past day + 48 h, even between two looks.
 */
export function oldestSaltDayToKeep(now: number, everyMs = 0): number {
  return now + everyMs - SALT_MAX_AGE_MS;
}
