/**
 * When a bucket is "closed", for the data version (core/data-version.ts) and the answer cache.
 * Two rules, one per side, and the second follows from the first:
 *
 * - Writer (the aggregator): an hour or day bucket is closed once it ended more than
 *   BUCKET_CLOSED_AFTER_MS ago; a write to a closed bucket bumps the site's data version, which
 *   makes every cached answer of the site unreachable. The grace keeps on-time events that land
 *   a moment after the bucket's end (network, batching) from bumping at every hour boundary.
 *   Minute buckets never bump: every event also lands in its hour and day bucket, which do.
 *
 * - Reader (the query service): an answer may be cached for long (the closed-range TTL) once its
 *   range ended more than RANGE_CLOSED_AFTER_MS ago. An event inside the range [from, to) lies in
 *   an hour bucket that ends at most one hour after `to`; that bucket is closed BUCKET_CLOSED_AFTER_MS
 *   later, so from then on any late event of the range bumps the data version, and the long-cached
 *   answer cannot be served stale. Earlier, the answer gets the short open-range TTL.
 */
import { GRANULARITY_MS, HOUR_MS, type Granularity } from '../time.ts';

/** A bucket is closed once it ended more than this long ago: 60 s. */
export const BUCKET_CLOSED_AFTER_MS = 60_000;

/** A query range is closed once it ended more than this long ago: one hour and 60 s (3_660_000). */
export const RANGE_CLOSED_AFTER_MS = HOUR_MS + BUCKET_CLOSED_AFTER_MS;

/** Whether a write at `at` to this bucket changes data that answers may have cached for long. */
export function isClosedBucket(bucket: { granularity: Granularity; start: number }, at: number): boolean {
  return bucket.granularity !== 'minute' && bucket.start + GRANULARITY_MS[bucket.granularity] + BUCKET_CLOSED_AFTER_MS < at;
}
